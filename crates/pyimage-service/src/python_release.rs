//! The PSF link for `verify`: python.org's Sigstore bundle of the CPython release an image was built from, fetched
//! (cached by version in the user's cache directory) and judged by `pyimage_trust::psf` against the Sigstore trust
//! root. The image says which release through `PYTHON_VERSION` and `PYTHON_SHA256` in its config. The trust root is
//! a file the user names, else the one refreshed through TUF ([`crate::trust_root`]) the first time a bundle is
//! judged (no request at all when no image needs it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyimage_policy::chain::{CPYTHON_RELEASE, Link, Status};
use pyimage_policy::config::TrustSettings;
use pyimage_registry::{RegistryClient, RegistryError};
use pyimage_trust::bundle::MAX_BUNDLE_BYTES;
use pyimage_trust::psf::{self, Fetched, Identities, LinkStatus, PYTHON_ORG_FTP, PsfVerdict};
use pyimage_trust::root::TrustedRoot;
use pyimage_trust::sigstore::Identity;
use pyimage_trust::tuf::{EMBEDDED_TUF_ROOT, MAX_ROOT_BYTES, Repository, SIGSTORE_TUF_URL};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::error::ServiceError;
use crate::trust_root::{self, ChosenRoot, RootVia, TufSource};

/// The link as `verify` reports it: which release, which bundle, the verdict, and whether it proves the link.
#[derive(Debug, Clone, Serialize)]
pub struct PythonRelease {
    /// The link's name in the chain of trust.
    pub link: &'static str,
    /// Proven, broken, or unproven.
    pub status: LinkStatus,
    /// `PYTHON_VERSION` of the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `PYTHON_SHA256` of the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The bundle's URL, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// The verdict and its evidence.
    #[serde(flatten)]
    pub verdict: PsfVerdict,
    /// The trust root used (a file, the `trusted_root.json` a TUF refresh verified, or the embedded one), when the
    /// verdict needed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_root: Option<String>,
    /// How it was chosen: `file`, `tuf` (refreshed in this run), `tuf-cache` (the refresh failed; the last one),
    /// `embedded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_root_via: Option<RootVia>,
    /// Why that root: the TUF versions verified, or why the refresh failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_root_why: Option<String>,
}

impl PythonRelease {
    /// One line for people.
    pub fn describe(&self) -> String {
        self.verdict.describe()
    }

    /// The first link of the chain of trust: the verdict, what it rests on, and what to do when it is broken.
    pub fn chain_link(&self) -> Link {
        let status = match self.status {
            LinkStatus::Proven => Status::Ok,
            LinkStatus::Broken => Status::Broken,
            LinkStatus::Unproven => Status::Unknown,
        };
        let mut evidence = vec![self.describe()];
        if let (Some(version), Some(sha256)) = (&self.version, &self.sha256) {
            evidence.push(format!(
                "the image's config: PYTHON_VERSION {version}, PYTHON_SHA256 {sha256}"
            ));
        }
        if let Some(bundle) = &self.bundle {
            evidence.push(format!("bundle {bundle}"));
        }
        if let Some(root) = &self.trusted_root {
            let why = self
                .trusted_root_why
                .as_deref()
                .map(|why| format!(" ({why})"));
            evidence.push(format!(
                "Sigstore trust root {root}{}",
                why.unwrap_or_default()
            ));
        }
        let fix = match &self.verdict {
            PsfVerdict::SignedByPsf { .. } | PsfVerdict::NoBundle => None,
            PsfVerdict::HashMismatch { .. } => Some(
                "the image's PYTHON_SHA256 is not the digest of the tarball the PSF signed: do not use this image; \
                 pull the official image by digest (`pyimage pin`) and verify it"
                    .to_owned(),
            ),
            PsfVerdict::IdentityWrong { .. } => Some(format!(
                "if python.org's Sigstore page (https://www.python.org/downloads/metadata/sigstore/) names a new \
                 release manager for Python {line}, add [trust.python_lines.\"{line}\"] identity and issuer to \
                 pyimage.toml; otherwise treat the bundle, and the image, as suspect",
                line = self
                    .version
                    .as_deref()
                    .and_then(psf::release_line)
                    .unwrap_or_else(|| "X.Y".to_owned())
            )),
            PsfVerdict::InvalidBundle { .. } => Some(
                "check that the Sigstore trust root is current (--trusted-root, [trust] trusted_root, or the TUF \
                 refresh); if the bundle still does not verify, do not trust the release and report it to python.org"
                    .to_owned(),
            ),
            PsfVerdict::NotCheckable { why } if why.contains("PYTHON_SHA256") => Some(
                "use a current build of the tag: docker-library images set PYTHON_SHA256 since October 2024".to_owned(),
            ),
            PsfVerdict::NotCheckable { .. } => None,
            PsfVerdict::UnknownReleaseLine { line } => Some(format!(
                "add [trust.python_lines.\"{line}\"] identity and issuer (from python.org's Sigstore page) to \
                 pyimage.toml"
            )),
            PsfVerdict::Unavailable { .. } => Some(
                "check that python.org (or [trust] python_org) is reachable, then verify again".to_owned(),
            ),
        };
        let link = Link::new(CPYTHON_RELEASE, status, evidence);
        match fix {
            Some(fix) => link.with_fix(fix),
            None => link,
        }
    }
}

