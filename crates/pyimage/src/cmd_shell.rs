//! `pyimage completions SHELL` and `pyimage man [--out DIR]`: shell completion scripts and man pages, generated from
//! the same clap definition the binary parses with, so they can never fall out of date.

use pyimage_service::Outcome;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;

/// Arguments of `pyimage completions`.
#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Arguments of `pyimage man`.
#[derive(Args)]
pub struct ManArgs {
    /// Write `pyimage.1` and one `pyimage-COMMAND.1` per command into this directory (created if missing) instead
    /// of printing `pyimage.1` to standard output.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Prints the completion script for one shell to standard output.
pub fn completions(args: &CompletionsArgs, mut command: clap::Command) -> anyhow::Result<Outcome> {
    let name = command.get_name().to_owned();
    // Into memory first: clap_complete panics when its writer fails, and `| head` closes stdout early.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, &script).context("writing the completion script")?;
    std::io::Write::flush(&mut out).context("writing the completion script")?;
    Ok(Outcome::OK)
}

/// Prints the top-level man page, or writes every page into a directory.
pub fn man(args: &ManArgs, command: clap::Command) -> anyhow::Result<Outcome> {
    let Some(dir) = &args.out else {
        let mut out = std::io::stdout().lock();
        page(command)
            .render(&mut out)
            .context("writing the man page")?;
        return Ok(Outcome::OK);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let written = write_pages(dir, command)?;
    for path in written {
        println!("{}", path.display());
    }
    Ok(Outcome::OK)
}

/// Writes the page of `command` and, recursively, of each visible subcommand (`pyimage-check.1`, …).
fn write_pages(dir: &Path, command: clap::Command) -> anyhow::Result<Vec<PathBuf>> {
    let mut command = command;
    command.build();
    let mut written = Vec::new();
    let mut pending = vec![command];
    while let Some(page) = pending.pop() {
        for sub in page.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            if sub.get_name() == "help" {
                continue;
            }
            let title = format!("{}-{}", page_title(&page), sub.get_name());
            pending.push(sub.clone().display_name(title));
        }
        let path = dir.join(format!("{}.1", page_title(&page)));
        let mut bytes = Vec::new();
        self::page(page.clone())
            .render(&mut bytes)
            .with_context(|| format!("rendering {}", path.display()))?;
        let text =
            String::from_utf8(bytes).context("clap_mangen wrote a page that is not UTF-8")?;
        pyimage_store::write::replace_atomically(&path, &text)?;
        written.push(path);
    }
    written.sort();
    Ok(written)
}

/// `pyimage` for the top level, `pyimage-check` for a command (clap_mangen titles a page by its display name).
fn page_title(command: &clap::Command) -> String {
    command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
        .to_owned()
}

/// A man page whose footer names pyimage and its version (clap_mangen would name only the subcommand).
fn page(command: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(command).source(format!("pyimage {}", env!("CARGO_PKG_VERSION")))
}

/// Arguments of `pyimage docs` (hidden: for the documentation site).
#[derive(Args)]
pub struct DocsArgs {
    /// The directory to write `commands/*.md` and `rules/*.md` into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Writes the reference pages of the documentation site: one page per command from the clap definition (what
/// `--help` prints), one page per rule from its metadata, and an index of each. `docs/reference/` is this output;
/// a test fails when it is stale.
pub fn docs(args: &DocsArgs, command: clap::Command) -> anyhow::Result<Outcome> {
    let mut command = command;
    command.build();
    let mut commands = Vec::new();
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let name = sub.get_name().to_owned();
        if name == "help" {
            continue;
        }
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        // The pages must not depend on who generates them: `[env: NAME]` without the value set here.
        let help = sub
            .clone()
            .bin_name(format!("pyimage {name}"))
            .mut_args(|arg| arg.hide_env_values(true))
            .render_long_help()
            .to_string();
        commands.push(pyimage_render::docs::CommandHelp { name, about, help });
    }
    let pages = pyimage_render::docs::reference_pages(&commands);
    for (relative, text) in &pages {
        let path = args.out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        pyimage_store::write::replace_atomically(&path, text)?;
    }
    println!("{} pages written under {}", pages.len(), args.out.display());
    Ok(Outcome::OK)
}
