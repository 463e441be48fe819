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

/// The Unix time of `YYYY-MM-DDTHH:MM:SSZ` (optionally with fractional seconds, ignored), the form
/// [`rfc3339_utc`] writes and stores keep; `None` for any other text.
pub fn parse_rfc3339_utc(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u64> {
        let digits = text.get(range)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse().ok())
            .flatten()
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if bytes.len() < 20 || separators.iter().any(|&(at, c)| bytes.get(at) != Some(&c)) {
        return None;
    }
    let rest = text.get(19..)?;
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => fraction.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    if rest != "Z" {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from the civil date (the inverse of `Date::from_days_since_epoch`).
    let year = i64::try_from(year).ok()? - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = i64::try_from((month + 9) % 12).ok()?;
    let day_of_year = (153 * month_index + 2) / 5 + i64::try_from(day).ok()? - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    u64::try_from(days)
        .ok()
        .map(|days| days * 86_400 + hour * 3_600 + minute * 60 + second)
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

    #[test]
    fn rfc3339_round_trips_and_rejects_other_text() {
        for seconds in [0, 951_782_400, 1_795_435_200, 1_795_478_399] {
            assert_eq!(parse_rfc3339_utc(&rfc3339_utc(seconds)), Some(seconds));
        }
        assert_eq!(
            parse_rfc3339_utc("2026-11-23T12:00:00.123456Z"),
            Some(1_795_435_200)
        );
        for bad in [
            "2026-11-23",
            "2026-11-23T12:00:00+02:00",
            "2026-13-01T00:00:00Z",
            "x026-11-23T12:00:00Z",
            "",
        ] {
            assert_eq!(parse_rfc3339_utc(bad), None, "{bad}");
        }
    }
}
