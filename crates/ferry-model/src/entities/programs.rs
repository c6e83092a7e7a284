//! Programs and participation (new in 2.2): program definitions, students'
//! participation in them, and special-education plans (Ed-Fi Program,
//! StudentProgramAssociation, StudentSpecialEducationProgramAssociation).

use super::*;

entity! {
    /// A program students take part in: special education, 504, English learners, meals…
    Program (ProgramView, ProgramBuilder) = Programs since (2, 2) {
        /// Kind of program; the source's program type is the original.
        kind: Option<Code<ProgramKind>> [required],
        /// Name ("Special Education", "Title I Reading").
        name: String [required],
        /// The source's or the state's code for the program.
        code: Option<String> [],
        /// Source id of the organization that runs it (district or school).
        org_id: Option<String> [] refs "orgs",
    }
    check(r, p) {}
}

entity! {
    /// A student's participation in a program for a span of dates.
    ProgramParticipation (ProgramParticipationView, ProgramParticipationBuilder) = ProgramParticipations since (2, 2) {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Source id of the program.
        program_id: Option<String> [required, key] refs "programs",
        /// Source id of the school that serves the student.
        school_id: Option<String> [] refs "orgs",
        /// The year the school year ends in, when the source records participation per year.
        school_year: Option<i64> [],
        /// First day of participation.
        begin_date: Option<Date> [],
        /// Last day of participation (inclusive).
        end_date: Option<Date> [],
        /// Status in the program; the source's status is the original.
        status: Option<Code<ParticipationStatus>> [],
        /// Eligibility or service level as the source states it (free, reduced, level 3…).
        eligibility: Option<String> [pii],
        /// Why the student left the program, as the source states it.
        exit_reason: Option<String> [pii],
    }
    check(r, p) {
        date_order(r.begin_date, r.end_date, "end_date", p);
    }
}

entity! {
    /// A special-education plan (an IEP): its dates, setting, disability and service hours.
    SpecialEducationPlan (SpecialEducationPlanView, SpecialEducationPlanBuilder) = SpecialEducationPlans since (2, 2) {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Source id of the program participation the plan belongs to, when known.
        participation_id: Option<String> [key] refs "program_participations",
        /// Source id of the school that serves the student.
        school_id: Option<String> [] refs "orgs",
        /// First day the plan is in effect.
        begin_date: Option<Date> [],
        /// Last day the plan is in effect (inclusive).
        end_date: Option<Date> [],
        /// The day the plan is due for review.
        review_date: Option<Date> [],
        /// The educational setting (environment) as the source states it.
        setting: Option<String> [pii],
        /// The primary disability as the source states it.
        primary_disability: Option<String> [pii],
        /// Hours of special-education services per week.
        service_hours: Option<Decimal> [],
    }
    check(r, p) {
        strict_order(r.begin_date, r.end_date, "end_date", p);
    }
}
