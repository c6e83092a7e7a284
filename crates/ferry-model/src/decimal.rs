//! [`Decimal`]: an exact decimal number with four decimal places, for credits,
//! grade points and percents (which must never become binary floats).

use std::fmt;
use std::str::FromStr;

/// An exact decimal number with [`Decimal::SCALE`] decimal places, stored as a
/// whole number of ten-thousandths. Arrow type: `Decimal128(18, 4)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Decimal {
    units: i64,
}

/// Why text is not a [`Decimal`]. Carries no value (values may be personal data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidDecimal {
    /// Not a decimal number at all.
    NotANumber,
    /// More decimal places than the model keeps; rounding would change the value.
    TooPrecise,
    /// Outside ±99,999,999,999,999.9999.
    OutOfRange,
}

impl fmt::Display for InvalidDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidDecimal::NotANumber => "not a decimal number",
            InvalidDecimal::TooPrecise => {
                "more than 4 decimal places (the model keeps credits, points and percents exact to 4 places)"
            }
            InvalidDecimal::OutOfRange => "a number too large for a decimal field",
        })
    }
}

impl std::error::Error for InvalidDecimal {}

impl Decimal {
    /// Decimal places kept.
    pub const SCALE: u8 = 4;
    /// Digits kept in all (Arrow precision).
    pub const PRECISION: u8 = 18;
    const ONE: i64 = 10_000;
    const MAX_UNITS: i64 = 999_999_999_999_999_999;

    /// The number `units / 10^4`.
    pub fn from_units(units: i64) -> Result<Decimal, InvalidDecimal> {
        if units.unsigned_abs() > Self::MAX_UNITS.unsigned_abs() {
            return Err(InvalidDecimal::OutOfRange);
        }
        Ok(Decimal { units })
    }

    /// A whole number.
    pub fn from_int(n: i64) -> Result<Decimal, InvalidDecimal> {
        n.checked_mul(Self::ONE).ok_or(InvalidDecimal::OutOfRange).and_then(Decimal::from_units)
    }

    /// The number in ten-thousandths (the Arrow Decimal128 value at scale 4).
    pub fn units(self) -> i64 {
        self.units
    }

    /// Parses `12`, `-3.5`, `+0.25`, `.5`, `4.` exactly. Exponents are refused:
    /// a credit written as `1e0` is a data problem worth seeing.
    pub fn parse(s: &str) -> Result<Decimal, InvalidDecimal> {
        let s = s.trim();
        let (neg, digits) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(InvalidDecimal::NotANumber);
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidDecimal::NotANumber);
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > usize::from(Self::SCALE) {
            return Err(InvalidDecimal::TooPrecise);
        }
        let mut units: i64 = 0;
        for b in int.bytes() {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(i64::from(b - b'0')))
                .ok_or(InvalidDecimal::OutOfRange)?;
        }
        let mut f: i64 = 0;
        for i in 0..usize::from(Self::SCALE) {
            f = f * 10 + frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        }
        let units =
            units.checked_mul(Self::ONE).and_then(|u| u.checked_add(f)).ok_or(InvalidDecimal::OutOfRange)?;
        Decimal::from_units(if neg { -units } else { units })
    }

    /// An approximation as a float, for display and statistics only.
    #[allow(clippy::cast_precision_loss, reason = "an approximation by definition")]
    pub fn to_f64(self) -> f64 {
        self.units as f64 / Self::ONE as f64
    }
}

impl FromStr for Decimal {
    type Err = InvalidDecimal;
    fn from_str(s: &str) -> Result<Decimal, InvalidDecimal> {
        Decimal::parse(s)
    }
}

impl fmt::Display for Decimal {
    /// The shortest exact form: `1.5`, `0.25`, `3`, `-0.0001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.units.unsigned_abs();
        let one = Self::ONE.unsigned_abs();
        let (int, mut frac) = (abs / one, abs % one);
        if self.units < 0 {
            f.write_str("-")?;
        }
        write!(f, "{int}")?;
        if frac != 0 {
            let mut width = usize::from(Self::SCALE);
            while frac % 10 == 0 {
                frac /= 10;
                width -= 1;
            }
            write!(f, ".{frac:0width$}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Decimal::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly_and_prints_shortest() {
        for (text, units, shown) in [
            ("1", 10_000, "1"),
            ("0.25", 2_500, "0.25"),
            ("-3.5", -35_000, "-3.5"),
            ("+.5", 5_000, "0.5"),
            ("4.", 40_000, "4"),
            ("93.2500", 932_500, "93.25"),
            ("0.0001", 1, "0.0001"),
            (" 12.30 ", 123_000, "12.3"),
        ] {
            let d = Decimal::parse(text).unwrap();
            assert_eq!(d.units(), units, "{text}");
            assert_eq!(d.to_string(), shown, "{text}");
        }
        assert_eq!(Decimal::parse("1.00001"), Err(InvalidDecimal::TooPrecise));
        assert_eq!(Decimal::parse("1.000010"), Err(InvalidDecimal::TooPrecise));
        assert_eq!(Decimal::parse("1e3"), Err(InvalidDecimal::NotANumber));
        assert_eq!(Decimal::parse("."), Err(InvalidDecimal::NotANumber));
        assert_eq!(Decimal::parse(""), Err(InvalidDecimal::NotANumber));
        assert_eq!(Decimal::parse("1.2.3"), Err(InvalidDecimal::NotANumber));
        assert_eq!(Decimal::parse("99999999999999999999"), Err(InvalidDecimal::OutOfRange));
        assert_eq!(Decimal::from_int(3).unwrap().to_string(), "3");
    }
}
