//! Which Sigstore trust root `verify` checks python.org's bundles against, and why that one. A file the user names
//! wins (air-gapped use, tests). Otherwise the root is refreshed through a TUF repository (Sigstore's,
//! https://tuf-repo-cdn.sigstore.dev, unless `[trust] tuf_url` or `--tuf-url` names a mirror), every step verified by
//! `pyimage_trust::tuf` from the anchor (Sigstore's root v15 embedded, or `[trust] tuf_root`). When the refresh fails
//! (offline, a stale mirror, a check that fails), the files of the last refresh kept in the cache are verified again
//! from the anchor and used while they are current; else the root embedded in pyimage. `tuf_url = "none"` uses the
//! embedded root without asking anyone. The report names the root used and says why ([`ChosenRoot`]).
//!
//! The cache (`<cache>/tuf/<repository>/`: `root/N.root.json` for every root version after the anchor,
//! `timestamp.json`, `snapshot.json`, `targets.json`, `trusted_root.json`) is never trusted as such: each run replays
//! it through the same checks as fresh files, so a changed cache file is at worst ignored. It makes a later refresh
//! incremental (a snapshot, targets or target that is still the current one is not fetched again: a warm refresh is
//! two requests, the next root's 404 and the timestamp).

use std::path::{Path, PathBuf};
use std::time::Duration;

use pyimage_model::time::rfc3339_utc;
use pyimage_registry::{RegistryClient, RegistryError};
use pyimage_trust::root::TrustedRoot;
use pyimage_trust::tuf::{
    FileToFetch, MAX_ROOT_BYTES, MAX_SNAPSHOT_BYTES, MAX_TARGET_BYTES, MAX_TARGETS_BYTES,
    MAX_TIMESTAMP_BYTES, Repository, TRUSTED_ROOT_TARGET, TufError, Versions,
};
use serde::Serialize;

/// The whole refresh must end within this, or it counts as failed (and the cache or the embedded root is used): a
/// TUF repository that does not answer must not hold `verify` up for long.
pub const REFRESH_BUDGET: Duration = Duration::from_secs(20);

/// How the trust root was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootVia {
    /// A file the user named (`--trusted-root`, `[trust] trusted_root`).
    File,
    /// Refreshed through the TUF repository in this run.
    Tuf,
    /// The refresh failed; the last refresh's files in the cache, verified again and current.
    TufCache,
    /// The one embedded in pyimage.
    Embedded,
}

/// The trust root used, with its name and why it was chosen.
#[derive(Debug, Clone)]
pub struct ChosenRoot {
    /// The root (its `source` names it).
    pub root: TrustedRoot,
    /// How it was chosen.
    pub via: RootVia,
    /// Why: the versions verified, or why the refresh failed.
    pub why: String,
}

/// A TUF repository to refresh the trust root from.
#[derive(Debug, Clone)]
pub struct TufSource {
    /// Its base URL, without a trailing `/`.
    pub url: String,
    /// The root metadata the chain starts from.
    anchor: Vec<u8>,
    /// How to name the anchor in reports.
    anchor_name: String,
    /// `<cache>/tuf/<repository>`, when there is a cache.
    cache: Option<PathBuf>,
}

impl TufSource {
    /// The repository at `url`, starting from `anchor` (named `anchor_name`), caching under `cache_base/tuf/` when
    /// given. The anchor must be TUF root metadata signed by a threshold of its own keys, else this is an error
    /// naming it.
    pub fn new(
        url: &str,
        anchor: Vec<u8>,
        anchor_name: &str,
        cache_base: Option<&Path>,
    ) -> Result<TufSource, String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "the TUF repository {url:?} is not an http(s) URL (or \"none\" for no refresh)"
            ));
        }
        Repository::new(&anchor).map_err(|e| {
            format!(
                "{anchor_name}: {}: {} (the anchor must be a TUF root.json signed by a threshold of its own root keys)",
                e.metadata, e.detail
            )
        })?;
        let url = url.trim_end_matches('/').to_owned();
        let cache = cache_base.map(|base| base.join("tuf").join(directory_name(&url)));
        Ok(TufSource {
            url,
            anchor,
            anchor_name: anchor_name.to_owned(),
            cache,
        })
    }

    /// The cache directory of this repository.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.cache.as_deref()
    }
}

