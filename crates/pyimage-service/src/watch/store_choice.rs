//! Which history store a command opens, shared by `watch`, `history`, `update` and `serve`: `--store URL`, else
//! `PYIMAGE_STORE`, else `[store] url` of `pyimage.toml`, else `$XDG_DATA_HOME/pyimage/history.db`
//! (`~/.local/share/pyimage/history.db`). The caller reads the flag, the environment and the configuration.

use pyimage_store::{Store, StoreUrl};

use crate::error::ServiceError;

/// Where the store's URL may come from, first to last.
#[derive(Debug, Default, Clone)]
pub struct StoreChoice {
    /// `--store`.
    pub flag: Option<String>,
    /// `PYIMAGE_STORE` (empty counts as unset).
    pub env: Option<String>,
    /// `[store] url`, and the configuration file as shown.
    pub configured: Option<(String, String)>,
    /// `XDG_DATA_HOME` and `HOME`, for the default SQLite file.
    pub xdg_data_home: Option<String>,
    /// `HOME`.
    pub home: Option<String>,
}

impl StoreChoice {
    /// Whether a store was named (flag, environment or configuration) rather than defaulted.
    pub fn named(&self) -> bool {
        self.flag.is_some() || self.env.is_some() || self.configured.is_some()
    }

    /// The URL chosen; an unparsable one names where it came from.
    pub fn url(&self) -> Result<StoreUrl, ServiceError> {
        let (text, origin) = match (&self.flag, &self.env, &self.configured) {
            (Some(flag), _, _) => (flag.clone(), "--store".to_owned()),
            (None, Some(env), _) => (env.clone(), "PYIMAGE_STORE".to_owned()),
            (None, None, Some((url, config))) => (url.clone(), format!("[store] url of {config}")),
            (None, None, None) => {
                let path = pyimage_store::default_sqlite_path(
                    self.xdg_data_home.as_deref(),
                    self.home.as_deref(),
                )
                .ok_or_else(|| {
                    ServiceError::input(
                        "no history store: neither XDG_DATA_HOME nor HOME is set; pass --store sqlite:PATH",
                    )
                })?;
                return Ok(StoreUrl::sqlite(&path));
            }
        };
        StoreUrl::parse(&text).map_err(|error| {
            let error = super::store_error(error);
            ServiceError {
                message: format!("{origin}: {}", error.message),
                ..error
            }
        })
    }
}

/// Opens (and migrates) the store, to record into it; `read_only` opens it to read only (a store this user cannot
/// write can still be read).
pub async fn open(url: &StoreUrl, read_only: bool) -> Result<Store, ServiceError> {
    tracing::info!(store = %url.shown, read_only, "history store");
    let opened = if read_only {
        Store::open_read_only(url).await
    } else {
        Store::open(url).await
    };
    opened.map_err(super::store_error)
}

/// The store `update` reads first-served times from: the one named, which must open, else the default SQLite file
/// when it exists. A named store that does not open is not an error — the update goes on with the images' build
/// times —, so the warning to show comes back with `None`.
pub async fn optional(choice: &StoreChoice) -> (Option<Store>, Option<String>) {
    let url = match choice.url() {
        Ok(url) => url,
        Err(error) => return (None, Some(format!("history store not read: {error}"))),
    };
    if !choice.named() && !url.sqlite_path().is_some_and(|path| path.exists()) {
        return (None, None);
    }
    match open(&url, true).await {
        Ok(store) => (Some(store), None),
        Err(error) => (
            None,
            Some(format!(
                "history store {}: {error}; first-served times come from the images' build times",
                url.shown
            )),
        ),
    }
}
