//! The policy `pyimage check` applies: sources, environments, path → environment mapping, rule severities,
//! ignores and end-of-life overrides, each remembering which configuration line (or command-line flag) set it.
//!
//! [`crate::config`] builds a [`Policy`] from `pyimage.toml`; this module holds and queries it. A [`Scope`] — a file
//! path or a Kubernetes namespace — gets its environment from `[[paths]]` or `[[namespaces]]`.

use std::collections::BTreeMap;
use std::fmt;

use globset::{Glob, GlobMatcher};

use pyimage_model::python::Float;
use pyimage_model::reference::Reference;

use super::eol::Date;
use super::rules::RuleMeta;

/// How a rule's findings count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Not reported.
    Allow,
    /// Reported; does not fail the check.
    Warn,
    /// Reported; fails the check (exit code 1).
    Deny,
}

impl Severity {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Allow => "allow",
            Severity::Warn => "warn",
            Severity::Deny => "deny",
        }
    }

    /// Parses the configuration spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "allow" => Some(Severity::Allow),
            "warn" => Some(Severity::Warn),
            "deny" => Some(Severity::Deny),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a policy setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// pyimage's built-in default.
    Default,
    /// A line of the configuration file ([`Policy::config_path`]).
    Config {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The setting as written (one line), for display.
        text: String,
    },
    /// A command-line flag, as given (`--env prod`, `--deny PY003`).
    CommandLine(String),
}

/// What a setting decided about a finding, and where the setting is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `severity`, `environment`, `requirement`, `eol`, `source`.
    pub what: &'static str,
    /// Where it was set.
    pub origin: Origin,
}

/// What one environment requires of Python base images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSettings {
    /// The coarsest tag allowed: `latest` allows anything, `patch` requires `3.12.14`-style tags.
    pub float: Float,
    /// What `pyimage update` may change on its own.
    pub update: UpdatePolicy,
    /// Whether a digest is required.
    pub digest: bool,
    /// Whether pre-release Python (alpha, beta, rc) is allowed.
    pub prerelease: bool,
    /// How long the registry must have served a digest before `update` moves this environment to it
    /// (`cooldown = "7d"`); none by default.
    pub cooldown: Option<std::time::Duration>,
    /// The lower environment this one is promoted from (`promote-from = "test"`), if any.
    pub promotion: Option<Promotion>,
    /// Where the environment is configured.
    pub origin: Origin,
}

/// Promotion: an environment moves only to a digest a lower environment already pins, and has pinned for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    /// The lower environment (`test`).
    pub from: String,
    /// How long the lower environment must have pinned the digest (`promote-after = "3d"`; zero by default).
    pub after: std::time::Duration,
    /// The lower environment's own lock file, when it is not this lock (`promote-lock = "../test/pyimage.lock"`),
    /// as written, relative to the configuration file's directory.
    pub lock: Option<String>,
}

impl EnvSettings {
    /// The built-in settings of `dev`, `test` and `prod`; `None` for other names.
    pub fn builtin(name: &str) -> Option<Self> {
        let (float, digest, prerelease, update) = match name {
            "dev" => (Float::Latest, false, true, UpdatePolicy::Patch),
            "test" => (Float::Patch, false, false, UpdatePolicy::Patch),
            "prod" => (Float::Latest, true, false, UpdatePolicy::Digest),
            _ => return None,
        };
        Some(EnvSettings {
            float,
            update,
            digest,
            prerelease,
            cooldown: None,
            promotion: None,
            origin: Origin::Default,
        })
    }
}

/// What `pyimage update` may change without asking (`update = "digest" | "patch" | "none"` per environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UpdatePolicy {
    /// Move nothing; `update` only reports what is available.
    None,
    /// Move digests when the same tag was rebuilt (security rebuilds).
    Digest,
    /// Also move to a newer patch release of the same line, variant and OS.
    Patch,
}

