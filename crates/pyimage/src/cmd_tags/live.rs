//! `pyimage tags [REPO]` (live): the registry's tags grouped by the digest they share now (alias families), with
//! the newest stable patch release per line. Fetching is `Resolver::tag_digests` (one list, one HEAD per tag);
//! grouping is `pyimage_policy::moves::alias_families`.

use pyimage_service::Outcome;
use std::collections::BTreeMap;
use std::io::Write;

use anyhow::bail;
use pyimage_policy::moves::{AliasFamily, alias_families, newest_patch_per_line};
use pyimage_registry::RegistryClient;
use pyimage_service::{ErrorKind, Resolver};
use serde::Serialize;

use super::{TagsArgs, check_variant};
use crate::output::{Format, print_json};

#[derive(Serialize)]
struct LiveView {
    repository: String,
    registry: String,
    tags: usize,
    families: Vec<AliasFamily>,
    /// Line → newest stable (non pre-release) full version with a tag in the repository.
    newest_per_line: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<String>,
}

pub async fn run_live(args: &TagsArgs, client: RegistryClient) -> anyhow::Result<Outcome> {
    check_variant(args)?;
    if args.tags.len() > 1 {
        bail!(
            "live mode takes one repository (got {}); to explain tags, use --from FILE",
            args.tags.len()
        );
    }
    let input = args.tags.first().map_or("python", String::as_str);
    let repository = match pyimage_model::Reference::parse_normalized(input) {
        Ok(reference) if reference.tag().is_none() && reference.digest().is_none() => reference,
        Ok(_) => bail!("{input:?}: give a repository without tag or digest"),
        Err(error) => {
            crate::render::terminal::eprintln(format_args!("pyimage: {input:?}: {error}"));
            return Ok(Outcome::of(ErrorKind::Input));
        }
    };
    let resolver = Resolver::new(client);
    let listing = match resolver.tag_digests(&repository).await {
        Ok(listing) => listing,
        Err(error) => {
            crate::render::terminal::eprintln(format_args!(
                "pyimage: {}: {error}",
                repository.name()
            ));
            return Ok(Outcome::of(ErrorKind::of_registry(&error)));
        }
    };
    let mut errors = Vec::new();
    let mut worst = None;
    let mut heads = Vec::new();
    for (tag, outcome) in listing.heads {
        match outcome {
            Ok(digest) => heads.push((tag, digest.to_string())),
            Err(error) => {
                worst = ErrorKind::worst(worst, ErrorKind::of_registry(&error));
                errors.push(format!("{tag}: {error}"));
            }
        }
    }
    let families = alias_families(heads)
        .into_iter()
        .filter(|family| {
            args.line
                .as_ref()
                .is_none_or(|line| family.line.as_ref() == Some(line))
                && args
                    .variant
                    .as_ref()
                    .is_none_or(|variant| family.variant.as_str() == variant)
        })
        .collect();
    let view = LiveView {
        repository: repository.to_string(),
        registry: listing.registry,
        tags: listing.tags.len(),
        families,
        newest_per_line: newest_patch_per_line(&listing.tags)
            .into_iter()
            .map(|(line, v)| (line, v.to_string()))
            .collect(),
        errors,
    };
    match args.format {
        Format::Json => print_json(&view)?,
        Format::Human => print_live(&view)?,
    }
    for error in &view.errors {
        crate::render::terminal::eprintln(format_args!("pyimage: {error}"));
    }
    Ok(Outcome::from_failure(worst))
}

fn print_live(view: &LiveView) -> anyhow::Result<()> {
    let mut out = crate::render::terminal::stdout();
    writeln!(
        out,
        "{} ({} tags, {} images, from {})",
        view.repository,
        view.tags,
        view.families.len(),
        view.registry
    )?;
    if !view.newest_per_line.is_empty() {
        let newest: Vec<String> = view.newest_per_line.values().rev().cloned().collect();
        writeln!(out, "newest stable per line: {}", newest.join(", "))?;
    }
    writeln!(out)?;
    let width = view
        .families
        .iter()
        .map(|f| f.most_specific.len())
        .max()
        .unwrap_or(3)
        .max(3);
    writeln!(out, "{:width$}  {:19}  ALIASES", "TAG", "DIGEST")?;
    for family in &view.families {
        let short = family.digest.get(..19).unwrap_or(&family.digest);
        let aliases: Vec<&str> = family.tags.iter().skip(1).map(String::as_str).collect();
        writeln!(
            out,
            "{:width$}  {short}  {}",
            family.most_specific,
            aliases.join(", ")
        )?;
    }
    Ok(())
}
