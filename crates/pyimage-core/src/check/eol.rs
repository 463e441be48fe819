//! Calendar dates and the built-in table of CPython end-of-life dates.
//!
//! The dates come from the release-schedule PEPs on peps.python.org (PEP 373, 478, 494, 537, 569, 596, 619, 664,
//! 693, 719, 745) and python/peps `release_management/python-releases.toml` (3.9's end of life moved to
//! 2025-10-31 there). Lines whose end of life is only scheduled carry a month, not a day: such a line counts as
//! end-of-life once that month is over. The configuration can override any line (`[policy.eol]`).

use std::fmt;

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

    /// Parses `YYYY-MM-DD` or `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('-');
        let year = number(parts.next()?, 4)?;
        let month = number(parts.next()?, 2)?;
        let day = match parts.next() {
            Some(day) => Some(number(day, 2)?),
            None => None,
        };
        if parts.next().is_some() || !(1..=12).contains(&month) {
            return None;
        }
        if let Some(day) = day
            && (day == 0 || day > days_in_month(year, month))
        {
            return None;
        }
        Some(Date { year, month, day })
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

fn number(text: &str, digits: usize) -> Option<u32> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
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

/// One row of the end-of-life table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EolEntry {
    /// Major version (`3` for the 3.12 line).
    pub major: u32,
    /// Minor version (`12` for the 3.12 line).
    pub minor: u32,
    /// The line's end-of-life date (a month when only scheduled).
    pub date: Date,
    /// Where the date comes from.
    pub source: &'static str,
}

/// CPython lines and their end of life, oldest first.
pub const EOL_TABLE: &[EolEntry] = &[
    EolEntry {
        major: 2,
        minor: 7,
        date: Date::ymd(2020, 1, 1),
        source: "PEP 373",
    },
    EolEntry {
        major: 3,
        minor: 5,
        date: Date::ymd(2020, 9, 30),
        source: "PEP 478",
    },
    EolEntry {
        major: 3,
        minor: 6,
        date: Date::ymd(2021, 12, 23),
        source: "PEP 494",
    },
    EolEntry {
        major: 3,
        minor: 7,
        date: Date::ymd(2023, 6, 27),
        source: "PEP 537",
    },
    EolEntry {
        major: 3,
        minor: 8,
        date: Date::ymd(2024, 10, 7),
        source: "PEP 569",
    },
    EolEntry {
        major: 3,
        minor: 9,
        date: Date::ymd(2025, 10, 31),
        source: "PEP 596",
    },
    EolEntry {
        major: 3,
        minor: 10,
        date: Date::ym(2026, 10),
        source: "PEP 619",
    },
    EolEntry {
        major: 3,
        minor: 11,
        date: Date::ym(2027, 10),
        source: "PEP 664",
    },
    EolEntry {
        major: 3,
        minor: 12,
        date: Date::ym(2028, 10),
        source: "PEP 693",
    },
    EolEntry {
        major: 3,
        minor: 13,
        date: Date::ym(2029, 10),
        source: "PEP 719",
    },
    EolEntry {
        major: 3,
        minor: 14,
        date: Date::ym(2030, 10),
        source: "PEP 745",
    },
];

/// The built-in end of life of a line, if known.
pub fn builtin_eol(major: u32, minor: u32) -> Option<&'static EolEntry> {
    EOL_TABLE
        .iter()
        .find(|entry| entry.major == major && entry.minor == minor)
}

/// Whether `today` is past the end of life `eol` (a month-only date ends with its month).
pub fn is_past(eol: Date, today: Date) -> bool {
    let today = today.last_day();
    match eol.day {
        Some(_) => today >= eol,
        None => today > eol.last_day(),
    }
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
    fn past() {
        // A dated end of life: the day itself is end of life.
        assert!(is_past(Date::ymd(2025, 10, 31), Date::ymd(2025, 10, 31)));
        assert!(!is_past(Date::ymd(2025, 10, 31), Date::ymd(2025, 10, 30)));
        // A month: over once the month is.
        assert!(!is_past(Date::ym(2026, 10), Date::ymd(2026, 10, 31)));
        assert!(is_past(Date::ym(2026, 10), Date::ymd(2026, 11, 1)));
    }
}