impl UpdatePolicy {
    /// Parses the configuration spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "none" => UpdatePolicy::None,
            "digest" => UpdatePolicy::Digest,
            "patch" => UpdatePolicy::Patch,
            _ => return None,
        })
    }

    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdatePolicy::None => "none",
            UpdatePolicy::Digest => "digest",
            UpdatePolicy::Patch => "patch",
        }
    }
}

/// A pattern over repository names: `python` (→ `docker.io/library/python`), `ghcr.io/org/*`, `*`.
#[derive(Debug, Clone)]
pub struct SourcePattern {
    /// The pattern as written in the configuration (`python`, `ghcr.io/org/*`).
    pub written: String,
    matcher: GlobMatcher,
    /// Where it is configured.
    pub origin: Origin,
}

impl SourcePattern {
    /// Compiles a pattern. Familiar names are normalized the way Docker normalizes references (`python` is
    /// `docker.io/library/python`, `org/app` is `docker.io/org/app`); `*` matches any run of characters, `/` included.
    pub fn new(written: &str, origin: Origin) -> Result<Self, String> {
        let normalized = normalize_pattern(written);
        let glob = Glob::new(&normalized)
            .map_err(|error| format!("invalid source pattern {written:?}: {error}"))?;
        Ok(SourcePattern {
            written: written.to_owned(),
            matcher: glob.compile_matcher(),
            origin,
        })
    }

    /// The glob actually matched against repository names (`python` → `docker.io/library/python`).
    pub fn normalized(&self) -> String {
        normalize_pattern(&self.written)
    }

    /// Whether the repository of `reference` matches.
    pub fn matches(&self, reference: &Reference) -> bool {
        self.matcher.is_match(reference.name())
    }
}

fn normalize_pattern(pattern: &str) -> String {
    let pattern = pattern.trim().trim_end_matches('/');
    if pattern == "*" {
        return "*".to_owned();
    }
    let first = pattern.split('/').next().unwrap_or_default();
    let has_domain = pattern.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost" || first == "*");
    if has_domain {
        pattern.to_owned()
    } else if pattern.contains('/') {
        format!("docker.io/{pattern}")
    } else {
        format!("docker.io/library/{pattern}")
    }
}

/// A path glob mapped to an environment (`[[paths]]`).
#[derive(Debug, Clone)]
pub struct PathRule {
    /// The glob as written.
    pub pattern: String,
    matcher: GlobMatcher,
    /// The environment files matching the glob belong to (`prod`).
    pub environment: String,
    /// Where it is configured.
    pub origin: Origin,
}

impl PathRule {
    /// Compiles a rule; `pattern` is matched against `/`-separated paths relative to the checked root.
    pub fn new(pattern: &str, environment: &str, origin: Origin) -> Result<Self, String> {
        Ok(PathRule {
            pattern: pattern.to_owned(),
            matcher: path_glob(pattern)?,
            environment: environment.to_owned(),
            origin,
        })
    }

    /// Whether the path matches.
    pub fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }
}

/// Compiles a path glob (`**` crosses directories, `*` does not).
pub fn path_glob(pattern: &str) -> Result<GlobMatcher, String> {
    let pattern = pattern.trim_start_matches("./");
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|error| format!("invalid path glob {pattern:?}: {error}"))
}

/// A namespace selector mapped to an environment (`[[namespaces]]`): a glob over the namespace name and, optionally,
/// labels the namespace must carry (all of them, with these values).
#[derive(Debug, Clone)]
pub struct NamespaceRule {
    /// The name glob as written (`*` when only labels select).
    pub pattern: String,
    matcher: GlobMatcher,
    /// Labels the namespace must have, with these values.
    pub labels: BTreeMap<String, String>,
    /// The environment selected namespaces belong to (`prod`).
    pub environment: String,
    /// Where it is configured.
    pub origin: Origin,
}