/// `tuf-repo-cdn.sigstore.dev`, `127.0.0.1_8080_prefix`: the URL without its scheme, one path component.
fn directory_name(url: &str) -> String {
    url.split_once("://")
        .map_or(url, |(_, rest)| rest)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A trust root verified through TUF.
#[derive(Debug)]
pub struct Verified {
    /// The `trusted_root.json` target, parsed.
    pub root: TrustedRoot,
    /// The metadata versions that prove it.
    pub versions: Versions,
    /// Until when they are current (Unix seconds).
    pub expires: u64,
    /// The files fetched from the repository (paths), in order; empty when only the cache was read.
    pub fetched: Vec<String>,
}

/// The trust root for a run at `now`: refreshed through `tuf` (within [`REFRESH_BUDGET`]), else its cache, else
/// `embedded`. Never fails: the fallbacks say why in [`ChosenRoot::why`].
pub async fn choose(
    client: &RegistryClient,
    tuf: &TufSource,
    embedded: &TrustedRoot,
    now: u64,
) -> ChosenRoot {
    let refreshed = match tokio::time::timeout(REFRESH_BUDGET, refresh(client, tuf, now)).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "{} did not finish within {} s",
            tuf.url,
            REFRESH_BUDGET.as_secs()
        )),
    };
    let refresh_error = match refreshed {
        Ok(verified) => {
            tracing::info!(
                "Sigstore trust root refreshed from {} ({}; fetched {:?})",
                tuf.url,
                verified.versions,
                verified.fetched
            );
            return ChosenRoot {
                why: format!(
                    "refreshed through the TUF repository {}: {} verified from {}, current until {}",
                    tuf.url,
                    verified.versions,
                    tuf.anchor_name,
                    rfc3339_utc(verified.expires)
                ),
                root: verified.root,
                via: RootVia::Tuf,
            };
        }
        Err(error) => error,
    };
    tracing::warn!("the Sigstore trust root was not refreshed: {refresh_error}");
    match cached(tuf, now).await {
        Ok(verified) => ChosenRoot {
            why: format!(
                "the refresh failed ({refresh_error}); the last refresh, kept in {}, verified again from {}: {}, \
                 current until {}",
                tuf.cache
                    .as_deref()
                    .map_or_else(|| "the cache".to_owned(), |p| p.display().to_string()),
                tuf.anchor_name,
                verified.versions,
                rfc3339_utc(verified.expires)
            ),
            root: verified.root,
            via: RootVia::TufCache,
        },
        Err(cache_error) => ChosenRoot {
            why: format!(
                "the refresh failed ({refresh_error}) and no earlier refresh is usable ({cache_error}); the root \
                 embedded in this pyimage build is used"
            ),
            root: embedded.clone(),
            via: RootVia::Embedded,
        },
    }
}

/// Refreshes through the repository: the cache's files where they are still the current ones, the repository's
/// otherwise; the new files are kept in the cache once the whole chain verified.
pub async fn refresh(
    client: &RegistryClient,
    tuf: &TufSource,
    now: u64,
) -> Result<Verified, String> {
    load(Some(client), tuf, now).await
}

/// The last refresh from the cache alone, verified again from the anchor at `now`.
pub async fn cached(tuf: &TufSource, now: u64) -> Result<Verified, String> {
    let Some(dir) = tuf.cache.as_deref() else {
        return Err("no cache directory".to_owned());
    };
    if !dir.join("timestamp.json").exists() {
        return Err(format!("nothing cached in {}", dir.display()));
    }
    load(None, tuf, now).await
}

/// One file obtained for a step: its bytes and whether they came from the repository (to be cached).
struct Obtained {
    bytes: Vec<u8>,
    fetched: bool,
}

