//! District-defined PowerSchool codes to canonical categories. PowerSchool
//! code letters mean what each district decides, so the rules read the
//! descriptions PowerSchool keeps beside the codes (Gen for entry and exit
//! codes, Attendance_Code for attendance) and the configuration can name
//! any code's category outright.

use std::collections::BTreeMap;

use ferry_sdk::Error;
use ferry_sdk::model::{AttendanceCategory, CodeSet, DayType, EntryKind, ExitKind, SectionRole, StaffRole};

fn has(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| text.contains(w))
}

/// The entry kind a Gen `entrycodes` description suggests.
pub fn entry_kind_from_description(desc: &str) -> EntryKind {
    let d = desc.to_lowercase();
    if has(&d, &["within district", "within the district", "in-district", "in district", "intra"]) {
        EntryKind::TransferInDistrict
    } else if has(&d, &["re-entry", "reentry", "re-enter", "reenter", "readmi", "re-admi", "return"]) {
        EntryKind::ReEntry
    } else if has(&d, &["transfer"]) {
        EntryKind::TransferIn
    } else if has(&d, &["continu", "promot", "rollover", "roll over", "prior year"]) {
        EntryKind::Continuing
    } else if has(&d, &["new"]) {
        EntryKind::NewToDistrict
    } else {
        EntryKind::normalize(desc)
    }
}

/// The exit kind a Gen `exitcodes` description suggests.
pub fn exit_kind_from_description(desc: &str) -> ExitKind {
    let d = desc.to_lowercase();
    if has(&d, &["graduat", "diploma"]) {
        ExitKind::Graduated
    } else if has(&d, &["within district", "within the district", "in-district", "in district", "intra"]) {
        ExitKind::TransferInDistrict
    } else if has(&d, &["transfer", "moved"]) {
        ExitKind::TransferOut
    } else if has(&d, &["drop"]) {
        ExitKind::Dropout
    } else if has(&d, &["deceas", "death", "died"]) {
        ExitKind::Deceased
    } else if has(&d, &["expel"]) {
        ExitKind::Expelled
    } else if has(&d, &["end of year", "end-of-year", "promot", "complet", "year end"]) {
        ExitKind::EndOfYear
    } else {
        ExitKind::normalize(desc)
    }
}

/// An attendance code's category: from `Presence_Status_CD` and the
/// description. Tardy and early-departure codes are what they say; an
/// "excused"/"unexcused" description decides absences; other absent codes
/// are `absent`; other present codes (field trip…) are `present`.
pub fn attendance_category(code: &str, description: &str, presence: &str) -> AttendanceCategory {
    let d = description.to_lowercase();
    let absent =
        presence.trim().eq_ignore_ascii_case("absent") || (presence.trim().is_empty() && d.contains("absen"));
    if has(&d, &["tardy", "late"]) {
        AttendanceCategory::Tardy
    } else if has(&d, &["early"]) {
        AttendanceCategory::EarlyDeparture
    } else if has(&d, &["unexcused", "un-excused", "not excused"]) {
        AttendanceCategory::UnexcusedAbsence
    } else if has(&d, &["excused"]) {
        AttendanceCategory::ExcusedAbsence
    } else if absent {
        AttendanceCategory::Absent
    } else if code.trim().is_empty() || presence.trim().eq_ignore_ascii_case("present") {
        AttendanceCategory::Present
    } else {
        AttendanceCategory::normalize(description)
    }
}

/// A section role from a RoleDef name: lead (lead, primary, teacher of
/// record, a plain "Teacher"), co-teacher, aide (support staff, aide,
/// paraprofessional, specialist), substitute; anything else (a student
/// teacher) is `Other`.
pub fn section_role(name: &str) -> SectionRole {
    let n = name.to_lowercase();
    if has(&n, &["co-teach", "coteach", "co teach", "secondary"]) {
        SectionRole::CoTeacher
    } else if has(&n, &["substitute"]) || n.trim() == "sub" {
        SectionRole::Substitute
    } else if has(&n, &["student teacher", "intern"]) {
        SectionRole::Other
    } else if has(&n, &["lead", "primary", "of record"]) || n.trim() == "teacher" {
        SectionRole::Lead
    } else if has(&n, &["support", "aide", "paraprofessional", "specialist"]) {
        SectionRole::Aide
    } else {
        SectionRole::normalize(name)
    }
}

/// Whether a ClassRank `GPAMethod` weighs honors and advanced courses more:
/// "Weighted" yes; "Unweighted", "Simple" no; other methods (Core…) unknown.
pub fn gpa_weighted(method: &str) -> Option<bool> {
    let m = method.to_lowercase();
    if has(&m, &["unweighted", "un-weighted", "non-weighted", "nonweighted", "not weighted", "simple"]) {
        Some(false)
    } else if has(&m, &["weight"]) {
        Some(true)
    } else {
        None
    }
}

