//! The code tables and vocabulary of the district tables: log types and
//! their subtypes (Gen `logtype` / `subtype`), special programs (Gen
//! `specprog`), discipline codes, tests and their scores, co-teaching roles
//! and the Incident Management lookup codes.

/// A log type (Gen `cat='logtype'`) with its subtypes (Gen `cat='subtype'`,
/// `Name` = the code Log.Subtype holds, `ValueLI` = the log type's Gen ID).
pub(super) struct LogType {
    pub(super) name: &'static str,
    pub(super) desc: &'static str,
    /// Discipline logs fill the `Discipline_*` columns.
    pub(super) discipline: bool,
    /// `(code, description, subject, entry)`; in the entry, `{first}` is
    /// the student's first name.
    pub(super) subtypes: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

/// Index of the discipline log type in [`LOG_TYPES`].
pub(super) const DISCIPLINE: usize = 0;

pub(super) const LOG_TYPES: &[LogType] = &[
    LogType {
        name: "Discipline",
        desc: "Discipline referral",
        discipline: true,
        subtypes: &[
            (
                "01",
                "Classroom disruption",
                "Disruption in class",
                "{first} was asked several times to stop talking during instruction and was sent to the office.",
            ),
            (
                "02",
                "Fighting",
                "Physical altercation",
                "{first} and another student pushed each other in line; both were separated and parents were called.",
            ),
            (
                "03",
                "Defiance",
                "Refused staff direction",
                "Teacher reported that {first} said \"I'm not doing this\" and walked out of the room.",
            ),
            (
                "04",
                "Electronic device",
                "Phone use during class",
                "{first} refused to hand over a phone during a quiz; the phone was held in the office until dismissal.",
            ),
            (
                "05",
                "Bullying",
                "Bullying report",
                "A classmate reported repeated name-calling by {first}; {first} admitted it and apologised.",
            ),
            (
                "06",
                "Repeated tardiness",
                "Tardy to class, fifth time",
                "{first} arrived late to first period for the fifth time this marking period.",
            ),
        ],
    },
    LogType {
        name: "Attendance",
        desc: "Attendance intervention",
        discipline: false,
        subtypes: &[
            (
                "01",
                "Truancy letter",
                "Truancy letter mailed",
                "Letter mailed home about {first}'s unexcused absences.",
            ),
            (
                "02",
                "Attendance conference",
                "Attendance conference held",
                "Met with {first} and a parent about attendance; an improvement plan was agreed.",
            ),
        ],
    },
    LogType {
        name: "Counseling",
        desc: "Counselor note",
        discipline: false,
        subtypes: &[
            (
                "01",
                "Academic planning",
                "Course planning",
                "Reviewed {first}'s schedule and credits for next year.",
            ),
            (
                "02",
                "Check-in",
                "Social-emotional check-in",
                "{first} stopped by to talk about a conflict with friends; will follow up next week.",
            ),
            (
                "03",
                "College and career",
                "College and career meeting",
                "Discussed summer programs and career interests with {first}.",
            ),
        ],
    },
    LogType {
        name: "Parent Contact",
        desc: "Contact with a parent or guardian",
        discipline: false,
        subtypes: &[
            (
                "01",
                "Phone call",
                "Phone call home",
                "Called home about {first}'s missing assignments; left a voicemail.",
            ),
            (
                "02",
                "E-mail",
                "E-mail to parent",
                "Parent e-mailed asking how {first} is doing in class; replied with current grades.",
            ),
            (
                "03",
                "Conference",
                "Parent conference",
                "Conference with {first}'s family: progress is good, reading at home encouraged.",
            ),
        ],
    },
    LogType {
        name: "Health",
        desc: "Health office visit",
        discipline: false,
        subtypes: &[
            (
                "01",
                "Illness",
                "Sent home ill",
                "{first} came to the nurse with a fever and was picked up by a parent.",
            ),
            ("02", "Injury", "Playground injury", "{first} scraped a knee at recess; cleaned and bandaged."),
            ("03", "Medication", "Medication given", "Inhaler given to {first} as ordered by the physician."),
        ],
    },
    LogType {
        name: "Academic",
        desc: "Academic note",
        discipline: false,
        subtypes: &[
            (
                "01",
                "Missing work",
                "Missing assignments",
                "{first} has four missing assignments this marking period.",
            ),
            ("02", "Recognition", "Honor roll", "{first} made the honor roll; certificate sent home."),
            (
                "03",
                "Intervention referral",
                "Referred for reading support",
                "{first} referred to the intervention team for reading support.",
            ),
        ],
    },
];

/// Discipline: incident type codes, by subtype.
pub(super) const INCIDENT_TYPES: &[&str] = &["DISR", "FIGHT", "DEFY", "ELEC", "BULLY", "TARDY"];

/// Discipline actions: `(code, consequence, days assigned lo..=hi)`.
pub(super) const ACTIONS: &[(&str, &str, i64, i64)] = &[
    ("WARN", "Verbal warning", 0, 0),
    ("CONF", "Parent conference", 0, 0),
    ("DET", "After-school detention", 1, 2),
    ("LOP", "Loss of privileges", 1, 5),
    ("ISS", "In-school suspension", 1, 3),
    ("OSS", "Out-of-school suspension", 1, 5),
];

/// Where incidents happen.
pub(super) const LOCATIONS: &[&str] = &[
    "Classroom",
    "Hallway",
    "Cafeteria",
    "Gymnasium",
    "School bus",
    "Playground",
    "Restroom",
    "Parking lot",
];

/// Special programs (Gen `cat='specprog'`): `(Name, Value)`.
pub(super) const PROGRAMS: &[(&str, &str)] = &[
    ("Special Education", "SPED"),
    ("Section 504", "504"),
    ("English Language Learner", "ELL"),
    ("Gifted and Talented", "GT"),
    ("Title I", "TI"),
    ("Homeless (McKinney-Vento)", "HMLS"),
    ("Free/Reduced Lunch", "FRL"),
];

/// Indexes into [`PROGRAMS`].
pub(super) mod prog {
    pub const SPED: usize = 0;
    pub const S504: usize = 1;
    pub const ELL: usize = 2;
    pub const GIFTED: usize = 3;
    pub const TITLE1: usize = 4;
    pub const HOMELESS: usize = 5;
    pub const FRL: usize = 6;
}

/// Special education disability codes (SPEnrollments.Code1).
pub(super) const DISABILITIES: &[&str] = &["SLD", "SLI", "OHI", "AUT", "ED", "ID", "MD", "HI"];

/// One reported score of a test: `NumScore` from `lo` to `hi` (with
/// `decimals`), `AlphaScore` one of `levels` (if any), `PercentScore` a
/// national percentile (if `percentile`).
pub(super) struct ScoreDef {
    pub(super) name: &'static str,
    pub(super) desc: &'static str,
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) decimals: usize,
    pub(super) levels: &'static [&'static str],
    pub(super) percentile: bool,
}

