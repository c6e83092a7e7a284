//! Descriptors: canonical codes → Ed-Fi descriptor code values (Ed-Fi's
//! default `uri://ed-fi.org` values of Data Standard 5.2), and descriptor
//! URIs (`uri://namespace/Descriptor#code`).

use ferry_sdk::model::{Code, CodeSet};

use crate::settings::Settings;

/// One descriptor value a payload uses.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Descriptor {
    /// The descriptor (`GradeLevelDescriptor`).
    pub name: &'static str,
    /// Its namespace (`uri://ed-fi.org`).
    pub namespace: String,
    /// The code value (`Ninth grade`).
    pub code: String,
}

impl Descriptor {
    /// `uri://namespace/Descriptor#code`, literally (no percent-encoding).
    pub fn uri(&self) -> String {
        format!("{}/{}#{}", self.namespace, self.name, self.code)
    }

    /// The resource the descriptor's values are read from (`gradeLevelDescriptors`).
    pub fn resource(&self) -> String {
        resource_of(self.name)
    }

    /// Parses a URI; `None` when it is not one.
    pub fn parse(uri: &str) -> Option<(String, String, String)> {
        let (head, code) = uri.split_once('#')?;
        let (ns, name) = head.rsplit_once('/')?;
        Some((ns.to_owned(), name.to_owned(), code.to_owned()))
    }
}

/// `GradeLevelDescriptor` → `gradeLevelDescriptors`.
pub fn resource_of(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => format!("{}{}s", f.to_ascii_lowercase(), c.as_str()),
        None => String::new(),
    }
}

/// Default code values by canonical code, per descriptor.
pub const DEFAULTS: &[(&str, &[(&str, &str)])] = &[
    (
        "GradeLevelDescriptor",
        &[
            ("IT", "Infant/toddler"),
            ("PR", "Preschool/Prekindergarten"),
            ("PK", "Prekindergarten"),
            ("TK", "Transitional Kindergarten"),
            ("KG", "Kindergarten"),
            ("01", "First grade"),
            ("02", "Second grade"),
            ("03", "Third grade"),
            ("04", "Fourth grade"),
            ("05", "Fifth grade"),
            ("06", "Sixth grade"),
            ("07", "Seventh grade"),
            ("08", "Eighth grade"),
            ("09", "Ninth grade"),
            ("10", "Tenth grade"),
            ("11", "Eleventh grade"),
            ("12", "Twelfth grade"),
            ("13", "Grade 13"),
            ("PS", "Postsecondary"),
            ("UG", "Ungraded"),
        ],
    ),
    (
        "SexDescriptor",
        &[
            ("male", "Male"),
            ("female", "Female"),
            ("unspecified", "Non-binary"),
            ("notReported", "Not Selected"),
        ],
    ),
    (
        "TermDescriptor",
        &[
            ("schoolYear", "Year Round"),
            ("semester", "Semester"),
            ("term", "Other"),
            ("gradingPeriod", "Other"),
            // By a session's code, before its kind.
            ("S1", "Fall Semester"),
            ("S2", "Spring Semester"),
            ("Q1", "First Quarter"),
            ("Q2", "Second Quarter"),
            ("Q3", "Third Quarter"),
            ("Q4", "Fourth Quarter"),
            ("T1", "First Trimester"),
            ("T2", "Second Trimester"),
            ("T3", "Third Trimester"),
        ],
    ),
    (
        "GradingPeriodDescriptor",
        &[
            ("Q1", "First Nine Weeks"),
            ("Q2", "Second Nine Weeks"),
            ("Q3", "Third Nine Weeks"),
            ("Q4", "Fourth Nine Weeks"),
            ("S1", "First Semester"),
            ("S2", "Second Semester"),
            ("T1", "First Trimester"),
            ("T2", "Second Trimester"),
            ("T3", "Third Trimester"),
            ("Y1", "End of Year"),
            ("schoolYear", "End of Year"),
            ("semester", "First Semester"),
        ],
    ),
    (
        "AttendanceEventCategoryDescriptor",
        &[
            ("present", "In Attendance"),
            ("excusedAbsence", "Excused Absence"),
            ("unexcusedAbsence", "Unexcused Absence"),
            ("absent", "Unexcused Absence"),
            ("tardy", "Tardy"),
            ("earlyDeparture", "Early departure"),
        ],
    ),
    (
        "EntryTypeDescriptor",
        &[
            ("newToDistrict", "New to education system"),
            ("transferInDistrict", "Transfer"),
            ("transferIn", "Transfer"),
            ("reEntry", "Re-entry"),
            ("continuing", "Next year school"),
        ],
    ),
    (
        "ExitWithdrawTypeDescriptor",
        &[
            ("graduated", "Graduated"),
            ("endOfYear", "End of school year"),
            ("transferInDistrict", "Transferred"),
            ("transferOut", "Transferred"),
            ("dropout", "Dropout"),
            ("deceased", "Died or is permanently incapacitated"),
            ("expelled", "Expelled"),
        ],
    ),
    (
        "ClassroomPositionDescriptor",
        &[
            ("lead", "Teacher of Record"),
            ("coTeacher", "Support Teacher"),
            ("aide", "Assistant Teacher"),
            ("substitute", "Substitute Teacher"),
        ],
    ),
    ("GradeTypeDescriptor", &[("term", "Grading Period"), ("final", "Final")]),
    (
        "CourseAttemptResultDescriptor",
        &[
            ("completed", "Pass"),
            ("failed", "Fail"),
            ("incomplete", "Incomplete"),
            ("withdrawn", "Withdrawn"),
        ],
    ),
    (
        "EducationOrganizationCategoryDescriptor",
        &[("school", "School"), ("district", "Local Education Agency")],
    ),
    ("LocalEducationAgencyCategoryDescriptor", &[("district", "Independent")]),
    ("CourseIdentificationSystemDescriptor", &[("course_number", "LEA course code")]),
];

