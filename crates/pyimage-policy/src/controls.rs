//! What holds an update back in one environment, decided from times the caller read: a **cool-down** (a digest the
//! registry has served for less than `cooldown` is not taken yet — a tag re-pointed inside the window restarts it,
//! because the new digest is younger) and **promotion** (an environment with `promote-from = "test"` moves only to
//! a digest `test` already pins and has pinned for `promote-after`).
//!
//! Pure: the history store, the image config and the lock files are read by the caller; times are Unix seconds.

use std::time::Duration;

use serde::Serialize;

use crate::check::policy::Promotion;

/// Where the time a digest was first served comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirstServedSource {
    /// A watcher recorded the move that first pointed a tag at the digest (`pyimage watch`): when Docker Hub first
    /// served it, to within the watcher's interval.
    HistoryStore,
    /// No watcher saw it: the image config's `created` time, which is when it was built — the registry served it
    /// at that time or later, so an age from it can be too old by the time the push took.
    ImageCreated,
}

impl FirstServedSource {
    /// How people read it (`seen by pyimage watch`, `built`).
    pub fn describe(self) -> &'static str {
        match self {
            FirstServedSource::HistoryStore => "first seen by pyimage watch",
            FirstServedSource::ImageCreated => "built (no watcher saw it first)",
        }
    }
}

/// When a digest was first served, and how that is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstServed {
    /// Unix seconds.
    pub at: u64,
    /// Where the time comes from.
    pub source: FirstServedSource,
}

/// Why a move is held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// The digest is younger than the cool-down: eligible at `eligible_at` (Unix seconds).
    Cooldown {
        /// When the move becomes eligible.
        eligible_at: u64,
    },
    /// Neither the history store nor the image says when the digest was first served: a cool-down cannot pass.
    AgeUnknown,
    /// Promotion refused.
    Promotion {
        /// Why, in words that name the lower environment and what it pins.
        reason: String,
        /// When the move becomes eligible, if waiting is all it takes.
        eligible_at: Option<u64>,
    },
}

/// Whether a digest first served at `first_served` has cooled down at `now`.
pub fn cooldown(
    first_served: Option<FirstServed>,
    cooldown: Duration,
    now: u64,
) -> Result<(), Held> {
    let Some(first_served) = first_served else {
        return Err(Held::AgeUnknown);
    };
    let eligible_at = first_served.at.saturating_add(cooldown.as_secs());
    if now >= eligible_at {
        Ok(())
    } else {
        Err(Held::Cooldown { eligible_at })
    }
}

/// One digest a lower environment pins, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowerPin {
    /// The tag as pinned (`3.12.14-slim`).
    pub tag: String,
    /// The pinned digest.
    pub digest: String,
    /// Since when (Unix seconds): the lock entry's `resolved_at`; `None` when no lock entry records it.
    pub since: Option<u64>,
    /// Where it is pinned (`deploy/test/Dockerfile:1`, `../test/pyimage.lock`).
    pub place: String,
}

/// What promotion decides for one move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Promoted {
    /// The lower environment pins the target and has for long enough.
    Accept,
    /// The lower environment pins another digest of the tag (or of the move's new tag), not the one the registry
    /// serves now, and has pinned it for long enough: move to that one instead.
    Retarget {
        /// The lower environment's tag.
        tag: String,
        /// The lower environment's digest.
        digest: String,
    },
    /// Not allowed (yet).
    Refuse(Held),
}

/// Decides a move of an environment under `promotion` to `target` (tag `target_tag`), the environment pinning
/// `current` now; `pins` are the lower environment's pins of the same repository whose tag is the environment's tag
/// or the move's new tag.
pub fn promotion(
    promotion: &Promotion,
    target_tag: &str,
    target: &str,
    current: &str,
    pins: &[LowerPin],
    now: u64,
) -> Promoted {
    let after = promotion.after.as_secs();
    let from = &promotion.from;
    let held_long_enough = |pin: &LowerPin| {
        pin.since
            .is_some_and(|since| now >= since.saturating_add(after))
    };
    if let Some(pin) = pins.iter().find(|pin| pin.digest == target) {
        return match pin.since {
            _ if held_long_enough(pin) => Promoted::Accept,
            Some(since) => Promoted::Refuse(Held::Promotion {
                reason: format!(
                    "{from} pins it ({}) since {}, less than promote-after = {}",
                    pin.place,
                    pyimage_model::time::rfc3339_utc(since),
                    describe_age(promotion.after)
                ),
                eligible_at: Some(since.saturating_add(after)),
            }),
            None => Promoted::Refuse(Held::Promotion {
                reason: format!(
                    "{from} pins it ({}), but no lock entry says since when: run `pyimage pin` or `update` there",
                    pin.place
                ),
                eligible_at: None,
            }),
        };
    }
    // The newest digest the lower environment has held long enough, other than what this environment has.
    let held = pins
        .iter()
        .filter(|pin| pin.digest != current && held_long_enough(pin))
        .max_by_key(|pin| pin.since);
    if let Some(pin) = held {
        return Promoted::Retarget {
            tag: pin.tag.clone(),
            digest: pin.digest.clone(),
        };
    }
    let reason = if pins.is_empty() {
        format!(
            "no file of environment {from} pins this tag or {target_tag}: promote it there first"
        )
    } else {
        let pinned: Vec<String> = pins
            .iter()
            .map(|pin| format!("{}@{} ({})", pin.tag, short(&pin.digest), pin.place))
            .collect();
        format!(
            "{from} does not pin {target_tag}@{} (it pins {})",
            short(target),
            pinned.join(", ")
        )
    };
    Promoted::Refuse(Held::Promotion {
        reason,
        eligible_at: None,
    })
}

