//! Points in time and times of day: [`Timestamp`] (UTC, microseconds) and
//! [`TimeOfDay`] (microseconds since midnight).

use std::fmt;

use crate::date::{Date, InvalidDate};

/// An instant, in microseconds since 1970-01-01T00:00:00Z. Arrow type:
/// `Timestamp(Microsecond, "UTC")`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    micros: i64,
}

/// A time of day without a date or zone, in microseconds since midnight.
/// Arrow type: `Time64(Microsecond)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TimeOfDay {
    micros: i64,
}

/// Why text is not a time. Carries no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidTime;

impl fmt::Display for InvalidTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a valid time (expected HH:MM[:SS[.ffffff]], or an RFC 3339 timestamp)")
    }
}

impl std::error::Error for InvalidTime {}

impl From<InvalidDate> for InvalidTime {
    fn from(_: InvalidDate) -> InvalidTime {
        InvalidTime
    }
}

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
/// Day number (ferry_model::Date) of 1970-01-01.
const UNIX_EPOCH_DAY: i64 = 719_162;

impl TimeOfDay {
    /// From microseconds since midnight; fails outside one day.
    pub fn from_micros(micros: i64) -> Result<TimeOfDay, InvalidTime> {
        if (0..MICROS_PER_DAY).contains(&micros) { Ok(TimeOfDay { micros }) } else { Err(InvalidTime) }
    }
    /// From hours, minutes and seconds.
    pub fn from_hms(h: u32, m: u32, s: u32) -> Result<TimeOfDay, InvalidTime> {
        if h > 23 || m > 59 || s > 59 {
            return Err(InvalidTime);
        }
        TimeOfDay::from_micros((i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s)) * MICROS_PER_SECOND)
    }
    /// Microseconds since midnight.
    pub fn micros(self) -> i64 {
        self.micros
    }
    /// Parses `HH:MM`, `HH:MM:SS` and `HH:MM:SS.ffffff`.
    pub fn parse_iso(s: &str) -> Result<TimeOfDay, InvalidTime> {
        let (micros, rest) = parse_time(s.as_bytes())?;
        if rest.is_empty() { TimeOfDay::from_micros(micros) } else { Err(InvalidTime) }
    }
}

fn digits(b: &[u8]) -> Result<i64, InvalidTime> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return Err(InvalidTime);
    }
    Ok(b.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
}

/// Parses `HH:MM[:SS[.f+]]` at the start of `b`; returns the microseconds and the rest.
fn parse_time(b: &[u8]) -> Result<(i64, &[u8]), InvalidTime> {
    if b.len() < 5 || b[2] != b':' {
        return Err(InvalidTime);
    }
    let (h, m) = (digits(&b[0..2])?, digits(&b[3..5])?);
    let mut rest = &b[5..];
    let mut s = 0;
    let mut frac = 0;
    if rest.first() == Some(&b':') {
        s = digits(rest.get(1..3).ok_or(InvalidTime)?)?;
        rest = &rest[3..];
        if let Some(b'.' | b',') = rest.first() {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return Err(InvalidTime);
            }
            let mut f = 0;
            for i in 0..6 {
                f = f * 10 + rest.get(1 + i).filter(|_| i < n).map_or(0, |d| i64::from(d - b'0'));
            }
            frac = f;
            rest = &rest[1 + n..];
        }
    }
    if h > 23 || m > 59 || s > 60 {
        return Err(InvalidTime);
    }
    let s = s.min(59); // a leap second reads as :59
    Ok((((h * 60 + m) * 60 + s) * MICROS_PER_SECOND + frac, rest))
}

