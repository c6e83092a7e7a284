//! The table of per-table handlers ([`HANDLERS`]): for each PowerSchool
//! table the connector reads, its passes (see [`super::pass`]), and how each
//! pass calls its mapper.
//!
//! Most tables have one pass. Terms and the Teachers view are read twice
//! (a prescan, then the records; the Teachers view a third time for staff
//! assignments); Students five times (students, legacy contacts, legacy
//! student contacts, demographics, the current enrollment); Ferry's flat
//! contacts twice (contacts, then student contacts); SchoolStaff twice (the
//! lookup staff records merge, then staff assignments, the counted pass);
//! ClassRank twice (academic records, then GPAs, the counted pass); Gen twice
//! (codes, then programs and log types); Log four times (log entries, then
//! the incident, participant and action its discipline rows describe);
//! StudentTestScore three times (each row's first result, then its NumScore
//! and PercentScore when another result came first).

use ferry_sdk::Error;
use ferry_sdk::model::EntityKind;

use super::pass::{ExtRule, Handler, Order, Pass, RowJob, When};
use crate::columns::Mapped;
use crate::fields::Fields;
use crate::lookups::{Lookups, RejectedRow};
use crate::map::assessments::ScoreResult;
use crate::map::person::PersonPart;
use crate::map::{
    assessments, assignments, attendance, calendar, codes, contacts, coteachers, courses, discipline,
    enrollments, grades, person, programs, ranks, schools, staff, students,
};
use crate::row::RowOutcome;
use crate::tables::Table;

use EntityKind as E;
use Order as O;

/// Tables the connector recognizes but does not map to canonical records
/// yet: their files are kept as source tables only (when the destination
/// keeps them), and named in the run summary otherwise.
pub const SOURCE_ONLY: &[Table] = &[];

