//! [`DateFormat`]: a small strftime subset to read and write dates.
//!
//! | spec  | reads                          | writes            |
//! |-------|--------------------------------|-------------------|
//! | `%Y`  | a four-digit year              | `2025`            |
//! | `%y`  | a two-digit year (pivot rule)  | `25`              |
//! | `%-y` | a one- or two-digit year       | `5`               |
//! | `%m`  | a two-digit month              | `03`              |
//! | `%-m` | a one- or two-digit month      | `3`               |
//! | `%d`  | a two-digit day                | `09`              |
//! | `%-d` | a one- or two-digit day        | `9`               |
//! | `%b`  | `Jan`…`Dec`, any case          | `Jan`             |
//! | `%B`  | `January`…`December`, any case | `January`         |
//! | `%%`  | a `%`                          | `%`               |
//!
//! Every other character stands for itself. A format names the year, the
//! month and the day exactly once each. When reading, a time of day after the
//! date (`2025-03-09T08:30:00Z`, `3/9/2025 12:00:00 AM`) is accepted and
//! ignored.
//!
//! Two-digit years: with pivot `p`, `yy` is `20yy` when `yy < p` and `19yy`
//! otherwise (pivot 50: `49` is 2049, `50` is 1950).

use std::fmt;

use ferry_model::Date;
use serde::{Deserialize, Deserializer};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Literal(String),
    Year4,
    Year2 { padded: bool },
    Month { padded: bool },
    Day { padded: bool },
    MonthAbbr,
    MonthName,
}

/// A compiled date format, e.g. `%m/%d/%Y`.
#[derive(Clone, PartialEq, Eq)]
pub struct DateFormat {
    spec: String,
    items: Vec<Item>,
}

/// Why a text did not read as a date in a format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateError {
    /// The text does not have the format's shape.
    NoMatch,
    /// It has the shape, but names no calendar day (February 30).
    InvalidDate,
}

impl DateFormat {
    /// ISO 8601, `%Y-%m-%d`.
    pub fn iso() -> DateFormat {
        DateFormat {
            spec: "%Y-%m-%d".to_owned(),
            items: vec![
                Item::Year4,
                Item::Literal("-".to_owned()),
                Item::Month { padded: true },
                Item::Literal("-".to_owned()),
                Item::Day { padded: true },
            ],
        }
    }

    /// Compiles `spec`; the error says what is wrong with it.
    pub fn new(spec: &str) -> Result<DateFormat, String> {
        let mut items: Vec<Item> = Vec::new();
        let mut literal = String::new();
        let mut chars = spec.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            let (unpadded, spec_char) = match chars.next() {
                Some('-') => (true, chars.next()),
                other => (false, other),
            };
            let item = match (spec_char, unpadded) {
                (Some('%'), false) => {
                    literal.push('%');
                    continue;
                }
                (Some('Y'), false) => Item::Year4,
                (Some('y'), _) => Item::Year2 { padded: !unpadded },
                (Some('m'), _) => Item::Month { padded: !unpadded },
                (Some('d'), _) => Item::Day { padded: !unpadded },
                (Some('b'), false) => Item::MonthAbbr,
                (Some('B'), false) => Item::MonthName,
                (other, _) => {
                    let what = other.map_or_else(|| "end of text".to_owned(), |c| format!("'{c}'"));
                    return Err(format!(
                        "date format {spec:?}: unsupported directive at {what}; use %Y %y %m %d %b %B (%-y %-m %-d without leading zeros) or %%"
                    ));
                }
            };
            if !literal.is_empty() {
                items.push(Item::Literal(std::mem::take(&mut literal)));
            }
            items.push(item);
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        let count = |f: fn(&Item) -> bool| items.iter().filter(|i| f(i)).count();
        let years = count(|i| matches!(i, Item::Year4 | Item::Year2 { .. }));
        let months = count(|i| matches!(i, Item::Month { .. } | Item::MonthAbbr | Item::MonthName));
        let days = count(|i| matches!(i, Item::Day { .. }));
        if years != 1 || months != 1 || days != 1 {
            return Err(format!(
                "date format {spec:?} must name the year (%Y or %y), the month (%m, %b or %B) and the day (%d) once each"
            ));
        }
        Ok(DateFormat { spec: spec.to_owned(), items })
    }

    /// The format as written.
    pub fn as_str(&self) -> &str {
        &self.spec
    }

