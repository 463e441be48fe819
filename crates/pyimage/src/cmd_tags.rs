//! `pyimage tags`: which tags exist and which are aliases of one image.
//!
//! * `pyimage tags [REPO]` (live): lists the registry's tags, HEADs each one (HEADs are free on Docker Hub) and
//!   groups them by the digest they share now, with the newest stable patch release per line.
//! * `pyimage tags --from FILE [TAG...]` (offline): the official-images `library/python` file's view — the Python
//!   version, variant and OS each tag names, and the commit it is built from.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use pyimage_core::official_images::{Entry, Library, TagKind};
use pyimage_core::python::{Os, PythonTag, Variant};
use serde::Serialize;

use crate::output::{Format, or_dash, print_json};

#[derive(Args)]
pub struct TagsArgs {
    /// Read an official-images library file (docker-library/official-images `library/python`) instead of asking
    /// the registry.
    #[arg(long = "from", value_name = "FILE")]
    from: Option<PathBuf>,
    /// Only entries of this release line (`3.12`, `3.15-rc`).
    #[arg(long)]
    line: Option<String>,
    /// Only entries of this variant (`full`, `slim`, `alpine`, `windowsservercore`, `nanoserver`, `onbuild`).
    #[arg(long)]
    variant: Option<String>,
    /// Live: the repository (default `python`). With `--from`: tags to explain (alias family, most specific alias);
    /// without tags every entry is listed.
    #[arg(value_name = "REPO | TAG")]
    tags: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Serialize)]
struct EntryView<'a> {
    most_specific: Option<&'a str>,
    version: Option<String>,
    line: Option<String>,
    variant: Variant,
    os: Option<Os>,
    tags: &'a [String],
    shared_tags: &'a [String],
    architectures: &'a [String],
    git_commit: &'a str,
    directory: &'a str,
    constraints: &'a [String],
    builder: Option<&'a str>,
    file_line: usize,
}

fn entry_view(entry: &Entry) -> EntryView<'_> {
    let most_specific = entry.most_specific_tag();
    let parsed = most_specific.map(PythonTag::parse);
    EntryView {
        most_specific,
        version: parsed
            .as_ref()
            .and_then(|t| t.version)
            .map(|v| v.to_string()),
        line: parsed.as_ref().and_then(PythonTag::line),
        variant: parsed.as_ref().map_or(Variant::Full, |t| t.variant),
        os: parsed.and_then(|t| t.os),
        tags: &entry.tags,
        shared_tags: &entry.shared_tags,
        architectures: &entry.architectures,
        git_commit: &entry.git_commit,
        directory: &entry.directory,
        constraints: &entry.constraints,
        builder: entry.builder.as_deref(),
        file_line: entry.line,
    }
}

#[derive(Serialize)]
struct TagView<'a> {
    tag: String,
    found: bool,
    kind: Option<&'static str>,
    aliases: Vec<String>,
    most_specific: Option<String>,
    entries: Vec<EntryView<'a>>,
}

/// Whether the command needs the registry.
pub fn is_live(args: &TagsArgs) -> bool {
    args.from.is_none()
}

