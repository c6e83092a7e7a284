//! Assessments (new in 2.2): tests, each student's sitting, and the scores of
//! a sitting (Ed-Fi Assessment, StudentAssessment and its score results).

use super::*;

entity! {
    /// An assessment (a test) students sit: a state test, a benchmark, a college entrance exam.
    Assessment (AssessmentView, AssessmentBuilder) = Assessments since (2, 2) {
        /// Title.
        title: String [required],
        /// The code people use for it.
        identifier: Option<String> [],
        /// Category as the source states it (state, benchmark, college entrance…).
        category: Option<String> [],
        /// Subject as the source states it.
        subject: Option<String> [],
        /// Grade levels it is for.
        grade_levels: Vec<String> [],
        /// Who publishes it (the state, a vendor).
        publisher: Option<String> [],
        /// Version or edition.
        version: Option<String> [],
        /// Source id of the organization that owns its definition.
        org_id: Option<String> [] refs "orgs",
    }
    check(r, p) {}
}

entity! {
    /// A student's sitting of an assessment.
    StudentAssessment (StudentAssessmentView, StudentAssessmentBuilder) = StudentAssessments since (2, 2) {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Source id of the assessment.
        assessment_id: Option<String> [required, key] refs "assessments",
        /// The day of the sitting.
        date: Option<Date> [],
        /// When the sitting took place, when the source keeps an instant.
        administered_at: Option<Timestamp> [],
        /// Grade level at the sitting.
        grade_level: Option<Code<GradeLevel>> [],
        /// Source id of the school where it was sat.
        school_id: Option<String> [] refs "orgs",
        /// The year the school year ends in.
        school_year: Option<i64> [],
    }
    check(r, p) {}
}

entity! {
    /// One score of a sitting: a scale score, a percentile, a proficiency level…
    AssessmentScore (AssessmentScoreView, AssessmentScoreBuilder) = AssessmentScores since (2, 2) {
        /// Source id of the sitting.
        student_assessment_id: Option<String> [required, key] refs "student_assessments",
        /// The score's name or identifier ("Reading", "Math scale", "Lexile").
        name: Option<String> [],
        /// How the result is reported; the source's method is the original.
        method: Option<Code<ReportingMethod>> [],
        /// The result exactly as given ("512", "Proficient", "85th").
        result: Option<String> [required],
        /// The result as an exact number, when it is one.
        value: Option<Decimal> [],
    }
    check(r, p) {}
}
