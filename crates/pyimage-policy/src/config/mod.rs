//! `pyimage.toml` text → validated [`Settings`], collecting *every* problem as a [`Diagnostic`] with its line and
//! column instead of stopping at the first one.
//!
//! The document is read into toml's spanned tree (syntax errors are recovered from, so one typo does not hide the
//! next) and walked by hand: each section knows its keys, and an unknown key, a value of the wrong type or an invalid
//! value becomes a diagnostic that names the key, what was expected and where. Every setting keeps its
//! [`Origin`] (the configuration line) so that a finding can name the line that decided it.
//!
//! The caller finds and reads the file (and renders the diagnostics); nothing here touches the file system.

pub use pyimage_model::registries;
pub mod serve;
pub mod store;
pub mod trust;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::check::policy::{NamespaceRule, Promotion, UpdatePolicy, path_glob};
use crate::check::{
    Date, EnvSettings, Ignore, Origin, PathRule, Policy, Severity, SourcePattern, find_rule,
    rules::unknown_rule_hint,
};
use pyimage_model::python::Float;
use pyimage_model::text::line_column;

pub use registries::{RegistriesConfig, RegistrySettings};
pub use serve::{RegistryFailure, ServeSettings};
pub use store::StoreSettings;
pub use trust::TrustSettings;

