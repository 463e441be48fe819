//! The `[trust]` table of `pyimage.toml`: where `pyimage verify` fetches python.org's Sigstore bundles, which trust
//! root it checks them against, and release lines whose signer pyimage does not know yet.
//!
//! ```toml
//! [trust]
//! python_org = "https://www.python.org/ftp/python"   # a mirror of python.org's release files
//! trusted_root = "/etc/pyimage/trusted_root.json"     # air-gapped: a Sigstore TrustedRoot file
//! tuf_url = "https://tuf-repo-cdn.sigstore.dev"       # where the trust root is refreshed from; "none": not refreshed
//! tuf_root = "/etc/pyimage/tuf-root.json"             # that repository's initial TUF root.json (default: Sigstore's)
//! [trust.python_lines."3.18"]
//! identity = "someone@python.org"
//! issuer = "https://github.com/login/oauth"
//! [trust.keys]
//! acme = "keys/acme-cosign.pub"                      # cosign public keys by name
//! [[trust.signatures]]                               # see `crate::signatures`
//! images = ["registry.acme.example/python/*"]
//! keys = ["acme"]
//! environments = ["prod"]
//! ```
//!
//! Only the shape is checked here; the trust root and the keys are read and the URL fetched by the service.

use crate::check::{Origin, SourcePattern};
use crate::signatures::{DHI_KEY, SignatureRule};

/// `[trust]` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustSettings {
    /// `python_org`: the base URL of python.org's release files.
    pub python_org: Option<String>,
    /// `trusted_root`: a Sigstore `trusted_root.json` replacing the embedded one (relative to the configuration's
    /// directory when relative).
    pub trusted_root: Option<String>,
    /// `[trust.python_lines."X.Y"]`: (line, identity, issuer) added to or replacing the built-in table.
    pub python_lines: Vec<(String, String, String)>,
    /// `tuf_url`: the TUF repository the trust root is refreshed from (no trailing `/`), or `none`.
    pub tuf_url: Option<String>,
    /// `tuf_root`: the TUF root metadata that repository starts from (relative to the configuration's directory).
    pub tuf_root: Option<String>,
    /// The configuration line of `[trust]`.
    pub origin: Option<Origin>,
    /// `[trust.keys]`: cosign public keys by name, in file order.
    pub keys: Vec<KeyFile>,
}

/// A `[trust.keys]` entry: a cosign public key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    /// The key's name (`acme`), as rules name it.
    pub name: String,
    /// The PEM file as written (relative to the configuration's directory when relative).
    pub path: String,
    /// Where it is configured (`pyimage.toml:12`).
    pub at: String,
}

