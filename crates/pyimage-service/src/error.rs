//! One classification of what went wrong — the user's input, a registry or engine that could not answer, or the
//! policy — so that every front end maps it to the same exit code (2, 3, 1) and says the same thing.

use pyimage_registry::RegistryError;

/// Whose problem an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Bad input: an invalid reference, a tag or platform that does not exist, an unreadable or malformed file, a
    /// configuration that cannot be used. The user fixes it. Exit code 2.
    Input,
    /// A registry or engine could not be reached or answered badly (refused, timed out, rate limited, lied about a
    /// digest). Trying again later, or fixing the network, helps. Exit code 3.
    Unreachable,
    /// The inputs are fine and the policy says no. Exit code 1.
    Policy,
}

impl ErrorKind {
    /// The process exit code for this kind (front ends go through [`Outcome::exit_code`]).
    fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Policy => 1,
            ErrorKind::Input => 2,
            ErrorKind::Unreachable => 3,
        }
    }

    /// The more serious of two kinds (a registry that cannot answer outranks bad input, which outranks policy):
    /// what a run that met both exits with.
    pub fn worst(so_far: Option<ErrorKind>, new: ErrorKind) -> Option<ErrorKind> {
        let rank = |kind: ErrorKind| match kind {
            ErrorKind::Policy => 0,
            ErrorKind::Input => 1,
            ErrorKind::Unreachable => 2,
        };
        Some(match so_far {
            Some(old) if rank(old) >= rank(new) => old,
            _ => new,
        })
    }

    /// The kind of a registry error: a reference the registry does not have (tag, digest, platform) and unusable
    /// settings are input; everything else is the registry's side.
    pub fn of_registry(error: &RegistryError) -> Self {
        match error {
            RegistryError::NotFound { .. }
            | RegistryError::NoSuchPlatform { .. }
            | RegistryError::Config(_) => ErrorKind::Input,
            _ => ErrorKind::Unreachable,
        }
    }
}

/// What a run came to: nothing wrong, or the most serious kind of problem it met (see [`ErrorKind::worst`]).
/// Every command of every front end ends in one, and [`Outcome::exit_code`] is the one place exit codes are
/// decided: 0 ok, 1 policy, 2 input, 3 unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[must_use]
pub struct Outcome(Option<ErrorKind>);

impl Outcome {
    /// Nothing went wrong.
    pub const OK: Outcome = Outcome(None);

    /// A run that met one kind of problem.
    pub fn of(kind: ErrorKind) -> Outcome {
        Outcome(Some(kind))
    }

    /// A run that met `failure`, if anything (a planner's worst kind).
    pub fn from_failure(failure: Option<ErrorKind>) -> Outcome {
        Outcome(failure)
    }

    /// Records that the run also met `kind`.
    pub fn met(&mut self, kind: ErrorKind) {
        self.0 = ErrorKind::worst(self.0, kind);
    }

    /// This outcome, having also met `kind`.
    pub fn and(mut self, kind: ErrorKind) -> Outcome {
        self.met(kind);
        self
    }

    /// This outcome, having also met `kind` when `condition` holds.
    pub fn and_if(self, condition: bool, kind: ErrorKind) -> Outcome {
        if condition { self.and(kind) } else { self }
    }

    /// The most serious kind met, if any.
    pub fn failure(self) -> Option<ErrorKind> {
        self.0
    }

    /// The process exit code: 0, or the code of the most serious kind met.
    pub fn exit_code(self) -> u8 {
        self.0.map_or(0, ErrorKind::exit_code)
    }
}

/// An error of a service call, with its kind.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    /// Whose problem it is (the input, a registry or engine, the policy); it decides the exit code.
    pub kind: ErrorKind,
    /// What went wrong, naming the file, reference or registry, and what to do.
    pub message: String,
}

impl ServiceError {
    /// An error of the user's input ([`ErrorKind::Input`], exit code 2).
    pub fn input(message: impl Into<String>) -> Self {
        ServiceError {
            kind: ErrorKind::Input,
            message: message.into(),
        }
    }

    /// A registry or engine that could not answer.
    pub fn unreachable(message: impl Into<String>) -> Self {
        ServiceError {
            kind: ErrorKind::Unreachable,
            message: message.into(),
        }
    }
}

impl From<RegistryError> for ServiceError {
    fn from(error: RegistryError) -> Self {
        ServiceError {
            kind: ErrorKind::of_registry(&error),
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tag_is_input_and_a_refused_connection_is_unreachable() {
        let missing = RegistryError::NotFound {
            endpoint: "https://registry-1.docker.io".into(),
            what: "manifest python:3.99".into(),
        };
        assert_eq!(Outcome::of(ErrorKind::of_registry(&missing)).exit_code(), 2);
        let refused = RegistryError::Unreachable {
            endpoint: "https://registry-1.docker.io".into(),
            detail: "connection refused".into(),
        };
        assert_eq!(Outcome::of(ErrorKind::of_registry(&refused)).exit_code(), 3);
        assert_eq!(Outcome::of(ErrorKind::Policy).exit_code(), 1);
    }

    #[test]
    fn an_unreachable_registry_outranks_input_which_outranks_policy_in_any_order() {
        use ErrorKind::{Input, Policy, Unreachable};
        for order in [
            [Policy, Input, Unreachable],
            [Unreachable, Input, Policy],
            [Input, Unreachable, Policy],
        ] {
            let outcome = order.into_iter().fold(Outcome::OK, Outcome::and);
            assert_eq!(outcome.exit_code(), 3, "{order:?}");
        }
        assert_eq!(Outcome::OK.and(Policy).and(Input).exit_code(), 2);
        assert_eq!(Outcome::OK.exit_code(), 0);
    }
}