/// The first link when the PSF's signature was not checked (`--no-release-signature`).
pub fn unchecked_link(why: &str) -> Link {
    Link::new(
        CPYTHON_RELEASE,
        Status::Unknown,
        vec![format!("not checked ({why})")],
    )
}

/// What checks the PSF link: where bundles come from, the trust root, the expected signers, the cache.
#[derive(Debug, Clone)]
pub struct ReleaseSignatures {
    base_url: String,
    root: Arc<RootChoice>,
    identities: Identities,
    cache: Option<PathBuf>,
}

/// The trust root, or how to get it.
#[derive(Debug)]
enum RootChoice {
    /// Decided without asking anyone: a file, or the embedded root with the refresh off.
    Fixed(ChosenRoot),
    /// Refreshed through TUF when a bundle is first judged.
    Refresh(Box<Refresh>),
}

/// A TUF refresh to make once: from `tuf`, at the run's start `now`, falling back to `embedded`.
#[derive(Debug)]
struct Refresh {
    tuf: TufSource,
    embedded: TrustedRoot,
    now: u64,
    chosen: OnceCell<ChosenRoot>,
}

/// What the command line says about the trust root; it wins over `[trust]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RootFlags<'a> {
    /// `--trusted-root FILE`.
    pub trusted_root: Option<&'a Path>,
    /// `--tuf-url URL|none` (or `$PYIMAGE_TUF_URL`).
    pub tuf_url: Option<&'a str>,
}

/// The cache directory: `$XDG_CACHE_HOME/pyimage`, else `$HOME/.cache/pyimage`. The caller passes the environment's
/// values.
pub fn default_cache_dir(xdg_cache_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    let base = match (xdg_cache_home.filter(|v| !v.is_empty()), home) {
        (Some(xdg), _) => PathBuf::from(xdg),
        (None, Some(home)) if !home.is_empty() => Path::new(home).join(".cache"),
        _ => return None,
    };
    Some(base.join("pyimage"))
}

