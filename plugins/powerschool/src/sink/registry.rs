//! What the sink remembers of the records it received: the PowerSchool
//! numbers other rows name them by (School_Number, TermID, Student_Number,
//! TeacherNumber, Course_Number, a section's four keys), the parents it
//! refused, and the codes the written rows use (for `attendance_code.txt`
//! and `gen.txt`).

use std::collections::{BTreeMap, HashMap, HashSet};

use ferry_sdk::model::{AttendanceCategory, EntityKind, EntryKind, ExitKind};
use ferry_sdk::{Error, Reject};

use super::files::ImportFile;
use super::output::{Cited, Sheet};

/// A term as rows name it.
#[derive(Clone, Debug)]
pub struct TermRef {
    /// School_Number.
    pub school: String,
    /// TermID.
    pub termid: i64,
}

/// A section as rows name it.
#[derive(Clone, Debug)]
pub struct SectionRef {
    /// School_Number.
    pub school: String,
    /// Course_Number.
    pub course: String,
    /// Section_Number.
    pub number: String,
    /// TermID.
    pub termid: i64,
}

/// Ids, numbers and codes seen.
#[derive(Debug, Default)]
pub struct Registry {
    /// Org id → School_Number.
    pub schools: HashMap<String, String>,
    /// Session id → term.
    pub terms: HashMap<String, TermRef>,
    /// Terms numbered so far per (school, YearID), for sessions whose id
    /// gives no TermID.
    pub term_counters: HashMap<(String, i64), i64>,
    /// Student id → Student_Number.
    pub students: HashMap<String, String>,
    /// Staff id → TeacherNumber.
    pub staff: HashMap<String, String>,
    /// Course id → Course_Number.
    pub courses: HashMap<String, String>,
    /// Section id → section.
    pub sections: HashMap<String, SectionRef>,
    /// Records this sink refused that other records refer to.
    refused: HashSet<(EntityKind, String)>,
    /// Attendance codes of the events written: (school, YearID, code) → category.
    pub att_codes: BTreeMap<(String, i64, String), AttendanceCategory>,
    /// Entry codes of the enrollments kept.
    pub entry_codes: BTreeMap<String, EntryKind>,
    /// Exit codes of the enrollments kept.
    pub exit_codes: BTreeMap<String, ExitKind>,
}

impl Registry {
    /// The School_Number of org `org` (the id itself for an org not received).
    pub fn school_number<'a>(&'a self, org: Option<&'a str>) -> &'a str {
        org.map(|o| self.schools.get(o).map_or(o, String::as_str)).unwrap_or_default()
    }

    /// Remembers that the record `id` of `entity` was refused.
    pub fn refuse(&mut self, entity: EntityKind, id: &str) {
        self.refused.insert((entity, id.to_owned()));
    }

    /// A reject of `who` (of `entity`), whose `field` names `parent` record
    /// `id` (`what`, such as "the student") that no row can name.
    pub fn missing(
        &self,
        entity: EntityKind,
        who: Cited<'_>,
        field: &str,
        parent: EntityKind,
        id: Option<&str>,
        what: &str,
    ) -> Reject {
        let refused = id.is_some_and(|id| self.refused.contains(&(parent, id.to_owned())));
        let how = if refused { "was refused by this sink" } else { "was not received by this sink" };
        who.reject(entity, format!("{what} {how}, so the row cannot name it")).field(field)
    }

    /// Writes `attendance_code.txt` and `gen.txt`. Their values all come
    /// from rows already written or checked, so a refusal is a bug.
    pub fn write_code_files(&mut self, sheet: &mut Sheet) -> Result<(), Error> {
        for ((school, year, code), cat) in std::mem::take(&mut self.att_codes) {
            let (desc, presence) = match cat {
                AttendanceCategory::Present => ("Present", "Present"),
                AttendanceCategory::ExcusedAbsence => ("Absent Excused", "Absent"),
                AttendanceCategory::UnexcusedAbsence => ("Absent Unexcused", "Absent"),
                AttendanceCategory::Absent => ("Absent", "Absent"),
                AttendanceCategory::Tardy => ("Tardy", "Present"),
                AttendanceCategory::EarlyDeparture => ("Early Dismissal", "Present"),
                _ => ("Other", "Present"),
            };
            sheet.line.start().text(&school).int(year).text(&code).text(desc).text(presence);
            sheet.write_checked(ImportFile::AttendanceCode)?;
        }
        // Entry and exit codes, described so that their meaning is plain.
        let entries = std::mem::take(&mut self.entry_codes).into_iter().map(|(code, kind)| {
            let desc = match kind {
                EntryKind::NewToDistrict => "New to district",
                EntryKind::TransferInDistrict => "Transfer within district",
                EntryKind::TransferIn => "Transfer in from another district",
                EntryKind::ReEntry => "Re-entry",
                EntryKind::Continuing => "Continuing from the prior year",
                _ => "",
            };
            ("entrycodes", code, desc)
        });
        let exits = std::mem::take(&mut self.exit_codes).into_iter().map(|(code, kind)| {
            let desc = match kind {
                ExitKind::Graduated => "Graduated",
                ExitKind::EndOfYear => "End of year",
                ExitKind::TransferInDistrict => "Transfer within district",
                ExitKind::TransferOut => "Transfer out of district",
                ExitKind::Dropout => "Dropped out",
                ExitKind::Deceased => "Deceased",
                ExitKind::Expelled => "Expelled",
                _ => "",
            };
            ("exitcodes", code, desc)
        });
        let rows: Vec<_> = entries.chain(exits).collect();
        for (cat, code, desc) in rows {
            if code.is_empty() {
                continue;
            }
            sheet.line.start().text(cat).text(&code).text(if desc.is_empty() { code.as_str() } else { desc });
            sheet.write_checked(ImportFile::Gen)?;
        }
        Ok(())
    }
}
