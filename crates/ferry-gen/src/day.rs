//! Calendar days as day numbers (days since 1970-01-01), with the formats the
//! generator writes dates in.

/// A calendar day: days since 1970-01-01.
pub type Day = i32;

/// The day number of `y-m-d` (proleptic Gregorian).
pub fn from_ymd(y: i32, m: u32, d: u32) -> Day {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as Day
}

/// `(year, month, day)` of a day number.
pub fn to_ymd(day: Day) -> (i32, u32, u32) {
    let z = i64::from(day) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// Day of the week, 0 = Monday … 6 = Sunday.
pub fn weekday(day: Day) -> u32 {
    // 1970-01-01 was a Thursday.
    (i64::from(day) + 3).rem_euclid(7) as u32
}

/// The `n`-th (1-based) `wd` weekday of a month; `n = 5` means the last.
pub fn nth_weekday(y: i32, m: u32, wd: u32, n: u32) -> Day {
    if n >= 5 {
        let next = if m == 12 { from_ymd(y + 1, 1, 1) } else { from_ymd(y, m + 1, 1) };
        let mut d = next - 1;
        while weekday(d) != wd {
            d -= 1;
        }
        return d;
    }
    let mut d = from_ymd(y, m, 1);
    while weekday(d) != wd {
        d += 1;
    }
    d + 7 * (n as i32 - 1)
}

/// How a date is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateStyle {
    /// `MM/DD/YYYY`, PowerSchool's export format.
    Us,
    /// `M/D/YYYY`, no zero padding.
    UsShort,
    /// `M/D/YY`, a two-digit year.
    TwoDigit,
    /// `YYYY-MM-DD`.
    Iso,
}

fn push2(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

fn push_num(out: &mut String, n: u32) {
    if n >= 10 {
        push_num(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Appends `day` written in `style`.
pub fn write(out: &mut String, day: Day, style: DateStyle) {
    let (y, m, d) = to_ymd(day);
    let y = y.max(0) as u32;
    match style {
        DateStyle::Us => {
            push2(out, m);
            out.push('/');
            push2(out, d);
            out.push('/');
            push2(out, y / 100);
            push2(out, y % 100);
        }
        DateStyle::UsShort => {
            push_num(out, m);
            out.push('/');
            push_num(out, d);
            out.push('/');
            push_num(out, y);
        }
        DateStyle::TwoDigit => {
            push_num(out, m);
            out.push('/');
            push_num(out, d);
            out.push('/');
            push2(out, y % 100);
        }
        DateStyle::Iso => {
            push2(out, y / 100);
            push2(out, y % 100);
            out.push('-');
            push2(out, m);
            out.push('-');
            push2(out, d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_weekdays() {
        assert_eq!(from_ymd(1970, 1, 1), 0);
        assert_eq!(to_ymd(from_ymd(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(weekday(from_ymd(2025, 3, 14)), 4, "a Friday");
        assert_eq!(to_ymd(nth_weekday(2024, 11, 3, 4)), (2024, 11, 28), "Thanksgiving 2024");
        assert_eq!(to_ymd(nth_weekday(2025, 5, 0, 5)), (2025, 5, 26), "Memorial Day 2025");
        for d in (-20_000..40_000).step_by(37) {
            let (y, m, dd) = to_ymd(d);
            assert_eq!(from_ymd(y, m, dd), d);
        }
    }

    #[test]
    fn styles() {
        let d = from_ymd(2007, 6, 9);
        let mut s = String::new();
        for st in [DateStyle::Us, DateStyle::UsShort, DateStyle::TwoDigit, DateStyle::Iso] {
            write(&mut s, d, st);
            s.push(' ');
        }
        assert_eq!(s, "06/09/2007 6/9/2007 6/9/07 2007-06-09 ");
    }
}