/// The TUF workflow over the cache and (with a client) the repository.
async fn load(
    client: Option<&RegistryClient>,
    tuf: &TufSource,
    now: u64,
) -> Result<Verified, String> {
    // A fetched file's failure names the repository and says what to do; a cached file's says that the cache is
    // not usable, the advice being for the repository's files.
    let in_tuf = |error: TufError| match client {
        Some(_) => format!("{}: {error}", tuf.url),
        None => format!("cached {}: {}", error.metadata, error.detail),
    };
    let cache = tuf.cache.as_deref();
    let mut fetched = Vec::new();
    let mut repo = Repository::new(&tuf.anchor).map_err(in_tuf)?;
    // Root versions verified before, replayed from the anchor: a cached root that does not chain is not used.
    while let Some(bytes) = read_limited(
        cache,
        &format!("root/{}", repo.next_root().path),
        MAX_ROOT_BYTES,
    ) {
        if let Err(error) = repo.update_root(&bytes) {
            tracing::warn!("ignoring the cached TUF root: {error}");
            break;
        }
    }
    if let Some(client) = client {
        loop {
            let next = repo.next_root();
            let Some(bytes) = fetch(client, tuf, &next).await? else {
                break;
            };
            fetched.push(next.path.clone());
            repo.update_root(&bytes).map_err(in_tuf)?;
            keep(cache, &format!("root/{}", next.path), &bytes);
        }
    }
    repo.root_update_finished(now).map_err(in_tuf)?;

    let cached_timestamp = read_limited(cache, "timestamp.json", MAX_TIMESTAMP_BYTES);
    let cached_snapshot = read_limited(cache, "snapshot.json", MAX_SNAPSHOT_BYTES);
    let timestamp = match client {
        Some(client) => {
            // What was verified before bounds what is accepted now (rollback), if the current keys signed it.
            if let Some(bytes) = &cached_timestamp
                && let Err(error) = repo.remember_timestamp(bytes)
            {
                tracing::debug!("cached timestamp not used against rollback: {error}");
            }
            if let Some(bytes) = &cached_snapshot
                && let Err(error) = repo.remember_snapshot(bytes)
            {
                tracing::debug!("cached snapshot not used against rollback: {error}");
            }
            let file = FileToFetch {
                path: "timestamp.json".to_owned(),
                max_bytes: MAX_TIMESTAMP_BYTES,
            };
            let bytes = fetch(client, tuf, &file)
                .await?
                .ok_or_else(|| format!("{}/timestamp.json: not found", tuf.url))?;
            fetched.push(file.path);
            repo.update_timestamp(&bytes, now).map_err(in_tuf)?;
            Obtained {
                bytes,
                fetched: true,
            }
        }
        None => {
            let bytes = cached_timestamp.ok_or("no cached timestamp.json")?;
            repo.update_timestamp(&bytes, now).map_err(in_tuf)?;
            Obtained {
                bytes,
                fetched: false,
            }
        }
    };

    let file = repo.snapshot_file().map_err(in_tuf)?;
    let snapshot = obtain(
        &mut repo,
        cached_snapshot,
        &file,
        client,
        tuf,
        &mut fetched,
        |repo, bytes| repo.update_snapshot(bytes, now),
    )
    .await?;
    let file = repo.targets_file().map_err(in_tuf)?;
    let cached_targets = read_limited(cache, "targets.json", MAX_TARGETS_BYTES);
    let targets = obtain(
        &mut repo,
        cached_targets,
        &file,
        client,
        tuf,
        &mut fetched,
        |repo, bytes| repo.update_targets(bytes, now),
    )
    .await?;
    let file = repo.target_file(TRUSTED_ROOT_TARGET).map_err(in_tuf)?;
    let cached_target = read_limited(cache, TRUSTED_ROOT_TARGET, MAX_TARGET_BYTES);
    let target = obtain(
        &mut repo,
        cached_target,
        &file,
        client,
        tuf,
        &mut fetched,
        |repo, bytes| repo.verify_target(TRUSTED_ROOT_TARGET, bytes, now),
    )
    .await?;

    let versions = repo.versions();
    let text = std::str::from_utf8(&target.bytes)
        .map_err(|e| format!("{}/{}: not UTF-8 ({e})", tuf.url, file.path))?;
    let name = format!("{TRUSTED_ROOT_TARGET} from {} (TUF {versions})", tuf.url);
    let root = TrustedRoot::parse(text, &name)?;
    // The chain verified: keep what was new, the metadata last so that a cut-off write leaves an older timestamp
    // (the next run then fetches again) rather than a timestamp without its files.
    for (name, obtained) in [
        (TRUSTED_ROOT_TARGET, &target),
        ("targets.json", &targets),
        ("snapshot.json", &snapshot),
        ("timestamp.json", &timestamp),
    ] {
        if obtained.fetched {
            keep(cache, name, &obtained.bytes);
        }
    }
    Ok(Verified {
        root,
        versions,
        expires: repo.expires(),
        fetched,
    })
}