/// Looks canonical codes up in the settings' overrides, then the defaults.
#[derive(Clone, Debug)]
pub struct Codes<'a> {
    settings: &'a Settings,
}

impl<'a> Codes<'a> {
    /// Over `settings`.
    pub fn new(settings: &'a Settings) -> Codes<'a> {
        Codes { settings }
    }

    /// The code value of canonical `key` in `descriptor`, if one is set.
    pub fn lookup(&self, descriptor: &str, key: &str) -> Option<String> {
        if let Some(v) = self.settings.descriptor_codes.get(descriptor).and_then(|m| m.get(key)) {
            return Some(v.clone());
        }
        DEFAULTS
            .iter()
            .find(|(d, _)| *d == descriptor)
            .and_then(|(_, t)| t.iter().find(|(k, _)| *k == key))
            .map(|(_, v)| (*v).to_owned())
    }

    /// A descriptor with code value `code` as is.
    pub fn raw(&self, descriptor: &'static str, code: impl Into<String>) -> Descriptor {
        Descriptor {
            name: descriptor,
            namespace: self.settings.namespace_of(descriptor).to_owned(),
            code: code.into(),
        }
    }

    /// The descriptor of canonical `key`, if mapped.
    pub fn of_key(&self, descriptor: &'static str, key: &str) -> Option<Descriptor> {
        self.lookup(descriptor, key).map(|c| self.raw(descriptor, c))
    }

    /// The canonical code of a descriptor value read back (a URI or a bare
    /// code value): the first canonical code of `T` mapped to it by the
    /// settings, else by the defaults; a value mapped from none is
    /// normalized like a source's own text. The original is the code value.
    pub fn back<T: CodeSet>(&self, descriptor: &str, uri: &str) -> Code<T> {
        let value = Descriptor::parse(uri).map_or_else(|| uri.to_owned(), |(_, _, c)| c);
        let own = self.settings.descriptor_codes.get(descriptor).into_iter().flatten();
        let defaults = DEFAULTS.iter().filter(|(d, _)| *d == descriptor).flat_map(|(_, t)| t.iter());
        let found = own
            .filter(|(_, v)| **v == value)
            .map(|(k, _)| k.as_str())
            .chain(defaults.filter(|(_, v)| *v == value).map(|(k, _)| *k))
            .find_map(T::from_canonical);
        match found {
            Some(t) => Code::mapped(t, value),
            None => Code::normalize(&value),
        }
    }

    /// The descriptor of a coded value: its canonical code mapped, or, for a
    /// code with no canonical value (`Other`) or none mapped, the source's
    /// original value as the code value (so that the descriptor check names
    /// it when the ODS does not hold it).
    pub fn of<T: CodeSet>(&self, descriptor: &'static str, code: &Code<T>) -> Descriptor {
        let canonical = code.code.as_str();
        match (canonical != "Other").then(|| self.lookup(descriptor, canonical)).flatten() {
            Some(c) => self.raw(descriptor, c),
            None => self.raw(descriptor, code.original.trim()),
        }
    }
}

#[cfg(test)]
mod tests {
    use ferry_sdk::model::{AttendanceCategory, GradeLevel, Sex};

    use super::*;

    fn settings() -> Settings {
        ferry_sdk::serde_json::from_value(ferry_sdk::serde_json::json!({
            "base_url": "http://127.0.0.1:1", "client_id": "k", "client_secret": "s",
            "descriptor_namespaces": { "SexDescriptor": "uri://state.example.org" },
            "descriptor_codes": { "AttendanceEventCategoryDescriptor": { "absent": "Excused Absence" } },
        }))
        .unwrap()
    }

    #[test]
    fn uris_are_literal_and_namespaced() {
        let s = settings();
        let c = Codes::new(&s);
        let g = c.of("GradeLevelDescriptor", &Code::mapped(GradeLevel::Grade09, "9"));
        assert_eq!(g.uri(), "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade");
        assert_eq!(g.resource(), "gradeLevelDescriptors");
        let x = c.of("SexDescriptor", &Code::mapped(Sex::Female, "F"));
        assert_eq!(x.uri(), "uri://state.example.org/SexDescriptor#Female");
        assert_eq!(
            Descriptor::parse(&g.uri()),
            Some(("uri://ed-fi.org".into(), "GradeLevelDescriptor".into(), "Ninth grade".into()))
        );
    }

    #[test]
    fn overrides_then_defaults_then_the_original() {
        let s = settings();
        let c = Codes::new(&s);
        let a = c.of("AttendanceEventCategoryDescriptor", &Code::mapped(AttendanceCategory::Absent, "A"));
        assert_eq!(a.code, "Excused Absence");
        let t = c.of("AttendanceEventCategoryDescriptor", &Code::mapped(AttendanceCategory::Tardy, "T"));
        assert_eq!(t.code, "Tardy");
        // No canonical value: the source's own code, which the dry run checks.
        let o = c.of("GradeLevelDescriptor", &Code::<GradeLevel>::normalize(" Grade X "));
        assert_eq!(o.code, "Grade X");
    }

    #[test]
    fn every_grade_level_is_mapped() {
        let s = settings();
        let c = Codes::new(&s);
        for v in GradeLevel::VALUES.iter().filter(|v| **v != "Other") {
            assert!(c.lookup("GradeLevelDescriptor", v).is_some(), "{v}");
        }
        for v in Sex::VALUES.iter().filter(|v| **v != "Other") {
            assert!(c.lookup("SexDescriptor", v).is_some(), "{v}");
        }
    }
}
