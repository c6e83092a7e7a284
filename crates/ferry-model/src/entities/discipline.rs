//! Discipline (new in 2.2): incidents, the people involved, the actions taken,
//! and log entries (Ed-Fi DisciplineIncident, StudentDisciplineIncident*
//! associations, DisciplineAction).

use super::*;

entity! {
    /// A discipline incident at a school.
    DisciplineIncident (DisciplineIncidentView, DisciplineIncidentBuilder) = DisciplineIncidents since (2, 2) {
        /// Source id of the school.
        school_id: Option<String> [required, key] refs "orgs",
        /// The incident number people use for it.
        identifier: Option<String> [],
        /// The day it happened.
        date: Option<Date> [required],
        /// The time it happened.
        time: Option<TimeOfDay> [],
        /// The year the school year ends in.
        school_year: Option<i64> [],
        /// Where it happened (classroom, bus, off campus) as the source states it.
        location: Option<String> [],
        /// The behavior code as the source states it (see `code_values` for its meaning).
        behavior: Option<String> [],
        /// What happened.
        description: Option<String> [pii],
        /// Whether it was reported to law enforcement.
        reported_to_police: Option<bool> [],
    }
    check(r, p) {}
}

entity! {
    /// A person involved in an incident: a student, a staff member or someone else.
    DisciplineParticipant (DisciplineParticipantView, DisciplineParticipantBuilder) = DisciplineParticipants since (2, 2) {
        /// Source id of the incident.
        incident_id: Option<String> [required, key] refs "discipline_incidents",
        /// Source id of the student, when a student took part.
        student_id: Option<String> [key] refs "students",
        /// Source id of the staff member, when a staff member took part.
        staff_id: Option<String> [key] refs "staff",
        /// Name of someone who is neither (a visitor, a parent).
        name: Option<String> [pii],
        /// Part in the incident; the source's role is the original.
        role: Option<Code<IncidentRole>> [],
        /// This person's behavior code, as the source states it.
        behavior: Option<String> [],
    }
    check(r, p) {
        if r.student_id.is_none() && r.staff_id.is_none() && r.name.is_none() {
            p.push(Violation::new("student_id", "names no student, staff member or other person"));
        }
    }
}

entity! {
    /// What was done about a student's part in an incident (detention, suspension…).
    DisciplineAction (DisciplineActionView, DisciplineActionBuilder) = DisciplineActions since (2, 2) {
        /// Source id of the incident, when the action follows one.
        incident_id: Option<String> [key] refs "discipline_incidents",
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Source id of the school responsible for the action.
        school_id: Option<String> [] refs "orgs",
        /// The action; the source's action code is the original.
        action: Option<Code<DisciplineActionKind>> [required],
        /// The day the action was decided.
        action_date: Option<Date> [],
        /// First day the action applies.
        start_date: Option<Date> [],
        /// Last day the action applies (inclusive).
        end_date: Option<Date> [],
        /// Length assigned, in `length_unit`.
        length_assigned: Option<Decimal> [],
        /// Length actually served, in `length_unit`.
        length_served: Option<Decimal> [],
        /// Unit of both lengths; the source's unit is the original.
        length_unit: Option<Code<DurationUnit>> [],
    }
    check(r, p) {
        strict_order(r.start_date, r.end_date, "end_date", p);
    }
}

entity! {
    /// A log entry about a student (a discipline note, a parent call, a counselor note).
    LogEntry (LogEntryView, LogEntryBuilder) = LogEntries since (2, 2) {
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// Source id of the school.
        school_id: Option<String> [] refs "orgs",
        /// Log type as the source names it (see `code_values` for its meaning).
        kind: Option<String> [],
        /// Subtype as the source names it.
        subtype: Option<String> [],
        /// The day of the entry.
        date: Option<Date> [required],
        /// The time of day of the entry, when the source keeps one.
        time: Option<TimeOfDay> [],
        /// When the entry was recorded, when the source keeps an instant.
        recorded_at: Option<Timestamp> [],
        /// Source id of the staff member who wrote it, when known.
        author_id: Option<String> [] refs "staff",
        /// Name of the author as recorded.
        author: Option<String> [pii],
        /// Subject line.
        subject: Option<String> [pii],
        /// The entry's text.
        text: Option<String> [pii],
    }
    check(r, p) {}
}