pub fn run_offline(args: &TagsArgs) -> anyhow::Result<ExitCode> {
    let Some(from) = &args.from else {
        bail!("internal: offline tags without --from");
    };
    let path = from.display();
    let text = std::fs::read_to_string(from).with_context(|| format!("cannot read {path}"))?;
    let library = match Library::parse(&text) {
        Ok(library) => library,
        Err(error) => bail!("{path}:{}: {}", error.line, error.kind),
    };
    check_variant(args)?;
    let keep = |view: &EntryView<'_>| {
        args.line
            .as_ref()
            .is_none_or(|line| view.line.as_ref() == Some(line))
            && args
                .variant
                .as_ref()
                .is_none_or(|variant| view.variant.as_str() == variant)
    };

    if args.tags.is_empty() {
        let views: Vec<EntryView<'_>> = library
            .entries
            .iter()
            .map(entry_view)
            .filter(keep)
            .collect();
        match args.format {
            Format::Json => print_json(&views)?,
            Format::Human => print_entries(&views)?,
        }
        return Ok(ExitCode::SUCCESS);
    }

    let mut all_found = true;
    let mut views = Vec::new();
    for tag in &args.tags {
        let view = match library.family(tag) {
            Some(family) => TagView {
                tag: tag.clone(),
                found: true,
                kind: Some(match family.kind {
                    TagKind::Own => "tags",
                    TagKind::Shared => "shared",
                }),
                aliases: family.aliases,
                most_specific: family.most_specific,
                entries: family
                    .entries
                    .into_iter()
                    .map(entry_view)
                    .filter(keep)
                    .collect(),
            },
            None => {
                all_found = false;
                eprintln!("pyimage: tag {tag:?} is not listed in {path}");
                TagView {
                    tag: tag.clone(),
                    found: false,
                    kind: None,
                    aliases: Vec::new(),
                    most_specific: None,
                    entries: Vec::new(),
                }
            }
        };
        views.push(view);
    }
    match args.format {
        Format::Json => print_json(&views)?,
        Format::Human => print_families(&views)?,
    }
    Ok(if all_found {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_INPUT)
    })
}

fn print_entries(views: &[EntryView<'_>]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let width = views
        .iter()
        .filter_map(|v| v.most_specific.map(str::len))
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "{:width$}  {:10}  {:7}  {:17}  {:11}  {:12}  ALIASES",
        "TAG", "VERSION", "LINE", "VARIANT", "OS", "COMMIT"
    )?;
    for view in views {
        let aliases: Vec<&str> = view
            .tags
            .iter()
            .chain(view.shared_tags)
            .map(String::as_str)
            .filter(|tag| Some(*tag) != view.most_specific)
            .collect();
        writeln!(
            out,
            "{:width$}  {:10}  {:7}  {:17}  {:11}  {:12}  {}",
            or_dash(view.most_specific),
            or_dash(view.version.as_deref()),
            or_dash(view.line.as_deref()),
            view.variant.as_str(),
            or_dash(view.os.as_ref().map(|o| o.name.as_str())),
            &view.git_commit[..12.min(view.git_commit.len())],
            aliases.join(", ")
        )?;
    }
    Ok(())
}

fn print_families(views: &[TagView<'_>]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for (index, view) in views.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        if !view.found {
            writeln!(out, "{}\n  not listed", view.tag)?;
            continue;
        }
        writeln!(
            out,
            "{} -> {}",
            view.tag,
            or_dash(view.most_specific.as_deref())
        )?;
        let kind = if view.kind == Some("shared") {
            "shared tag of several images"
        } else {
            "tag of one image"
        };
        writeln!(out, "  kind           {kind}")?;
        writeln!(out, "  aliases        {}", view.aliases.join(", "))?;
        for entry in &view.entries {
            writeln!(
                out,
                "  image          {} ({})",
                or_dash(entry.most_specific),
                entry.directory
            )?;
            writeln!(
                out,
                "    version      {}",
                or_dash(entry.version.as_deref())
            )?;
            writeln!(out, "    git commit   {}", entry.git_commit)?;
            writeln!(out, "    architectures {}", entry.architectures.join(", "))?;
        }
    }
    Ok(())
}

fn check_variant(args: &TagsArgs) -> anyhow::Result<()> {
    if let Some(variant) = &args.variant
        && Variant::from_name(variant).is_none()
    {
        bail!(
            "unknown variant {variant:?}: expected one of full, slim, alpine, windowsservercore, nanoserver, onbuild"
        );
    }
    Ok(())
}

/// Tags that share one digest now.
#[derive(Serialize)]
struct LiveFamily {
    digest: String,
    most_specific: String,
    version: Option<String>,
    line: Option<String>,
    variant: Variant,
    os: Option<Os>,
    tags: Vec<String>,
}

#[derive(Serialize)]
struct LiveView {
    repository: String,
    registry: String,
    tags: usize,
    families: Vec<LiveFamily>,
    /// Line → newest stable (non pre-release) full version with a tag in the repository.
    newest_per_line: std::collections::BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<String>,
}

