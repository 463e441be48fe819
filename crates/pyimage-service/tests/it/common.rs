//! What the service's test modules share: a registry client whose `docker.io` is a local endpoint.

use pyimage_registry::{
    ClientOptions, CredentialStore, RegistriesConfig, RegistryClient, RegistrySettings,
};

/// A client that asks `endpoint` (plain HTTP) for `docker.io`, with `options`.
pub fn client_with(endpoint: &str, options: ClientOptions) -> RegistryClient {
    let mut config = RegistriesConfig::default();
    config.hosts.insert(
        "docker.io".to_owned(),
        RegistrySettings {
            endpoint: Some(endpoint.to_owned()),
            insecure: true,
            ..RegistrySettings::default()
        },
    );
    RegistryClient::new(config, CredentialStore::anonymous(), options)
        .expect("a client for a local endpoint")
}

/// [`client_with`] the default options.
pub fn client_for(endpoint: &str) -> RegistryClient {
    client_with(endpoint, ClientOptions::default())
}
