//! `pyimage ref REF...`: how Docker reads each reference, and what a Python tag promises.

use pyimage_service::Outcome;
use std::io::Write;

use clap::Args;
use pyimage_model::python::{self, PythonTagView};
use pyimage_model::reference::Reference;
use serde::Serialize;

use crate::output::{Format, print_json};
use pyimage_render::or_dash;

#[derive(Args)]
pub struct RefArgs {
    /// Image references, as you would give them to `docker pull` or `FROM`.
    #[arg(required = true, value_name = "REF")]
    references: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// One reference's report; the JSON keys are part of pyimage's interface.
#[derive(Serialize)]
struct RefReport {
    input: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    normalized: Option<String>,
    familiar: Option<String>,
    domain: Option<String>,
    path: Option<String>,
    tag: Option<String>,
    digest: Option<String>,
    python: Option<PythonTagView>,
}

fn report(input: &str) -> RefReport {
    match Reference::parse_normalized(input) {
        Ok(reference) => RefReport {
            input: input.to_owned(),
            ok: true,
            error: None,
            normalized: Some(reference.to_string()),
            familiar: Some(reference.familiar_string()),
            domain: Some(reference.domain().to_owned()),
            path: Some(reference.path().to_owned()),
            tag: reference.tag().map(str::to_owned),
            digest: reference.digest().map(ToString::to_string),
            python: reference
                .is_official("python")
                .then(|| python::describe(&reference)),
        },
        Err(error) => RefReport {
            input: input.to_owned(),
            ok: false,
            error: Some(error.to_string()),
            normalized: None,
            familiar: None,
            domain: None,
            path: None,
            tag: None,
            digest: None,
            python: None,
        },
    }
}

pub fn run(args: &RefArgs) -> anyhow::Result<Outcome> {
    let reports: Vec<RefReport> = args.references.iter().map(|input| report(input)).collect();
    match args.format {
        Format::Json => print_json(&reports)?,
        Format::Human => print_human(&reports)?,
    }
    let all_ok = reports.iter().all(|r| r.ok);
    Ok(if all_ok {
        Outcome::OK
    } else {
        Outcome::of(pyimage_service::ErrorKind::Input)
    })
}

fn print_human(reports: &[RefReport]) -> anyhow::Result<()> {
    let mut out = crate::render::terminal::stdout();
    for (index, r) in reports.iter().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", r.input)?;
        if let Some(error) = &r.error {
            writeln!(out, "  error       {error}")?;
            crate::render::terminal::eprintln(format_args!("pyimage: {:?}: {error}", r.input));
            continue;
        }
        writeln!(out, "  normalized  {}", or_dash(r.normalized.as_deref()))?;
        writeln!(out, "  familiar    {}", or_dash(r.familiar.as_deref()))?;
        writeln!(out, "  domain      {}", or_dash(r.domain.as_deref()))?;
        writeln!(out, "  path        {}", or_dash(r.path.as_deref()))?;
        writeln!(out, "  tag         {}", or_dash(r.tag.as_deref()))?;
        writeln!(out, "  digest      {}", or_dash(r.digest.as_deref()))?;
        if let Some(p) = &r.python {
            writeln!(out, "  python      {}", python_summary(p))?;
            let version = p.version.as_ref().map(|v| v.text.as_str());
            writeln!(out, "    version   {}", or_dash(version))?;
            writeln!(out, "    line      {}", or_dash(p.line.as_deref()))?;
            let variant = p.variant.map(|v| v.as_str());
            writeln!(out, "    variant   {}", or_dash(variant))?;
            let os = p.os.as_ref().map(|o| o.name.as_str());
            writeln!(out, "    os        {}", or_dash(os))?;
            writeln!(out, "    float     {}", p.float)?;
            if !p.unknown.is_empty() {
                writeln!(
                    out,
                    "    unknown   {} (not a part of any official python tag)",
                    p.unknown.join(", ")
                )?;
            }
        }
    }
    Ok(())
}

/// One sentence on how far the reference can move.
fn python_summary(p: &PythonTagView) -> String {
    let tag = p.tag.as_deref().unwrap_or("(digest only)");
    let implicit = if p.implicit_tag { " (implicit)" } else { "" };
    let movement = match p.float {
        python::Float::Pinned => "pinned by digest: cannot move".to_owned(),
        python::Float::Patch => {
            "names one release, but is rebuilt in place (a new digest) when its base OS gets security fixes"
                .to_owned()
        }
        python::Float::Minor => format!(
            "follows new patch releases of {}",
            p.line.as_deref().unwrap_or("its line")
        ),
        python::Float::Major => "follows new Python lines of its major version".to_owned(),
        python::Float::Latest => "follows the newest Python line".to_owned(),
    };
    let prerelease = if p.prerelease { "; pre-release" } else { "" };
    format!("tag {tag}{implicit} {movement}{prerelease}")
}
