//! Renderers of `pyimage history`: the recorded moves (human, JSON, CSV) and, with `--lock`, how each locked
//! reference stands (human, CSV; JSON is the standings as they are). Human text goes through the escaping writer:
//! package names and digests come from registries; registry values also keep to their line ([`one_line`]). CSV
//! fields are quoted and formula-neutralised ([`csv_field`]): a spreadsheet opens what `--format csv` writes.

use std::io::{self, Write};

use pyimage_service::drift::{Standing, familiar};
use pyimage_service::watch::notify::Payload;
use pyimage_service::watch::{Changes, TagState};
use pyimage_store::Event;
use serde::Serialize;

use crate::or_dash;

/// An event as `history --format json` prints it.
#[derive(Serialize)]
pub struct Shown<'a> {
    #[serde(flatten)]
    payload: Payload,
    seq: i64,
    source: &'a str,
    base_image: Option<String>,
    changes: Changes,
}

impl<'a> Shown<'a> {
    /// The JSON form of one event.
    pub fn of(event: &'a Event) -> Shown<'a> {
        let state: TagState = serde_json::from_value(event.state.clone()).unwrap_or_default();
        Shown {
            payload: Payload::of(event),
            seq: event.seq,
            source: &event.source,
            base_image: state.base_name,
            changes: serde_json::from_value(event.changes.clone()).unwrap_or_default(),
        }
    }
}

/// Each tag's moves, one block per move.
pub fn human(out: &mut impl Write, events: &[Event]) -> io::Result<()> {
    let mut current = None;
    for event in events {
        let name = familiar(&event.repository, &event.tag);
        if current.as_ref() != Some(&name) {
            writeln!(out, "{name}")?;
            current = Some(name);
        }
        let python = match (&event.python_from, &event.python_to) {
            (Some(a), Some(b)) if a != b => format!("Python {} → {}", one_line(a), one_line(b)),
            (_, Some(b)) => format!("Python {}", one_line(b)),
            _ => "Python unknown".to_owned(),
        };
        // The first sighting starts the tag's history: shown as such, not as a move (as on the drift page).
        if event.kind == "new-tag" {
            writeln!(
                out,
                "  #{} {} first seen  {python}",
                event.seq, event.observed_at
            )?;
            writeln!(out, "      at   {}", or_dash(event.to_digest.as_deref()))?;
            continue;
        }
        writeln!(
            out,
            "  #{} {} {}  {python}",
            event.seq, event.observed_at, event.kind
        )?;
        if let Some(from) = &event.from_digest {
            writeln!(out, "      from {from}")?;
        }
        writeln!(out, "      to   {}", or_dash(event.to_digest.as_deref()))?;
        let changes: Changes = serde_json::from_value(event.changes.clone()).unwrap_or_default();
        for (platform, change) in &changes.platforms {
            writeln!(
                out,
                "      {platform} {} → {}",
                or_dash(change.from.as_deref()),
                or_dash(change.to.as_deref())
            )?;
        }
        if let Some(base) = &changes.base_digest {
            writeln!(
                out,
                "      base image {} → {}",
                or_dash(base.from.as_deref()),
                or_dash(base.to.as_deref())
            )?;
        }
        if let Some(commit) = &changes.commit {
            writeln!(
                out,
                "      commit {} → {}",
                or_dash(commit.from.as_deref()),
                or_dash(commit.to.as_deref())
            )?;
        }
        if !changes.packages.is_empty() {
            writeln!(
                out,
                "      packages ({}): {} changed",
                or_dash(changes.packages_platform.as_deref()),
                changes.packages.len()
            )?;
            for change in &changes.packages {
                writeln!(out, "        {}", one_line(&change.describe()))?;
            }
        }
    }
    Ok(())
}

/// One CSV row per move.
pub fn csv(out: &mut impl Write, events: &[Event]) -> io::Result<()> {
    writeln!(
        out,
        "repository,tag,seq,observed_at,kind,from,to,python_from,python_to,packages_changed"
    )?;
    for event in events {
        let changes: Changes = serde_json::from_value(event.changes.clone()).unwrap_or_default();
        let field = |v: &Option<String>| csv_field(v.as_deref().unwrap_or_default()).into_owned();
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            csv_field(&event.repository),
            csv_field(&event.tag),
            event.seq,
            csv_field(&event.observed_at),
            csv_field(&event.kind),
            field(&event.from_digest),
            field(&event.to_digest),
            field(&event.python_from),
            field(&event.python_to),
            changes.packages.len()
        )?;
    }
    Ok(())
}

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled; a value a
/// spreadsheet would run as a formula (leading `=`, `+`, `-`, `@`, tab or carriage return) is prefixed with `'`.
pub fn csv_field(value: &str) -> std::borrow::Cow<'_, str> {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if !formula && !value.contains([',', '"', '\n', '\r']) {
        return std::borrow::Cow::Borrowed(value);
    }
    let value = if formula {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    std::borrow::Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
}

