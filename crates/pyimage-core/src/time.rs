//! Seconds since the Unix epoch → calendar dates and RFC 3339 timestamps (UTC): the one conversion the lock file's
//! `resolved_at`, end-of-life decisions ("today") and reports use. The caller reads the clock.

use crate::check::Date;

/// The UTC date of a Unix time.
pub fn date_of(unix_seconds: u64) -> Date {
    Date::from_days_since_epoch(i64::try_from(unix_seconds / 86_400).unwrap_or(i64::MAX))
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time.
pub fn rfc3339_utc(unix_seconds: u64) -> String {
    let date = date_of(unix_seconds);
    let rest = unix_seconds % 86_400;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date.year,
        date.month,
        date.day.unwrap_or(1),
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_795_435_200), "2026-11-23T12:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(date_of(1_795_435_200), Date::ymd(2026, 11, 23));
    }
}
