//! PowerSchool values: ids, dates, flags, grade levels, enrollment statuses,
//! and the one place exclusive end dates become inclusive.

use ferry_sdk::model::{Code, Date, GradeLevel, Sex};

/// The grade PowerSchool stores when there is no grade yet.
pub const NO_GRADE: &str = "--";

/// The School_Number of the district office.
pub const DISTRICT_OFFICE: i64 = 0;
/// The School_Number of the Graduated Students school.
pub const GRADUATED_SCHOOL: i64 = 999_999;

/// PowerSchool's `ExitDate` and `DateLeft` are exclusive: the first day the
/// student is no longer there. The canonical model's end dates are
/// inclusive. This is the only place the conversion is made when reading.
pub fn exclusive_end_to_inclusive(exclusive: Date) -> Option<Date> {
    exclusive.add_days(-1).ok()
}

/// The inverse, for writing PowerSchool files: the only place it is made.
pub fn inclusive_end_to_exclusive(inclusive: Date) -> Option<Date> {
    inclusive.add_days(1).ok()
}

/// A whole number; `12.0` reads as 12 (float-rendered ids).
pub fn int(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Some(n);
    }
    match t.split_once('.') {
        Some((whole, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => whole.parse().ok(),
        _ => None,
    }
}

/// A PowerSchool grade level as a canonical code: 0 is kindergarten, -1
/// pre-kindergarten, -2 preschool, 1–13 are themselves; 99 (graduated),
/// other negatives and anything else keep their value as `Other`.
pub fn grade_level(s: &str) -> Code<GradeLevel> {
    let t = s.trim();
    Code::mapped(grade_level_code(t), t)
}

/// The canonical grade of a PowerSchool grade level (see [`grade_level`]).
pub fn grade_level_code(t: &str) -> GradeLevel {
    const NUMBERED: [GradeLevel; 13] = [
        GradeLevel::Grade01,
        GradeLevel::Grade02,
        GradeLevel::Grade03,
        GradeLevel::Grade04,
        GradeLevel::Grade05,
        GradeLevel::Grade06,
        GradeLevel::Grade07,
        GradeLevel::Grade08,
        GradeLevel::Grade09,
        GradeLevel::Grade10,
        GradeLevel::Grade11,
        GradeLevel::Grade12,
        GradeLevel::Grade13,
    ];
    match int(t) {
        Some(-2) => GradeLevel::Preschool,
        Some(-1) => GradeLevel::PreKindergarten,
        Some(0) => GradeLevel::Kindergarten,
        Some(n @ 1..=13) => NUMBERED[(n - 1) as usize],
        Some(_) => GradeLevel::Other,
        None => ferry_sdk::model::CodeSet::normalize(t),
    }
}

/// Appends a whole number to `out` without the formatting machinery.
pub fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// The PowerSchool grade level number for a canonical grade (`code`, with
/// the source's `original`), for the sink.
pub fn grade_level_number(code: GradeLevel, original: &str) -> &str {
    use ferry_sdk::model::CodeSet as _;
    // A PowerSchool number is written as it came, unless the record's grade
    // was changed on the way (a plan's crosswalk): then the grade decides.
    if int(original).is_some() && grade_level_code(original.trim()) == code {
        return original.trim();
    }
    match code {
        GradeLevel::Preschool | GradeLevel::InfantToddler => "-2",
        GradeLevel::PreKindergarten | GradeLevel::TransitionalKindergarten => "-1",
        GradeLevel::Kindergarten => "0",
        GradeLevel::Other | GradeLevel::Ungraded | GradeLevel::PostSecondary => original,
        other => other.as_str().trim_start_matches('0'),
    }
}

/// `Gender` as a canonical sex (M, F, U/X…), original kept.
pub fn sex(s: &str) -> Code<Sex> {
    Code::normalize(s.trim())
}

/// `Enroll_Status` in words: -1 preregistered, 0 active, 1 inactive,
/// 2 transferred, 3 graduated, 4 historical (the v1 API's letters P, A, I,
/// T, G, H too). Other values stay as they are.
pub fn enroll_status(s: &str) -> String {
    let t = s.trim();
    let word = match t {
        "-1" | "P" => "preregistered",
        "0" | "A" => "active",
        "1" | "I" => "inactive",
        "2" | "T" => "transferred",
        "3" | "G" => "graduated",
        "4" | "H" => "historical",
        _ => return t.to_owned(),
    };
    word.to_owned()
}

/// The `Enroll_Status` number of a status word, for the sink.
pub fn enroll_status_number(s: &str) -> String {
    match s.trim().to_ascii_lowercase().as_str() {
        "preregistered" | "pre-registered" => "-1",
        "active" | "enrolled" => "0",
        "inactive" => "1",
        "transferred" | "transferred out" | "withdrawn" => "2",
        "graduated" => "3",
        "historical" => "4",
        _ => return s.trim().to_owned(),
    }
    .to_owned()
}

/// The school year (the year it ends in) a date falls in.
pub fn school_year_of(d: Date, start_month: u32) -> i64 {
    i64::from(d.year()) + i64::from(d.month() >= start_month)
}

/// `YearID` (fall year − 1990) to the year the school year ends in.
pub fn school_year_of_yearid(yearid: i64) -> i64 {
    yearid + 1991
}

/// Splits a legacy contact name: `Last, First Middle` or `First Last`.
pub fn split_name(full: &str) -> (String, Option<String>, String) {
    let t = full.trim();
    if let Some((last, rest)) = t.split_once(',') {
        let mut parts = rest.split_whitespace();
        let first = parts.next().unwrap_or_default().to_owned();
        let middle: Vec<&str> = parts.collect();
        let middle = (!middle.is_empty()).then(|| middle.join(" "));
        return (first, middle, last.trim().to_owned());
    }
    match t.rsplit_once(' ') {
        Some((first, last)) => {
            let mut parts = first.split_whitespace();
            let f = parts.next().unwrap_or_default().to_owned();
            let middle: Vec<&str> = parts.collect();
            (f, (!middle.is_empty()).then(|| middle.join(" ")), last.trim().to_owned())
        }
        None => (String::new(), None, t.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_ends() {
        let d = Date::new(2016, 6, 24).unwrap();
        assert_eq!(exclusive_end_to_inclusive(d), Some(Date::new(2016, 6, 23).unwrap()));
        assert_eq!(inclusive_end_to_exclusive(Date::new(2016, 6, 23).unwrap()), Some(d));
        assert_eq!(
            exclusive_end_to_inclusive(Date::new(2024, 3, 1).unwrap()),
            Some(Date::new(2024, 2, 29).unwrap())
        );
    }

    #[test]
    fn grade_levels() {
        let g = |s: &str| {
            let c = grade_level(s);
            (ferry_sdk::model::CodeSet::as_str(c.code), c.original)
        };
        assert_eq!(g("-2"), ("PR", "-2".to_owned()));
        assert_eq!(g("-1"), ("PK", "-1".to_owned()));
        assert_eq!(g("0"), ("KG", "0".to_owned()));
        assert_eq!(g("9"), ("09", "9".to_owned()));
        assert_eq!(g("12"), ("12", "12".to_owned()));
        assert_eq!(g("99"), ("Other", "99".to_owned()));
        assert_eq!(g("K"), ("KG", "K".to_owned()));
        let n = |c: Code<GradeLevel>| grade_level_number(c.code, &c.original).to_owned();
        assert_eq!(n(grade_level("99")), "99");
        assert_eq!(n(Code::mapped(GradeLevel::Grade09, "09")), "09");
        assert_eq!(n(Code::mapped(GradeLevel::Grade09, "Ninth")), "9");
        assert_eq!(n(Code::mapped(GradeLevel::Kindergarten, "K")), "0");
        // A crosswalk made the unknown 77 a twelfth grade.
        assert_eq!(n(Code::mapped(GradeLevel::Grade12, "77")), "12");
    }

    #[test]
    fn statuses_and_names() {
        assert_eq!(enroll_status("3"), "graduated");
        assert_eq!(enroll_status("-2"), "-2");
        assert_eq!(enroll_status_number("graduated"), "3");
        assert_eq!(enroll_status_number("-2"), "-2");
        assert_eq!(split_name("Núñez, María José"), ("María".into(), Some("José".into()), "Núñez".into()));
        assert_eq!(split_name("Jean Paul Sartre"), ("Jean".into(), Some("Paul".into()), "Sartre".into()));
        assert_eq!(split_name("Cher"), (String::new(), None, "Cher".into()));
        assert_eq!(int("12345.0"), Some(12345));
        assert_eq!(int(" -3 "), Some(-3));
        assert_eq!(int("1.5"), None);
        assert_eq!(school_year_of(Date::new(2024, 8, 1).unwrap(), 7), 2025);
        assert_eq!(school_year_of(Date::new(2025, 3, 1).unwrap(), 7), 2025);
        assert_eq!(school_year_of_yearid(34), 2025);
    }
}