impl super::Reader<'_> {
    pub(super) fn trust(
        &mut self,
        table: &super::Table<'_>,
        policy: &mut crate::check::Policy,
    ) -> TrustSettings {
        self.unknown_keys(
            table,
            &[
                "python_org",
                "trusted_root",
                "python_lines",
                "keys",
                "signatures",
                "tuf_url",
                "tuf_root",
            ],
            "[trust]",
        );
        let mut settings = TrustSettings::default();
        if let Some(value) = table.get("python_org")
            && let Some(url) = self.string(value, "python_org")
        {
            if url.starts_with("https://") || url.starts_with("http://") {
                settings.python_org = Some(url.trim_end_matches('/').to_owned());
                settings.origin = Some(self.origin(value.span()));
            } else {
                self.error(
                    value.span(),
                    format!(
                        "[trust] python_org {url:?} is not an http(s) URL: write \
                         python_org = \"https://www.python.org/ftp/python\""
                    ),
                );
            }
        }
        if let Some(value) = table.get("trusted_root")
            && let Some(path) = self.string(value, "trusted_root")
        {
            settings.trusted_root = Some(path.to_owned());
        }
        self.tuf(table, &mut settings);
        if let Some(value) = table.get("python_lines")
            && let Some(lines) = self.table(value, "[trust.python_lines]")
        {
            for (line, value) in lines.iter() {
                let line = line.get_ref().as_ref().to_owned();
                let what = format!("[trust.python_lines.\"{line}\"]");
                let Some(entry) = self.table(value, &what) else {
                    continue;
                };
                let well_formed = line.split_once('.').is_some_and(|(major, minor)| {
                    [major, minor]
                        .iter()
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                });
                if !well_formed {
                    self.error(
                        value.span(),
                        format!("{what}: {line:?} is not a release line such as \"3.18\""),
                    );
                    continue;
                }
                self.unknown_keys(entry, &["identity", "issuer"], &what);
                let identity = entry
                    .get("identity")
                    .and_then(|v| self.string(v, "identity"));
                let issuer = entry.get("issuer").and_then(|v| self.string(v, "issuer"));
                match (identity, issuer) {
                    (Some(identity), Some(issuer)) => settings.python_lines.push((
                        line,
                        identity.to_owned(),
                        issuer.to_owned(),
                    )),
                    _ => self.error(
                        value.span(),
                        format!(
                            "{what} needs both identity (the release manager's e-mail in the signing \
                             certificate) and issuer (its OIDC issuer), as on python.org's Sigstore page"
                        ),
                    ),
                }
            }
        }
        if let Some(value) = table.get("keys")
            && let Some(keys) = self.table(value, "[trust.keys]")
        {
            for (name, value) in keys.iter() {
                let name = name.get_ref().as_ref().to_owned();
                if name == DHI_KEY {
                    self.error(
                        value.span(),
                        format!(
                            "[trust.keys] {DHI_KEY:?} is built in (Docker Hardened Images' key): choose another name"
                        ),
                    );
                    continue;
                }
                if let Some(path) = self.string(value, &format!("[trust.keys] {name}")) {
                    let at = self.at(value.span());
                    settings.keys.push(KeyFile {
                        name,
                        path: path.to_owned(),
                        at,
                    });
                }
            }
        }
        if let Some(value) = table.get("signatures") {
            for (entry, span) in self.tables(value, "trust.signatures") {
                if let Some(rule) = self.signature_rule(entry, span, &settings.keys) {
                    policy.signatures.push(rule);
                }
            }
        }
        settings
    }

    fn signature_rule(
        &mut self,
        entry: &super::Table<'_>,
        span: std::ops::Range<usize>,
        keys: &[KeyFile],
    ) -> Option<SignatureRule> {
        const WHAT: &str = "[[trust.signatures]]";
        self.unknown_keys(
            entry,
            &["images", "keys", "environments", "transparency_log"],
            WHAT,
        );
        let mut images = Vec::new();
        match entry.get("images") {
            Some(value) => {
                for (pattern, pattern_span) in self.strings(value, "images") {
                    match SourcePattern::new(&pattern, self.origin(pattern_span.clone())) {
                        Ok(pattern) => images.push(pattern),
                        Err(error) => self.error(pattern_span, error),
                    }
                }
            }
            None => self.error(
                span.clone(),
                format!("{WHAT} needs `images`: the repositories that must be signed"),
            ),
        }
        let mut names = Vec::new();
        match entry.get("keys") {
            Some(value) => {
                for (name, name_span) in self.strings(value, "keys") {
                    if name != DHI_KEY && !keys.iter().any(|k| k.name == name) {
                        let known: Vec<&str> = keys
                            .iter()
                            .map(|k| k.name.as_str())
                            .chain([DHI_KEY])
                            .collect();
                        self.error(
                            name_span,
                            format!(
                                "{WHAT}: no key named {name:?}; define it under [trust.keys] \
                                 ({name} = \"path/to/cosign.pub\") or use one of {}",
                                known.join(", ")
                            ),
                        );
                        continue;
                    }
                    names.push(name);
                }
                if names.is_empty() {
                    self.error(
                        value.span(),
                        format!("{WHAT}: `keys` must name at least one key"),
                    );
                }
            }
            None => self.error(
                span.clone(),
                format!(
                    "{WHAT} needs `keys`: the keys any one of which must have signed the image"
                ),
            ),
        }
        let mut environments = Vec::new();
        if let Some(value) = entry.get("environments") {
            for (name, name_span) in self.strings(value, "environments") {
                self.environment_names.push((name.clone(), name_span));
                environments.push(name);
            }
        }
        let transparency_log = entry
            .get("transparency_log")
            .and_then(|value| self.boolean(value, "transparency_log"))
            .unwrap_or(false);
        if images.is_empty() || names.is_empty() {
            return None;
        }
        Some(SignatureRule {
            images,
            keys: names,
            environments,
            transparency_log,
            origin: self.origin(span.clone()),
            at: self.at(span),
        })
    }

    /// `tuf_url` and `tuf_root`: where and from which root the Sigstore trust root is refreshed (TUF).
    fn tuf(&mut self, table: &super::Table<'_>, settings: &mut TrustSettings) {
        if let Some(value) = table.get("tuf_url")
            && let Some(url) = self.string(value, "tuf_url")
        {
            if url == "none" || url.starts_with("https://") || url.starts_with("http://") {
                settings.tuf_url = Some(url.trim_end_matches('/').to_owned());
            } else {
                self.error(
                    value.span(),
                    format!(
                        "[trust] tuf_url {url:?} is neither an http(s) URL nor \"none\": write \
                         tuf_url = \"https://tuf-repo-cdn.sigstore.dev\" (Sigstore's), a mirror of it, or \
                         \"none\" to use the embedded trust root without refreshing it"
                    ),
                );
            }
        }
        if let Some(value) = table.get("tuf_root")
            && let Some(path) = self.string(value, "tuf_root")
        {
            settings.tuf_root = Some(path.to_owned());
        }
    }
}
