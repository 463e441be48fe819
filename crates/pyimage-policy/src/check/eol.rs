//! The built-in table of CPython end-of-life dates.
//!
//! The dates come from the release-schedule PEPs on peps.python.org (PEP 373, 478, 494, 537, 569, 596, 619, 664,
//! 693, 719, 745) and python/peps `release_management/python-releases.toml` (3.9's end of life moved to
//! 2025-10-31 there). Lines whose end of life is only scheduled carry a month, not a day: such a line counts as
//! end-of-life once that month is over. The configuration can override any line (`[policy.eol]`).

pub use pyimage_model::time::Date;

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
    fn past() {
        // A dated end of life: the day itself is end of life.
        assert!(is_past(Date::ymd(2025, 10, 31), Date::ymd(2025, 10, 31)));
        assert!(!is_past(Date::ymd(2025, 10, 31), Date::ymd(2025, 10, 30)));
        // A month: over once the month is.
        assert!(!is_past(Date::ym(2026, 10), Date::ymd(2026, 10, 31)));
        assert!(is_past(Date::ym(2026, 10), Date::ymd(2026, 11, 1)));
    }
}