/// The cached copy when `verify` accepts it (it is the current one), else (with a client) the repository's, which
/// `verify` must accept.
async fn obtain(
    repo: &mut Repository,
    cached: Option<Vec<u8>>,
    file: &FileToFetch,
    client: Option<&RegistryClient>,
    tuf: &TufSource,
    fetched: &mut Vec<String>,
    verify: impl Fn(&mut Repository, &[u8]) -> Result<(), TufError>,
) -> Result<Obtained, String> {
    let cache_error = match cached {
        Some(bytes) => match verify(repo, &bytes) {
            Ok(()) => {
                return Ok(Obtained {
                    bytes,
                    fetched: false,
                });
            }
            Err(error) => Some(error),
        },
        None => None,
    };
    let Some(client) = client else {
        return Err(match cache_error {
            Some(error) => format!("cached {}: {}", error.metadata, error.detail),
            None => format!("{} is not cached", file.path),
        });
    };
    let bytes = fetch(client, tuf, file)
        .await?
        .ok_or_else(|| format!("{}/{}: not found", tuf.url, file.path))?;
    fetched.push(file.path.clone());
    verify(repo, &bytes).map_err(|e| format!("{}: {e}", tuf.url))?;
    Ok(Obtained {
        bytes,
        fetched: true,
    })
}

/// GETs a file of the repository within its size limit; `None` when the repository does not have it (404, or 403
/// as object stores answer for a missing key).
async fn fetch(
    client: &RegistryClient,
    tuf: &TufSource,
    file: &FileToFetch,
) -> Result<Option<Vec<u8>>, String> {
    let url = format!("{}/{}", tuf.url, file.path);
    match client.fetch_public_text(&url, file.max_bytes).await {
        Ok(text) => Ok(Some(text.into_bytes())),
        Err(RegistryError::Status {
            status: 403 | 404, ..
        }) => Ok(None),
        // The error names the URL.
        Err(error) => Err(error.to_string()),
    }
}

fn read_limited(cache: Option<&Path>, name: &str, limit: u64) -> Option<Vec<u8>> {
    let path = cache?.join(name);
    pyimage_store::bounded::read_regular(&path, limit).ok()
}

/// Keeps a verified file in the cache; a cache that cannot be written only costs a fetch next time.
fn keep(cache: Option<&Path>, name: &str, bytes: &[u8]) {
    let Some(dir) = cache else {
        return;
    };
    let path = dir.join(name);
    let written = std::str::from_utf8(bytes)
        .map_err(|e| e.to_string())
        .and_then(|text| {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            pyimage_store::write::replace_atomically(&path, text).map_err(|e| e.to_string())
        });
    if let Err(error) = written {
        tracing::warn!("cannot cache {}: {error}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyimage_trust::tuf::EMBEDDED_TUF_ROOT;

    #[test]
    fn each_repository_has_a_cache_directory_of_its_own() {
        assert_eq!(
            directory_name("https://tuf-repo-cdn.sigstore.dev"),
            "tuf-repo-cdn.sigstore.dev"
        );
        assert_eq!(
            directory_name("http://127.0.0.1:8080/a/b"),
            "127.0.0.1_8080_a_b"
        );
        let source = TufSource::new(
            "https://tuf.example/sigstore/",
            EMBEDDED_TUF_ROOT.as_bytes().to_vec(),
            "embedded",
            Some(Path::new("/cache")),
        )
        .unwrap();
        assert_eq!(source.url, "https://tuf.example/sigstore");
        assert_eq!(
            source.cache_dir(),
            Some(Path::new("/cache/tuf/tuf.example_sigstore"))
        );
    }

    #[test]
    fn a_bad_url_or_anchor_is_named() {
        let error = TufSource::new("ftp://x", EMBEDDED_TUF_ROOT.as_bytes().to_vec(), "a", None)
            .unwrap_err();
        assert!(
            error.contains("\"ftp://x\" is not an http(s) URL"),
            "{error}"
        );
        let error = TufSource::new("https://x", b"{}".to_vec(), "my-root.json", None).unwrap_err();
        assert!(
            error.starts_with("my-root.json: root.json: not TUF metadata"),
            "{error}"
        );
    }
}