/// One problem in the configuration (or on the command line that overrides it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line and column (in characters) in the configuration file; `None` for command-line problems.
    pub position: Option<(usize, usize)>,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// A configuration that cannot be used, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file as shown to the user (`pyimage.toml`, `deploy/pyimage.toml`).
    pub path: String,
    /// The problems, in file order (command-line problems last).
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ConfigError {
    /// One line per problem: `path:line:column: message`, or `message` for command-line problems.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, diagnostic) in self.diagnostics.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            match diagnostic.position {
                Some((line, column)) => {
                    write!(f, "{}:{line}:{column}: {}", self.path, diagnostic.message)?
                }
                None => f.write_str(&diagnostic.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Command-line settings that override the configuration (`--env`, `--deny`/`--warn`/`--allow`).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--env`: the environment of every scope.
    pub environment: Option<String>,
    /// `--deny`/`--warn`/`--allow RULE`, in the order given (a later flag wins).
    pub severities: Vec<(String, Severity)>,
}

/// Everything `pyimage.toml` configures, validated.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The policy: sources, environments, path and namespace mapping, severities, ignores, end-of-life overrides.
    pub policy: Policy,
    /// `[registries."HOST"]`: endpoints, mirrors, plain HTTP, CA files.
    pub registries: RegistriesConfig,
    /// `[policy] exclude`: path globs never checked when walking directories.
    pub exclude: Vec<globset::GlobMatcher>,
    /// `[serve]`: the admission webhook server.
    pub serve: ServeSettings,
    /// `[store]`: the history store of `watch` and `history`.
    pub store: StoreSettings,
    /// `[trust]`: python.org's release files, the Sigstore trust root, extra release-line signers.
    pub trust: TrustSettings,
}

impl Settings {
    /// The built-in settings (no configuration file) with command-line overrides.
    pub fn builtin(overrides: &Overrides) -> Result<Settings, ConfigError> {
        let mut reader = Reader::new("", "pyimage.toml");
        let mut settings = Settings::default();
        reader.apply_overrides(&mut settings.policy, overrides);
        reader.check_environments(&settings.policy);
        reader.finish(settings)
    }

    /// Parses and validates configuration text. `shown_path` is how the file is named in messages and origins.
    pub fn parse(
        text: &str,
        shown_path: &str,
        overrides: &Overrides,
    ) -> Result<Settings, ConfigError> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError {
                path: shown_path.to_owned(),
                diagnostics: vec![Diagnostic {
                    position: None,
                    message: format!(
                        "{} bytes: larger than any configuration ({} KiB at most); is this the right file?",
                        text.len(),
                        MAX_CONFIG_BYTES / 1024
                    ),
                }],
            });
        }
        let mut reader = Reader::new(text, shown_path);
        let mut settings = Settings {
            policy: Policy {
                config_path: Some(shown_path.to_owned()),
                ..Policy::default()
            },
            ..Settings::default()
        };
        let document = match DeTable::parse(text) {
            Ok(document) => document,
            // A real configuration is small: read past its syntax errors, so that one run reports every problem.
            Err(_) if text.len() <= MAX_RECOVERED_BYTES => {
                let (document, syntax_errors) = DeTable::parse_recoverable(text);
                for error in syntax_errors.iter().take(MAX_SYNTAX_ERRORS) {
                    let offset = error.span().map_or(0, |span| span.start);
                    reader.error_at(offset, error.message().trim_end().to_owned());
                }
                document
            }
            // Recovering holds memory per error (about 200 bytes per byte of a file of `=` signs): a large file
            // stops at its first syntax error.
            Err(error) => {
                let offset = error.span().map_or(0, |span| span.start);
                reader.error_at(offset, error.message().trim_end().to_owned());
                return reader.finish(settings);
            }
        };
        reader.document(document.get_ref(), &mut settings);
        reader.apply_overrides(&mut settings.policy, overrides);
        reader.check_environments(&settings.policy);
        reader.finish(settings)
    }
}

/// Largest `pyimage.toml` read: a real configuration is a few kilobytes.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// Largest configuration read past its syntax errors (larger ones stop at the first).
const MAX_RECOVERED_BYTES: usize = 16 * 1024;

/// Most syntax errors reported for one file: a file that is not TOML has one every few bytes.
const MAX_SYNTAX_ERRORS: usize = 20;

/// Walks the spanned document, filling [`Settings`] and collecting diagnostics.
struct Reader<'a> {
    text: &'a str,
    path: &'a str,
    diagnostics: Vec<(usize, Diagnostic)>,
    /// Environment names written in the file, with their spans, checked once every environment is known.
    environment_names: Vec<(String, Range<usize>)>,
}

type Table<'i> = DeTable<'i>;
type Value<'i> = Spanned<DeValue<'i>>;

fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'a> Reader<'a> {
    fn new(text: &'a str, path: &'a str) -> Self {
        Reader {
            text,
            path,
            diagnostics: Vec::new(),
            environment_names: Vec::new(),
        }
    }

    fn error_at(&mut self, offset: usize, message: String) {
        let position = line_column(self.text, offset);
        self.diagnostics.push((
            offset,
            Diagnostic {
                position: Some(position),
                message,
            },
        ));
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.error_at(span.start, message.into());
    }

    fn command_line_error(&mut self, message: String) {
        self.diagnostics.push((
            usize::MAX,
            Diagnostic {
                position: None,
                message,
            },
        ));
    }

    fn finish(mut self, settings: Settings) -> Result<Settings, ConfigError> {
        if self.diagnostics.is_empty() {
            return Ok(settings);
        }
        self.diagnostics.sort_by_key(|(offset, _)| *offset);
        Err(ConfigError {
            path: self.path.to_owned(),
            diagnostics: self.diagnostics.into_iter().map(|(_, d)| d).collect(),
        })
    }

    /// The configuration line a setting is on, for [`Origin::Config`].
    fn origin(&self, span: Range<usize>) -> Origin {
        let (line, column) = line_column(self.text, span.start);
        let text = self
            .text
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or_default()
            .trim()
            .to_owned();
        Origin::Config { line, column, text }
    }

    /// `pyimage.toml:12`: where a span is, for messages.
    fn at(&self, span: Range<usize>) -> String {
        let (line, _) = line_column(self.text, span.start);
        format!("{}:{line}", self.path)
    }

    /// Reports every key of `table` not in `known`.
    fn unknown_keys(&mut self, table: &Table<'_>, known: &[&str], section: &str) {
        for (key, _) in table.iter() {
            if !known.contains(&key.get_ref().as_ref()) {
                self.error(
                    key.span(),
                    format!(
                        "unknown key `{}` in {section}: expected one of {}",
                        key.get_ref(),
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn table<'v, 'i>(&mut self, value: &'v Value<'i>, what: &str) -> Option<&'v Table<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            other => {
                self.error(
                    value.span(),
                    format!("{what} must be a table, not {}", type_name(other)),
                );
                None
            }
        }
    }

    fn string<'v>(&mut self, value: &'v Value<'_>, what: &str) -> Option<&'v str> {
        match value.get_ref() {
            DeValue::String(text) => Some(text.as_ref()),
            other => {
                self.error(
                    value.span(),
                    format!("{what} must be a string, not {}", type_name(other)),
                );
                None
            }
        }
    }

    fn boolean(&mut self, value: &Value<'_>, what: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(flag) => Some(*flag),
            other => {
                self.error(
                    value.span(),
                    format!("{what} must be true or false, not {}", type_name(other)),
                );
                None
            }
        }
    }

    /// An array of strings, each with its span; wrong elements are reported and skipped.
    fn strings(&mut self, value: &Value<'_>, what: &str) -> Vec<(String, Range<usize>)> {
        let DeValue::Array(items) = value.get_ref() else {
            self.error(
                value.span(),
                format!(
                    "{what} must be an array of strings, not {}",
                    type_name(value.get_ref())
                ),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| Some((self.string(item, what)?.to_owned(), item.span())))
            .collect()
    }

    /// An array of tables (`[[paths]]`), each with its span.
    fn tables<'v, 'i>(
        &mut self,
        value: &'v Value<'i>,
        what: &str,
    ) -> Vec<(&'v Table<'i>, Range<usize>)> {
        let DeValue::Array(items) = value.get_ref() else {
            self.error(
                value.span(),
                format!(
                    "{what} must be an array of tables ([[{what}]]), not {}",
                    type_name(value.get_ref())
                ),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| Some((self.table(item, what)?, item.span())))
            .collect()
    }

    fn document(&mut self, document: &Table<'_>, settings: &mut Settings) {
        self.unknown_keys(
            document,
            &[
                "registries",
                "policy",
                "environments",
                "paths",
                "namespaces",
                "rules",
                "ignore",
                "serve",
                "store",
                "trust",
            ],
            "pyimage.toml",
        );
        if let Some(value) = document.get("store")
            && let Some(table) = self.table(value, "[store]")
        {
            settings.store = self.store(table);
        }
        if let Some(value) = document.get("trust")
            && let Some(table) = self.table(value, "[trust]")
        {
            settings.trust = self.trust(table, &mut settings.policy);
        }
        // Environments first: [[paths]] and [[namespaces]] are checked against them afterwards.
        if let Some(value) = document.get("environments")
            && let Some(table) = self.table(value, "[environments]")
        {
            self.environments(table, &mut settings.policy);
        }
        if let Some(value) = document.get("registries")
            && let Some(table) = self.table(value, "[registries]")
        {
            settings.registries = self.registries(table);
        }
        if let Some(value) = document.get("policy")
            && let Some(table) = self.table(value, "[policy]")
        {
            self.policy(table, settings);
        }
        if let Some(value) = document.get("paths") {
            for (entry, span) in self.tables(value, "paths") {
                self.path_rule(entry, span, &mut settings.policy);
            }
        }
        if let Some(value) = document.get("namespaces") {
            for (entry, span) in self.tables(value, "namespaces") {
                self.namespace_rule(entry, span, &mut settings.policy);
            }
        }
        if let Some(value) = document.get("rules")
            && let Some(table) = self.table(value, "[rules]")
        {
            self.rules(table, &mut settings.policy);
        }
        if let Some(value) = document.get("ignore") {
            for (entry, span) in self.tables(value, "ignore") {
                self.ignore(entry, span, &mut settings.policy);
            }
        }
        if let Some(value) = document.get("serve")
            && let Some(table) = self.table(value, "[serve]")
        {
            settings.serve = self.serve(table);
        }
    }

    fn registries(&mut self, table: &Table<'_>) -> RegistriesConfig {
        let mut config = RegistriesConfig::default();
        for (host, value) in table.iter() {
            let section = format!("[registries.\"{}\"]", host.get_ref());
            let Some(entry) = self.table(value, &section) else {
                continue;
            };
            self.unknown_keys(
                entry,
                &["endpoint", "mirrors", "insecure", "ca_file"],
                &section,
            );
            let mut settings = RegistrySettings::default();
            if let Some(value) = entry.get("endpoint") {
                settings.endpoint = self.string(value, "endpoint").map(str::to_owned);
            }
            if let Some(value) = entry.get("mirrors") {
                settings.mirrors = self
                    .strings(value, "mirrors")
                    .into_iter()
                    .map(|(m, _)| m)
                    .collect();
            }
            if let Some(value) = entry.get("insecure") {
                settings.insecure = self.boolean(value, "insecure").unwrap_or(false);
            }
            if let Some(value) = entry.get("ca_file") {
                settings.ca_file = self.string(value, "ca_file").map(Into::into);
            }
            let single = RegistriesConfig {
                hosts: BTreeMap::from([(host.get_ref().to_string(), settings.clone())]),
            };
            // URL problems point at the host's table: the message names the key.
            if let Err(error) = single.validate() {
                self.error(host.span(), error.to_string());
            }
            config.hosts.insert(host.get_ref().to_string(), settings);
        }
        config
    }

    fn source_patterns(&mut self, value: &Value<'_>, what: &str) -> Vec<SourcePattern> {
        let mut patterns = Vec::new();
        for (written, span) in self.strings(value, what) {
            match SourcePattern::new(&written, self.origin(span.clone())) {
                Ok(pattern) => patterns.push(pattern),
                Err(error) => self.error(span, error),
            }
        }
        patterns
    }

    fn policy(&mut self, table: &Table<'_>, settings: &mut Settings) {
        self.unknown_keys(
            table,
            &[
                "mirrors",
                "allowed-sources",
                "vendor-images",
                "default-environment",
                "exclude",
                "eol",
            ],
            "[policy]",
        );
        let policy = &mut settings.policy;
        if let Some(value) = table.get("mirrors") {
            policy.mirrors = self.source_patterns(value, "mirrors");
        }
        if let Some(value) = table.get("allowed-sources") {
            policy.allowed_sources = self.source_patterns(value, "allowed-sources");
        }
        if let Some(value) = table.get("vendor-images") {
            policy.vendor_images = self.source_patterns(value, "vendor-images");
        }
        if let Some(value) = table.get("default-environment")
            && let Some(name) = self.string(value, "default-environment")
        {
            policy.default_environment = (name.to_owned(), self.origin(value.span()));
            self.environment_names.push((name.to_owned(), value.span()));
        }
        if let Some(value) = table.get("exclude") {
            for (glob, span) in self.strings(value, "exclude") {
                match path_glob(&glob) {
                    Ok(matcher) => settings.exclude.push(matcher),
                    Err(error) => self.error(span, error),
                }
            }
        }
        if let Some(value) = table.get("eol")
            && let Some(eol) = self.table(value, "[policy.eol]")
        {
            for (line, date) in eol.iter() {
                let version = line.get_ref().split_once('.').and_then(|(major, minor)| {
                    Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?))
                });
                let Some(version) = version else {
                    self.error(
                        line.span(),
                        format!(
                            "[policy.eol] key {:?} is not a Python line like \"3.10\"",
                            line.get_ref()
                        ),
                    );
                    continue;
                };
                let Some(text) = self.string(date, "[policy.eol] date") else {
                    continue;
                };
                match Date::parse(text) {
                    Some(parsed) => {
                        policy
                            .eol
                            .insert(version, (parsed, self.origin(date.span())));
                    }
                    None => self.error(
                        date.span(),
                        format!(
                            "[policy.eol] {} = {text:?} is not a date: write YYYY-MM-DD or YYYY-MM",
                            line.get_ref()
                        ),
                    ),
                }
            }
        }
    }

    fn environments(&mut self, table: &Table<'_>, policy: &mut Policy) {
        for (name, value) in table.iter() {
            let name = name.get_ref().to_string();
            let section_name = format!("[environments.{name}]");
            let Some(section) = self.table(value, &section_name) else {
                continue;
            };
            self.unknown_keys(
                section,
                &[
                    "float",
                    "digest",
                    "prerelease",
                    "update",
                    "cooldown",
                    "promote-from",
                    "promote-after",
                    "promote-lock",
                ],
                &section_name,
            );
            let origin = self.origin(value.span());
            let mut settings = EnvSettings::builtin(&name).unwrap_or(EnvSettings {
                float: Float::Latest,
                update: UpdatePolicy::Digest,
                digest: false,
                prerelease: false,
                cooldown: None,
                promotion: None,
                origin: origin.clone(),
            });
            settings.origin = origin;
            if let Some(value) = section.get("float")
                && let Some(float) = self.string(value, "float")
            {
                match Float::from_name(float) {
                    Some(Float::Pinned) => self.error(
                        value.span(),
                        "float = \"pinned\" is not a tag level: write digest = true to require digests",
                    ),
                    Some(level) => settings.float = level,
                    None => self.error(
                        value.span(),
                        format!("float = {float:?}: expected one of latest, major, minor, patch"),
                    ),
                }
            }
            if let Some(value) = section.get("update")
                && let Some(update) = self.string(value, "update")
            {
                match UpdatePolicy::from_name(update) {
                    Some(level) => settings.update = level,
                    None => self.error(
                        value.span(),
                        format!("update = {update:?}: expected one of none, digest, patch"),
                    ),
                }
            }
            if let Some(value) = section.get("digest")
                && let Some(flag) = self.boolean(value, "digest")
            {
                settings.digest = flag;
            }
            if let Some(value) = section.get("prerelease")
                && let Some(flag) = self.boolean(value, "prerelease")
            {
                settings.prerelease = flag;
            }
            self.update_controls(section, &name, &mut settings);
            policy.environments.insert(name, settings);
        }
    }

    /// `cooldown`, and `promote-from` with its `promote-after` and `promote-lock`: what holds `update` back in one
    /// environment.
    fn update_controls(&mut self, section: &Table<'_>, name: &str, settings: &mut EnvSettings) {
        if let Some(value) = section.get("cooldown") {
            settings.cooldown = self.age(value, "cooldown");
        }
        let from = section
            .get("promote-from")
            .and_then(|value| Some((self.string(value, "promote-from")?, value.span())));
        let after = section
            .get("promote-after")
            .and_then(|value| Some((self.age(value, "promote-after")?, value.span())));
        let lock = section
            .get("promote-lock")
            .and_then(|value| Some((self.string(value, "promote-lock")?, value.span())));
        match from {
            Some((from, span)) if from == name => self.error(
                span,
                format!("promote-from = {from:?} names this environment: name the lower one it follows (test)"),
            ),
            Some((from, _)) => {
                settings.promotion = Some(Promotion {
                    from: from.to_owned(),
                    after: after.map(|(after, _)| after).unwrap_or_default(),
                    lock: lock.map(|(lock, _)| lock.to_owned()),
                });
            }
            None => {
                for (key, span) in [
                    after.map(|(_, span)| ("promote-after", span)),
                    lock.map(|(_, span)| ("promote-lock", span)),
                ]
                .into_iter()
                .flatten()
                {
                    self.error(
                        span,
                        format!("{key} needs promote-from: name the lower environment (promote-from = \"test\")"),
                    );
                }
            }
        }
    }

    /// An age written as a duration (`"7d"`, `"12h"`).
    fn age(&mut self, value: &Value<'_>, what: &str) -> Option<std::time::Duration> {
        let text = self.string(value, what)?;
        match pyimage_model::time::parse_duration(text) {
            Ok(age) => Some(age),
            Err(error) => {
                self.error(
                    value.span(),
                    format!(
                        "{what} = {text:?}: {error}; write a duration such as \"7d\" or \"12h\""
                    ),
                );
                None
            }
        }
    }

    /// A required string key of an array-of-tables entry; reports it missing at the entry.
    fn required<'v>(
        &mut self,
        entry: &'v Table<'_>,
        key: &str,
        section: &str,
        entry_span: &Range<usize>,
    ) -> Option<(&'v str, Range<usize>)> {
        match entry.get(key) {
            Some(value) => Some((self.string(value, key)?, value.span())),
            None => {
                self.error(entry_span.clone(), format!("{section} needs `{key}`"));
                None
            }
        }
    }

    fn path_rule(&mut self, entry: &Table<'_>, span: Range<usize>, policy: &mut Policy) {
        self.unknown_keys(entry, &["pattern", "environment"], "[[paths]]");
        let pattern = self.required(entry, "pattern", "[[paths]]", &span);
        let environment = self.required(entry, "environment", "[[paths]]", &span);
        let (Some((pattern, pattern_span)), Some((environment, environment_span))) =
            (pattern, environment)
        else {
            return;
        };
        self.environment_names
            .push((environment.to_owned(), environment_span));
        match PathRule::new(pattern, environment, self.origin(pattern_span.clone())) {
            Ok(rule) => policy.paths.push(rule),
            Err(error) => self.error(pattern_span, error),
        }
    }

    fn namespace_rule(&mut self, entry: &Table<'_>, span: Range<usize>, policy: &mut Policy) {
        self.unknown_keys(entry, &["match", "labels", "environment"], "[[namespaces]]");
        let environment = self.required(entry, "environment", "[[namespaces]]", &span);
        let pattern = match entry.get("match") {
            Some(value) => self
                .string(value, "match")
                .map(|m| (m.to_owned(), value.span())),
            None => Some(("*".to_owned(), span.clone())),
        };
        let mut labels = BTreeMap::new();
        if let Some(value) = entry.get("labels")
            && let Some(table) = self.table(value, "labels")
        {
            for (key, value) in table.iter() {
                if let Some(text) = self.string(value, "a label value") {
                    labels.insert(key.get_ref().to_string(), text.to_owned());
                }
            }
        }
        if entry.get("match").is_none() && labels.is_empty() {
            self.error(
                span.clone(),
                "[[namespaces]] needs `match` (a namespace name glob) or `labels`",
            );
            return;
        }
        let (Some((environment, environment_span)), Some((pattern, pattern_span))) =
            (environment, pattern)
        else {
            return;
        };
        self.environment_names
            .push((environment.to_owned(), environment_span));
        match NamespaceRule::new(
            &pattern,
            labels,
            environment,
            self.origin(pattern_span.clone()),
        ) {
            Ok(rule) => policy.namespaces.push(rule),
            Err(error) => self.error(pattern_span, error),
        }
    }

    fn rules(&mut self, table: &Table<'_>, policy: &mut Policy) {
        for (key, value) in table.iter() {
            let Some(rule) = find_rule(key.get_ref()) else {
                self.error(
                    key.span(),
                    format!(
                        "[rules] {}: no such rule; {}",
                        key.get_ref(),
                        unknown_rule_hint(key.get_ref())
                    ),
                );
                continue;
            };
            let Some(level) = self.string(value, "a rule severity") else {
                continue;
            };
            match Severity::from_name(level) {
                Some(severity) => {
                    policy
                        .severities
                        .insert(rule.id, (severity, self.origin(value.span())));
                }
                None => self.error(
                    value.span(),
                    format!(
                        "[rules] {} = {level:?}: expected allow, warn or deny",
                        key.get_ref()
                    ),
                ),
            }
        }
    }

    fn ignore(&mut self, entry: &Table<'_>, span: Range<usize>, policy: &mut Policy) {
        self.unknown_keys(entry, &["rules", "paths", "images", "reason"], "[[ignore]]");
        let mut rules = Vec::new();
        match entry.get("rules") {
            Some(value) => {
                for (name, rule_span) in self.strings(value, "rules") {
                    match find_rule(&name) {
                        Some(meta) => rules.push(meta.id),
                        None => self.error(
                            rule_span,
                            format!(
                                "[[ignore]] names unknown rule {name:?}; {}",
                                unknown_rule_hint(&name)
                            ),
                        ),
                    }
                }
            }
            None => self.error(span.clone(), "[[ignore]] needs `rules` (IDs or names)"),
        }
        let reason = match entry.get("reason") {
            Some(value) => self.string(value, "reason").unwrap_or_default().to_owned(),
            None => String::new(),
        };
        if reason.trim().is_empty() {
            self.error(
                span.clone(),
                "[[ignore]] needs a reason: write why the findings are acceptable",
            );
        }
        let mut paths = Vec::new();
        if let Some(value) = entry.get("paths") {
            for (glob, glob_span) in self.strings(value, "paths") {
                match path_glob(&glob) {
                    Ok(matcher) => paths.push((glob, matcher)),
                    Err(error) => self.error(glob_span, error),
                }
            }
        }
        let images = match entry.get("images") {
            Some(value) => self.source_patterns(value, "images"),
            None => Vec::new(),
        };
        policy.ignores.push(Ignore {
            rules,
            paths,
            images,
            reason,
            origin: self.origin(span),
        });
    }

    fn apply_overrides(&mut self, policy: &mut Policy, overrides: &Overrides) {
        if let Some(environment) = &overrides.environment {
            policy.environment_override = Some((
                environment.clone(),
                Origin::CommandLine(format!("--env {environment}")),
            ));
        }
        for (rule, severity) in &overrides.severities {
            match find_rule(rule) {
                Some(meta) => {
                    policy.severities.insert(
                        meta.id,
                        (
                            *severity,
                            Origin::CommandLine(format!("--{severity} {rule}")),
                        ),
                    );
                }
                None => self.command_line_error(format!(
                    "--{severity} {rule}: no such rule; {}",
                    unknown_rule_hint(rule)
                )),
            }
        }
    }

    /// Every environment named by `[[paths]]`, `[[namespaces]]`, the default or `--env` must exist.
    fn check_environments(&mut self, policy: &Policy) {
        let known = policy
            .environments
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let unknown = |name: &str| {
            format!(
                "unknown environment {name:?}: define [environments.{name}] or use one of {known}"
            )
        };
        for (name, span) in std::mem::take(&mut self.environment_names) {
            if !policy.environments.contains_key(&name) {
                self.error(span, unknown(&name));
            }
        }
        // The built-in default (`dev`) exists unless the file redefines nothing; `--env` is checked here.
        if !policy
            .environments
            .contains_key(&policy.default_environment.0)
            && matches!(policy.default_environment.1, Origin::Default)
        {
            self.command_line_error(unknown(&policy.default_environment.0));
        }
        if let Some((name, origin)) = &policy.environment_override
            && !policy.environments.contains_key(name)
        {
            let flag = match origin {
                Origin::CommandLine(flag) => flag.clone(),
                _ => format!("--env {name}"),
            };
            self.command_line_error(format!("{flag}: {}", unknown(name)));
        }
    }
}

#[cfg(test)]
mod tests;
