//! Academic records (new in 2.2): credits, class rank, grade point averages
//! and diplomas per student (Ed-Fi StudentAcademicRecord).

use super::*;

entity! {
    /// A student's academic record for a school year or a term: credits and class rank.
    AcademicRecord (AcademicRecordView, AcademicRecordBuilder) = AcademicRecords since (2, 2) {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Source id of the school that keeps the record.
        school_id: Option<String> [] refs "orgs",
        /// The year the school year ends in.
        school_year: Option<i64> [],
        /// Source id of the term; empty for a record of the whole year.
        session_id: Option<String> [] refs "academic_sessions",
        /// Credits attempted in this year or term.
        credits_attempted: Option<Decimal> [],
        /// Credits earned in this year or term.
        credits_earned: Option<Decimal> [],
        /// Credits attempted up to and including this year or term.
        cumulative_credits_attempted: Option<Decimal> [],
        /// Credits earned up to and including this year or term.
        cumulative_credits_earned: Option<Decimal> [],
        /// Rank in the class, 1 first.
        class_rank: Option<i64> [],
        /// Number of students ranked in the class.
        class_size: Option<i64> [],
        /// The GPA method the rank is computed from, as the source names it.
        class_rank_method: Option<String> [],
        /// The day the rank was computed.
        class_rank_date: Option<Date> [],
    }
    check(r, p) {}
}

entity! {
    /// One grade point average of a student: cumulative or for a term, by one method.
    Gpa (GpaView, GpaBuilder) = Gpas since (2, 2) {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Source id of the academic record it belongs to, when the source keeps GPAs in one.
        academic_record_id: Option<String> [key] refs "academic_records",
        /// Source id of the school that computed it.
        school_id: Option<String> [] refs "orgs",
        /// The year the school year ends in.
        school_year: Option<i64> [],
        /// Source id of the term, for a term GPA.
        session_id: Option<String> [] refs "academic_sessions",
        /// The GPA type or method as the source names it ("Weighted", "Simple", "Core").
        method: Option<String> [],
        /// Whether honors and advanced courses weigh more.
        weighted: Option<bool> [],
        /// Cumulative (all years so far) rather than for the year or term.
        cumulative: Option<bool> [],
        /// The GPA.
        value: Option<Decimal> [required],
        /// The highest GPA possible on its scale (4, 5, 100).
        scale: Option<Decimal> [],
    }
    check(r, p) {}
}

entity! {
    /// A diploma or other credential awarded to a student.
    Diploma (DiplomaView, DiplomaBuilder) = Diplomas since (2, 2) {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Kind of diploma; the source's diploma type is the original.
        kind: Option<Code<DiplomaKind>> [],
        /// The day it was awarded.
        award_date: Option<Date> [],
        /// The year the school year of the award ends in.
        school_year: Option<i64> [],
        /// Source id of the school that awarded it.
        school_id: Option<String> [] refs "orgs",
        /// Description ("Diploma with honors in STEM").
        description: Option<String> [],
    }
    check(r, p) {}
}
