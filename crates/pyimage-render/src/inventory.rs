//! Output of `pyimage ls`, the inventory: a table for people, JSON and CSV for tools. Every image reference is one
//! row (Python or not); references pyimage could not understand, files it skipped and files it could not read are
//! listed after the table, so nothing is left out silently. Text from files is escaped ([`crate::terminal`]) in the
//! table; CSV fields are quoted and a leading `= + - @` is neutralised, so a spreadsheet never runs a formula.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pyimage_policy::check::inventory::{ImageClass, SeenImage};
use pyimage_service::check::InventoryReport;
use serde::Serialize;

use crate::terminal::escape as esc;

/// The columns of the table and of the CSV, in order.
const COLUMNS: [&str; 10] = [
    "location",
    "kind",
    "environment",
    "image",
    "class",
    "python",
    "digest",
    "lock",
    "site",
    "note",
];

fn row(image: &SeenImage) -> [String; 10] {
    [
        format!("{}:{}", image.path, image.line),
        image.file_kind.to_owned(),
        image.environment.clone(),
        image
            .reference
            .clone()
            .unwrap_or_else(|| image.written.clone()),
        image.class.as_str().to_owned(),
        image.python.clone().unwrap_or_else(|| "-".to_owned()),
        if image.pinned { "pinned" } else { "-" }.to_owned(),
        image.lock.as_str().to_owned(),
        image.site.to_owned(),
        image.note.clone().unwrap_or_default(),
    ]
}

/// The table: one row per image (the site and note columns are left to the lists below it), then the references
/// not understood, the files skipped and the files not read, then counts by class.
pub fn human(report: &InventoryReport) -> String {
    let shown = 8;
    let rows: Vec<[String; 10]> = report
        .images
        .iter()
        .map(|image| {
            let mut cells = row(image);
            cells[3] = short_digest(&cells[3]);
            cells.map(|cell| esc(&cell).into_owned())
        })
        .collect();
    let mut widths = [0usize; 10];
    for (index, title) in COLUMNS.iter().enumerate().take(shown) {
        widths[index] = title.chars().count();
    }
    for cells in &rows {
        for (index, cell) in cells.iter().enumerate().take(shown) {
            widths[index] = widths[index].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut text = String::new();
        for (index, cell) in cells.iter().enumerate().take(shown) {
            let _ = write!(text, "{cell:<width$}  ", width = widths[index]);
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    if !rows.is_empty() {
        line(&COLUMNS.map(|title| title.to_uppercase()));
        for cells in &rows {
            line(cells);
        }
    }
    let not_understood: Vec<&SeenImage> = report
        .images
        .iter()
        .filter(|image| image.class == ImageClass::NotUnderstood)
        .collect();
    if !not_understood.is_empty() {
        let _ = writeln!(out, "\nNot understood ({}):", not_understood.len());
        for image in not_understood {
            let _ = writeln!(
                out,
                "  {}:{}:{}  {} {}: {}",
                esc(&image.path),
                image.line,
                image.column,
                image.site,
                esc(&image.written),
                esc(image.note.as_deref().unwrap_or("not evaluated"))
            );
        }
    }
    for (title, list) in [("Skipped", &report.skipped), ("Not read", &report.errors)] {
        if !list.is_empty() {
            let _ = writeln!(out, "\n{title} ({}):", list.len());
            for file in list {
                let _ = writeln!(out, "  {}", esc(&file.to_string()));
            }
        }
    }
    let mut by_class: BTreeMap<ImageClass, (usize, usize)> = BTreeMap::new();
    for image in &report.images {
        let entry = by_class.entry(image.class).or_default();
        entry.0 += 1;
        entry.1 += usize::from(image.pinned);
    }
    let counts: Vec<String> = by_class
        .iter()
        .map(|(class, (count, pinned))| match class {
            ImageClass::Official | ImageClass::Mirror | ImageClass::Derived => {
                format!("{count} {} ({pinned} pinned)", class.as_str())
            }
            _ => format!("{count} {}", class.as_str()),
        })
        .collect();
    let _ = writeln!(
        out,
        "\n{} image reference{} in {} file{} read: {}; {} skipped, {} not read",
        report.images.len(),
        if report.images.len() == 1 { "" } else { "s" },
        report.files_scanned,
        if report.files_scanned == 1 { "" } else { "s" },
        if counts.is_empty() {
            "none".to_owned()
        } else {
            counts.join(", ")
        },
        report.skipped.len(),
        report.errors.len(),
    );
    out
}

/// A reference with its digest cut to 12 hex digits (`python:3.12@sha256:97490e383c4c…`): the table stays
/// readable; JSON and CSV keep the whole digest.
fn short_digest(reference: &str) -> String {
    match reference.split_once("@sha256:") {
        Some((name, hex)) if hex.len() > 12 => {
            format!("{name}@sha256:{}…", hex.get(..12).unwrap_or(hex))
        }
        _ => reference.to_owned(),
    }
}

/// `--format json`: `files_scanned`, `images` (one object per reference), `skipped`, `errors`.
pub fn json(report: &InventoryReport) -> serde_json::Result<String> {
    #[derive(Serialize)]
    struct Image<'a> {
        path: &'a str,
        line: usize,
        column: usize,
        file_kind: &'a str,
        site: &'a str,
        environment: &'a str,
        written: &'a str,
        reference: Option<&'a str>,
        class: &'a str,
        python: Option<&'a str>,
        pinned: bool,
        lock: &'a str,
        note: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct Output<'a> {
        files_scanned: usize,
        images: Vec<Image<'a>>,
        skipped: &'a [pyimage_store::located::FileError],
        errors: &'a [pyimage_store::located::FileError],
    }
    let output = Output {
        files_scanned: report.files_scanned,
        images: report
            .images
            .iter()
            .map(|image| Image {
                path: &image.path,
                line: image.line,
                column: image.column,
                file_kind: image.file_kind,
                site: image.site,
                environment: &image.environment,
                written: &image.written,
                reference: image.reference.as_deref(),
                class: image.class.as_str(),
                python: image.python.as_deref(),
                pinned: image.pinned,
                lock: image.lock.as_str(),
                note: image.note.as_deref(),
            })
            .collect(),
        skipped: &report.skipped,
        errors: &report.errors,
    };
    Ok(serde_json::to_string_pretty(&output)? + "\n")
}

/// `--format csv`: a header, then one row per reference (RFC 4180 quoting).
pub fn csv(report: &InventoryReport) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for image in &report.images {
        let cells: Vec<String> = row(image).iter().map(|cell| csv_field(cell)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV field: quoted when it holds a separator, a quote or a line break; a text that a spreadsheet would run
/// as a formula (leading `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`.
pub fn csv_field(text: &str) -> String {
    let neutral = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text != "-" {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("python:3.12"), "python:3.12");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_field("-"), "-");
    }
}
