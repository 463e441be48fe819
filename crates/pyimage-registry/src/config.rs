//! Per-registry settings (`[registries."HOST"]` of `pyimage.toml`): the types live in pyimage-model (`registries`)
//! (pure data and validation); they are re-exported here because the client is built from them.

pub use pyimage_model::registries::{
    DOCKER_HUB_API, Endpoint, RegistriesConfig, RegistryConfigError, RegistrySettings,
};