impl Timestamp {
    /// From microseconds since the Unix epoch.
    pub fn from_micros(micros: i64) -> Timestamp {
        Timestamp { micros }
    }
    /// Microseconds since the Unix epoch.
    pub fn micros(self) -> i64 {
        self.micros
    }
    /// The instant at `time` on `date`, UTC.
    pub fn from_date_time(date: Date, time: TimeOfDay) -> Timestamp {
        Timestamp { micros: (date.to_day_number() - UNIX_EPOCH_DAY) * MICROS_PER_DAY + time.micros }
    }
    /// The UTC date of this instant.
    pub fn date(self) -> Result<Date, InvalidDate> {
        Date::from_day_number(self.micros.div_euclid(MICROS_PER_DAY) + UNIX_EPOCH_DAY)
    }
    /// Parses RFC 3339 / ISO 8601: `2025-03-01T08:30:00Z`, `…+02:00`, `…T08:30`,
    /// a space instead of `T`; without an offset the time is taken as UTC.
    pub fn parse_iso(s: &str) -> Result<Timestamp, InvalidTime> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() < 16 || !matches!(b[10], b'T' | b't' | b' ') {
            return Err(InvalidTime);
        }
        let date = Date::parse_iso(&s[..10])?;
        let (micros, rest) = parse_time(&b[11..])?;
        let offset = match rest {
            [] | [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), hh1, hh2, b':', mm1, mm2] | [sign @ (b'+' | b'-'), hh1, hh2, mm1, mm2] => {
                let (oh, om) = (digits(&[*hh1, *hh2])?, digits(&[*mm1, *mm2])?);
                if oh > 23 || om > 59 {
                    return Err(InvalidTime);
                }
                let o = (oh * 60 + om) * 60 * MICROS_PER_SECOND;
                if *sign == b'+' { o } else { -o }
            }
            _ => return Err(InvalidTime),
        };
        let base = Timestamp::from_date_time(date, TimeOfDay { micros });
        Ok(Timestamp { micros: base.micros - offset })
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.micros / MICROS_PER_SECOND;
        let frac = self.micros % MICROS_PER_SECOND;
        write!(f, "{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)?;
        if frac != 0 {
            write!(f, ".{frac:06}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC: `2025-03-01T08:30:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = self.micros.div_euclid(MICROS_PER_DAY);
        let time = TimeOfDay { micros: self.micros.rem_euclid(MICROS_PER_DAY) };
        match Date::from_day_number(day + UNIX_EPOCH_DAY) {
            Ok(d) => write!(f, "{d}T{time}Z"),
            Err(_) => write!(f, "@{}us", self.micros),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

macro_rules! text_serde {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$t>::parse_iso(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

text_serde!(Timestamp);
text_serde!(TimeOfDay);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_with_offsets() {
        let t = Timestamp::parse_iso("2025-03-01T08:30:00Z").unwrap();
        assert_eq!(t.to_string(), "2025-03-01T08:30:00Z");
        assert_eq!(Timestamp::parse_iso("2025-03-01T10:30:00+02:00").unwrap(), t);
        assert_eq!(Timestamp::parse_iso("2025-03-01 08:30").unwrap(), t);
        assert_eq!(Timestamp::parse_iso("1970-01-01T00:00:00Z").unwrap().micros(), 0);
        assert_eq!(Timestamp::parse_iso("1969-12-31T23:59:59.5Z").unwrap().micros(), -500_000);
        assert_eq!(t.date().unwrap().to_string(), "2025-03-01");
        assert!(Timestamp::parse_iso("2025-02-30T08:30:00Z").is_err());
        assert!(Timestamp::parse_iso("2025-03-01T25:00:00Z").is_err());
        assert!(Timestamp::parse_iso("2025-03-01T08:30:00 junk").is_err());
        assert!(Timestamp::parse_iso("2025-03-01T08:30:00+99:99").is_err());
    }

    #[test]
    fn times_of_day() {
        let t = TimeOfDay::parse_iso("13:05").unwrap();
        assert_eq!(t.to_string(), "13:05:00");
        assert_eq!(TimeOfDay::parse_iso("07:45:30.25").unwrap().to_string(), "07:45:30.250000");
        assert!(TimeOfDay::parse_iso("24:00").is_err());
        assert!(TimeOfDay::parse_iso("7:45").is_err());
        assert_eq!(TimeOfDay::from_hms(8, 0, 0).unwrap(), TimeOfDay::parse_iso("08:00:00").unwrap());
    }
}
