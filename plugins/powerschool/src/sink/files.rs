//! The files the sink writes: their names, PowerSchool columns, and whether
//! PowerSchool can import them (the others are reference files).

/// One file the sink writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImportFile {
    /// `schools.txt` (reference).
    Schools,
    /// `terms.txt` (reference).
    Terms,
    /// `students.txt`.
    Students,
    /// `reenrollments.txt`.
    ReEnrollments,
    /// `studentrace.txt`.
    StudentRace,
    /// `teachers.txt`.
    Teachers,
    /// `courses.txt`.
    Courses,
    /// `sections.txt`.
    Sections,
    /// `cc.txt`.
    Cc,
    /// `storedgrades.txt`.
    StoredGrades,
    /// `pgfinalgrades.txt` (reference).
    PgFinalGrades,
    /// `attendance.txt`.
    Attendance,
    /// `attendance_meeting.txt` (reference).
    AttendanceMeeting,
    /// `attendance_code.txt` (reference).
    AttendanceCode,
    /// `gen.txt` (reference).
    Gen,
    /// `contacts.txt`.
    Contacts,
}

struct Layout {
    file: ImportFile,
    name: &'static str,
    columns: &'static [&'static str],
    importable: bool,
}

const LAYOUTS: &[Layout] = &[
    Layout {
        file: ImportFile::Schools,
        name: "schools.txt",
        columns: &[
            "School_Number",
            "Name",
            "Low_Grade",
            "High_Grade",
            "SchoolAddress",
            "SchoolCity",
            "SchoolState",
            "SchoolZip",
            "SchoolPhone",
        ],
        importable: false,
    },
    Layout {
        file: ImportFile::Terms,
        name: "terms.txt",
        columns: &[
            "ID",
            "SchoolID",
            "YearID",
            "Name",
            "Abbreviation",
            "FirstDay",
            "LastDay",
            "IsYearRec",
            "Portion",
        ],
        importable: false,
    },
    Layout {
        file: ImportFile::Students,
        name: "students.txt",
        columns: &[
            "Student_Number",
            "State_StudentNumber",
            "First_Name",
            "Middle_Name",
            "Last_Name",
            "PreferredName",
            "DOB",
            "Gender",
            "Grade_Level",
            "SchoolID",
            "Enroll_Status",
            "EntryDate",
            "ExitDate",
            "EntryCode",
            "ExitCode",
            "ExitComment",
            "Street",
            "City",
            "State",
            "Zip",
            "Home_Phone",
            "Student_Web_ID",
            "FedEthnicity",
        ],
        importable: true,
    },
    Layout {
        file: ImportFile::ReEnrollments,
        name: "reenrollments.txt",
        columns: &[
            "Student_Number",
            "SchoolID",
            "Grade_Level",
            "EntryDate",
            "ExitDate",
            "EntryCode",
            "ExitCode",
            "ExitComment",
        ],
        importable: true,
    },
    Layout {
        file: ImportFile::StudentRace,
        name: "studentrace.txt",
        columns: &["Student_Number", "RaceCD"],
        importable: true,
    },
    Layout {
        file: ImportFile::Teachers,
        name: "teachers.txt",
        columns: &[
            "TeacherNumber",
            "First_Name",
            "Middle_Name",
            "Last_Name",
            "SchoolID",
            "HomeSchoolID",
            "Email_Addr",
            "Status",
            "StaffStatus",
            "Title",
            "TeacherLoginID",
            "SIF_StatePrID",
            "Home_Phone",
        ],
        importable: true,
    },
    Layout {
        file: ImportFile::Courses,
        name: "courses.txt",
        columns: &["Course_Number", "Course_Name", "Credit_Hours", "CreditType", "SchoolID"],
        importable: true,
    },
    Layout {
        file: ImportFile::Sections,
        name: "sections.txt",
        columns: &[
            "SchoolID",
            "Course_Number",
            "Section_Number",
            "TermID",
            "TeacherNumber",
            "Room",
            "Expression",
            "MaxEnrollment",
        ],
        importable: true,
    },
    Layout {
        file: ImportFile::Cc,
        name: "cc.txt",
        columns: &[
            "Student_Number",
            "SchoolID",
            "Course_Number",
            "Section_Number",
            "TermID",
            "DateEnrolled",
            "DateLeft",
        ],
        importable: true,
    },
    Layout {
        file: ImportFile::StoredGrades,
        name: "storedgrades.txt",
        columns: &[
            "Student_Number",
            "SchoolID",
            "SchoolName",
            "Course_Number",
            "Course_Name",
            "TermID",
            "StoreCode",
            "Grade",
            "Percent",
            "GPA_Points",
            "EarnedCrHrs",
            "PotentialCrHrs",
            "Grade_Level",
            "ExcludeFromGPA",
            "Comment_Value",
        ],
        importable: true,
    },
    Layout {
        file: ImportFile::PgFinalGrades,
        name: "pgfinalgrades.txt",
        columns: &[
            "Student_Number",
            "SchoolID",
            "Course_Number",
            "Section_Number",
            "TermID",
            "FinalGradeName",
            "Grade",
            "Percent",
            "Comment_Value",
        ],
        importable: false,
    },
    Layout {
        file: ImportFile::Attendance,
        name: "attendance.txt",
        columns: &[
            "Student_Number",
            "SchoolID",
            "Att_Date",
            "Att_Code",
            "Att_Mode_Code",
            "Total_Minutes",
            "Att_Comment",
        ],
        importable: true,
    },
    Layout {
        file: ImportFile::AttendanceMeeting,
        name: "attendance_meeting.txt",
        columns: &[
            "Student_Number",
            "SchoolID",
            "Att_Date",
            "Att_Code",
            "Att_Mode_Code",
            "Course_Number",
            "Section_Number",
            "TermID",
            "Period",
            "Total_Minutes",
            "Att_Comment",
        ],
        importable: false,
    },
    Layout {
        file: ImportFile::AttendanceCode,
        name: "attendance_code.txt",
        columns: &["SchoolID", "YearID", "Att_Code", "Description", "Presence_Status_CD"],
        importable: false,
    },
    Layout { file: ImportFile::Gen, name: "gen.txt", columns: &["Cat", "Name", "Value"], importable: false },
    Layout {
        file: ImportFile::Contacts,
        name: "contacts.txt",
        columns: &[
            "Contact_ID",
            "Student_Number",
            "Relationship",
            "ContactPriorityOrder",
            "First_Name",
            "Middle_Name",
            "Last_Name",
            "Email",
            "Home_Phone",
            "Mobile_Phone",
            "Work_Phone",
            "Street",
            "City",
            "State",
            "Zip",
            "IsCustodial",
            "IsEmergency",
            "LivesWithFlg",
            "ReceivesMailFlg",
        ],
        importable: true,
    },
];

impl ImportFile {
    /// Every file, in the order of [`LAYOUTS`].
    pub fn all() -> impl Iterator<Item = ImportFile> {
        LAYOUTS.iter().map(|l| l.file)
    }

    fn layout(self) -> &'static Layout {
        // LAYOUTS lists every variant once, in declaration order.
        &LAYOUTS[self as usize]
    }

    /// The file name.
    pub fn name(self) -> &'static str {
        self.layout().name
    }

    /// The PowerSchool columns, in file order.
    pub fn columns(self) -> &'static [&'static str] {
        self.layout().columns
    }

    /// Whether PowerSchool's import tools take the file (else it is a
    /// reference file for the people setting PowerSchool up).
    pub fn importable(self) -> bool {
        self.layout().importable
    }

    /// Its position in [`ImportFile::all`].
    pub fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_the_declaration_order() {
        for (i, l) in LAYOUTS.iter().enumerate() {
            assert_eq!(l.file as usize, i, "{}", l.name);
            assert_eq!(l.file.name(), l.name);
        }
        assert_eq!(ImportFile::all().count(), 16);
    }
}
