//! Time without a clock: calendar dates ([`Date`]), Unix seconds ↔ RFC 3339 UTC timestamps (the lock file's
//! `resolved_at`, the history store, "today" for end-of-life decisions), and the one parser of each kind of time a
//! user writes: [`parse_duration`] (`1500ms`, `90s`, `15m`, `1h`, `2d`: `--timeout`, `watch --interval`, the
//! `[serve]` durations; [`parse_positive_duration`] where zero is no answer), [`parse_date`] (`--today`) and
//! [`parse_date_or_time`] (`history --since`). Every parser checks its arithmetic and its calendar (no month 13, no
//! February 30) and says what is wrong. The caller reads the clock.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

/// A calendar date, or a month when the day is not known yet (`2028-10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    /// Four-digit year (`2028`).
    pub year: u32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of month, 1–31; `None` for a month-only date.
    pub day: Option<u32>,
}

impl Date {
    /// A full date.
    pub const fn ymd(year: u32, month: u32, day: u32) -> Self {
        Date {
            year,
            month,
            day: Some(day),
        }
    }

    /// A month-only date.
    pub const fn ym(year: u32, month: u32) -> Self {
        Date {
            year,
            month,
            day: None,
        }
    }

    /// Parses `YYYY-MM-DD` or `YYYY-MM` (a month-only date: `[policy.eol]`), as strictly as [`parse_date`] (which
    /// it uses; that one also says what is wrong).
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() == 7 {
            let first = parse_date(&format!("{text}-01")).ok()?;
            return Some(Date::ym(first.year, first.month));
        }
        parse_date(text).ok()
    }

    /// The last day this date covers (the month's last day for a month-only date).
    pub fn last_day(self) -> Date {
        Date::ymd(
            self.year,
            self.month,
            self.day
                .unwrap_or_else(|| days_in_month(self.year, self.month)),
        )
    }

    /// Days since 1970-01-01 of this date (of the month's first day for a month-only date); negative before 1970.
    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day.unwrap_or(1)),
        )
    }

    /// The date from a count of days since 1970-01-01 (what the CLI computes from the clock).
    pub fn from_days_since_epoch(days: i64) -> Self {
        // Howard Hinnant's civil-from-days algorithm (public domain description of the proleptic Gregorian calendar).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date::ymd(
            u32::try_from(year).unwrap_or(0),
            u32::try_from(month).unwrap_or(1),
            u32::try_from(day).unwrap_or(1),
        )
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.day {
            Some(day) => write!(f, "{:04}-{:02}-{:02}", self.year, self.month, day),
            None => write!(f, "{:04}-{:02}", self.year, self.month),
        }
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

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
    let (year, month, day) = (
        u32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    );
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = u64::try_from(Date::ymd(year, month, day).days_since_epoch()).ok()?;
    days.checked_mul(86_400)?
        .checked_add(hour * 3_600 + minute * 60 + second)
}

/// Days from a civil date to 1970-01-01 (the inverse of [`Date::from_days_since_epoch`]; Howard Hinnant's
/// days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// [`parse_duration`], for a duration that must be more than zero (a timeout, a polling interval).
pub fn parse_positive_duration(text: &str) -> Result<Duration, DurationError> {
    match parse_duration(text)? {
        duration if duration.is_zero() => Err(DurationError::Zero(text.to_owned())),
        duration => Ok(duration),
    }
}

/// The longest polling interval: a year. Longer is surely a typo, and a timer that far out overflows the clock.
pub const MAX_INTERVAL: Duration = Duration::from_secs(365 * 86_400);

/// [`parse_positive_duration`], for a polling interval: at most [`MAX_INTERVAL`].
pub fn parse_interval(text: &str) -> Result<Duration, DurationError> {
    match parse_positive_duration(text)? {
        duration if duration > MAX_INTERVAL => Err(DurationError::Over {
            text: text.to_owned(),
            max: "365d",
        }),
        duration => Ok(duration),
    }
}

/// A date or a time that is not one, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{text:?} is not {expected}: {reason}")]
pub struct DateError {
    /// The text as written.
    pub text: String,
    /// What was expected (`a date (2026-08-01)`).
    pub expected: &'static str,
    /// What is wrong (`month 13 does not exist`).
    pub reason: String,
}

const A_DATE: &str = "a date (2026-08-01)";
const A_DATE_OR_TIME: &str = "a date (2026-08-01) or a UTC time (2026-08-01T12:00:00Z)";

