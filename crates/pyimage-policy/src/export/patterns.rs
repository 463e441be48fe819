//! Regular expressions the exported Rego matches with: configuration globs (sources, namespaces) compiled to
//! anchored regexes, and the typosquat rule (edit distance ≤ 2 from `python`) as one regex, since Rego has no
//! Levenshtein. The regexes use the syntax Go's RE2 (Gatekeeper) and Rust's `regex` (regorus) share.

use std::collections::BTreeSet;

/// Compiles a glob as `globset` reads it with default options (`*` matches any run of characters, `/` included;
/// `?` any one character) to an anchored regex. Globs using classes (`[…]`), alternations (`{…}`), escapes or
/// `**` are refused: their globset meaning is not reproduced exactly here, and an inexact export is worse than none.
pub fn glob_regex(glob: &str) -> Result<String, String> {
    if let Some(bad) = glob
        .chars()
        .find(|c| matches!(c, '[' | ']' | '{' | '}' | '\\'))
    {
        return Err(format!(
            "glob {glob:?} uses `{bad}`, which the Gatekeeper export cannot translate exactly; write it with `*` and `?` only"
        ));
    }
    if glob.contains("**") {
        return Err(format!(
            "glob {glob:?} uses `**`, which the Gatekeeper export cannot translate exactly; `*` already crosses `/` here"
        ));
    }
    let mut out = String::from("^(?s)");
    for c in glob.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '.' | '+' | '(' | ')' | '|' | '^' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('$');
    Ok(out)
}

/// An anchored regex matching exactly the strings within edit distance 2 of `python` (substitutions, insertions,
/// deletions): every edit script of at most two operations applied to `python`, substituted and inserted
/// characters as `.`. Callers add the rule's length condition (at least five characters).
pub fn typosquat_regex() -> String {
    format!("^(?s)(?:{})$", typosquat_alternatives().join("|"))
}

/// The alternatives of [`typosquat_regex`], sorted (`.` stands for any character).
pub fn typosquat_alternatives() -> Vec<String> {
    // `None` is a wildcard character.
    let start: Vec<Option<u8>> = b"python".iter().copied().map(Some).collect();
    let mut patterns: BTreeSet<Vec<Option<u8>>> = BTreeSet::from([start]);
    for _ in 0..2 {
        let mut next = patterns.clone();
        for pattern in &patterns {
            for index in 0..=pattern.len() {
                let mut inserted = pattern.clone();
                inserted.insert(index, None);
                next.insert(inserted);
                if index < pattern.len() {
                    let mut substituted = pattern.clone();
                    substituted[index] = None;
                    next.insert(substituted);
                    let mut deleted = pattern.clone();
                    deleted.remove(index);
                    next.insert(deleted);
                }
            }
        }
        patterns = next;
    }
    let alternatives: BTreeSet<String> = patterns
        .iter()
        .map(|pattern| {
            pattern
                .iter()
                .map(|c| c.map_or('.', char::from))
                .collect::<String>()
        })
        .collect();
    alternatives.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::rules::edit_distance;
    use proptest::prelude::*;

    fn matcher(pattern: &str) -> regex::Regex {
        regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"))
    }

    #[test]
    fn globs_are_anchored_and_exact() {
        let re = matcher(&glob_regex("docker.io/library/python").unwrap_or_default());
        assert!(re.is_match("docker.io/library/python"));
        assert!(!re.is_match("docker.io/library/python-evil"));
        assert!(!re.is_match("docker-io/library/python"));
        let re = matcher(&glob_regex("prod-*").unwrap_or_default());
        assert!(re.is_match("prod-eu") && re.is_match("prod-") && !re.is_match("preprod-eu"));
        assert!(glob_regex("prod-[ab]").is_err());
        assert!(glob_regex("ghcr.io/**/x").is_err());
    }

    proptest! {
        #[test]
        fn globs_agree_with_globset(glob in "[a-c.*?/-]{0,6}", name in "[a-c./-]{0,8}") {
            if let Ok(pattern) = glob_regex(&glob) {
                let set = globset::Glob::new(&glob).map(|g| g.compile_matcher());
                if let Ok(set) = set {
                    prop_assert_eq!(matcher(&pattern).is_match(&name), set.is_match(&name), "{} vs {}", glob, name);
                }
            }
        }

        #[test]
        fn typosquat_regex_is_edit_distance_two(name in "[ptyhonx.-]{0,9}") {
            let re = matcher(&typosquat_regex());
            prop_assert_eq!(re.is_match(&name), edit_distance(&name, "python", 2) <= 2, "{}", name);
        }
    }
}