impl NamespaceRule {
    /// Compiles a rule. `*` in the pattern matches any run of characters (namespace names have no `/`).
    pub fn new(
        pattern: &str,
        labels: BTreeMap<String, String>,
        environment: &str,
        origin: Origin,
    ) -> Result<Self, String> {
        let matcher = Glob::new(pattern)
            .map_err(|error| format!("invalid namespace pattern {pattern:?}: {error}"))?
            .compile_matcher();
        Ok(NamespaceRule {
            pattern: pattern.to_owned(),
            matcher,
            labels,
            environment: environment.to_owned(),
            origin,
        })
    }

    /// [`Self::matches`] for a namespace whose only label is the one every namespace carries,
    /// `kubernetes.io/metadata.name` (the admission webhook's view of a namespace), without building its labels.
    pub fn matches_name(&self, name: &str) -> bool {
        self.matcher.is_match(name)
            && self
                .labels
                .iter()
                .all(|(key, value)| key == "kubernetes.io/metadata.name" && value == name)
    }

    /// Whether a namespace with this name and these labels is selected.
    pub fn matches(&self, name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.matcher.is_match(name)
            && self
                .labels
                .iter()
                .all(|(key, value)| labels.get(key) == Some(value))
    }
}

/// Where an image is used, for choosing its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A file, by its `/`-separated path relative to the configuration's directory (`[[paths]]`).
    File(String),
    /// A Kubernetes namespace (`[[namespaces]]`), with its labels when known.
    Namespace {
        /// The namespace name.
        name: String,
        /// Its labels.
        labels: BTreeMap<String, String>,
    },
}

impl Scope {
    /// The scope of a file, by its `/`-separated path relative to the configuration's directory.
    pub fn file(path: &str) -> Self {
        Scope::File(path.to_owned())
    }

    /// The file path, for path-based ignores; `None` for namespaces.
    pub fn path(&self) -> Option<&str> {
        match self {
            Scope::File(path) => Some(path),
            Scope::Namespace { .. } => None,
        }
    }
}

/// A configured ignore (`[[ignore]]`): findings of these rules, in these paths, for these images, are not reported.
#[derive(Debug, Clone)]
pub struct Ignore {
    /// The rules it silences, by ID (`PY005`); names in the configuration are resolved to IDs.
    pub rules: Vec<&'static str>,
    /// Path globs; empty means every path.
    pub paths: Vec<(String, GlobMatcher)>,
    /// Image patterns; empty means every image.
    pub images: Vec<SourcePattern>,
    /// Why the findings are acceptable; an empty reason is a configuration error.
    pub reason: String,
    /// Where it is configured.
    pub origin: Origin,
}

impl Ignore {
    /// Whether the ignore covers a finding of `rule` in `scope` about `reference`. Path globs only match files: an
    /// ignore limited to paths never covers a namespace.
    pub fn covers(&self, rule: &str, scope: &Scope, reference: Option<&Reference>) -> bool {
        let in_paths = self.paths.is_empty()
            || scope
                .path()
                .is_some_and(|path| self.paths.iter().any(|(_, glob)| glob.is_match(path)));
        self.rules.contains(&rule)
            && in_paths
            && (self.images.is_empty()
                || reference.is_some_and(|r| self.images.iter().any(|p| p.matches(r))))
    }
}