/// `sha256:0123456789ab` — enough of a digest to tell two apart in a sentence.
fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// `3d`, `12h`, `90m`, `45s`: the largest whole unit.
pub fn describe_age(age: Duration) -> String {
    let seconds = age.as_secs();
    match seconds {
        0 => "0s".to_owned(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    fn pin(tag: &str, digest: &str, since: Option<u64>) -> LowerPin {
        LowerPin {
            tag: tag.to_owned(),
            digest: digest.to_owned(),
            since,
            place: "test/Dockerfile:1".to_owned(),
        }
    }

    fn test_after(days: u64) -> Promotion {
        Promotion {
            from: "test".to_owned(),
            after: Duration::from_secs(days * DAY),
            lock: None,
        }
    }

    #[test]
    fn a_cooldown_holds_until_the_digest_is_old_enough() {
        let served = FirstServed {
            at: 10 * DAY,
            source: FirstServedSource::HistoryStore,
        };
        let week = Duration::from_secs(7 * DAY);
        assert_eq!(
            cooldown(Some(served), week, 12 * DAY),
            Err(Held::Cooldown {
                eligible_at: 17 * DAY
            })
        );
        assert_eq!(cooldown(Some(served), week, 17 * DAY), Ok(()));
        assert_eq!(cooldown(None, week, 17 * DAY), Err(Held::AgeUnknown));
        let far = FirstServed {
            at: u64::MAX - 1,
            source: FirstServedSource::ImageCreated,
        };
        assert!(cooldown(Some(far), week, 0).is_err(), "no overflow");
    }

    #[test]
    fn promotion_accepts_what_the_lower_environment_held_long_enough() {
        let now = 20 * DAY;
        let pins = [pin("3.12-slim", "sha256:new", Some(15 * DAY))];
        assert_eq!(
            promotion(
                &test_after(3),
                "3.12-slim",
                "sha256:new",
                "sha256:old",
                &pins,
                now
            ),
            Promoted::Accept
        );
        match promotion(
            &test_after(7),
            "3.12-slim",
            "sha256:new",
            "sha256:old",
            &pins,
            now,
        ) {
            Promoted::Refuse(Held::Promotion {
                eligible_at: Some(at),
                reason,
            }) => {
                assert_eq!(at, 22 * DAY);
                assert!(reason.contains("promote-after = 7d"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn promotion_moves_to_what_test_runs_not_to_the_newest() {
        let now = 20 * DAY;
        let pins = [
            pin("3.12-slim", "sha256:tested", Some(10 * DAY)),
            pin("3.12-slim", "sha256:old", Some(2 * DAY)),
        ];
        assert_eq!(
            promotion(
                &test_after(3),
                "3.12-slim",
                "sha256:newest",
                "sha256:old",
                &pins,
                now
            ),
            Promoted::Retarget {
                tag: "3.12-slim".to_owned(),
                digest: "sha256:tested".to_owned()
            }
        );
        // Only the digest the environment already has is held long enough: nothing to promote.
        let only_current = [pin("3.12-slim", "sha256:old", Some(2 * DAY))];
        match promotion(
            &test_after(3),
            "3.12-slim",
            "sha256:newest",
            "sha256:old",
            &only_current,
            now,
        ) {
            Promoted::Refuse(Held::Promotion { reason, .. }) => {
                assert!(
                    reason.contains("test does not pin 3.12-slim@sha256:newest"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        match promotion(
            &test_after(3),
            "3.12-slim",
            "sha256:newest",
            "sha256:old",
            &[],
            now,
        ) {
            Promoted::Refuse(Held::Promotion { reason, .. }) => {
                assert!(
                    reason.contains("no file of environment test pins"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        let undated = [pin("3.12-slim", "sha256:newest", None)];
        assert!(matches!(
            promotion(
                &test_after(0),
                "3.12-slim",
                "sha256:newest",
                "sha256:old",
                &undated,
                now
            ),
            Promoted::Refuse(Held::Promotion {
                eligible_at: None,
                ..
            })
        ));
    }

    #[test]
    fn ages_read_as_they_are_written() {
        assert_eq!(describe_age(Duration::from_secs(3 * DAY)), "3d");
        assert_eq!(describe_age(Duration::from_secs(7_200)), "2h");
        assert_eq!(describe_age(Duration::from_secs(90)), "90s");
    }
}