    /// Reads `text` (no surrounding spaces) as a date; two-digit years
    /// follow `pivot` (see the module documentation).
    pub fn parse(&self, text: &str, pivot: u8) -> Result<Date, DateError> {
        let b = text.as_bytes();
        let mut pos = 0usize;
        let (mut year, mut month, mut day) = (0i32, 0u32, 0u32);
        for item in &self.items {
            match item {
                Item::Literal(l) => {
                    if !b[pos..].starts_with(l.as_bytes()) {
                        return Err(DateError::NoMatch);
                    }
                    pos += l.len();
                }
                Item::Year4 => year = digits(b, &mut pos, 4, 4)? as i32,
                Item::Year2 { padded } => {
                    let yy = digits(b, &mut pos, if *padded { 2 } else { 1 }, 2)?;
                    year = if yy < u32::from(pivot) { 2000 } else { 1900 } + yy as i32;
                }
                Item::Month { padded } => month = digits(b, &mut pos, if *padded { 2 } else { 1 }, 2)?,
                Item::Day { padded } => day = digits(b, &mut pos, if *padded { 2 } else { 1 }, 2)?,
                Item::MonthAbbr | Item::MonthName => {
                    let full = matches!(item, Item::MonthName);
                    let rest = &b[pos..];
                    let found = MONTHS.iter().enumerate().find_map(|(i, name)| {
                        let name = if full { name.as_bytes() } else { &name.as_bytes()[..3] };
                        (rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name))
                            .then_some((i, name.len()))
                    });
                    let (i, len) = found.ok_or(DateError::NoMatch)?;
                    month = i as u32 + 1;
                    pos += len;
                }
            }
        }
        if pos < b.len() && !is_time_suffix(&b[pos..]) {
            return Err(DateError::NoMatch);
        }
        Date::new(year, month, day).map_err(|_| DateError::InvalidDate)
    }

    /// Appends `date` in this format to `out`.
    pub fn write(&self, date: Date, out: &mut String) {
        // Digits by hand: dates are written once per record and field, and
        // the formatting machinery costs more than the date.
        fn push_num(out: &mut String, n: u32, width: usize) {
            let mut digits = [b'0'; 10];
            let mut i = digits.len();
            let mut n = n;
            loop {
                i -= 1;
                #[allow(clippy::cast_possible_truncation, reason = "a single digit")]
                {
                    digits[i] = b'0' + (n % 10) as u8;
                }
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let len = digits.len() - i;
            for _ in len..width {
                out.push('0');
            }
            for &d in &digits[i..] {
                out.push(char::from(d));
            }
        }
        let year = u32::try_from(date.year()).unwrap_or(0);
        for item in &self.items {
            match item {
                Item::Literal(l) => out.push_str(l),
                Item::Year4 => push_num(out, year, 4),
                Item::Year2 { padded: true } => push_num(out, year % 100, 2),
                Item::Year2 { padded: false } => push_num(out, year % 100, 1),
                Item::Month { padded: true } => push_num(out, date.month(), 2),
                Item::Month { padded: false } => push_num(out, date.month(), 1),
                Item::Day { padded: true } => push_num(out, date.day(), 2),
                Item::Day { padded: false } => push_num(out, date.day(), 1),
                Item::MonthAbbr => out.push_str(&MONTHS[date.month() as usize - 1][..3]),
                Item::MonthName => out.push_str(MONTHS[date.month() as usize - 1]),
            }
        }
    }
}

/// Reads between `min` and `max` ASCII digits at `pos`.
fn digits(b: &[u8], pos: &mut usize, min: usize, max: usize) -> Result<u32, DateError> {
    let mut n = 0u32;
    let mut len = 0;
    while len < max && *pos + len < b.len() && b[*pos + len].is_ascii_digit() {
        n = n * 10 + u32::from(b[*pos + len] - b'0');
        len += 1;
    }
    if len < min {
        return Err(DateError::NoMatch);
    }
    *pos += len;
    Ok(n)
}

/// Whether `rest` is a time of day following a date: `T` or spaces, then
/// `H:MM[:SS[.fff]]`, optionally ` AM`/` PM`, optionally `Z` or a UTC offset.
fn is_time_suffix(rest: &[u8]) -> bool {
    let mut pos = match rest.first() {
        Some(b'T' | b't') => 1,
        Some(b' ') => rest.iter().take_while(|&&c| c == b' ').count(),
        _ => return false,
    };
    let two = |pos: &mut usize, min: usize| digits(rest, pos, min, 2).is_ok();
    if !two(&mut pos, 1) || rest.get(pos) != Some(&b':') {
        return false;
    }
    pos += 1;
    if !two(&mut pos, 2) {
        return false;
    }
    if rest.get(pos) == Some(&b':') {
        pos += 1;
        if !two(&mut pos, 2) {
            return false;
        }
        if rest.get(pos) == Some(&b'.') {
            pos += 1;
            let frac = rest[pos..].iter().take_while(|c| c.is_ascii_digit()).count();
            if frac == 0 {
                return false;
            }
            pos += frac;
        }
    }
    let tail = &rest[pos..];
    let tail = tail.strip_prefix(b" ").unwrap_or(tail);
    if tail.is_empty() {
        return true;
    }
    if tail.eq_ignore_ascii_case(b"AM") || tail.eq_ignore_ascii_case(b"PM") || tail == b"Z" || tail == b"z" {
        return true;
    }
    // A UTC offset: +HH:MM, +HHMM or +HH.
    match tail {
        [b'+' | b'-', h1, h2] => h1.is_ascii_digit() && h2.is_ascii_digit(),
        [b'+' | b'-', h1, h2, m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

impl fmt::Debug for DateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.spec)
    }
}

