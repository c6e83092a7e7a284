//! The OneRoster CSV binding as data: files, their columns in specification
//! order, data types, required-ness, enumerations and the file dependencies
//! of a bulk package, for versions 1.1 and 1.2 (1.2.1; the 1.2.0 users layout
//! is accepted too).
//!
//! Sources: the 1EdTech OneRoster 1.2.1 CSV binding (Final, 2023) and its
//! change list from 1.1, as summarised in the team's reference notes.

use std::fmt;

/// A version of the CSV binding, as `oneroster.version` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Version {
    /// OneRoster 1.1 (2017; reissued as 1.1.1).
    #[serde(rename = "1.1")]
    V1_1,
    /// OneRoster 1.2 (1.2.1 columns; the 1.2.0 users layout is accepted).
    #[serde(rename = "1.2")]
    V1_2,
}

impl Version {
    /// The manifest's `oneroster.version` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
        }
    }

    /// Parses `1.1`, `1.2` (and `1.2.0`, `1.2.1`, `v1p2`, `1.1.1`).
    pub fn parse(s: &str) -> Option<Version> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1.1" | "1.1.1" | "v1p1" => Some(Version::V1_1),
            "1.2" | "1.2.0" | "1.2.1" | "v1p2" => Some(Version::V1_2),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a column must hold a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Required {
    /// Always required.
    Yes,
    /// Required in a delta file, and empty in a bulk file (`status`,
    /// `dateLastModified`).
    Delta,
    /// Optional.
    No,
}