/// Everything `pyimage check` enforces.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The configuration file the [`Origin::Config`] lines refer to, as shown to the user.
    pub config_path: Option<String>,
    /// Where Python images may come from besides `docker.io/library/python`: repositories that mirror it.
    pub mirrors: Vec<SourcePattern>,
    /// When non-empty, every image (not only Python) must come from one of these (or be a Python mirror).
    pub allowed_sources: Vec<SourcePattern>,
    /// Vendors' Python images the team accepts by name (`[policy] vendor-images`): judged as images derived from
    /// Python, never reported as look-alikes (PY005), vendor images (PY015) or disallowed sources (PY011). Unlike
    /// `allowed_sources`, listing one changes how no other image is judged.
    pub vendor_images: Vec<SourcePattern>,
    /// Environments by name.
    pub environments: BTreeMap<String, EnvSettings>,
    /// Path globs → environment, first match wins.
    pub paths: Vec<PathRule>,
    /// Namespace selectors → environment, first match wins.
    pub namespaces: Vec<NamespaceRule>,
    /// The environment of paths no rule matches.
    pub default_environment: (String, Origin),
    /// `--env`: the environment of every path.
    pub environment_override: Option<(String, Origin)>,
    /// Severity per rule ID, from configuration or command line.
    pub severities: BTreeMap<&'static str, (Severity, Origin)>,
    /// Configured ignores.
    pub ignores: Vec<Ignore>,
    /// End-of-life dates that replace or extend the built-in table, by `(major, minor)`.
    pub eol: BTreeMap<(u32, u32), (Date, Origin)>,
    /// `[[trust.signatures]]`: images that must carry a cosign signature, first match wins.
    pub signatures: Vec<crate::signatures::SignatureRule>,
    /// The policy's signing keys as loaded (`name → sha256:<hex>` of the public key), filled by whoever reads the key
    /// files; a lock entry recorded with another key under the same name does not count.
    pub signing_keys: BTreeMap<String, String>,
}

impl Default for Policy {
    fn default() -> Self {
        let environments = ["dev", "test", "prod"]
            .into_iter()
            .filter_map(|name| Some((name.to_owned(), EnvSettings::builtin(name)?)))
            .collect();
        Policy {
            config_path: None,
            mirrors: Vec::new(),
            allowed_sources: Vec::new(),
            vendor_images: Vec::new(),
            environments,
            paths: Vec::new(),
            namespaces: Vec::new(),
            default_environment: ("dev".to_owned(), Origin::Default),
            environment_override: None,
            severities: BTreeMap::new(),
            ignores: Vec::new(),
            eol: BTreeMap::new(),
            signatures: Vec::new(),
            signing_keys: BTreeMap::new(),
        }
    }
}

impl Policy {
    /// The environment of a path and what decided it.
    pub fn environment_for(&self, path: &str) -> (&str, &Origin) {
        self.environment_of(&Scope::file(path))
    }

    /// The environment of a scope and what decided it: `--env` (or a forced environment), else the first matching
    /// `[[paths]]` (files) or `[[namespaces]]` (namespaces) entry, else `[policy] default-environment`.
    pub fn environment_of(&self, scope: &Scope) -> (&str, &Origin) {
        if let Some((name, origin)) = &self.environment_override {
            return (name, origin);
        }
        let matched = match scope {
            Scope::File(path) => self
                .paths
                .iter()
                .find(|rule| rule.matches(path))
                .map(|rule| (rule.environment.as_str(), &rule.origin)),
            Scope::Namespace { name, labels } => self
                .namespaces
                .iter()
                .find(|rule| rule.matches(name, labels))
                .map(|rule| (rule.environment.as_str(), &rule.origin)),
        };
        matched.unwrap_or((&self.default_environment.0, &self.default_environment.1))
    }

    /// [`Self::environment_of`] a namespace known by its name only (labelled `kubernetes.io/metadata.name` alone),
    /// without building its scope: the webhook's page asks this for every request it records.
    pub fn namespace_environment(&self, name: &str) -> &str {
        if let Some((environment, _)) = &self.environment_override {
            return environment;
        }
        self.namespaces
            .iter()
            .find(|rule| rule.matches_name(name))
            .map_or(&self.default_environment.0, |rule| &rule.environment)
    }

    /// The severity of a rule and what set it.
    pub fn severity(&self, rule: &RuleMeta) -> (Severity, Origin) {
        match self.severities.get(rule.id) {
            Some((severity, origin)) => (*severity, origin.clone()),
            None => (rule.default_severity, Origin::Default),
        }
    }