/// A calendar day's kind from its `Type` (or the description Gen's
/// `dailymembtypes` gives it) by the model's rules; a day without a type is
/// instructional when in session, else without school.
pub fn day_type(text: Option<&str>, in_session: Option<bool>) -> Option<DayType> {
    match (text.map(str::trim).filter(|t| !t.is_empty()), in_session) {
        (Some(t), _) => {
            let l = t.to_lowercase();
            Some(if has(&l, &["early", "half", "late start", "delayed", "shortened", "minimum"]) {
                DayType::ShortenedDay
            } else if has(&l, &["snow", "weather", "emergency"]) {
                DayType::Emergency
            } else if has(&l, &["in-service", "inservice", "professional", "teacher", "work day", "workday"])
            {
                DayType::TeacherOnly
            } else if has(&l, &["make-up", "makeup", "make up"]) {
                DayType::MakeUp
            } else if has(&l, &["holiday", "break", "vacation", "recess"]) {
                DayType::Holiday
            } else {
                DayType::normalize(t)
            })
        }
        (None, Some(true)) => Some(DayType::Instructional),
        (None, Some(false)) => Some(DayType::NonInstructional),
        (None, None) => None,
    }
}

/// A configured `code = "canonical"` table, checked against the code set.
pub fn configured<T: CodeSet>(
    map: &BTreeMap<String, String>,
    key: &str,
) -> Result<BTreeMap<String, T>, Error> {
    let mut out = BTreeMap::new();
    for (code, canonical) in map {
        let v = T::from_canonical(canonical).ok_or_else(|| {
            Error::config(format!(
                "{key}.\"{code}\": {canonical:?} is not one of {}",
                T::VALUES.iter().filter(|v| **v != "Other").copied().collect::<Vec<_>>().join(", ")
            ))
        })?;
        out.insert(code.clone(), v);
    }
    Ok(out)
}

/// A staff member's role: `StaffStatus` 1 is a teacher; otherwise the title
/// decides (principal, counselor, aide), else plain staff. `StaffStatus`
/// values beyond 1 (2 staff, 3 lunch staff, 4 substitute) are not
/// documented by PowerSchool.
pub fn staff_role(staff_status: Option<&str>, title: Option<&str>) -> StaffRole {
    let t = title.unwrap_or_default().to_lowercase();
    match staff_status.map(str::trim) {
        Some("1") => StaffRole::Teacher,
        _ if has(&t, &["principal", "superintendent", "director", "administrator", "dean"]) => {
            StaffRole::Administrator
        }
        _ if has(&t, &["counselor", "counsellor"]) => StaffRole::Counselor,
        _ if has(&t, &["aide", "paraprofessional", "para "]) => StaffRole::Aide,
        _ if has(&t, &["teacher"]) => StaffRole::Teacher,
        Some("2" | "3") => StaffRole::Staff,
        _ => StaffRole::Other,
    }
}

/// The `StaffStatus` number of a role, for the sink.
pub fn staff_status_number(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Teacher => "1",
        _ => "2",
    }
}

/// Which race flag a `RaceCD` sets, by common spellings.
pub fn race_field(code: &str) -> Option<&'static str> {
    match code.trim().to_ascii_uppercase().as_str() {
        "W" | "WH" | "WHI" | "WHITE" | "5" => Some("white"),
        "B" | "BL" | "BLK" | "AA" | "AFA" | "BLACK" | "3" => Some("black_or_african_american"),
        "A" | "AS" | "ASI" | "ASIAN" | "2" => Some("asian"),
        "I" | "AI" | "AM" | "AMI" | "IN" | "NA" | "AIAN" | "1" => Some("american_indian_or_alaska_native"),
        "P" | "PI" | "PAC" | "HAW" | "NH" | "NHPI" | "4" => Some("native_hawaiian_or_other_pacific_islander"),
        "H" | "HI" | "HIS" | "HISP" | "HISPANIC" => Some("hispanic_or_latino"),
        _ => None,
    }
}

/// The `RaceCD` the sink writes for a race flag.
pub fn race_code(field: &str) -> &'static str {
    match field {
        "white" => "W",
        "black_or_african_american" => "B",
        "asian" => "A",
        "american_indian_or_alaska_native" => "I",
        _ => "P",
    }
}

/// The race flags of the model, in the order the sink writes them.
pub const RACE_FIELDS: [&str; 5] = [
    "american_indian_or_alaska_native",
    "asian",
    "black_or_african_american",
    "native_hawaiian_or_other_pacific_islander",
    "white",
];

