//! Human lines for one platform's provenance: shared by `pyimage provenance` and `pyimage verify`, so the two show
//! attestations the same way.

use std::io::Write;

use pyimage_policy::provenance::{Outcome, PlatformProvenance};

/// Writes the provenance of one platform image, each line starting with `indent`.
pub fn write_platform(
    out: &mut impl Write,
    indent: &str,
    p: &PlatformProvenance,
) -> std::io::Result<()> {
    writeln!(out, "{indent}{} {}", p.platform, p.manifest)?;
    match &p.attestation {
        Some(a) => writeln!(out, "{indent}  attestation   {a}")?,
        None => writeln!(out, "{indent}  attestation   none")?,
    }
    if let Some(prov) = &p.provenance {
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        writeln!(out, "{indent}  builder       {}", dash(&prov.builder_id))?;
        writeln!(out, "{indent}  source        {}", dash(&prov.source))?;
        writeln!(out, "{indent}  commit        {}", dash(&prov.commit))?;
        writeln!(out, "{indent}  directory     {}", dash(&prov.directory))?;
        if let Some(base) = prov.base_image() {
            let digest = base
                .digest
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string);
            writeln!(out, "{indent}  base image    {} {digest}", base.uri)?;
        }
    }
    if let Some(sbom) = &p.sbom {
        writeln!(
            out,
            "{indent}  sbom          {} packages, python {}",
            sbom.packages,
            sbom.python.as_deref().unwrap_or("(not listed)")
        )?;
    }
    for check in &p.checks {
        let mark = match check.outcome {
            Outcome::Match => "ok        ",
            Outcome::Mismatch => "MISMATCH  ",
            Outcome::NotListed => "NOT LISTED",
            Outcome::Unchecked => "unchecked ",
        };
        writeln!(out, "{indent}  {mark} {:<20} {}", check.name, check.detail)?;
    }
    Ok(())
}