impl fmt::Display for DateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec)
    }
}

impl<'de> Deserialize<'de> for DateFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DateFormat, D::Error> {
        let s = String::deserialize(d)?;
        DateFormat::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn parses_common_formats() {
        let iso = DateFormat::new("%Y-%m-%d").unwrap();
        assert_eq!(iso, DateFormat::iso());
        assert_eq!(iso.parse("2007-06-09", 50), Ok(d(2007, 6, 9)));
        assert_eq!(iso.parse("2007-6-9", 50), Err(DateError::NoMatch));
        assert_eq!(iso.parse("2007-02-30", 50), Err(DateError::InvalidDate));
        let us = DateFormat::new("%-m/%-d/%Y").unwrap();
        assert_eq!(us.parse("06/19/2007", 50), Ok(d(2007, 6, 19)));
        assert_eq!(us.parse("6/30/2026", 50), Ok(d(2026, 6, 30)));
        assert_eq!(us.parse("9/2/25", 50), Err(DateError::NoMatch));
        let short = DateFormat::new("%-m/%-d/%y").unwrap();
        assert_eq!(short.parse("9/2/25", 50), Ok(d(2025, 9, 2)));
        assert_eq!(short.parse("9/2/2025", 50), Err(DateError::NoMatch));
        let names = DateFormat::new("%d-%b-%Y").unwrap();
        assert_eq!(names.parse("15-jan-2024", 50), Ok(d(2024, 1, 15)));
        let long = DateFormat::new("%B %-d, %Y").unwrap();
        assert_eq!(long.parse("March 9, 2025", 50), Ok(d(2025, 3, 9)));
    }

    #[test]
    fn two_digit_year_pivot() {
        let f = DateFormat::new("%m/%d/%y").unwrap();
        assert_eq!(f.parse("01/02/49", 50), Ok(d(2049, 1, 2)));
        assert_eq!(f.parse("01/02/50", 50), Ok(d(1950, 1, 2)));
        assert_eq!(f.parse("01/02/00", 0), Ok(d(1900, 1, 2)));
        assert_eq!(f.parse("01/02/99", 100), Ok(d(2099, 1, 2)));
    }

    #[test]
    fn ignores_a_time_of_day() {
        let iso = DateFormat::iso();
        for t in [
            "2025-03-09T08:30:00Z",
            "2025-03-09 08:30",
            "2025-03-09T08:30:00.123+02:00",
            "2025-03-09 0:00:00",
        ] {
            assert_eq!(iso.parse(t, 50), Ok(d(2025, 3, 9)), "{t}");
        }
        let us = DateFormat::new("%-m/%-d/%Y").unwrap();
        assert_eq!(us.parse("3/9/2025 12:00:00 AM", 50), Ok(d(2025, 3, 9)));
        for t in ["2025-03-09x", "2025-03-09 noon", "2025-03-09T8", "2025-03-091"] {
            assert_eq!(iso.parse(t, 50), Err(DateError::NoMatch), "{t}");
        }
    }

    #[test]
    fn writes() {
        let mut s = String::new();
        DateFormat::new("%m/%d/%Y").unwrap().write(d(2011, 2, 3), &mut s);
        s.push(' ');
        DateFormat::new("%-m/%-d/%y").unwrap().write(d(2011, 2, 3), &mut s);
        s.push(' ');
        DateFormat::new("%d %b %Y (%%)").unwrap().write(d(1999, 12, 31), &mut s);
        assert_eq!(s, "02/03/2011 2/3/11 31 Dec 1999 (%)");
    }

    #[test]
    fn rejects_bad_specs() {
        assert!(DateFormat::new("%Y-%m").unwrap_err().contains("once each"));
        assert!(DateFormat::new("%Y-%m-%d %H").unwrap_err().contains("'H'"));
        assert!(DateFormat::new("%Y-%m-%d%").unwrap_err().contains("end of text"));
        assert!(DateFormat::new("%Y-%m-%d-%d").is_err());
    }
}
