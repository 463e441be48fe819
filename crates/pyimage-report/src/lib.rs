//! The page a person looks at: when each watched tag moved and why, how far behind the pins of a lock file are, and
//! what admission decided — rendered as one self-contained HTML document (inline CSS and SVG, no script, no network).
//!
//! Pure: callers (`pyimage history --format html`, `pyimage serve`'s `/`) gather a [`Report`] from the history store,
//! the lock and the webhook's recent decisions (and, from a server, each tag's chain of trust); [`render`] turns it into
//! text. Everything that comes from a registry
//! or a file (tags, digests, package names, namespaces) is escaped: a hostile registry cannot inject markup.

#![deny(missing_docs)]

mod escape;
mod html;
mod palette;
mod svg;

pub use html::render;
pub use palette::{KIND_COLOURS, contrast_ratio, palette};
pub use pyimage_policy::moves::MoveKind;
pub use pyimage_policy::sbom::{Change, PackageChange};

/// Everything one page shows. Sections that are `None` or empty are left out.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The page title (`python image drift`).
    pub title: String,
    /// Where the data came from, said once under the title (`store sqlite:/var/lib/pyimage/history.db`).
    pub source: String,
    /// When the page was made (Unix seconds, UTC); also the right end of every timeline and the origin of the 30/90-day
    /// counts.
    pub generated_at: u64,
    /// One timeline per watched tag.
    pub timelines: Vec<Timeline>,
    /// The pins of a lock file (or of the references seen at admission), compared with the current digests.
    pub stale: Option<StaleSection>,
    /// What the admission webhook decided recently.
    pub admission: Option<AdmissionSection>,
    /// The chain of trust of each tag's current image, as far as the page knows it.
    pub chains: Option<ChainSection>,
}

/// The chain of trust of each watched tag's current image, link by link, from what the page has at hand.
#[derive(Debug, Clone, Default)]
pub struct ChainSection {
    /// What the links rest on and what they leave out, said once above them.
    pub scope: String,
    /// One chain per tag, in the page's tag order.
    pub tags: Vec<TagChain>,
}

/// The chain of one tag's current image.
#[derive(Debug, Clone)]
pub struct TagChain {
    /// The reference as people write it (`python:3.12-slim`).
    pub reference: String,
    /// The digest the tag points at, as last recorded.
    pub digest: Option<String>,
    /// The links, in chain order.
    pub links: Vec<pyimage_policy::chain::Link>,
}

/// The history of one tag.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// The reference as people write it (`python:3.12-slim`).
    pub reference: String,
    /// When the tag was first observed (the left end of its timeline).
    pub first_seen: u64,
    /// The digest the tag points at now, if known.
    pub current_digest: Option<String>,
    /// The Python version of the current image, if known.
    pub current_python: Option<String>,
    /// Every move, oldest first.
    pub moves: Vec<TagMove>,
}

/// One move of a tag from one index digest to another.
#[derive(Debug, Clone)]
pub struct TagMove {
    /// When the move was observed (Unix seconds).
    pub at: u64,
    /// What kind of move it was (from `pyimage_policy::moves::classify_move`).
    pub kind: MoveKind,
    /// The index digest before (`None` for the first observation).
    pub old_digest: Option<String>,
    /// The index digest after.
    pub new_digest: String,
    /// The Python version before, when known.
    pub python_before: Option<String>,
    /// The Python version after, when known.
    pub python_after: Option<String>,
    /// Package-level changes from the SBOM attestations, most notable first.
    pub packages: Vec<PackageChange>,
}

/// The pins of one lock file (or of the images admission saw) against the current digests.
#[derive(Debug, Clone, Default)]
pub struct StaleSection {
    /// What was compared (`pyimage.lock`, `admitted images`).
    pub source: String,
    /// One row per pinned reference; [`render`] sorts them worst first.
    pub pins: Vec<StalePin>,
}

/// One pinned reference.
#[derive(Debug, Clone)]
pub struct StalePin {
    /// The reference as pinned (`python:3.12-slim`).
    pub reference: String,
    /// The digest it is pinned to.
    pub pinned_digest: String,
    /// The digest the tag points at now, if known.
    pub current_digest: Option<String>,
    /// Since when the pin has been stale: the time of the first move away from the pinned digest, if known.
    pub stale_since: Option<u64>,
    /// How many moves the tag made since the pinned digest.
    pub moves_behind: usize,
}

impl StalePin {
    /// Whether the pin still names the tag's current digest (unknown counts as not current).
    pub fn is_current(&self) -> bool {
        self.current_digest.as_deref() == Some(self.pinned_digest.as_str())
    }
}

/// What admission decided.
#[derive(Debug, Clone, Default)]
pub struct AdmissionSection {
    /// The last decisions, newest first.
    pub decisions: Vec<AdmissionDecision>,
    /// The registries the webhook asks, and whether they answer.
    pub registries: Vec<RegistryHealth>,
}

/// One image decision of the admission webhook.
#[derive(Debug, Clone)]
pub struct AdmissionDecision {
    /// When (Unix seconds).
    pub at: u64,
    /// The namespace of the object.
    pub namespace: String,
    /// The environment the namespace maps to.
    pub environment: String,
    /// `Deployment/shop-api`, with the container (`Deployment/shop-api (container api)`).
    pub object: String,
    /// The image as written in the object.
    pub image: String,
    /// What the webhook did.
    pub outcome: Outcome,
    /// The rule that decided (`PY004`), if any.
    pub rule: Option<String>,
}

/// What the webhook did with one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Admitted as it was.
    Allowed,
    /// Admitted with a warning.
    Warned,
    /// Admitted with `tag@sha256:…` patched in.
    Patched,
    /// Refused.
    Denied,
}

impl Outcome {
    /// The word on the page.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Warned => "warned",
            Outcome::Patched => "patched",
            Outcome::Denied => "denied",
        }
    }
}

/// Whether one registry answers.
#[derive(Debug, Clone)]
pub struct RegistryHealth {
    /// The registry (`docker.io`).
    pub registry: String,
    /// Whether its last lookup succeeded.
    pub ok: bool,
    /// What happened (`HEAD 200 in 41 ms`, `timed out after 2 s`).
    pub detail: String,
}
