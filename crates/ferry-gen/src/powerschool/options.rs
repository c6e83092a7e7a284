//! What the caller asks for ([`PsGenOptions`]), and the missing student id
//! and course number the orphan rows point at.

use crate::manifest::TextEncoding;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsGenOptions {
    /// Students in the Students table (active, left, graduated and
    /// pre-registered together).
    pub students: u32,
    /// Seed: the same options always produce the same bytes.
    pub seed: u64,
    /// Put every export quirk in (header styles, delimiters, CRLF, BOM,
    /// headerless file, literal quotes, tabs in values, two-digit years,
    /// blanks, DCID ≠ ID, leading zeros, orphan rows).
    pub quirks: bool,
    /// Character set of every file.
    pub encoding: TextEncoding,
}

impl Default for PsGenOptions {
    fn default() -> PsGenOptions {
        PsGenOptions { students: 1000, seed: 1, quirks: false, encoding: TextEncoding::Utf8 }
    }
}

/// A student id no Students row has (orphan rows point at it).
pub const MISSING_STUDENT_ID: i64 = 9_999_999;
/// A course number no Courses row has (the orphan section uses it).
pub const MISSING_COURSE_NUMBER: &str = "ZZ999";
