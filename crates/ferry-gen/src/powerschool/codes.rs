//! Code tables written as they are: the CodeSet ids and rows (relationships,
//! phone, e-mail and address types, genders, states) and the entry and exit
//! codes of the Gen table.

/// CodeSet ids.
pub(super) mod cs {
    pub const MOTHER: i64 = 1;
    pub const FATHER: i64 = 2;
    pub const GRANDMOTHER: i64 = 3;
    pub const GRANDFATHER: i64 = 4;
    pub const AUNT: i64 = 5;
    pub const UNCLE: i64 = 6;
    pub const GUARDIAN: i64 = 7;
    pub const OTHER: i64 = 10;
    pub const HOME: i64 = 20;
    pub const MOBILE: i64 = 21;
    pub const WORK: i64 = 22;
    pub const EMAIL_CURRENT: i64 = 30;
    pub const ADDR_HOME: i64 = 40;
    pub const MALE: i64 = 50;
    pub const FEMALE: i64 = 51;
    pub const NJ: i64 = 60;
}

pub(super) const CODESETS: &[(i64, &str, &str, &str, &str)] = &[
    (1, "Mother", "Relationship", "Mother", "Mother"),
    (2, "Father", "Relationship", "Father", "Father"),
    (3, "Grandmother", "Relationship", "Grandmother", "Grandmother"),
    (4, "Grandfather", "Relationship", "Grandfather", "Grandfather"),
    (5, "Aunt", "Relationship", "Aunt", "Aunt"),
    (6, "Uncle", "Relationship", "Uncle", "Uncle"),
    (7, "Guardian", "Relationship", "Guardian", "Legal guardian"),
    (8, "Stepmother", "Relationship", "Stepmother", "Stepmother"),
    (9, "Stepfather", "Relationship", "Stepfather", "Stepfather"),
    (10, "Other", "Relationship", "Other", "Other relationship"),
    (20, "Home", "Phone", "Home", "Home phone"),
    (21, "Mobile", "Phone", "Mobile", "Mobile phone"),
    (22, "Work", "Phone", "Work", "Work phone"),
    (30, "Current", "Email", "Current", "Current email"),
    (31, "Work", "Email", "Work", "Work email"),
    (40, "Home", "Address", "Home", "Home address"),
    (41, "Mailing", "Address", "Mailing", "Mailing address"),
    (50, "M", "Gender", "Male", "Male"),
    (51, "F", "Gender", "Female", "Female"),
    (60, "NJ", "State", "New Jersey", "New Jersey"),
    (61, "NY", "State", "New York", "New York"),
    (62, "PA", "State", "Pennsylvania", "Pennsylvania"),
];

pub(super) const ENTRY_CODES: &[(&str, &str)] = &[
    ("E1", "New to district"),
    ("E2", "Transfer in from another district"),
    ("R1", "Re-entry after withdrawal"),
    ("C1", "Continuing, promoted from prior year"),
    ("T1", "Transfer within district"),
];

pub(super) const EXIT_CODES: &[(&str, &str)] = &[
    ("EY", "End of year, promoted"),
    ("G1", "Graduated with diploma"),
    ("T1", "Transfer within district"),
    ("TO", "Transfer out of district"),
    ("DO", "Dropped out"),
];
