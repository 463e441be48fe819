//! The `[serve]` section of `pyimage.toml`: how `pyimage serve` listens, how long it waits for the registry and
//! what it answers when the registry cannot, how long it caches digests, which lock it pins from, and which
//! environments its mutating webhook pins in.
//!
//! ```toml
//! [serve]
//! listen = "0.0.0.0:8443"
//! on-registry-failure = "allow"   # or "deny": the answer when the registry cannot give a digest in time
//! cache-ttl = "5m"                # how long a tag's digest is reused (ms, s, m, h, d; an integer is seconds)
//! deadline = "2s"                 # each request is answered within this
//! lock = "pyimage.lock"           # digests come from this lock first (relative to the configuration file)
//! store-max-age = "1h"            # then from the history store, when a watcher saw the tag this recently
//! [serve.mutate]                  # pin on admission per environment (default: where the environment requires
//! dev = false                     # a digest)
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use pyimage_model::time::parse_duration;
use toml::de::DeValue;

use super::{Reader, Table, Value, type_name};

/// What the webhook answers when the registry cannot give a digest within the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistryFailure {
    /// Allow without a patch, with a warning.
    #[default]
    Allow,
    /// Deny, naming the registry problem.
    Deny,
}

/// `[serve]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeSettings {
    /// The address to listen on.
    pub listen: String,
    /// The answer when the registry fails.
    pub on_registry_failure: RegistryFailure,
    /// How long a digest is cached.
    pub cache_ttl: Duration,
    /// The time each request is answered within.
    pub deadline: Duration,
    /// The lock to pin from, as written (relative to the configuration file's directory).
    pub lock: Option<String>,
    /// How recent a watcher's observation in the history store must be for its digest to be used without asking
    /// the registry.
    pub store_max_age: Duration,
    /// `[serve.mutate]`: whether to pin on admission, per environment.
    pub mutate: BTreeMap<String, bool>,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            listen: "0.0.0.0:8443".to_owned(),
            on_registry_failure: RegistryFailure::Allow,
            cache_ttl: Duration::from_secs(300),
            deadline: Duration::from_secs(2),
            lock: None,
            store_max_age: Duration::from_secs(3600),
            mutate: BTreeMap::new(),
        }
    }
}

impl ServeSettings {
    /// Whether the mutating webhook pins in `environment`: `[serve.mutate]` when set, else whether the environment
    /// requires a digest.
    pub fn mutates(&self, environment: &str, requires_digest: bool) -> bool {
        self.mutate
            .get(environment)
            .copied()
            .unwrap_or(requires_digest)
    }
}

impl Reader<'_> {
    pub(super) fn serve(&mut self, table: &Table<'_>) -> ServeSettings {
        self.unknown_keys(
            table,
            &[
                "listen",
                "on-registry-failure",
                "cache-ttl",
                "deadline",
                "lock",
                "store-max-age",
                "mutate",
            ],
            "[serve]",
        );
        let mut serve = ServeSettings::default();
        if let Some(value) = table.get("listen")
            && let Some(listen) = self.string(value, "listen")
        {
            if listen.parse::<core::net::SocketAddr>().is_ok() {
                serve.listen = listen.to_owned();
            } else {
                self.error(
                    value.span(),
                    format!("listen = {listen:?} is not an address: write IP:PORT, like \"0.0.0.0:8443\""),
                );
            }
        }
        if let Some(value) = table.get("on-registry-failure")
            && let Some(text) = self.string(value, "on-registry-failure")
        {
            match text {
                "allow" => serve.on_registry_failure = RegistryFailure::Allow,
                "deny" => serve.on_registry_failure = RegistryFailure::Deny,
                other => self.error(
                    value.span(),
                    format!("on-registry-failure = {other:?}: expected \"allow\" or \"deny\""),
                ),
            }
        }
        if let Some(value) = table.get("cache-ttl")
            && let Some(ttl) = self.duration(value, "cache-ttl")
        {
            serve.cache_ttl = ttl;
        }
        if let Some(value) = table.get("deadline")
            && let Some(deadline) = self.duration(value, "deadline")
        {
            if deadline.is_zero() {
                self.error(value.span(), "deadline must be more than 0");
            } else {
                serve.deadline = deadline;
            }
        }
        if let Some(value) = table.get("store-max-age")
            && let Some(age) = self.duration(value, "store-max-age")
        {
            serve.store_max_age = age;
        }
        if let Some(value) = table.get("lock") {
            serve.lock = self.string(value, "lock").map(str::to_owned);
        }
        if let Some(value) = table.get("mutate")
            && let Some(mutate) = self.table(value, "[serve.mutate]")
        {
            for (environment, flag) in mutate.iter() {
                if let Some(flag) = self.boolean(flag, "[serve.mutate] value") {
                    let name = environment.get_ref().to_string();
                    self.environment_names
                        .push((name.clone(), environment.span()));
                    serve.mutate.insert(name, flag);
                }
            }
        }
        serve
    }

    fn duration(&mut self, value: &Value<'_>, what: &str) -> Option<Duration> {
        let parsed = match value.get_ref() {
            DeValue::Integer(number) => {
                number.as_str().parse::<u64>().ok().map(Duration::from_secs)
            }
            DeValue::String(text) => parse_duration(text).ok(),
            other => {
                self.error(
                    value.span(),
                    format!(
                        "{what} must be a duration like \"30s\", not {}",
                        type_name(other)
                    ),
                );
                return None;
            }
        };
        if parsed.is_none() {
            self.error(
                value.span(),
                format!(
                    "{what} is not a duration: write a whole number with ms, s, m, h or d, like \"30s\""
                ),
            );
        }
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, Settings};

    #[test]
    fn serve_section_and_its_diagnostics() {
        let text = "[serve]\nlisten = \"127.0.0.1:9443\"\non-registry-failure = \"deny\"\ncache-ttl = \"10m\"\ndeadline = \"1500ms\"\nlock = \"pyimage.lock\"\n[serve.mutate]\ndev = true\n";
        let settings = Settings::parse(text, "pyimage.toml", &Overrides::default()).expect("valid");
        let serve = settings.serve;
        assert_eq!(serve.listen, "127.0.0.1:9443");
        assert_eq!(serve.on_registry_failure, RegistryFailure::Deny);
        assert_eq!(serve.cache_ttl, Duration::from_secs(600));
        assert_eq!(serve.deadline, Duration::from_millis(1500));
        assert_eq!(serve.lock.as_deref(), Some("pyimage.lock"));
        assert!(serve.mutates("dev", false));
        assert!(serve.mutates("prod", true));
        assert!(!serve.mutates("test", false));
        let bad = "[serve]\nlisten = \"nowhere\"\non-registry-failure = \"maybe\"\ncache-ttl = \"soon\"\ncolor = 1\n[serve.mutate]\nstaging = true\n";
        let error = Settings::parse(bad, "pyimage.toml", &Overrides::default())
            .expect_err("invalid")
            .to_string();
        for expected in [
            "pyimage.toml:2:10: listen = \"nowhere\" is not an address",
            "pyimage.toml:3:23: on-registry-failure = \"maybe\": expected \"allow\" or \"deny\"",
            "pyimage.toml:4:13: cache-ttl is not a duration",
            "pyimage.toml:5:1: unknown key `color` in [serve]",
            "staging",
        ] {
            assert!(error.contains(expected), "{expected:?} not in:\n{error}");
        }
    }
}