/// Every table the connector reads, in read order within an [`Order`].
pub const HANDLERS: &[Handler] = &[
    Handler {
        table: Table::Schools,
        passes: &[Pass::records(O::Schools, E::Orgs, schools::school_cols::WANT, school)
            .parent(schools::school_rejected)],
    },
    Handler {
        table: Table::Gen,
        passes: &[
            Pass::records(O::Gen, E::CodeValues, schools::gen_cols::WANT, gen_codes),
            Pass::records(O::Programs, E::Programs, programs::gen_cols::WANT, gen_district).uncounted(),
        ],
    },
    Handler {
        table: Table::Terms,
        passes: &[
            Pass::lookup(O::TermsPrescan, E::AcademicSessions, schools::term_cols::WANT, term_prescan)
                .uncounted(),
            Pass::records(O::Terms, E::AcademicSessions, schools::term_cols::WANT, term)
                .parent(schools::term_rejected),
        ],
    },
    Handler {
        table: Table::AttendanceCode,
        passes: &[Pass::records(O::Codes, E::CodeValues, attendance::attcode_cols::WANT, att_code)],
    },
    Handler {
        table: Table::RoleDef,
        passes: &[Pass::records(O::Codes, E::CodeValues, codes::roledef_cols::WANT, role_def)],
    },
    Handler {
        table: Table::CycleDay,
        passes: &[Pass::records(O::Codes, E::CodeValues, codes::cycle_cols::WANT, cycle_day)],
    },
    Handler {
        table: Table::Period,
        passes: &[Pass::records(O::Calendars, E::ClassPeriods, calendar::period_cols::WANT, period)
            .parent(calendar::period_rejected)],
    },
    Handler {
        table: Table::BellSchedule,
        passes: &[Pass::records(O::Calendars, E::BellSchedules, calendar::bell_cols::WANT, bell_schedule)
            .parent(calendar::bell_schedule_rejected)],
    },
    Handler {
        table: Table::BellScheduleItems,
        passes: &[Pass::records(O::Calendars, E::BellSchedulePeriods, calendar::item_cols::WANT, bell_item)],
    },
    Handler {
        table: Table::CalendarDay,
        passes: &[Pass::records(O::Calendars, E::CalendarDays, calendar::calendar_cols::WANT, calendar_day)],
    },
    Handler {
        table: Table::Students,
        passes: &[
            Pass::records(O::Students, E::Students, students::student_cols::WANT, student)
                .ext(ExtRule::Student)
                .parent(students::student_rejected),
            Pass::records(O::LegacyContacts, E::Contacts, students::student_cols::WANT, legacy_contacts)
                .when(When::LegacyContacts)
                .uncounted()
                .ext(ExtRule::Nothing)
                .before(Lookups::release_person_parts),
            Pass::records(
                O::LegacyStudentContacts,
                E::StudentContacts,
                students::student_cols::WANT,
                legacy_student_contacts,
            )
            .when(When::LegacyContacts)
            .uncounted()
            .ext(ExtRule::Nothing),
            Pass::records(O::Demographics, E::Demographics, students::student_cols::WANT, demographics)
                .uncounted()
                .ext(ExtRule::Only(Mapped::Demographics)),
            Pass::records(
                O::CurrentEnrollments,
                E::SchoolEnrollments,
                students::student_cols::WANT,
                current_enrollment,
            )
            .uncounted()
            .ext(ExtRule::Only(Mapped::Enrollment))
            .before(Lookups::release_people),
        ],
    },
    Handler {
        table: Table::StudentExtension,
        passes: &[
            Pass::lookup(
                O::StudentExtensionsLookup,
                E::Students,
                students::extension_cols::WANT,
                student_extension_values,
            )
            .uncounted(),
            Pass::lookup(
                O::StudentExtensions,
                E::Students,
                students::extension_cols::WANT,
                student_extension_check,
            )
            .ext(ExtRule::Nothing),
        ],
    },
    Handler {
        table: Table::SchoolStaff,
        passes: &[
            Pass::lookup(O::SchoolStaff, E::Staff, staff::schoolstaff_cols::WANT, schoolstaff).uncounted(),
            Pass::records(
                O::StaffAssignments,
                E::StaffAssignments,
                assignments::assignment_cols::WANT,
                schoolstaff_assignment,
            ),
        ],
    },
    Handler {
        table: Table::Users,
        passes: &[Pass::records(O::Staff, E::Staff, staff::users_cols::WANT, users)
            .when(When::Users)
            .parent(users_rejected)],
    },
    Handler {
        table: Table::Teachers,
        passes: &[
            Pass::lookup(O::StaffPrescan, E::Staff, staff::users_cols::WANT, teacher_prescan)
                .when(When::NoUsers)
                .uncounted(),
            Pass::records(O::Staff, E::Staff, staff::users_cols::WANT, teachers)
                .when(When::NoUsers)
                .parent(teachers_rejected),
            Pass::lookup(O::StaffIndex, E::Staff, staff::users_cols::WANT, teacher_index).when(When::Users),
            Pass::records(
                O::StaffAssignments,
                E::StaffAssignments,
                staff::users_cols::WANT,
                teacher_assignment,
            )
            .when(When::NoUsers)
            .uncounted(),
        ],
    },
    Handler {
        table: Table::CodeSet,
        passes: &[Pass::lookup(O::PersonParts, E::StudentContacts, person::codeset_cols::WANT, codeset)],
    },
    Handler {
        table: Table::EmailAddress,
        passes: &[Pass::lookup(O::PersonParts, E::Contacts, person::email_cols::WANT, email)],
    },
    Handler {
        table: Table::PersonEmailAddressAssoc,
        passes: &[Pass::lookup(O::PersonParts, E::Contacts, person::link_cols::WANT, person_email)],
    },
    Handler {
        table: Table::PhoneNumber,
        passes: &[Pass::lookup(O::PersonParts, E::Contacts, person::phone_cols::WANT, phone)],
    },
    Handler {
        table: Table::PersonPhoneNumberAssoc,
        passes: &[Pass::lookup(O::PersonParts, E::Contacts, person::link_cols::WANT, person_phone)],
    },
    Handler {
        table: Table::PersonAddress,
        passes: &[Pass::lookup(O::PersonParts, E::Contacts, person::address_cols::WANT, address)],
    },
    Handler {
        table: Table::PersonAddressAssoc,
        passes: &[Pass::lookup(O::PersonParts, E::Contacts, person::link_cols::WANT, person_address)],
    },
    Handler {
        table: Table::StudentContactDetail,
        passes: &[Pass::lookup(O::PersonParts, E::StudentContacts, person::detail_cols::WANT, detail)],
    },
    Handler {
        table: Table::Person,
        passes: &[Pass::records(O::Person, E::Contacts, person::person_cols::WANT, contact_person)
            .parent(person::person_rejected)],
    },
    Handler {
        table: Table::Contacts,
        passes: &[
            Pass::records(O::FlatContacts, E::Contacts, contacts::flat_cols::WANT, flat_contacts)
                .uncounted()
                .before(Lookups::release_person_parts)
                .parent(contacts::flat_contact_rejected),
            Pass::records(
                O::FlatStudentContacts,
                E::StudentContacts,
                contacts::flat_cols::WANT,
                flat_student_contacts,
            ),
        ],
    },
    Handler {
        table: Table::ContactsExport,
        passes: &[
            Pass::records(O::FlatContacts, E::Contacts, contacts::flat_cols::WANT, flat_contacts)
                .uncounted()
                .before(Lookups::release_person_parts)
                .parent(contacts::flat_contact_rejected),
            Pass::records(
                O::FlatStudentContacts,
                E::StudentContacts,
                contacts::flat_cols::WANT,
                flat_student_contacts,
            ),
        ],
    },
    Handler {
        table: Table::StudentContactAssoc,
        passes: &[Pass::records(
            O::ContactAssoc,
            E::StudentContacts,
            person::assoc_cols::WANT,
            contact_assoc,
        )
        .before(Lookups::release_person_parts)],
    },
    Handler {
        table: Table::StudentRace,
        passes: &[Pass::lookup(O::StudentRace, E::Demographics, students::race_cols::WANT, student_race)],
    },
    Handler {
        table: Table::Courses,
        passes: &[Pass::records(O::Courses, E::Courses, courses::course_cols::WANT, course)
            .before(Lookups::release_people)
            .parent(courses::course_rejected)],
    },
    Handler {
        table: Table::Sections,
        passes: &[Pass::records(O::Sections, E::Sections, courses::section_cols::WANT, section)
            .before(Lookups::release_people)
            .parent(courses::section_rejected)],
    },
    Handler {
        table: Table::SectionTeacher,
        passes: &[Pass::records(
            O::SectionTeachers,
            E::SectionStaff,
            coteachers::st_cols::WANT,
            section_teacher,
        )],
    },
    Handler {
        table: Table::ReEnrollments,
        passes: &[Pass::records(
            O::Activity,
            E::SchoolEnrollments,
            enrollments::reenroll_cols::WANT,
            reenrollment,
        )
        .before(Lookups::release_people)],
    },
    Handler {
        table: Table::Cc,
        passes: &[Pass::records(O::Activity, E::SectionEnrollments, enrollments::cc_cols::WANT, cc)
            .before(Lookups::release_people)
            .parent(enrollments::cc_rejected)],
    },
    Handler {
        table: Table::StoredGrades,
        passes: &[Pass::records(O::Activity, E::Grades, grades::stored_cols::WANT, stored_grade)],
    },
    Handler {
        table: Table::PgFinalGrades,
        passes: &[Pass::records(O::Activity, E::Grades, grades::pg_cols::WANT, pg_grade)],
    },
    Handler {
        table: Table::Attendance,
        passes: &[Pass::records(O::Activity, E::Attendance, attendance::att_cols::WANT, attendance_event)
            .before(Lookups::seal_cc)],
    },
    Handler {
        table: Table::ClassRank,
        passes: &[
            Pass::records(O::AcademicRecords, E::AcademicRecords, ranks::rank_cols::WANT, academic_record)
                .uncounted()
                .ext(ExtRule::Nothing),
            Pass::records(O::Gpas, E::Gpas, ranks::rank_cols::WANT, gpa).before(Lookups::release_ranked),
        ],
    },
    Handler {
        table: Table::SpEnrollments,
        passes: &[Pass::records(
            O::ProgramParticipations,
            E::ProgramParticipations,
            programs::spenroll_cols::WANT,
            participation,
        )],
    },
    Handler {
        table: Table::Log,
        passes: &[
            Pass::records(O::LogEntries, E::LogEntries, discipline::log_cols::WANT, log_entry)
                .parent(discipline::log_rejected),
            Pass::records(O::Incidents, E::DisciplineIncidents, discipline::log_cols::WANT, log_incident)
                .uncounted()
                .ext(ExtRule::Nothing),
            Pass::records(
                O::DisciplineParticipants,
                E::DisciplineParticipants,
                discipline::log_cols::WANT,
                log_participant,
            )
            .uncounted()
            .ext(ExtRule::Nothing),
            Pass::records(O::DisciplineActions, E::DisciplineActions, discipline::log_cols::WANT, log_action)
                .uncounted()
                .ext(ExtRule::Nothing),
        ],
    },
    Handler {
        table: Table::IncidentLuCode,
        passes: &[Pass::lookup(O::IncidentCodes, E::DisciplineIncidents, discipline::lu_cols::WANT, lu_code)],
    },
    Handler {
        table: Table::IncidentDetail,
        passes: &[Pass::lookup(
            O::IncidentCodes,
            E::DisciplineIncidents,
            discipline::detail_cols::WANT,
            incident_detail,
        )],
    },
    Handler {
        table: Table::Incident,
        passes: &[Pass::records(
            O::Incidents,
            E::DisciplineIncidents,
            discipline::incident_cols::WANT,
            incident,
        )
        .before(discipline::seal_details)
        .parent(discipline::incident_rejected)],
    },
    Handler {
        table: Table::IncidentPersonRole,
        passes: &[Pass::records(
            O::DisciplineParticipants,
            E::DisciplineParticipants,
            discipline::role_cols::WANT,
            incident_participant,
        )],
    },
    Handler {
        table: Table::IncidentAction,
        passes: &[Pass::records(
            O::DisciplineActions,
            E::DisciplineActions,
            discipline::action_cols::WANT,
            incident_action,
        )],
    },
    Handler {
        table: Table::Test,
        passes: &[Pass::records(O::Assessments, E::Assessments, assessments::test_cols::WANT, test)],
    },
    Handler {
        table: Table::TestScore,
        passes: &[Pass::lookup(
            O::Assessments,
            E::AssessmentScores,
            assessments::score_name_cols::WANT,
            score_name,
        )],
    },
    Handler {
        table: Table::StudentTest,
        passes: &[Pass::records(
            O::StudentAssessments,
            E::StudentAssessments,
            assessments::sitting_cols::WANT,
            sitting,
        )
        .parent(assessments::sitting_rejected)],
    },
    Handler {
        table: Table::StudentTestScore,
        passes: &[
            Pass::records(
                O::AssessmentScores,
                E::AssessmentScores,
                assessments::score_cols::WANT,
                first_score,
            )
            .before(assessments::seal_sittings)
            .parent(assessments::score_rejected),
            Pass::records(O::NumScores, E::AssessmentScores, assessments::score_cols::WANT, num_score)
                .uncounted()
                .ext(ExtRule::Nothing),
            Pass::records(
                O::PercentScores,
                E::AssessmentScores,
                assessments::score_cols::WANT,
                percent_score,
            )
            .uncounted()
            .ext(ExtRule::Nothing),
        ],
    },
];

