//! The history store a command opens: the command line, the environment and `pyimage.toml` read here, the choice
//! made by `pyimage_service::watch::store_choice`.

use pyimage_service::watch::store_choice::{self, StoreChoice};
use pyimage_store::{Store, StoreUrl};

use crate::config::LoadedConfig;

/// Where the store may come from for this run.
pub fn choice(flag: Option<&str>, config: &LoadedConfig) -> StoreChoice {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    StoreChoice {
        flag: flag.map(str::to_owned),
        env: env("PYIMAGE_STORE"),
        configured: config.settings.store.url.clone().map(|url| {
            let shown = config
                .path
                .as_ref()
                .map_or_else(|| "pyimage.toml".to_owned(), |p| p.display().to_string());
            (url, shown)
        }),
        xdg_data_home: env("XDG_DATA_HOME"),
        home: env("HOME"),
    }
}

/// The store's URL.
pub fn url(flag: Option<&str>, config: &LoadedConfig) -> anyhow::Result<StoreUrl> {
    Ok(choice(flag, config).url()?)
}

/// Opens (and migrates) the store, to record into it.
pub async fn open(url: &StoreUrl) -> anyhow::Result<Store> {
    Ok(store_choice::open(url, false).await?)
}

/// Opens the store to read it only: a store this user cannot write can still be read.
pub async fn open_read_only(url: &StoreUrl) -> anyhow::Result<Store> {
    Ok(store_choice::open(url, true).await?)
}
