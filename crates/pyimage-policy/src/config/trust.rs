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
//! ```
//!
//! Only the shape is checked here; the trust root is read and the URL fetched by the service.

use crate::check::Origin;

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
}

impl super::Reader<'_> {
    pub(super) fn trust(&mut self, table: &super::Table<'_>) -> TrustSettings {
        self.unknown_keys(
            table,
            &[
                "python_org",
                "trusted_root",
                "python_lines",
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
        settings
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