/// A registry value on one line: a newline in it is written `\n` (the escaping writer leaves newlines alone).
fn one_line(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains('\n') {
        std::borrow::Cow::Owned(value.replace('\n', "\\n"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// One CSV row per locked reference.
pub fn standings_csv(out: &mut impl Write, rows: &[Standing]) -> io::Result<()> {
    writeln!(
        out,
        "reference,pinned,status,current,stale_since,moves_behind"
    )?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{},{}",
            csv_field(&r.reference),
            csv_field(&r.pinned),
            csv_field(r.status),
            csv_field(r.current.as_deref().unwrap_or_default()),
            csv_field(r.stale_since.as_deref().unwrap_or_default()),
            r.moves_behind.map(|n| n.to_string()).unwrap_or_default()
        )?;
    }
    Ok(())
}

/// One line per locked reference: current, stale (since when, how far behind, where the tag is now) or unknown.
pub fn standings_human(out: &mut impl Write, rows: &[Standing]) -> io::Result<()> {
    for r in rows {
        match r.status {
            "current" => writeln!(out, "{}: current ({})", r.reference, r.pinned)?,
            "stale" => writeln!(
                out,
                "{}: stale since {}, {} move(s) behind; the tag now points at {}",
                r.reference,
                or_dash(r.stale_since.as_deref()),
                r.moves_behind.unwrap_or(0),
                or_dash(r.current.as_deref())
            )?,
            _ => writeln!(
                out,
                "{}: unknown (the store never saw {} for this tag)",
                r.reference, r.pinned
            )?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A move recorded before versions were checked (or by another tool) keeps a hostile value in the store: CSV
    /// still writes one row of ten fields and no formula.
    #[test]
    fn csv_quotes_and_neutralises_registry_text() {
        let event = Event {
            repository: "docker.io/library/python".into(),
            tag: "3.12-slim".into(),
            seq: 1,
            kind: "new-tag".into(),
            from_digest: None,
            to_digest: Some("sha256:aa".into()),
            python_from: Some("@SUM(1,2)".into()),
            python_to: Some("=HYPERLINK(\"http://x/\",\"y\")\nnext".into()),
            observed_at: "2026-08-05T10:00:00Z".into(),
            source: "w".into(),
            state: serde_json::Value::Null,
            changes: serde_json::Value::Null,
        };
        let mut out = Vec::new();
        csv(&mut out, &[event]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.split_once('\n').unwrap().1,
            "docker.io/library/python,3.12-slim,1,2026-08-05T10:00:00Z,new-tag,,sha256:aa,\"'@SUM(1,2)\",\
             \"'=HYPERLINK(\"\"http://x/\"\",\"\"y\"\")\nnext\",0\n"
        );
        assert_eq!(csv_field("-1"), "\"'-1\"");
        assert_eq!(csv_field("3.12.14"), "3.12.14");
    }
}
