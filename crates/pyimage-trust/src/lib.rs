//! Pure signature verification for pyimage: no I/O, no clock. Today: the PSF's Sigstore signature on a CPython
//! release (`psf`), built on a minimal verifier of Sigstore message-signature bundles (`sigstore`) against a
//! Sigstore trust root (`root`), which Sigstore distributes through its TUF repository (`tuf`: the client workflow
//! that proves a refreshed `trusted_root.json`). The caller fetches bundles and TUF files and chooses the trust root;
//! this crate only decides.
//!
//! Why a crate of its own: it carries the cryptography (RustCrypto's p256/p384/x509-cert), which the policy crate
//! and the model should not pull in, and it is where the other signature links (cosign) belong.

pub mod bundle;
pub mod cosign;
mod merkle;
pub mod psf;
pub mod root;
pub mod sigstore;
pub mod tuf;