// ----- How each pass maps a row: the mappers, called with what they need.

fn school(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    schools::school(&mut j.ctx, &j.f, j.lk, j.out)
}

fn gen_codes(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    codes::gen_value(&mut j.ctx, &j.f, j.lk, j.settings, j.state.ids(E::CodeValues), j.out)
}

fn att_code(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    codes::att_code_value(&mut j.ctx, &j.f, j.lk, j.settings, j.state.ids(E::CodeValues), j.out)
}

fn role_def(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    codes::role_value(&mut j.ctx, &j.f, j.lk, j.state.ids(E::CodeValues), j.out)
}

fn cycle_day(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    codes::cycle_day_value(&mut j.ctx, &j.f, j.lk, j.state.ids(E::CodeValues), j.out)
}

fn period(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    calendar::period(&mut j.ctx, &j.f, j.lk, j.state.ids(E::ClassPeriods), j.out)
}

fn bell_schedule(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    calendar::bell_schedule(&mut j.ctx, &j.f, j.lk, j.state.ids(E::BellSchedules), j.out)
}

fn bell_item(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    calendar::bell_item(&mut j.ctx, &j.f, j.lk, j.state.ids(E::BellSchedulePeriods), j.out)
}

fn calendar_day(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    calendar::calendar_day(&mut j.ctx, &j.f, j.lk, j.settings, j.state.ids(E::CalendarDays), j.out)
}