/// A test (Test.TestType: 1 state, 2 national, 3 district).
pub(super) struct TestDef {
    pub(super) name: &'static str,
    pub(super) desc: &'static str,
    pub(super) ty: i64,
    pub(super) scores: &'static [ScoreDef],
}

const NJSLA_LEVELS: &[&str] = &["Level 1", "Level 2", "Level 3", "Level 4", "Level 5"];
const SCIENCE_LEVELS: &[&str] = &["Level 1", "Level 2", "Level 3", "Level 4"];
const ACCESS_LEVELS: &[&str] = &["Entering", "Emerging", "Developing", "Expanding", "Bridging", "Reaching"];
const BENCHMARK_LEVELS: &[&str] = &["Urgent Intervention", "Intervention", "On Watch", "At/Above Benchmark"];

const fn score(
    name: &'static str,
    desc: &'static str,
    lo: f64,
    hi: f64,
    levels: &'static [&'static str],
    percentile: bool,
) -> ScoreDef {
    ScoreDef { name, desc, lo, hi, decimals: 0, levels, percentile }
}

/// Indexes into [`TESTS`].
pub(super) mod test {
    pub const ELA: usize = 0;
    pub const MATH: usize = 1;
    pub const SCIENCE: usize = 2;
    pub const PSAT: usize = 3;
    pub const SAT: usize = 4;
    pub const ACCESS: usize = 5;
    pub const BENCHMARK: usize = 6;
}

pub(super) const TESTS: &[TestDef] = &[
    TestDef {
        name: "NJSLA ELA",
        desc: "New Jersey Student Learning Assessment, English Language Arts",
        ty: 1,
        scores: &[
            score("ELA Scale Score", "Scale score", 650.0, 850.0, &[], false),
            score("ELA Performance Level", "Performance level", 1.0, 5.0, NJSLA_LEVELS, false),
        ],
    },
    TestDef {
        name: "NJSLA Math",
        desc: "New Jersey Student Learning Assessment, Mathematics",
        ty: 1,
        scores: &[
            score("Math Scale Score", "Scale score", 650.0, 850.0, &[], false),
            score("Math Performance Level", "Performance level", 1.0, 5.0, NJSLA_LEVELS, false),
        ],
    },
    TestDef {
        name: "NJSLA Science",
        desc: "New Jersey Student Learning Assessment, Science",
        ty: 1,
        scores: &[
            score("Science Scale Score", "Scale score", 100.0, 300.0, &[], false),
            score("Science Performance Level", "Performance level", 1.0, 4.0, SCIENCE_LEVELS, false),
        ],
    },
    TestDef {
        name: "PSAT/NMSQT",
        desc: "Preliminary SAT / National Merit Scholarship Qualifying Test",
        ty: 2,
        scores: &[
            score("PSAT Total", "Total score", 320.0, 1520.0, &[], true),
            score("PSAT EBRW", "Evidence-Based Reading and Writing", 160.0, 760.0, &[], false),
            score("PSAT Math", "Math section", 160.0, 760.0, &[], false),
        ],
    },
    TestDef {
        name: "SAT",
        desc: "SAT",
        ty: 2,
        scores: &[
            score("SAT Total", "Total score", 400.0, 1600.0, &[], true),
            score("SAT EBRW", "Evidence-Based Reading and Writing", 200.0, 800.0, &[], false),
            score("SAT Math", "Math section", 200.0, 800.0, &[], false),
        ],
    },
    TestDef {
        name: "ACCESS for ELLs",
        desc: "English language proficiency assessment",
        ty: 1,
        scores: &[
            ScoreDef {
                name: "Overall Composite",
                desc: "Overall proficiency level",
                lo: 1.0,
                hi: 6.0,
                decimals: 1,
                levels: ACCESS_LEVELS,
                percentile: false,
            },
            ScoreDef {
                name: "Oral Language",
                desc: "Listening and speaking",
                lo: 1.0,
                hi: 6.0,
                decimals: 1,
                levels: &[],
                percentile: false,
            },
        ],
    },
    TestDef {
        name: "District Benchmark",
        desc: "District reading and mathematics screener, fall and winter",
        ty: 3,
        scores: &[
            score("Reading", "Reading scale score", 300.0, 900.0, BENCHMARK_LEVELS, true),
            score("Mathematics", "Mathematics scale score", 300.0, 900.0, BENCHMARK_LEVELS, true),
        ],
    },
];