impl ReleaseSignatures {
    /// From `[trust]` (relative paths from `config_dir`), the command line's `flags` (they win over the
    /// configuration), a cache directory (`None`: no cache) and the run's start `now` (Unix seconds: the TUF
    /// metadata must be current then). A trust root file wins over the TUF refresh; `tuf_url = "none"` turns the
    /// refresh off. An unreadable or invalid trust root or TUF anchor, or a TUF URL that is not one, is an input
    /// error naming it.
    pub fn new(
        settings: &TrustSettings,
        config_dir: Option<&Path>,
        flags: RootFlags<'_>,
        cache: Option<PathBuf>,
        now: u64,
    ) -> Result<ReleaseSignatures, ServiceError> {
        let relative = |path: &str| match config_dir {
            Some(dir) if Path::new(path).is_relative() => dir.join(path),
            _ => PathBuf::from(path),
        };
        let root_file = match (flags.trusted_root, &settings.trusted_root) {
            (Some(path), _) => Some((path.to_path_buf(), "--trusted-root")),
            (None, Some(path)) => Some((relative(path), "[trust] trusted_root")),
            (None, None) => None,
        };
        let embedded = TrustedRoot::embedded().map_err(ServiceError::input)?;
        let (tuf_url, tuf_url_from) = match (
            flags.tuf_url.filter(|url| !url.is_empty()),
            &settings.tuf_url,
        ) {
            (Some(url), _) => (url.to_owned(), "--tuf-url (or $PYIMAGE_TUF_URL)"),
            (None, Some(url)) => (url.clone(), "[trust] tuf_url"),
            (None, None) => (SIGSTORE_TUF_URL.to_owned(), "the default"),
        };
        let root = if let Some((path, named_by)) = root_file {
            let text = pyimage_store::bounded::read_text(&path, 1024 * 1024).map_err(|e| {
                ServiceError::input(format!(
                    "cannot read the Sigstore trusted root {}: {e}",
                    path.display()
                ))
            })?;
            RootChoice::Fixed(ChosenRoot {
                root: TrustedRoot::parse(&text, &path.display().to_string())
                    .map_err(ServiceError::input)?,
                via: RootVia::File,
                why: format!("named by {named_by}: used as is, not refreshed through TUF"),
            })
        } else if tuf_url == "none" {
            RootChoice::Fixed(ChosenRoot {
                root: embedded,
                via: RootVia::Embedded,
                why: format!(
                    "the TUF refresh is off ({tuf_url_from} is \"none\"): the root embedded in this pyimage build is used"
                ),
            })
        } else {
            let (anchor, anchor_name) = match &settings.tuf_root {
                Some(path) => {
                    let path = relative(path);
                    let bytes = pyimage_store::bounded::read_regular(&path, MAX_ROOT_BYTES)
                        .map_err(|e| {
                            ServiceError::input(format!(
                                "cannot read [trust] tuf_root {}: {e}",
                                path.display()
                            ))
                        })?;
                    (bytes, format!("[trust] tuf_root {}", path.display()))
                }
                None => {
                    let version = Repository::new(EMBEDDED_TUF_ROOT.as_bytes())
                        .map(|repo| repo.versions().root)
                        .map_err(|e| ServiceError::input(e.to_string()))?;
                    (
                        EMBEDDED_TUF_ROOT.as_bytes().to_vec(),
                        format!("Sigstore's root v{version} embedded in pyimage"),
                    )
                }
            };
            RootChoice::Refresh(Box::new(Refresh {
                tuf: TufSource::new(&tuf_url, anchor, &anchor_name, cache.as_deref())
                    .map_err(ServiceError::input)?,
                embedded,
                now,
                chosen: OnceCell::new(),
            }))
        };
        let mut identities = Identities::builtin();
        for (line, identity, issuer) in &settings.python_lines {
            identities.set(
                line,
                Identity {
                    identity: identity.clone(),
                    issuer: issuer.clone(),
                },
            );
        }
        Ok(ReleaseSignatures {
            base_url: settings
                .python_org
                .clone()
                .unwrap_or_else(|| PYTHON_ORG_FTP.to_owned()),
            root: Arc::new(root),
            identities,
            cache,
        })
    }

    /// A trust root without asking anyone, for a verdict that does not consult it.
    fn root_at_hand(&self) -> &TrustedRoot {
        match &*self.root {
            RootChoice::Fixed(chosen) => &chosen.root,
            RootChoice::Refresh(refresh) => &refresh.embedded,
        }
    }