fn term_prescan(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    schools::term_prescan(&j.ctx, &j.f, j.lk);
    Ok(RowOutcome::Skip)
}

fn term(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    schools::term(&mut j.ctx, &j.f, j.lk, &mut j.state.terms_seen, j.out)
}

fn student_extension_values(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    let row = students::extension_values(&j.ctx, &j.f, j.lk);
    // Counted by the check once the students are read.
    Ok(if row.is_ok() { RowOutcome::Folded } else { RowOutcome::Skip })
}

fn student_extension_check(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    // The reject is of an extension row, not of a student: it names no
    // student record (whose children the host would then reject too).
    j.ctx.id.clear();
    let row = students::extension_student(&j.ctx, &j.f, j.lk);
    Ok(j.lookup(row))
}

fn student(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    students::student(&mut j.ctx, &j.f, j.lk, j.out)
}

fn legacy_contacts(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    contacts::legacy_contacts(&mut j.ctx, &j.f, j.lk, true, j.out)
}

fn legacy_student_contacts(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    contacts::legacy_contacts(&mut j.ctx, &j.f, j.lk, false, j.out)
}

fn demographics(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    students::demographics(&mut j.ctx, &j.f, j.lk, j.settings, j.out)
}

fn current_enrollment(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    enrollments::current_enrollment(&mut j.ctx, &j.f, j.lk, j.settings, j.out)
}