/// The format of a column's values (OR-CSV-1.2.1 §3 key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// An object's own id: fewer than 256 characters of `0-9 a-z A-Z . - _ / @`.
    Guid,
    /// The GUID of an object of the named file (without `.csv`).
    GuidRef(&'static str),
    /// A comma-separated list of GUID references into the named file, quoted.
    GuidRefList(&'static str),
    /// A real 128-bit UUID (learning-objective ids).
    UuidRef,
    /// An identifier defined outside OneRoster (vendor ids): any non-empty text.
    Id,
    /// One token of the enumeration.
    Enum(&'static Enumeration),
    /// A comma-separated list of tokens of the enumeration.
    EnumList(&'static Enumeration),
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DDTHH:MM:SS.sssZ` (W3C profile of ISO 8601, UTC).
    DateTime,
    /// `YYYY`: the year the school year ends.
    Year,
    /// `true` or `false`, lower case.
    Boolean,
    /// A floating-point number.
    Float,
    /// A whole number (categories' `weight`).
    Integer,
    /// Free text.
    String,
    /// A comma-separated list of strings (quoted when more than one).
    StringList,
    /// `{Type:Id}` items, comma-separated.
    UserIds,
    /// `{LHS:RHS}` items, comma-separated.
    ScoreScaleValue,
}

impl DataType {
    /// A short name of the type, for messages and the JSON report.
    pub fn name(&self) -> &'static str {
        match self {
            DataType::Guid => "GUID",
            DataType::GuidRef(_) => "GUID reference",
            DataType::GuidRefList(_) => "list of GUID references",
            DataType::UuidRef => "UUID reference",
            DataType::Id => "ID",
            DataType::Enum(_) => "enumeration",
            DataType::EnumList(_) => "enumeration list",
            DataType::Date => "date",
            DataType::DateTime => "datetime",
            DataType::Year => "year",
            DataType::Boolean => "boolean",
            DataType::Float => "float",
            DataType::Integer => "integer",
            DataType::String => "string",
            DataType::StringList => "list of strings",
            DataType::UserIds => "userIds",
            DataType::ScoreScaleValue => "scoreScaleValue",
        }
    }

    /// The file a reference column points into, if it is one.
    pub fn target(&self) -> Option<&'static str> {
        match self {
            DataType::GuidRef(t) | DataType::GuidRefList(t) => Some(t),
            _ => None,
        }
    }
}

/// An enumerated vocabulary.
#[derive(Debug, PartialEq, Eq)]
pub struct Enumeration {
    /// A name for messages (`classType`, `role`...).
    pub name: &'static str,
    /// The exact tokens of 1.1 (case-sensitive).
    pub tokens_1_1: &'static [&'static str],
    /// The exact tokens of 1.2 (case-sensitive).
    pub tokens_1_2: &'static [&'static str],
    /// 1.2 allows proprietary tokens starting with `ext:` (1.1 forbids any).
    pub extensible_1_2: bool,
    /// Lenient spellings real packages use, and the token they mean (matched
    /// case-insensitively). A token differing only by case is always an alias.
    pub aliases: &'static [(&'static str, &'static str)],
}

impl Enumeration {
    /// The exact tokens for a version.
    pub fn tokens(&self, version: Version) -> &'static [&'static str] {
        match version {
            Version::V1_1 => self.tokens_1_1,
            Version::V1_2 => self.tokens_1_2,
        }
    }

    /// Whether `value` is exactly one of the version's tokens (or an `ext:`
    /// token where the version allows it).
    pub fn is_token(&self, version: Version, value: &str) -> bool {
        self.tokens(version).contains(&value)
            || (version == Version::V1_2 && self.extensible_1_2 && is_ext_token(value))
    }

    /// The token a lenient spelling means: the same token in another case,
    /// or one of the aliases. `None` when the value means nothing known.
    pub fn lenient(&self, version: Version, value: &str) -> Option<&'static str> {
        let tokens = self.tokens(version);
        if let Some(t) = tokens.iter().find(|t| t.eq_ignore_ascii_case(value)) {
            return Some(t);
        }
        self.aliases
            .iter()
            .find(|(alias, target)| alias.eq_ignore_ascii_case(value.trim()) && tokens.contains(target))
            .map(|(_, target)| *target)
    }
}

/// `ext:` followed by at least one character.
pub fn is_ext_token(value: &str) -> bool {
    value.len() > 4 && value.starts_with("ext:")
}

/// One column of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header name, exact case.
    pub name: &'static str,
    /// Whether it must hold a value.
    pub required: Required,
    /// The format of its values.
    pub data_type: DataType,
    /// The column holds personal data (names, contact details, birth date,
    /// passwords...): messages never print its values.
    pub personal: bool,
    /// The column may be left out of the header altogether (1.2.0's
    /// `users.resourceSourcedIds`, removed in 1.2.1).
    pub may_be_absent: bool,
}

/// One data file of a package.
#[derive(Debug)]
pub struct FileSpec {
    /// The file's name without `.csv` (also its manifest row: `file.<name>`).
    pub name: &'static str,
    /// Its columns in specification order.
    pub columns: &'static [Column],
}

impl FileSpec {
    /// `<name>.csv`.
    pub fn file_name(&self) -> String {
        format!("{}.csv", self.name)
    }

    /// A column by exact name.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// A column by name, ignoring ASCII case.
    pub fn column_ignore_case(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The files this one references (its dependencies in a bulk package),
    /// itself excluded, in column order, each once.
    pub fn dependencies(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for c in self.columns {
            if let Some(t) = c.data_type.target()
                && t != self.name
                && !out.contains(&t)
            {
                out.push(t);
            }
        }
        out
    }
}

// ---------------------------------------------------------------- enumerations

/// Record status.
pub static STATUS: Enumeration = Enumeration {
    name: "status",
    tokens_1_1: &["active", "tobedeleted"],
    tokens_1_2: &["active", "tobedeleted"],
    extensible_1_2: false,
    // OneRoster 1.0 had `inactive`; 1.1 folded it into tobedeleted.
    aliases: &[("inactive", "tobedeleted"), ("deleted", "tobedeleted"), ("to be deleted", "tobedeleted")],
};

/// academicSessions.type.
pub static SESSION_TYPE: Enumeration = Enumeration {
    name: "academicSession type",
    tokens_1_1: &["gradingPeriod", "semester", "schoolYear", "term"],
    tokens_1_2: &["gradingPeriod", "semester", "schoolYear", "term"],
    extensible_1_2: true,
    aliases: &[("grading period", "gradingPeriod"), ("school year", "schoolYear"), ("year", "schoolYear")],
};

/// orgs.type.
pub static ORG_TYPE: Enumeration = Enumeration {
    name: "org type",
    tokens_1_1: &["department", "school", "district", "local", "state", "national"],
    tokens_1_2: &["department", "school", "district", "local", "state", "national"],
    extensible_1_2: true,
    aliases: &[],
};

/// classes.classType.
pub static CLASS_TYPE: Enumeration = Enumeration {
    name: "classType",
    tokens_1_1: &["homeroom", "scheduled"],
    tokens_1_2: &["homeroom", "scheduled"],
    extensible_1_2: true,
    aliases: &[],
};

/// users.role (1.1) and roles.role (1.2).
pub static USER_ROLE: Enumeration = Enumeration {
    name: "role",
    tokens_1_1: &["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"],
    tokens_1_2: &[
        "aide",
        "counselor",
        "districtAdministrator",
        "guardian",
        "parent",
        "principal",
        "proctor",
        "relative",
        "siteAdministrator",
        "student",
        "systemAdministrator",
        "teacher",
    ],
    extensible_1_2: true,
    aliases: &[
        ("district administrator", "districtAdministrator"),
        ("site administrator", "siteAdministrator"),
        ("system administrator", "systemAdministrator"),
    ],
};

/// roles.roleType (1.2).
pub static ROLE_TYPE: Enumeration = Enumeration {
    name: "roleType",
    tokens_1_1: &[],
    tokens_1_2: &["primary", "secondary"],
    extensible_1_2: false,
    aliases: &[],
};

/// enrollments.role: a smaller set than users' roles.
pub static ENROLLMENT_ROLE: Enumeration = Enumeration {
    name: "enrollment role",
    tokens_1_1: &["administrator", "proctor", "student", "teacher"],
    tokens_1_2: &["administrator", "proctor", "student", "teacher"],
    extensible_1_2: true,
    aliases: &[],
};

/// `true` | `false` as an enumeration (enrollments.primary, the demographics
/// race flags).
pub static TRUE_FALSE: Enumeration = Enumeration {
    name: "true/false",
    tokens_1_1: &["true", "false"],
    tokens_1_2: &["true", "false"],
    extensible_1_2: false,
    aliases: &[
        ("1", "true"),
        ("0", "false"),
        ("yes", "true"),
        ("no", "false"),
        ("y", "true"),
        ("n", "false"),
    ],
};

/// demographics.sex.
pub static SEX: Enumeration = Enumeration {
    name: "sex",
    tokens_1_1: &["male", "female"],
    tokens_1_2: &["male", "female", "other", "unspecified"],
    extensible_1_2: true,
    aliases: &[("m", "male"), ("f", "female")],
};

/// results.scoreStatus (tokens with spaces).
pub static SCORE_STATUS: Enumeration = Enumeration {
    name: "scoreStatus",
    tokens_1_1: &["exempt", "fully graded", "not submitted", "partially graded", "submitted"],
    tokens_1_2: &["exempt", "fully graded", "not submitted", "partially graded", "submitted"],
    extensible_1_2: true,
    aliases: &[
        ("fullyGraded", "fully graded"),
        ("fully_graded", "fully graded"),
        ("notSubmitted", "not submitted"),
        ("not_submitted", "not submitted"),
        ("partiallyGraded", "partially graded"),
        ("partially_graded", "partially graded"),
    ],
};

/// resources.importance.
pub static IMPORTANCE: Enumeration = Enumeration {
    name: "importance",
    tokens_1_1: &["primary", "secondary"],
    tokens_1_2: &["primary", "secondary"],
    extensible_1_2: false,
    aliases: &[],
};

/// resources.roles (an enumeration list).
pub static RESOURCE_ROLE: Enumeration = Enumeration {
    name: "resource role",
    tokens_1_1: &["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"],
    tokens_1_2: &["administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher"],
    extensible_1_2: true,
    aliases: &[],
};

/// The `source` of a learning-objective id (1.2).
pub static LO_SOURCE: Enumeration = Enumeration {
    name: "learning-objective source",
    tokens_1_1: &[],
    tokens_1_2: &["case", "unknown"],
    extensible_1_2: true,
    aliases: &[],
};

/// Every enumeration, for documentation and tests.
pub static ENUMERATIONS: &[&Enumeration] = &[
    &STATUS,
    &SESSION_TYPE,
    &ORG_TYPE,
    &CLASS_TYPE,
    &USER_ROLE,
    &ROLE_TYPE,
    &ENROLLMENT_ROLE,
    &TRUE_FALSE,
    &SEX,
    &SCORE_STATUS,
    &IMPORTANCE,
    &RESOURCE_ROLE,
    &LO_SOURCE,
];

/// Boolean spellings real packages use, and what they mean. The spec allows
/// only `true` and `false`.
pub fn lenient_boolean(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "t" => Some(true),
        "false" | "0" | "no" | "n" | "f" => Some(false),
        _ => None,
    }
}

// --------------------------------------------------------------------- columns

const fn col(name: &'static str, required: Required, data_type: DataType) -> Column {
    Column { name, required, data_type, personal: false, may_be_absent: false }
}

const fn pii(name: &'static str, required: Required, data_type: DataType) -> Column {
    Column { name, required, data_type, personal: true, may_be_absent: false }
}

use DataType as T;
use Required::{Delta, No, Yes};

const SOURCED_ID: Column = col("sourcedId", Yes, T::Guid);
const STATUS_COL: Column = col("status", Delta, T::Enum(&STATUS));
const DLM: Column = col("dateLastModified", Delta, T::DateTime);

static ACADEMIC_SESSIONS: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("title", Yes, T::String),
    col("type", Yes, T::Enum(&SESSION_TYPE)),
    col("startDate", Yes, T::Date),
    col("endDate", Yes, T::Date),
    col("parentSourcedId", No, T::GuidRef("academicSessions")),
    col("schoolYear", Yes, T::Year),
];

static ORGS: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("name", Yes, T::String),
    col("type", Yes, T::Enum(&ORG_TYPE)),
    col("identifier", No, T::String),
    col("parentSourcedId", No, T::GuidRef("orgs")),
];

static COURSES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("schoolYearSourcedId", No, T::GuidRef("academicSessions")),
    col("title", Yes, T::String),
    col("courseCode", No, T::String),
    col("grades", No, T::StringList),
    col("orgSourcedId", Yes, T::GuidRef("orgs")),
    col("subjects", No, T::StringList),
    col("subjectCodes", No, T::StringList),
];

static CLASSES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("title", Yes, T::String),
    col("grades", No, T::StringList),
    col("courseSourcedId", Yes, T::GuidRef("courses")),
    col("classCode", No, T::String),
    col("classType", Yes, T::Enum(&CLASS_TYPE)),
    col("location", No, T::String),
    col("schoolSourcedId", Yes, T::GuidRef("orgs")),
    col("termSourcedIds", Yes, T::GuidRefList("academicSessions")),
    col("subjects", No, T::StringList),
    col("subjectCodes", No, T::StringList),
    col("periods", No, T::StringList),
];

static USERS_1_1: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("enabledUser", Yes, T::Boolean),
    col("orgSourcedIds", Yes, T::GuidRefList("orgs")),
    col("role", Yes, T::Enum(&USER_ROLE)),
    pii("username", Yes, T::String),
    col("userIds", No, T::UserIds),
    pii("givenName", Yes, T::String),
    pii("familyName", Yes, T::String),
    pii("middleName", No, T::String),
    col("identifier", No, T::String),
    pii("email", No, T::String),
    pii("sms", No, T::String),
    pii("phone", No, T::String),
    col("agentSourcedIds", No, T::GuidRefList("users")),
    col("grades", No, T::StringList),
    pii("password", No, T::String),
];

static USERS_1_2: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("enabledUser", Yes, T::Boolean),
    pii("username", Yes, T::String),
    col("userIds", No, T::UserIds),
    pii("givenName", Yes, T::String),
    pii("familyName", Yes, T::String),
    pii("middleName", No, T::String),
    col("identifier", No, T::String),
    pii("email", No, T::String),
    pii("sms", No, T::String),
    pii("phone", No, T::String),
    col("agentSourcedIds", No, T::GuidRefList("users")),
    col("grades", No, T::StringList),
    pii("password", No, T::String),
    col("userMasterIdentifier", No, T::String),
    // 1.2.0 only; 1.2.1 removed it. Accepted where it stands, never written.
    Column {
        name: "resourceSourcedIds",
        required: No,
        data_type: T::GuidRefList("resources"),
        personal: false,
        may_be_absent: true,
    },
    pii("preferredGivenName", No, T::String),
    pii("preferredMiddleName", No, T::String),
    pii("preferredFamilyName", No, T::String),
    col("primaryOrgSourcedId", No, T::GuidRef("orgs")),
    pii("pronouns", No, T::String),
];

static ROLES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("userSourcedId", Yes, T::GuidRef("users")),
    col("roleType", Yes, T::Enum(&ROLE_TYPE)),
    col("role", Yes, T::Enum(&USER_ROLE)),
    col("beginDate", No, T::Date),
    col("endDate", No, T::Date),
    col("orgSourcedId", Yes, T::GuidRef("orgs")),
    col("userProfileSourcedId", No, T::GuidRef("userProfiles")),
];

static USER_PROFILES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("userSourcedId", Yes, T::GuidRef("users")),
    col("profileType", Yes, T::String),
    col("vendorId", Yes, T::String),
    col("applicationId", No, T::String),
    col("description", No, T::String),
    col("credentialType", Yes, T::String),
    pii("username", Yes, T::String),
    pii("password", No, T::String),
];

static ENROLLMENTS: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("classSourcedId", Yes, T::GuidRef("classes")),
    col("schoolSourcedId", Yes, T::GuidRef("orgs")),
    col("userSourcedId", Yes, T::GuidRef("users")),
    col("role", Yes, T::Enum(&ENROLLMENT_ROLE)),
    col("primary", No, T::Enum(&TRUE_FALSE)),
    col("beginDate", No, T::Date),
    col("endDate", No, T::Date),
];

static DEMOGRAPHICS_1_1: &[Column] = &[
    // The sourcedId is the user's.
    col("sourcedId", Yes, T::GuidRef("users")),
    STATUS_COL,
    DLM,
    pii("birthDate", No, T::Date),
    pii("sex", No, T::Enum(&SEX)),
    pii("americanIndianOrAlaskaNative", No, T::Enum(&TRUE_FALSE)),
    pii("asian", No, T::Enum(&TRUE_FALSE)),
    pii("blackOrAfricanAmerican", No, T::Enum(&TRUE_FALSE)),
    pii("nativeHawaiianOrOtherPacificIslander", No, T::Enum(&TRUE_FALSE)),
    pii("white", No, T::Enum(&TRUE_FALSE)),
    pii("demographicRaceTwoOrMoreRaces", No, T::Enum(&TRUE_FALSE)),
    pii("hispanicOrLatinoEthnicity", No, T::Enum(&TRUE_FALSE)),
    pii("countryOfBirthCode", No, T::String),
    pii("stateOfBirthAbbreviation", No, T::String),
    pii("cityOfBirth", No, T::String),
    pii("publicSchoolResidenceStatus", No, T::String),
];

static CATEGORIES_1_1: &[Column] = &[SOURCED_ID, STATUS_COL, DLM, col("title", Yes, T::String)];

static CATEGORIES_1_2: &[Column] =
    &[SOURCED_ID, STATUS_COL, DLM, col("title", Yes, T::String), col("weight", No, T::Integer)];

static LINE_ITEMS_1_1: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("title", Yes, T::String),
    col("description", No, T::String),
    col("assignDate", Yes, T::Date),
    col("dueDate", Yes, T::Date),
    col("classSourcedId", Yes, T::GuidRef("classes")),
    col("categorySourcedId", Yes, T::GuidRef("categories")),
    col("gradingPeriodSourcedId", Yes, T::GuidRef("academicSessions")),
    col("resultValueMin", Yes, T::Float),
    col("resultValueMax", Yes, T::Float),
];

static LINE_ITEMS_1_2: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("title", Yes, T::String),
    col("description", No, T::String),
    col("assignDate", Yes, T::Date),
    col("dueDate", Yes, T::Date),
    col("classSourcedId", Yes, T::GuidRef("classes")),
    col("categorySourcedId", Yes, T::GuidRef("categories")),
    col("academicSessionSourcedId", Yes, T::GuidRef("academicSessions")),
    col("resultValueMin", No, T::Float),
    col("resultValueMax", No, T::Float),
    col("schoolSourcedId", Yes, T::GuidRef("orgs")),
];

static RESULTS_1_1: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("lineItemSourcedId", Yes, T::GuidRef("lineItems")),
    col("studentSourcedId", Yes, T::GuidRef("users")),
    col("scoreStatus", Yes, T::Enum(&SCORE_STATUS)),
    col("score", Yes, T::Float),
    col("scoreDate", Yes, T::Date),
    col("comment", No, T::String),
];

static RESULTS_1_2: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("lineItemSourcedId", Yes, T::GuidRef("lineItems")),
    col("studentSourcedId", Yes, T::GuidRef("users")),
    col("scoreStatus", Yes, T::Enum(&SCORE_STATUS)),
    col("score", No, T::Float),
    col("scoreDate", Yes, T::Date),
    col("comment", No, T::String),
    col("textScore", No, T::String),
    col("classSourcedId", No, T::GuidRef("classes")),
    col("inProgress", No, T::Boolean),
    col("incomplete", No, T::Boolean),
    col("late", No, T::Boolean),
    col("missing", No, T::Boolean),
];

static SCORE_SCALES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("title", Yes, T::String),
    col("type", Yes, T::String),
    col("orgSourcedId", Yes, T::GuidRef("orgs")),
    col("courseSourcedId", Yes, T::GuidRef("courses")),
    col("classSourcedId", Yes, T::GuidRef("classes")),
    col("scoreScaleValue", Yes, T::ScoreScaleValue),
];

static LINE_ITEM_SCORE_SCALES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("title", No, T::String),
    col("lineItemSourcedId", Yes, T::GuidRef("lineItems")),
    col("scoreScaleSourcedId", Yes, T::GuidRef("scoreScales")),
];

static RESULT_SCORE_SCALES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("title", No, T::String),
    col("resultSourcedId", Yes, T::GuidRef("results")),
    col("scoreScaleSourcedId", Yes, T::GuidRef("scoreScales")),
];

static LINE_ITEM_LO_IDS: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("lineItemSourcedId", Yes, T::GuidRef("lineItems")),
    col("source", Yes, T::Enum(&LO_SOURCE)),
    col("learningObjectiveId", Yes, T::UuidRef),
];

static RESULT_LO_IDS: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("resultSourcedId", Yes, T::GuidRef("results")),
    col("source", Yes, T::Enum(&LO_SOURCE)),
    col("learningObjectiveId", Yes, T::UuidRef),
    col("score", No, T::Float),
    col("textScore", No, T::String),
];

static RESOURCES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("vendorResourceId", Yes, T::Id),
    col("title", No, T::String),
    col("roles", No, T::EnumList(&RESOURCE_ROLE)),
    col("importance", No, T::Enum(&IMPORTANCE)),
    col("vendorId", No, T::String),
    col("applicationId", No, T::String),
];

static CLASS_RESOURCES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("title", No, T::String),
    col("classSourcedId", Yes, T::GuidRef("classes")),
    col("resourceSourcedId", Yes, T::GuidRef("resources")),
];

static COURSE_RESOURCES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("title", No, T::String),
    col("courseSourcedId", Yes, T::GuidRef("courses")),
    col("resourceSourcedId", Yes, T::GuidRef("resources")),
];

static USER_RESOURCES: &[Column] = &[
    SOURCED_ID,
    STATUS_COL,
    DLM,
    col("userSourcedId", Yes, T::GuidRef("users")),
    col("orgSourcedId", No, T::GuidRef("orgs")),
    col("classSourcedId", No, T::GuidRef("classes")),
    col("resourceSourcedId", Yes, T::GuidRef("resources")),
];

/// The 13 data files of 1.1, in manifest order.
pub static FILES_1_1: &[FileSpec] = &[
    FileSpec { name: "academicSessions", columns: ACADEMIC_SESSIONS },
    FileSpec { name: "categories", columns: CATEGORIES_1_1 },
    FileSpec { name: "classes", columns: CLASSES },
    FileSpec { name: "classResources", columns: CLASS_RESOURCES },
    FileSpec { name: "courses", columns: COURSES },
    FileSpec { name: "courseResources", columns: COURSE_RESOURCES },
    FileSpec { name: "demographics", columns: DEMOGRAPHICS_1_1 },
    FileSpec { name: "enrollments", columns: ENROLLMENTS },
    FileSpec { name: "lineItems", columns: LINE_ITEMS_1_1 },
    FileSpec { name: "orgs", columns: ORGS },
    FileSpec { name: "resources", columns: RESOURCES },
    FileSpec { name: "results", columns: RESULTS_1_1 },
    FileSpec { name: "users", columns: USERS_1_1 },
];

/// The 21 data files of 1.2, in manifest order.
pub static FILES_1_2: &[FileSpec] = &[
    FileSpec { name: "academicSessions", columns: ACADEMIC_SESSIONS },
    FileSpec { name: "categories", columns: CATEGORIES_1_2 },
    FileSpec { name: "classes", columns: CLASSES },
    FileSpec { name: "classResources", columns: CLASS_RESOURCES },
    FileSpec { name: "courses", columns: COURSES },
    FileSpec { name: "courseResources", columns: COURSE_RESOURCES },
    FileSpec { name: "demographics", columns: DEMOGRAPHICS_1_1 },
    FileSpec { name: "enrollments", columns: ENROLLMENTS },
    FileSpec { name: "lineItemLearningObjectiveIds", columns: LINE_ITEM_LO_IDS },
    FileSpec { name: "lineItems", columns: LINE_ITEMS_1_2 },
    FileSpec { name: "lineItemScoreScales", columns: LINE_ITEM_SCORE_SCALES },
    FileSpec { name: "orgs", columns: ORGS },
    FileSpec { name: "resources", columns: RESOURCES },
    FileSpec { name: "resultLearningObjectiveIds", columns: RESULT_LO_IDS },
    FileSpec { name: "results", columns: RESULTS_1_2 },
    FileSpec { name: "resultScoreScales", columns: RESULT_SCORE_SCALES },
    FileSpec { name: "roles", columns: ROLES },
    FileSpec { name: "scoreScales", columns: SCORE_SCALES },
    FileSpec { name: "userProfiles", columns: USER_PROFILES },
    FileSpec { name: "userResources", columns: USER_RESOURCES },
    FileSpec { name: "users", columns: USERS_1_2 },
];

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.csv";

/// The manifest's two columns.
pub const MANIFEST_HEADER: [&str; 2] = ["propertyName", "value"];

/// The only `manifest.version` of 1.1 and 1.2.
pub const MANIFEST_VERSION: &str = "1.0";

/// Every data file of a version, in manifest order.
pub fn files(version: Version) -> &'static [FileSpec] {
    match version {
        Version::V1_1 => FILES_1_1,
        Version::V1_2 => FILES_1_2,
    }
}

/// A data file by its name without `.csv`, exact case.
pub fn file(version: Version, name: &str) -> Option<&'static FileSpec> {
    files(version).iter().find(|f| f.name == name)
}

/// A data file by its name without `.csv`, ignoring ASCII case.
pub fn file_ignore_case(version: Version, name: &str) -> Option<&'static FileSpec> {
    files(version).iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// The files of a version in an order where every file comes after those it
/// references (a bulk package's dependency order: orgs and sessions first).
pub fn dependency_order(version: Version) -> Vec<&'static FileSpec> {
    let all = files(version);
    let mut done: Vec<&'static FileSpec> = Vec::new();
    while done.len() < all.len() {
        let before = done.len();
        for f in all {
            if done.iter().any(|d| d.name == f.name) {
                continue;
            }
            let ready = f
                .dependencies()
                .iter()
                .all(|dep| done.iter().any(|d| d.name == *dep) || file(version, dep).is_none());
            if ready {
                done.push(f);
            }
        }
        if done.len() == before {
            // A cycle (users ↔ roles through nothing today): append the rest.
            for f in all {
                if !done.iter().any(|d| d.name == f.name) {
                    done.push(f);
                }
            }
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_counts_match_the_spec() {
        assert_eq!(FILES_1_1.len(), 13);
        assert_eq!(FILES_1_2.len(), 21);
    }

    #[test]
    fn every_file_starts_with_the_three_common_columns() {
        for v in [Version::V1_1, Version::V1_2] {
            for f in files(v) {
                let names: Vec<_> = f.columns.iter().take(3).map(|c| c.name).collect();
                assert_eq!(names, ["sourcedId", "status", "dateLastModified"], "{}", f.name);
                assert_eq!(f.columns[1].required, Delta);
                assert_eq!(f.columns[2].required, Delta);
            }
        }
    }

    #[test]
    fn references_name_files_of_the_version() {
        for v in [Version::V1_1, Version::V1_2] {
            for f in files(v) {
                for c in f.columns {
                    if let Some(t) = c.data_type.target() {
                        assert!(
                            file(v, t).is_some() || (v == Version::V1_2 && c.may_be_absent),
                            "{v} {}.{} → {t}",
                            f.name,
                            c.name
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn users_differ_between_versions() {
        let u11 = file(Version::V1_1, "users").unwrap();
        let u12 = file(Version::V1_2, "users").unwrap();
        assert!(u11.column("role").is_some() && u11.column("orgSourcedIds").is_some());
        assert!(u12.column("role").is_none() && u12.column("pronouns").is_some());
        assert!(u12.column("resourceSourcedIds").unwrap().may_be_absent);
        assert!(file(Version::V1_1, "roles").is_none());
    }

    #[test]
    fn enumerations_are_exact_with_lenient_aliases() {
        assert!(CLASS_TYPE.is_token(Version::V1_1, "scheduled"));
        assert!(!CLASS_TYPE.is_token(Version::V1_1, "Scheduled"));
        assert_eq!(CLASS_TYPE.lenient(Version::V1_1, "Scheduled"), Some("scheduled"));
        assert!(CLASS_TYPE.is_token(Version::V1_2, "ext:lab"));
        assert!(!CLASS_TYPE.is_token(Version::V1_1, "ext:lab"));
        assert_eq!(STATUS.lenient(Version::V1_1, "inactive"), Some("tobedeleted"));
        assert_eq!(SCORE_STATUS.lenient(Version::V1_2, "fullyGraded"), Some("fully graded"));
        assert!(!USER_ROLE.is_token(Version::V1_2, "administrator"));
        assert!(SEX.is_token(Version::V1_2, "other") && !SEX.is_token(Version::V1_1, "other"));
        assert_eq!(lenient_boolean("TRUE"), Some(true));
    }

    #[test]
    fn dependency_order_puts_references_first() {
        for v in [Version::V1_1, Version::V1_2] {
            let order = dependency_order(v);
            let pos = |n: &str| order.iter().position(|f| f.name == n).unwrap();
            assert!(pos("orgs") < pos("courses"));
            assert!(pos("courses") < pos("classes"));
            assert!(pos("classes") < pos("enrollments"));
            assert!(pos("users") < pos("enrollments"));
            assert!(pos("lineItems") < pos("results"));
        }
        assert_eq!(file(Version::V1_1, "enrollments").unwrap().dependencies(), ["classes", "orgs", "users"]);
    }
}
