//! The history store a command opens, shared by `watch` and `history`: `--store URL`, else `PYIMAGE_STORE`, else
//! `[store] url` of `pyimage.toml`, else `$XDG_DATA_HOME/pyimage/history.db` (`~/.local/share/pyimage/history.db`).

use anyhow::Context as _;
use pyimage_store::{Store, StoreUrl};

use crate::config::LoadedConfig;

/// Which store to open, and why (for the log).
pub fn url(flag: Option<&str>, config: &LoadedConfig) -> anyhow::Result<StoreUrl> {
    let from_env = std::env::var("PYIMAGE_STORE")
        .ok()
        .filter(|v| !v.is_empty());
    let (text, origin) = match (flag, from_env, &config.settings.store.url) {
        (Some(flag), _, _) => (flag.to_owned(), "--store".to_owned()),
        (None, Some(env), _) => (env, "PYIMAGE_STORE".to_owned()),
        (None, None, Some(url)) => (
            url.clone(),
            format!("[store] url of {}", shown_config(config)),
        ),
        (None, None, None) => {
            let xdg = std::env::var("XDG_DATA_HOME").ok();
            let home = std::env::var("HOME").ok();
            let path = pyimage_store::default_sqlite_path(xdg.as_deref(), home.as_deref()).context(
                "no history store: neither XDG_DATA_HOME nor HOME is set; pass --store sqlite:PATH",
            )?;
            return Ok(StoreUrl::sqlite(&path));
        }
    };
    StoreUrl::parse(&text)
        .map_err(pyimage_service::watch::store_error)
        .with_context(|| origin)
}

fn shown_config(config: &LoadedConfig) -> String {
    config
        .path
        .as_ref()
        .map_or_else(|| "pyimage.toml".to_owned(), |p| p.display().to_string())
}

/// Opens (and migrates) the store, to record into it.
pub async fn open(url: &StoreUrl) -> anyhow::Result<Store> {
    tracing::info!(store = %url.shown, "history store");
    Ok(Store::open(url)
        .await
        .map_err(pyimage_service::watch::store_error)?)
}

/// Opens the store to read it only: a store this user cannot write can still be read.
pub async fn open_read_only(url: &StoreUrl) -> anyhow::Result<Store> {
    tracing::info!(store = %url.shown, "history store (read-only)");
    Ok(Store::open_read_only(url)
        .await
        .map_err(pyimage_service::watch::store_error)?)
}
