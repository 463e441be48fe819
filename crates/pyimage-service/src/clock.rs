//! The wall clock, read in one place: timestamps for the lock file and "today" for end-of-life decisions.

use pyimage_policy::check::Date;

/// Now, in seconds since the Unix epoch.
pub fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

/// Now, as an RFC 3339 UTC timestamp (`2026-11-23T12:00:00Z`).
pub fn now_rfc3339() -> String {
    pyimage_model::time::rfc3339_utc(unix_seconds())
}

/// Today's UTC date.
pub fn today() -> Date {
    pyimage_model::time::date_of(unix_seconds())
}