/// Parses a full calendar date, `YYYY-MM-DD`, strictly: four-digit year, two-digit month 01–12, two-digit day that
/// exists in that month (`2024-02-29` is a date, `2023-02-29`, `2026-04-31` and `2026-13-45` are not).
pub fn parse_date(text: &str) -> Result<Date, DateError> {
    let error = |reason: String| DateError {
        text: text.to_owned(),
        expected: A_DATE,
        reason,
    };
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return Err(error("write YYYY-MM-DD".to_owned()));
    }
    let field = |range: std::ops::Range<usize>| -> u32 {
        text.get(range)
            .and_then(|digits| digits.parse().ok())
            .unwrap_or(0)
    };
    let (year, month, day) = (field(0..4), field(5..7), field(8..10));
    if !(1..=12).contains(&month) {
        return Err(error(format!("month {month} does not exist (01 to 12)")));
    }
    let last = days_in_month(year, month);
    if day == 0 || day > last {
        return Err(error(format!(
            "{year:04}-{month:02} has days 01 to {last}, not {day:02}"
        )));
    }
    Ok(Date::ymd(year, month, day))
}

/// Parses a date (`2026-08-01`, read as midnight UTC) or an RFC 3339 UTC time (`2026-08-01T12:00:00Z`, fractional
/// seconds ignored) into Unix seconds: "since when" on the command line. Dates are checked as [`parse_date`] does.
pub fn parse_date_or_time(text: &str) -> Result<u64, DateError> {
    let error = |reason: String| DateError {
        text: text.to_owned(),
        expected: A_DATE_OR_TIME,
        reason,
    };
    let date = parse_date(text.get(..10).unwrap_or(text)).map_err(|e| error(e.reason))?;
    let before_1970 = || error("times before 1970 are not kept".to_owned());
    if text.len() == 10 {
        let days = u64::try_from(date.days_since_epoch()).map_err(|_| before_1970())?;
        return Ok(days * 86_400);
    }
    match parse_rfc3339_utc(text) {
        Some(seconds) => Ok(seconds),
        None if date.year < 1970 => Err(before_1970()),
        None => Err(error(
            "write the time as THH:MM:SSZ after the date, in UTC".to_owned(),
        )),
    }
}

/// A duration that is not one, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    /// Not a whole number followed by a unit (`1.5h`, `-5s`, `abc`).
    #[error(
        "{0:?} is not a duration: write a whole number and a unit (ms, s, m, h or d), like 90s, 15m or 1500ms"
    )]
    Syntax(String),
    /// A number with a unit that is none of ms, s, m, h, d.
    #[error("{text:?} is not a duration: unknown unit {unit:?} (ms, s, m, h or d)")]
    UnknownUnit {
        /// The text as written.
        text: String,
        /// The unit as written.
        unit: String,
    },
    /// More seconds than a duration holds (`99999999999999999999d`).
    #[error("{0:?} is too long a duration")]
    TooLarge(String),
    /// Longer than the caller allows ([`parse_interval`]).
    #[error("{text:?}: the duration must be at most {max}")]
    Over {
        /// The text as written.
        text: String,
        /// The longest allowed, as written (`365d`).
        max: &'static str,
    },
    /// Zero, where a duration must be more ([`parse_positive_duration`]).
    #[error("{0:?}: the duration must be more than zero")]
    Zero(String),
}

