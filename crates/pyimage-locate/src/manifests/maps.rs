//! Images assembled from the keys of a map — Kustomize `images:` entries (`newName`/`name`, `newTag`, `digest`),
//! Helm values `image:` maps (`registry`, `repository`, `tag`, `digest`) — and where a digest can be written in
//! them: into an existing `digest:` key, or (Kustomize) on a new line under the tag.

use crate::dockerfile::{Evaluation, Span, Unresolvable};

use super::finder::{Dialect, Finder};
use super::yaml::{self, Document};
use super::{ImageSite, ManifestImage, MapParts, Written};

/// The keys of an image map and whether a missing `digest:` may be inserted.
pub(super) struct MapKeys {
    pub(super) registry: Option<&'static str>,
    /// Repository keys, first present wins (`newName` before `name`).
    pub(super) repository: &'static [&'static str],
    pub(super) tag: &'static str,
    pub(super) digest: &'static str,
    /// Why a digest key may not be inserted (None: it may).
    pub(super) no_insert: Option<&'static str>,
    /// What a missing or empty tag means, when it is not "no image at all".
    pub(super) empty_tag: Option<&'static str>,
    /// The map is read through YAML-to-JSON (Helm): an unquoted numeric tag becomes a number
    /// ([`super::ManifestImage::numeric_tag`]).
    pub(super) numbers: bool,
}

impl Finder<'_> {
    /// An image assembled from a map's keys (`repository`, `tag`, `digest`…). The finding points at the tag (else
    /// the repository) as written.
    pub(super) fn map(
        &mut self,
        document: &Document,
        index: usize,
        map: usize,
        site: ImageSite,
        path: String,
        keys: &MapKeys,
    ) {
        let scalar_of = |key: &str| {
            document
                .own_entry(map, key)
                .and_then(|(k, v)| Some((k, v, document.scalar(v)?)))
        };
        let Some((repository_key, _, repository)) =
            keys.repository.iter().find_map(|key| scalar_of(key))
        else {
            return;
        };
        if repository.value.is_empty() {
            return;
        }
        let registry = keys
            .registry
            .and_then(&scalar_of)
            .map(|(_, _, s)| s.value.to_owned())
            .filter(|r| !r.is_empty() && r != "~" && r != "null");
        let tag = scalar_of(keys.tag).filter(|(_, _, s)| !is_null(s.value));
        let digest = scalar_of(keys.digest);
        let digest_value = digest
            .as_ref()
            .map(|(_, _, s)| s.value.to_owned())
            .filter(|d| !is_null(d));
        if tag.is_none() && digest_value.is_none() && keys.empty_tag.is_none() {
            // A Kustomize entry that only renames keeps the tag of the manifest it applies to: checked there.
            return;
        }
        let mut assembled = match &registry {
            Some(registry) => format!("{}/{}", registry.trim_end_matches('/'), repository.value),
            None => repository.value.to_owned(),
        };
        if let Some((_, _, tag)) = &tag {
            assembled = format!("{assembled}:{}", tag.value);
        }
        if let Some(digest) = &digest_value {
            assembled = format!("{assembled}@{digest}");
        }
        let (tag_span, tag_rewritable) = match &tag {
            Some((_, _, tag)) => {
                let (span, how) = yaml::content_span(self.text, tag);
                (Some(span), how.is_none())
            }
            None => (None, false),
        };
        let (repository_span, repository_how) = yaml::content_span(self.text, &repository);
        let span = tag_span.unwrap_or(repository_span);
        let evaluation = match (&tag, keys.empty_tag) {
            (None, Some(what)) if digest_value.is_none() => {
                Evaluation::Unresolvable(Unresolvable::Runtime {
                    name: keys.tag.to_owned(),
                    what: what.to_owned(),
                })
            }
            _ => self.evaluate(&assembled, Dialect::Literal),
        };
        let digest_span = digest.as_ref().and_then(|(_, _, d)| {
            let (span, how) = yaml::content_span(self.text, d);
            // A plain null (`digest:`) has no bytes to write into; quotes (`digest: ""`) do.
            let quoted = d.style != saphyr_parser::ScalarStyle::Plain;
            (how.is_none() && (quoted || !is_null(d.value))).then_some(span)
        });
        let insert_digest = match &digest {
            Some((key, _, value)) => self.fill_digest(document, *key, value, digest_span),
            None => match keys.no_insert {
                Some(why) => Err(why.to_owned()),
                None => match (&tag, tag_span) {
                    (Some((key, _, _)), Some(value)) => {
                        self.new_line_after(document, *key, value.end, keys.digest)
                    }
                    _ => self.new_line_after(
                        document,
                        repository_key,
                        repository_span.end,
                        keys.digest,
                    ),
                },
            },
        };
        let numeric_tag = tag
            .as_ref()
            .filter(|(_, _, tag)| keys.numbers && tag.style == saphyr_parser::ScalarStyle::Plain)
            .and_then(|(_, _, tag)| {
                Some(super::NumericTag {
                    written: tag.value.to_owned(),
                    rendered: rendered_number(tag.value)?,
                })
            });
        self.push(ManifestImage {
            site,
            path,
            document: index,
            span,
            written: assembled.clone(),
            value: assembled,
            evaluation,
            not_rewritable: if tag.is_some() { None } else { repository_how },
            form: Written::Map(MapParts {
                tag: tag_span.filter(|_| tag_rewritable),
                digest: digest_span,
                insert_digest,
            }),
            numeric_tag,
            line: 0,
            column: 0,
        });
    }

    /// Where a digest goes in an existing `digest:` key without one: inside empty quotes, or after the colon of
    /// a key with no value.
    fn fill_digest(
        &self,
        document: &Document,
        key: usize,
        value: &yaml::Scalar<'_>,
        span: Option<Span>,
    ) -> Result<(usize, String), String> {
        if !is_null(value.value) {
            return Err("a digest is already written".to_owned());
        }
        match value.style {
            saphyr_parser::ScalarStyle::SingleQuoted | saphyr_parser::ScalarStyle::DoubleQuoted => {
                span.map(|span| (span.start, String::new()))
                    .ok_or_else(|| "the digest value cannot be rewritten in place".to_owned())
            }
            saphyr_parser::ScalarStyle::Plain if value.value.is_empty() => {
                let key_end = document
                    .scalar(key)
                    .map(|k| yaml::content_span(self.text, &k).0.end)
                    .unwrap_or(0);
                let rest = self.text.get(key_end..).unwrap_or("");
                let line_rest = rest.split(['\n', '\r']).next().unwrap_or("");
                let after_colon = line_rest.strip_prefix(':').map(str::trim_start);
                match after_colon {
                    Some(after) if after.is_empty() || after.starts_with('#') => {
                        Ok((key_end + 1, " ".to_owned()))
                    }
                    _ => Err("write the digest after `digest:` by hand".to_owned()),
                }
            }
            _ => Err(format!("replace `{}` after `digest:` by hand", value.value)),
        }
    }

    /// A new `KEY: ` line after the line of `after` (a key of a block mapping whose value is on its line), at the
    /// same indentation, keeping the file's line ending.
    fn new_line_after(
        &self,
        document: &Document,
        after: usize,
        value_end: usize,
        key: &str,
    ) -> Result<(usize, String), String> {
        let refuse = || {
            Err(format!(
                "the map is not a block mapping with one key per line: add `{key}: sha256:…` by hand"
            ))
        };
        let Some(key_scalar) = document.scalar(after) else {
            return refuse();
        };
        let key_start = yaml::content_span(self.text, &key_scalar).0.start;
        let line_start = self
            .text
            .get(..key_start)
            .and_then(|b| b.rfind('\n'))
            .map_or(0, |n| n + 1);
        let before = self.text.get(line_start..key_start).unwrap_or("x");
        let indent_ok = before.chars().all(|c| c == ' ')
            || before
                .trim_start_matches(' ')
                .strip_prefix('-')
                .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c == ' '));
        if !indent_ok {
            return refuse();
        }
        // The value must end on the key's line: the new line goes right after it.
        let line_end = self
            .text
            .get(key_start..)
            .and_then(|rest| rest.find('\n'))
            .map(|n| key_start + n);
        if line_end.is_some_and(|end| value_end > end) {
            return refuse();
        }
        let indent = " ".repeat(before.len());
        Ok(match line_end {
            Some(end) if end > 0 && self.text.as_bytes().get(end - 1) == Some(&b'\r') => {
                (end - 1, format!("\r\n{indent}{key}: "))
            }
            Some(end) => (end, format!("\n{indent}{key}: ")),
            None => (self.text.len(), format!("\n{indent}{key}: ")),
        })
    }
}