pub async fn run_live(
    args: &TagsArgs,
    client: pyimage_registry::RegistryClient,
) -> anyhow::Result<ExitCode> {
    use futures_util::StreamExt;
    check_variant(args)?;
    if args.tags.len() > 1 {
        bail!(
            "live mode takes one repository (got {}); to explain tags, use --from FILE",
            args.tags.len()
        );
    }
    let input = args.tags.first().map_or("python", String::as_str);
    let repository = match pyimage_core::Reference::parse_normalized(input) {
        Ok(reference) if reference.tag().is_none() && reference.digest().is_none() => reference,
        Ok(_) => bail!("{input:?}: give a repository without tag or digest"),
        Err(error) => {
            eprintln!("pyimage: {input:?}: {error}");
            return Ok(ExitCode::from(crate::EXIT_INPUT));
        }
    };
    let listing = match client.list_tags(&repository).await {
        Ok(listing) => listing,
        Err(error) => {
            eprintln!("pyimage: {}: {error}", repository.name());
            return Ok(ExitCode::from(crate::EXIT_REGISTRY));
        }
    };
    let heads: Vec<(
        String,
        Result<pyimage_registry::Resolution, pyimage_registry::RegistryError>,
    )> = futures_util::stream::iter(listing.tags.clone())
        .map(|tag| {
            let (client, repository) = (client.clone(), repository.clone());
            async move {
                let outcome = match repository.with_tag(&tag) {
                    Ok(reference) => {
                        client
                            .resolve(&reference, &pyimage_registry::ResolveRequest::default())
                            .await
                    }
                    Err(error) => Err(pyimage_registry::RegistryError::Config(format!(
                        "tag {tag:?}: {error}"
                    ))),
                };
                (tag, outcome)
            }
        })
        .buffer_unordered(pyimage_service::resolver::CONCURRENCY)
        .collect()
        .await;

    let mut by_digest: std::collections::BTreeMap<String, Vec<String>> =
        std::collections::BTreeMap::new();
    let mut errors = Vec::new();
    let mut newest: std::collections::BTreeMap<String, pyimage_core::PythonVersion> =
        std::collections::BTreeMap::new();
    for (tag, outcome) in heads {
        match outcome {
            Ok(resolution) => by_digest
                .entry(resolution.digest.to_string())
                .or_default()
                .push(tag.clone()),
            Err(error) => errors.push(format!("{tag}: {error}")),
        }
        let parsed = PythonTag::parse(&tag);
        if let (Some(version), Some(line)) = (parsed.version, parsed.line())
            && version.is_full()
            && !parsed.is_prerelease()
            && newest.get(&line).is_none_or(|known| version > *known)
        {
            newest.insert(line, version);
        }
    }
    let mut families: Vec<LiveFamily> = by_digest
        .into_iter()
        .map(|(digest, mut tags)| {
            tags.sort_by_key(|tag| std::cmp::Reverse(PythonTag::parse(tag).specificity()));
            let most_specific = tags.first().cloned().unwrap_or_default();
            let parsed = PythonTag::parse(&most_specific);
            LiveFamily {
                digest,
                version: parsed.version.map(|v| v.to_string()),
                line: parsed.line(),
                variant: parsed.variant,
                os: parsed.os.clone(),
                most_specific,
                tags,
            }
        })
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
    families.sort_by(|a, b| {
        let key = |f: &LiveFamily| {
            f.version
                .as_deref()
                .and_then(pyimage_core::PythonVersion::parse)
        };
        key(b)
            .cmp(&key(a))
            .then_with(|| a.most_specific.cmp(&b.most_specific))
    });
    let view = LiveView {
        repository: repository.to_string(),
        registry: listing.registry,
        tags: listing.tags.len(),
        families,
        newest_per_line: newest
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
        eprintln!("pyimage: {error}");
    }
    Ok(if view.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_REGISTRY)
    })
}

fn print_live(view: &LiveView) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
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
