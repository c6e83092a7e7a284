//! A calendar date without time zone, the only date type of the model.
//!
//! Parsing vendor formats (MM/DD/YYYY, two-digit years…) belongs to connectors;
//! the model only knows valid dates, ISO-8601 text and day arithmetic.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A valid proleptic Gregorian date.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i16,
    month: u8,
    day: u8,
}

/// Why a date could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidDate;

impl fmt::Display for InvalidDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a valid calendar date")
    }
}

impl std::error::Error for InvalidDate {}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Builds a date; fails on month 13, February 30 and years outside 1..=9999.
    pub fn new(year: i32, month: u32, day: u32) -> Result<Date, InvalidDate> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(InvalidDate);
        }
        let month = u8::try_from(month).map_err(|_| InvalidDate)?;
        let day = u8::try_from(day).map_err(|_| InvalidDate)?;
        if day == 0 || day > days_in_month(year, month) {
            return Err(InvalidDate);
        }
        let year = i16::try_from(year).map_err(|_| InvalidDate)?;
        Ok(Date { year, month, day })
    }

    /// The year.
    pub fn year(self) -> i32 {
        i32::from(self.year)
    }
    /// The month, 1 to 12.
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }
    /// The day of the month, 1 to 31.
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Result<Date, InvalidDate> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(InvalidDate);
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, InvalidDate> {
            let mut n = 0u32;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return Err(InvalidDate);
                }
                n = n * 10 + u32::from(c - b'0');
            }
            Ok(n)
        };
        let year = i32::try_from(num(0..4)?).map_err(|_| InvalidDate)?;
        Date::new(year, num(5..7)?, num(8..10)?)
    }

    /// Days since 0001-01-01 (day 0), for arithmetic.
    pub fn to_day_number(self) -> i64 {
        // Algorithm from "days from civil" (Howard Hinnant), shifted to 0001-01-01.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 306 // day 0 = 0001-01-01
    }

    /// The inverse of [`Date::to_day_number`].
    pub fn from_day_number(n: i64) -> Result<Date, InvalidDate> {
        let z = n + 306;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        let y = i32::try_from(y).map_err(|_| InvalidDate)?;
        Date::new(y, u32::try_from(m).map_err(|_| InvalidDate)?, u32::try_from(d).map_err(|_| InvalidDate)?)
    }

    /// This date moved by `days` (negative moves back).
    pub fn add_days(self, days: i64) -> Result<Date, InvalidDate> {
        Date::from_day_number(self.to_day_number() + days)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            (self.year, self.month, self.day).serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        use serde::de::Error;
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Date::parse_iso(&s).map_err(|_| D::Error::custom(format!("invalid date {s:?}")))
        } else {
            let (y, m, day) = <(i16, u8, u8)>::deserialize(d)?;
            Date::new(i32::from(y), u32::from(m), u32::from(day))
                .map_err(|_| D::Error::custom("invalid date"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_calendar() {
        assert!(Date::new(2024, 2, 29).is_ok());
        assert!(Date::new(2023, 2, 29).is_err());
        assert!(Date::new(1900, 2, 29).is_err());
        assert!(Date::new(2000, 2, 29).is_ok());
        assert!(Date::new(2024, 13, 1).is_err());
        assert!(Date::new(2024, 4, 31).is_err());
        assert!(Date::new(0, 1, 1).is_err());
    }

    #[test]
    fn day_numbers_round_trip_and_step() {
        let d = Date::new(2025, 3, 1).unwrap();
        assert_eq!(d.add_days(-1).unwrap(), Date::new(2025, 2, 28).unwrap());
        assert_eq!(Date::new(1, 1, 1).unwrap().to_day_number(), 0);
        for n in (0..3_000_000).step_by(997) {
            let d = Date::from_day_number(n).unwrap();
            assert_eq!(d.to_day_number(), n, "{d}");
            assert_eq!(d.add_days(1).unwrap().to_day_number(), n + 1);
        }
    }

    #[test]
    fn iso_text() {
        let d = Date::parse_iso("2007-06-09").unwrap();
        assert_eq!(d.to_string(), "2007-06-09");
        assert!(Date::parse_iso("2007-6-9").is_err());
        assert!(Date::parse_iso("2007-06-31").is_err());
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2007-06-09\"");
    }
}