/// What kind of phone a PhoneType code set value is.
pub fn phone_kind(display: &str) -> Option<&'static str> {
    let d = display.to_lowercase();
    if has(&d, &["mobile", "cell"]) {
        Some("mobile")
    } else if has(&d, &["work", "business", "day", "office"]) {
        Some("work")
    } else if has(&d, &["home", "evening"]) {
        Some("home")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_gpa_methods_and_day_types() {
        assert_eq!(section_role("Lead Teacher"), SectionRole::Lead);
        assert_eq!(section_role("Teacher"), SectionRole::Lead);
        assert_eq!(section_role("Co-teacher"), SectionRole::CoTeacher);
        assert_eq!(section_role("Support Staff"), SectionRole::Aide);
        assert_eq!(section_role("Substitute"), SectionRole::Substitute);
        assert_eq!(section_role("Student Teacher"), SectionRole::Other);
        assert_eq!(gpa_weighted("Weighted"), Some(true));
        assert_eq!(gpa_weighted("Unweighted"), Some(false));
        assert_eq!(gpa_weighted("Simple"), Some(false));
        assert_eq!(gpa_weighted("Core"), None);
        assert_eq!(day_type(Some("Weekend"), Some(false)), Some(DayType::NonInstructional));
        assert_eq!(day_type(Some("Holiday"), Some(false)), Some(DayType::Holiday));
        assert_eq!(day_type(Some("Early Dismissal"), Some(true)), Some(DayType::ShortenedDay));
        assert_eq!(day_type(Some("Snow day"), Some(false)), Some(DayType::Emergency));
        assert_eq!(day_type(Some("Teacher In-Service"), Some(false)), Some(DayType::TeacherOnly));
        assert_eq!(day_type(None, Some(true)), Some(DayType::Instructional));
        assert_eq!(day_type(Some(" "), None), None);
    }

    #[test]
    fn descriptions() {
        assert_eq!(entry_kind_from_description("New to district"), EntryKind::NewToDistrict);
        assert_eq!(entry_kind_from_description("Transfer within district"), EntryKind::TransferInDistrict);
        assert_eq!(entry_kind_from_description("Transfer in from another district"), EntryKind::TransferIn);
        assert_eq!(
            entry_kind_from_description("Continuing, promoted from prior year"),
            EntryKind::Continuing
        );
        assert_eq!(entry_kind_from_description("Re-entry after withdrawal"), EntryKind::ReEntry);
        assert_eq!(exit_kind_from_description("Graduated with diploma"), ExitKind::Graduated);
        assert_eq!(exit_kind_from_description("End of year, promoted"), ExitKind::EndOfYear);
        assert_eq!(exit_kind_from_description("Transfer out of district"), ExitKind::TransferOut);
        assert_eq!(exit_kind_from_description("Transfer within district"), ExitKind::TransferInDistrict);
        assert_eq!(exit_kind_from_description("Dropped out"), ExitKind::Dropout);
        assert_eq!(exit_kind_from_description("zzz"), ExitKind::Other);
    }

    #[test]
    fn attendance() {
        use AttendanceCategory as A;
        assert_eq!(attendance_category("", "Present", "Present"), A::Present);
        assert_eq!(attendance_category("A", "Absent", "Absent"), A::Absent);
        assert_eq!(attendance_category("AU", "Absent Unexcused", "Absent"), A::UnexcusedAbsence);
        assert_eq!(attendance_category("AE", "Absent Excused", "Absent"), A::ExcusedAbsence);
        assert_eq!(attendance_category("A-Ex", "Absent-Excused", "Present"), A::ExcusedAbsence);
        assert_eq!(attendance_category("T", "Tardy", "Present"), A::Tardy);
        assert_eq!(attendance_category("ED", "Early Dismissal", "Present"), A::EarlyDeparture);
        assert_eq!(attendance_category("FT", "Field Trip", "Present"), A::Present);
        assert_eq!(attendance_category("X", "Absent", ""), A::Absent);
    }

    #[test]
    fn roles_races_phones() {
        assert_eq!(staff_role(Some("1"), Some("Teacher")), StaffRole::Teacher);
        assert_eq!(staff_role(Some("2"), Some("Principal")), StaffRole::Administrator);
        assert_eq!(staff_role(Some("2"), Some("Secretary")), StaffRole::Staff);
        assert_eq!(staff_role(Some("4"), Some("Substitute Teacher")), StaffRole::Teacher);
        assert_eq!(staff_role(Some("4"), None), StaffRole::Other);
        assert_eq!(race_field("w"), Some("white"));
        assert_eq!(race_field("ZZ"), None);
        for f in RACE_FIELDS {
            assert_eq!(race_field(race_code(f)), Some(f));
        }
        assert_eq!(phone_kind("Mobile"), Some("mobile"));
        assert_eq!(phone_kind("Daytime"), Some("work"));
        assert_eq!(phone_kind("Home"), Some("home"));
        let m: BTreeMap<String, String> = [("AE".to_owned(), "excusedAbsence".to_owned())].into();
        assert_eq!(
            configured::<AttendanceCategory>(&m, "attendance_codes").unwrap()["AE"],
            AttendanceCategory::ExcusedAbsence
        );
        let bad: BTreeMap<String, String> = [("AE".to_owned(), "excused-ish".to_owned())].into();
        assert!(
            configured::<AttendanceCategory>(&bad, "attendance_codes")
                .unwrap_err()
                .message
                .contains("excusedAbsence")
        );
    }
}