    /// The trust root for this run: chosen once, the first time it is needed (a TUF refresh then asks the
    /// repository).
    pub async fn trust_root(&self, client: &RegistryClient) -> &ChosenRoot {
        match &*self.root {
            RootChoice::Fixed(chosen) => chosen,
            RootChoice::Refresh(refresh) => {
                refresh
                    .chosen
                    .get_or_init(|| {
                        trust_root::choose(client, &refresh.tuf, &refresh.embedded, refresh.now)
                    })
                    .await
            }
        }
    }

    /// The PSF link of an image with these `PYTHON_VERSION` and `PYTHON_SHA256` values, for platform `os`.
    pub async fn check(
        &self,
        client: &RegistryClient,
        os: Option<&str>,
        version: Option<&str>,
        sha256: Option<&str>,
    ) -> PythonRelease {
        let mut link = PythonRelease {
            link: "cpython-release",
            status: LinkStatus::Unproven,
            version: version.map(str::to_owned),
            sha256: sha256.map(str::to_owned),
            bundle: None,
            verdict: PsfVerdict::NoBundle,
            trusted_root: None,
            trusted_root_via: None,
            trusted_root_why: None,
        };
        // Windows images install python.org's .exe installer: a PYTHON_SHA256 there (if any) is not the source
        // tarball's, and its bundle is another file. Not checked rather than wrongly failed.
        let request = if os == Some("windows") {
            Err(PsfVerdict::NotCheckable {
                why: "a Windows image installs python.org's installer, whose signature pyimage does not check yet"
                    .to_owned(),
            })
        } else {
            psf::request(version, sha256, &self.identities)
        };
        let request = match request {
            Ok(request) => request,
            Err(verdict) => {
                link.status = verdict.status();
                link.verdict = verdict;
                return link;
            }
        };
        let url = format!("{}/{}", self.base_url, request.path);
        let cached = self.cache_path(&request.path);
        let from_cache = cached
            .as_deref()
            .and_then(|path| pyimage_store::bounded::read_text(path, MAX_BUNDLE_BYTES as u64).ok());
        let fetched = match from_cache {
            Some(text) => Fetched::Bundle(text.into_bytes()),
            None => match client
                .fetch_public_text(&url, MAX_BUNDLE_BYTES as u64)
                .await
            {
                Ok(text) => Fetched::Bundle(text.into_bytes()),
                Err(RegistryError::Status { status: 404, .. }) => Fetched::NotPublished,
                Err(error) => Fetched::Unavailable(format!("cannot fetch {url}: {error}")),
            },
        };
        let verdict = match &fetched {
            Fetched::Bundle(_) => {
                let chosen = self.trust_root(client).await;
                link.trusted_root = Some(chosen.root.source.clone());
                link.trusted_root_via = Some(chosen.via);
                link.trusted_root_why = Some(chosen.why.clone());
                psf::judge(&request, &fetched, &chosen.root)
            }
            // No bundle, no signature to check: the verdict does not depend on the root, so none is refreshed.
            Fetched::NotPublished | Fetched::Unavailable(_) => {
                psf::judge(&request, &fetched, self.root_at_hand())
            }
        };
        // Only a bundle that verifies is kept: a bad one python.org later replaces (it has happened) must be
        // fetched again, and a valid signature over a digest never changes its meaning.
        if let (PsfVerdict::SignedByPsf { .. }, Fetched::Bundle(bytes), Some(path)) =
            (&verdict, &fetched, &cached)
            && !path.exists()
            && let Err(error) = store(path, bytes)
        {
            tracing::warn!("cannot cache {}: {error}", path.display());
        }
        link.bundle = Some(url);
        link.status = verdict.status();
        link.verdict = verdict;
        link
    }

    /// `<cache>/python-org/<host>/<X.Y.Z>/Python-<version>.tar.xz.sigstore`: by version, per source of bundles.
    fn cache_path(&self, path: &str) -> Option<PathBuf> {
        let cache = self.cache.as_ref()?;
        let host: String = self
            .base_url
            .split("://")
            .nth(1)?
            .split('/')
            .next()?
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Some(cache.join("python-org").join(host).join(path))
    }
}

fn store(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    pyimage_store::write::replace_atomically(path, text).map_err(|e| e.to_string())
}
