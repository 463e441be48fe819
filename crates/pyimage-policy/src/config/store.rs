//! The `[store]` table of `pyimage.toml`: where `pyimage watch` and `pyimage history` keep the history of tags.
//!
//! ```toml
//! [store]
//! url = "postgres://pyimage@db.internal/pyimage"   # or "sqlite:/var/lib/pyimage/history.db"
//! ```
//!
//! Only the shape is checked here (the scheme); opening the database is the store's business. `--store URL`
//! overrides it; without either, the store is `$XDG_DATA_HOME/pyimage/history.db`.

use crate::check::Origin;

/// `[store]` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreSettings {
    /// `url`: `sqlite:PATH`, `postgres://…` or `postgresql://…`.
    pub url: Option<String>,
    /// The configuration line of `url`.
    pub origin: Option<Origin>,
}

/// Whether a store URL has a scheme pyimage's store opens.
pub fn is_store_url(url: &str) -> bool {
    url.strip_prefix("sqlite:")
        .is_some_and(|rest| !rest.trim_start_matches('/').is_empty())
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
}

impl super::Reader<'_> {
    pub(super) fn store(&mut self, table: &super::Table<'_>) -> StoreSettings {
        self.unknown_keys(table, &["url"], "[store]");
        let mut settings = StoreSettings::default();
        if let Some(value) = table.get("url")
            && let Some(url) = self.string(value, "url")
        {
            if is_store_url(url) {
                settings.url = Some(url.to_owned());
                settings.origin = Some(self.origin(value.span()));
            } else {
                self.error(
                    value.span(),
                    format!(
                        "[store] url {url:?} is not sqlite:PATH or postgres://…: write \
                         url = \"sqlite:/var/lib/pyimage/history.db\" or url = \"postgres://user@host/db\""
                    ),
                );
            }
        }
        settings
    }
}