fn schoolstaff(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    // Uncounted: a row the lookup cannot take is the assignment pass's reject.
    Ok(match staff::schoolstaff_row(&j.ctx, &j.f, j.lk) {
        Ok(()) => RowOutcome::Folded,
        Err(_) => RowOutcome::Skip,
    })
}

fn schoolstaff_assignment(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    assignments::schoolstaff(&mut j.ctx, &j.f, j.lk, j.state.ids(E::StaffAssignments), j.out)
}

fn teacher_assignment(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    assignments::teacher(&mut j.ctx, &j.f, j.lk, j.state.ids(E::StaffAssignments), j.out)
}

fn users(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    staff::staff(&mut j.ctx, &j.f, j.lk, false, j.out)
}

fn users_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    staff::staff_rejected(f, lk, at, false);
}

fn teacher_prescan(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    staff::teacher_prescan(&j.ctx, &j.f, j.lk);
    Ok(RowOutcome::Skip)
}

fn teachers(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    staff::staff(&mut j.ctx, &j.f, j.lk, true, j.out)
}

fn teachers_rejected(f: &Fields<'_>, lk: &mut Lookups, at: &RejectedRow) {
    staff::staff_rejected(f, lk, at, true);
}

fn teacher_index(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    let row = staff::teacher_index_row(&j.f, j.lk);
    Ok(j.lookup(row))
}

fn person_part(j: &mut RowJob<'_>, part: PersonPart) -> RowOutcome {
    let row = person::person_part(&j.ctx, &j.f, j.lk, part);
    j.lookup(row)
}

fn codeset(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    Ok(person_part(j, PersonPart::CodeSet))
}

fn email(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    Ok(person_part(j, PersonPart::Email))
}

fn person_email(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    Ok(person_part(j, PersonPart::PersonEmail))
}

fn phone(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    Ok(person_part(j, PersonPart::Phone))
}

fn person_phone(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    Ok(person_part(j, PersonPart::PersonPhone))
}

fn address(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    Ok(person_part(j, PersonPart::Address))
}

fn person_address(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    Ok(person_part(j, PersonPart::PersonAddress))
}

fn detail(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    Ok(person_part(j, PersonPart::Detail))
}

fn contact_person(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    person::person(&mut j.ctx, &j.f, j.lk, j.out)
}

fn flat_contacts(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    contacts::flat_contact(&mut j.ctx, &j.f, j.lk, true, &mut j.state.flat_seen, j.out)
}

fn flat_student_contacts(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    contacts::flat_contact(&mut j.ctx, &j.f, j.lk, false, &mut j.state.flat_seen, j.out)
}

fn contact_assoc(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    person::contact_assoc(&mut j.ctx, &j.f, j.lk, j.out)
}

fn student_race(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    let row = students::race_row(&j.ctx, &j.f, j.lk);
    Ok(j.lookup(row))
}

fn course(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    courses::course(&mut j.ctx, &j.f, j.lk, j.out)
}

fn section(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    let (mut leads, mut misses) = (Vec::new(), Vec::new());
    let outcome = courses::section(&mut j.ctx, &j.f, j.lk, &mut leads, &mut misses, j.out)?;
    let file = j.file;
    j.state.section_staff.extend(leads.into_iter().map(|t| (file, t)));
    j.state.lead_misses.extend(misses);
    Ok(outcome)
}