/// YAML's null, or an empty value.
fn is_null(value: &str) -> bool {
    matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

/// How Helm prints a plain scalar YAML 1.1 reads as a number (Helm's values go through JSON, so every number is a
/// float printed in its shortest form: `3.10` → `3.1`, `010` → `8`), or `None` when YAML reads it as a string.
fn rendered_number(plain: &str) -> Option<String> {
    let text = plain.replace('_', "");
    let (sign, digits) = match text.strip_prefix(['-', '+']) {
        Some(rest) => (&text[..1], rest),
        None => ("", text.as_str()),
    };
    let sign = if sign == "-" { "-" } else { "" };
    if let Some(hex) = digits.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16)
            .ok()
            .map(|n| format!("{sign}{n}"));
    }
    if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) {
        return u64::from_str_radix(&digits[1..], 8)
            .ok()
            .map(|n| format!("{sign}{n}"));
    }
    let integer = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    // YAML 1.1 floats have a `.` (`1e5` is a string); only digits, one `.`, and an exponent with a sign.
    let float = digits.contains('.')
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if !integer && !float {
        return None;
    }
    let number: f64 = format!("{sign}{digits}").parse().ok()?;
    number.is_finite().then(|| format!("{number}"))
}

#[cfg(test)]
mod tests {
    use super::rendered_number;

    #[test]
    fn numbers_as_helm_prints_them() {
        for (plain, rendered) in [
            ("3.10", Some("3.1")),
            ("3.12", Some("3.12")),
            ("3", Some("3")),
            ("-1.50", Some("-1.5")),
            ("010", Some("8")),
            ("0x1F", Some("31")),
            ("1_000", Some("1000")),
            ("1e5", None),
            ("3.10-slim", None),
            ("latest", None),
            (".inf", None),
            ("", None),
        ] {
            assert_eq!(rendered_number(plain).as_deref(), rendered, "{plain}");
        }
    }
}