    /// Whether `reference` is a declared mirror of the official Python image.
    pub fn mirror_of_python(&self, reference: &Reference) -> Option<&SourcePattern> {
        self.mirrors
            .iter()
            .find(|pattern| pattern.matches(reference))
    }

    /// The `[policy] vendor-images` pattern `reference` matches, if any: a vendor's image accepted by name.
    pub fn accepted_vendor_image(&self, reference: &Reference) -> Option<&SourcePattern> {
        self.vendor_images
            .iter()
            .find(|pattern| pattern.matches(reference))
    }

    /// The signature rule that covers `reference` in `environment`, if any (the first that matches).
    pub fn signature_rule(
        &self,
        environment: &str,
        reference: &Reference,
    ) -> Option<&crate::signatures::SignatureRule> {
        self.signatures
            .iter()
            .find(|rule| rule.applies(environment, reference))
    }

    /// The allowed-source pattern `reference` matches, if any.
    pub fn allowed_source(&self, reference: &Reference) -> Option<&SourcePattern> {
        self.allowed_sources
            .iter()
            .find(|pattern| pattern.matches(reference))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(text: &str) -> Reference {
        Reference::parse_normalized(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn source_patterns() {
        let python = SourcePattern::new("python", Origin::Default).unwrap();
        assert!(python.matches(&reference("python:3.12")));
        assert!(python.matches(&reference("docker.io/library/python@sha256:97490e383c4cffb12825431fa24e3d2b70e39fd691a8e33c46bf4c18edca3998")));
        assert!(!python.matches(&reference("tiangolo/python:3")));
        let org = SourcePattern::new("ghcr.io/acme/*", Origin::Default).unwrap();
        assert!(org.matches(&reference("ghcr.io/acme/tools/x:1")));
        assert!(!org.matches(&reference("ghcr.io/other/x:1")));
        let hub = SourcePattern::new("library/*", Origin::Default).unwrap();
        assert!(hub.matches(&reference("debian:12")));
        let port =
            SourcePattern::new("registry.local:5000/library/python", Origin::Default).unwrap();
        assert!(port.matches(&reference("registry.local:5000/library/python:3.12")));
    }

    #[test]
    fn environments() {
        let mut policy = Policy::default();
        policy
            .paths
            .push(PathRule::new("deploy/prod/**", "prod", Origin::Default).unwrap());
        assert_eq!(policy.environment_for("deploy/prod/k8s/app.yaml").0, "prod");
        assert_eq!(policy.environment_for("Dockerfile").0, "dev");
        policy.environment_override =
            Some(("test".into(), Origin::CommandLine("--env test".into())));
        assert_eq!(policy.environment_for("deploy/prod/a.yaml").0, "test");
        policy.environment_override = None;
        policy
            .namespaces
            .push(NamespaceRule::new("prod-*", BTreeMap::new(), "prod", Origin::Default).unwrap());
        policy.namespaces.push(
            NamespaceRule::new(
                "*",
                BTreeMap::from([("tier".to_owned(), "test".to_owned())]),
                "test",
                Origin::Default,
            )
            .unwrap(),
        );
        let namespace = |name: &str, labels: &[(&str, &str)]| Scope::Namespace {
            name: name.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        assert_eq!(policy.environment_of(&namespace("prod-eu", &[])).0, "prod");
        // A glob is matched against the whole name: no prefix bypass.
        assert_eq!(
            policy.environment_of(&namespace("preprod-eu", &[])).0,
            "dev"
        );
        assert_eq!(
            policy
                .environment_of(&namespace("ci", &[("tier", "test")]))
                .0,
            "test"
        );
        assert_eq!(
            policy
                .environment_of(&namespace("ci", &[("tier", "prod")]))
                .0,
            "dev"
        );
        // Paths never select by namespace rules, and namespaces never by path rules.
        assert_eq!(
            policy.environment_of(&Scope::file("prod-eu/Dockerfile")).0,
            "dev"
        );
    }
}
