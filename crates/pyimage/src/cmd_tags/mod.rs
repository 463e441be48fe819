//! `pyimage tags`: which tags exist and which are aliases of one image.
//!
//! * `pyimage tags [REPO]` (live): lists the registry's tags, HEADs each one (HEADs are free on Docker Hub) and
//!   groups them by the digest they share now, with the newest stable patch release per line.
//! * `pyimage tags --from FILE [TAG...]` (offline): the official-images `library/python` file's view — the Python
//!   version, variant and OS each tag names, and the commit it is built from.

mod live;
mod offline;

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use pyimage_model::python::Variant;

use crate::output::Format;

pub use live::run_live;
pub use offline::{is_live, run_offline};

#[derive(Args)]
pub struct TagsArgs {
    /// Read an official-images library file (docker-library/official-images `library/python`) instead of asking
    /// the registry.
    #[arg(long = "from", value_name = "FILE")]
    pub(super) from: Option<PathBuf>,
    /// Only entries of this release line (`3.12`, `3.15-rc`).
    #[arg(long)]
    pub(super) line: Option<String>,
    /// Only entries of this variant (`full`, `slim`, `alpine`, `windowsservercore`, `nanoserver`, `onbuild`).
    #[arg(long)]
    pub(super) variant: Option<String>,
    /// Live: the repository (default `python`). With `--from`: tags to explain (alias family, most specific alias);
    /// without tags every entry is listed.
    #[arg(value_name = "REPO | TAG")]
    pub(super) tags: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub(super) format: Format,
}

pub(super) fn check_variant(args: &TagsArgs) -> anyhow::Result<()> {
    if let Some(variant) = &args.variant
        && Variant::from_name(variant).is_none()
    {
        bail!(
            "unknown variant {variant:?}: expected one of full, slim, alpine, windowsservercore, nanoserver, onbuild"
        );
    }
    Ok(())
}