fn section_teacher(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    coteachers::section_teacher(&mut j.ctx, &j.f, j.lk, j.out)
}

fn reenrollment(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    enrollments::reenrollment(&mut j.ctx, &j.f, j.lk, j.settings, j.out)
}

fn cc(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    enrollments::cc(&mut j.ctx, &j.f, j.lk, &mut j.state.enrollment, j.out)
}

fn stored_grade(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    grades::stored_grade(&mut j.ctx, &j.f, j.lk, &mut j.state.grade, j.out)
}

fn pg_grade(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    grades::pg_grade(&mut j.ctx, &j.f, j.lk, &mut j.state.grade, j.out)
}

fn attendance_event(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    attendance::attendance(&mut j.ctx, &j.f, j.lk, j.settings, &mut j.state.event, j.out)
}

fn academic_record(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    ranks::academic_record(&mut j.ctx, &j.f, j.lk, j.out)
}

fn gpa(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    ranks::gpa(&mut j.ctx, &j.f, j.lk, j.out)
}

fn gen_district(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    programs::gen_district(&mut j.ctx, &j.f, j.lk, j.out)
}

fn participation(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    programs::participation(&mut j.ctx, &j.f, j.lk, j.out)
}

fn log_entry(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    discipline::log_entry(&mut j.ctx, &j.f, j.lk, j.out)
}

fn log_incident(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    discipline::log_incident(&mut j.ctx, &j.f, j.lk, j.settings, j.out)
}

fn log_participant(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    discipline::log_participant(&mut j.ctx, &j.f, j.lk, j.out)
}

fn log_action(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    discipline::log_action(&mut j.ctx, &j.f, j.lk, j.out)
}

fn lu_code(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    let row = discipline::lu_code_row(&j.ctx, &j.f, j.lk);
    Ok(j.lookup(row))
}

fn incident_detail(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    let row = discipline::detail_row(&j.ctx, &j.f, j.lk);
    Ok(j.lookup(row))
}

fn incident(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    discipline::incident(&mut j.ctx, &j.f, j.lk, j.settings, j.out)
}

fn incident_participant(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    discipline::participant(&mut j.ctx, &j.f, j.lk, j.out)
}

fn incident_action(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    discipline::action(&mut j.ctx, &j.f, j.lk, j.out)
}

fn test(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    assessments::test(&mut j.ctx, &j.f, j.lk, j.out)
}

fn score_name(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    let row = assessments::score_name_row(&j.ctx, &j.f, j.lk);
    Ok(j.lookup(row))
}

fn sitting(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    assessments::sitting(&mut j.ctx, &j.f, j.lk, j.out)
}

fn first_score(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    assessments::score(&mut j.ctx, &j.f, j.lk, ScoreResult::First, j.out)
}

fn num_score(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    assessments::score(&mut j.ctx, &j.f, j.lk, ScoreResult::Num, j.out)
}

fn percent_score(j: &mut RowJob<'_>) -> Result<RowOutcome, Error> {
    assessments::score(&mut j.ctx, &j.f, j.lk, ScoreResult::Percent, j.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_handler_per_table_and_one_counted_pass_per_file() {
        for (i, h) in HANDLERS.iter().enumerate() {
            assert!(HANDLERS[..i].iter().all(|o| o.table != h.table), "{} twice", h.table);
            for (users, legacy) in [(false, false), (false, true), (true, false), (true, true)] {
                let counted = h.passes.iter().filter(|p| p.counted && p.when.holds(legacy, users)).count();
                let runs = h.passes.iter().any(|p| p.when.holds(legacy, users));
                assert!(!runs || counted == 1, "{}: {counted} counted passes", h.table);
            }
            let orders: Vec<Order> = h.passes.iter().map(|p| p.order).collect();
            assert!(orders.windows(2).all(|w| w[0] < w[1]), "{}: passes in read order", h.table);
        }
        // Every table the connector recognizes is read by some pass, or is
        // kept as a source table only, on purpose.
        for t in Table::all() {
            let handled = HANDLERS.iter().any(|h| h.table == t);
            assert!(handled != SOURCE_ONLY.contains(&t), "{t}: a handler, or in SOURCE_ONLY (not both)");
        }
    }
}