/// Parses a duration: a whole number and a unit, `ms`, `s`, `m`, `h` or `d` (`1500ms`, `90s`, `15m`, `1h`, `2d`);
/// a number alone is seconds. Spaces around the text and before the unit are allowed (`"300 s"`). The arithmetic
/// is checked: a number too large for its unit is [`DurationError::TooLarge`], never a wrapped value. Zero is a
/// duration: a caller that needs more checks it.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() {
        return Err(DurationError::Syntax(text.to_owned()));
    }
    let too_large = || DurationError::TooLarge(text.to_owned());
    // Only digits: the one way `parse` fails here is overflow.
    let number: u64 = number.parse().map_err(|_| too_large())?;
    let unit = unit.trim_start();
    if !unit.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(DurationError::Syntax(text.to_owned()));
    }
    let seconds_per = match unit {
        "ms" => return Ok(Duration::from_millis(number)),
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        other => {
            return Err(DurationError::UnknownUnit {
                text: text.to_owned(),
                unit: other.to_owned(),
            });
        }
    };
    number
        .checked_mul(seconds_per)
        .map(Duration::from_secs)
        .ok_or_else(too_large)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(Date::parse("2026-10"), Some(Date::ym(2026, 10)));
        assert_eq!(Date::parse("2024-02-29"), Some(Date::ymd(2024, 2, 29)));
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("2023-13-01"), None);
        assert_eq!(Date::parse("23-01-01"), None);
        assert_eq!(Date::from_days_since_epoch(0), Date::ymd(1970, 1, 1));
        assert_eq!(Date::from_days_since_epoch(20_414), Date::ymd(2025, 11, 22));
        assert_eq!(Date::ymd(2026, 10, 1).to_string(), "2026-10-01");
    }

    #[test]
    fn strict_dates_name_what_is_wrong() {
        assert_eq!(parse_date("2026-08-01"), Ok(Date::ymd(2026, 8, 1)));
        assert_eq!(parse_date("2024-02-29"), Ok(Date::ymd(2024, 2, 29)));
        assert_eq!(parse_date("2000-02-29"), Ok(Date::ymd(2000, 2, 29)));
        for (bad, reason) in [
            ("2026-13-45", "month 13 does not exist"),
            ("2026-00-01", "month 0 does not exist"),
            ("2026-02-30", "2026-02 has days 01 to 28, not 30"),
            ("2023-02-29", "has days 01 to 28"),
            ("1900-02-29", "has days 01 to 28"),
            ("2026-04-31", "has days 01 to 30"),
            ("2026-01-00", "not 00"),
            ("2026-01-45", "not 45"),
            ("2026-8-1", "write YYYY-MM-DD"),
            ("2026-08", "write YYYY-MM-DD"),
            ("2026-08-01T00:00:00Z", "write YYYY-MM-DD"),
            ("yesterday", "write YYYY-MM-DD"),
            ("２０２６-08-01", "write YYYY-MM-DD"),
            ("", "write YYYY-MM-DD"),
        ] {
            let error = parse_date(bad).expect_err(bad);
            assert!(error.reason.contains(reason), "{bad}: {error}");
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("{bad:?} is not a date")),
                "{error}"
            );
        }
    }

    #[test]
    fn dates_or_times_are_unix_seconds() {
        assert_eq!(parse_date_or_time("2026-11-23"), Ok(1_795_392_000));
        assert_eq!(
            parse_date_or_time("2026-11-23T12:00:00Z"),
            Ok(1_795_435_200)
        );
        assert_eq!(
            parse_date_or_time("2026-11-23T12:00:00.5Z"),
            Ok(1_795_435_200)
        );
        assert_eq!(parse_date_or_time("1970-01-01"), Ok(0));
        for bad in [
            "yesterday",
            "2026-13-45",
            "2026-02-30T00:00:00Z",
            "2026-08-01T12:00:00+02:00",
            "2026-08-01T25:00:00Z",
            "2026-08-01 12:00:00",
            "1969-12-31",
        ] {
            let error = parse_date_or_time(bad).expect_err(bad);
            assert!(
                error.to_string().contains("or a UTC time"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn days_since_epoch_inverts_from_days_since_epoch() {
        for days in [-719_468, -1, 0, 1, 11_016, 20_414, 2_932_896] {
            assert_eq!(Date::from_days_since_epoch(days).days_since_epoch(), days);
        }
    }

    #[test]
    fn durations_take_ms_s_m_h_d() {
        let ok = |text: &str| parse_duration(text).expect(text);
        assert_eq!(ok("1500ms"), Duration::from_millis(1500));
        assert_eq!(ok("90s"), Duration::from_secs(90));
        assert_eq!(ok("90"), Duration::from_secs(90));
        assert_eq!(ok(" 300 s "), Duration::from_secs(300));
        assert_eq!(ok("15m"), Duration::from_secs(900));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("2d"), Duration::from_secs(172_800));
        assert_eq!(ok("0s"), Duration::ZERO);
        assert_eq!(
            parse_positive_duration("0ms"),
            Err(DurationError::Zero("0ms".to_owned()))
        );
        assert_eq!(parse_positive_duration("1ms"), Ok(Duration::from_millis(1)));
        assert!(matches!(
            parse_positive_duration("1w"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert_eq!(ok(&format!("{}s", u64::MAX)), Duration::from_secs(u64::MAX));
    }

    #[test]
    fn durations_that_overflow_or_are_not_durations_are_errors() {
        // Each unit's multiplication is checked: no wrap-around to a short interval.
        for text in [
            format!("{}m", u64::MAX / 60 + 1),
            format!("{}h", u64::MAX / 3_600 + 1),
            format!("{}d", u64::MAX / 86_400 + 1),
            "99999999999999999999s".to_owned(),
        ] {
            assert_eq!(
                parse_duration(&text),
                Err(DurationError::TooLarge(text.clone())),
                "{text}"
            );
        }
        let most_days = u64::MAX / 86_400;
        assert_eq!(
            parse_duration(&format!("{most_days}d")),
            Ok(Duration::from_secs(most_days * 86_400))
        );
        for text in ["", "s", "ms", "-5s", "+5s", "1.5h", "5s5", "abc"] {
            assert_eq!(
                parse_duration(text),
                Err(DurationError::Syntax(text.to_owned())),
                "{text:?}"
            );
        }
        for (text, unit) in [("1w", "w"), ("5 min", "min"), ("10sec", "sec")] {
            let error = parse_duration(text).expect_err(text);
            assert_eq!(
                error,
                DurationError::UnknownUnit {
                    text: text.to_owned(),
                    unit: unit.to_owned()
                }
            );
            assert!(error.to_string().contains("ms, s, m, h or d"), "{error}");
        }
    }

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
            "2026-02-30T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "x026-11-23T12:00:00Z",
            "",
        ] {
            assert_eq!(parse_rfc3339_utc(bad), None, "{bad}");
        }
    }
}