/// RoleDef rows: `(Name, Description)`; RoleDef.ID is the index + 1.
pub(super) const ROLES: &[(&str, &str)] = &[
    ("Lead Teacher", "Teacher of record"),
    ("Co-teacher", "Shares instruction with the lead teacher"),
    ("Support Staff", "Aide or specialist supporting the section"),
    ("Student Teacher", "Teacher candidate in a placement"),
];

/// RoleDef ids.
pub(super) mod role {
    pub const LEAD: i64 = 1;
    pub const CO_TEACHER: i64 = 2;
    pub const SUPPORT: i64 = 3;
}

/// Incident_LU_Code rows: `(Code_Type, Incident_Category, Short_Desc,
/// Long_Desc, State_Aggregate_Rpt_Code)`; LU_Code_ID is the index + 1.
/// The incident types follow [`INCIDENT_TYPES`], the actions [`ACTIONS`].
pub(super) const LU_CODES: &[(&str, &str, &str, &str, &str)] = &[
    ("incidenttypecode", "Behavior", "DISR", "Classroom disruption", "B01"),
    ("incidenttypecode", "Behavior", "FIGHT", "Fighting", "V02"),
    ("incidenttypecode", "Behavior", "DEFY", "Defiance of authority", "B03"),
    ("incidenttypecode", "Behavior", "ELEC", "Misuse of electronic device", "B04"),
    ("incidenttypecode", "Behavior", "BULLY", "Harassment, intimidation or bullying", "H01"),
    ("incidenttypecode", "Behavior", "TARDY", "Repeated tardiness", "B06"),
    ("actioncode", "Action", "WARN", "Verbal warning", ""),
    ("actioncode", "Action", "CONF", "Parent conference", ""),
    ("actioncode", "Action", "DET", "After-school detention", ""),
    ("actioncode", "Action", "LOP", "Loss of privileges", ""),
    ("actioncode", "Action", "ISS", "In-school suspension", "S1"),
    ("actioncode", "Action", "OSS", "Out-of-school suspension", "S2"),
    ("persontype", "Offender", "OFF", "Offender", ""),
    ("persontype", "Victim", "VIC", "Victim", ""),
    ("persontype", "Witness", "WIT", "Witness", ""),
];

/// LU_Code_ID of the first incident type, action and person role.
pub(super) const LU_TYPE0: i64 = 1;
pub(super) const LU_ACTION0: i64 = 7;
pub(super) const LU_OFFENDER: i64 = 13;
pub(super) const LU_VICTIM: i64 = 14;
pub(super) const LU_WITNESS: i64 = 15;

/// Home languages (U_StudentsUserFields.Home_Language) of English learners.
pub(super) const LANGUAGES: &[&str] =
    &["Spanish", "Portuguese", "Polish", "Korean", "Arabic", "Haitian Creole"];

/// Medical alerts (U_StudentsUserFields.Medical_Alert).
pub(super) const MEDICAL: &[&str] =
    &["Peanut allergy – EpiPen in nurse's office", "Asthma", "Type 1 diabetes", "Bee sting allergy"];

/// Bell schedules of every school and year: `(Name, minutes per period,
/// start offset in minutes)`.
pub(super) const BELLS: &[(&str, i64, i64)] =
    &[("Regular Day", 0, 0), ("Early Dismissal", -18, 0), ("Delayed Opening", -12, 90)];

/// Index of the bell schedules in [`BELLS`].
pub(super) mod bell {
    pub const REGULAR: usize = 0;
    pub const EARLY: usize = 1;
    pub const DELAYED: usize = 2;
}
