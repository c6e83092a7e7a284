//! Calendars and codes (new in 2.2): the source's code tables, class
//! periods, bell schedules with their period times, and calendar days. With
//! these, a school's historic attendance rates can be recomputed from its
//! attendance events.

use super::*;

entity! {
    /// One code of one of the source's code tables (attendance codes, entry
    /// and exit codes, log types, discipline codes…), with what it means.
    CodeValue (CodeValueView, CodeValueBuilder) = CodeValues since (2, 2) {
        /// Which code table: the canonical field it codes (`attendance.category`, `school_enrollments.exit_code`) or the source's own name for the table.
        code_set: Option<String> [required, key],
        /// The code exactly as the source stores it.
        code: Option<String> [required, key],
        /// What the source says the code means.
        description: Option<String> [],
        /// The canonical code it maps to in the model's vocabulary for that field (`unexcusedAbsence`), when there is one.
        canonical: Option<String> [],
        /// Source id of the school the code belongs to; empty for a district-wide code.
        school_id: Option<String> [] refs "orgs",
        /// The school year the code is valid for (the year it ends in); empty for every year.
        school_year: Option<i64> [],
        /// For an attendance code: whether the student counts as present.
        counts_as_present: Option<bool> [],
        /// A number the source attaches to the code (attendance points, the part of a day it counts as present).
        value: Option<Decimal> [],
        /// Position in the source's lists.
        sort_order: Option<i64> [],
    }
    check(r, p) {}
}

entity! {
    /// A class period of a school in a school year ("1", "HR").
    ClassPeriod (ClassPeriodView, ClassPeriodBuilder) = ClassPeriods since (2, 2) {
        /// Source id of the school.
        school_id: Option<String> [required, key] refs "orgs",
        /// The year the school year ends in.
        school_year: Option<i64> [],
        /// Period number.
        number: Option<i64> [],
        /// Short name ("1", "HR", "A").
        abbreviation: Option<String> [],
        /// Name ("Period 1", "Homeroom").
        name: Option<String> [],
        /// Position in the school's lists.
        sort_order: Option<i64> [],
    }
    check(r, p) {}
}

entity! {
    /// A bell schedule of a school: a set of period times used on some days.
    BellSchedule (BellScheduleView, BellScheduleBuilder) = BellSchedules since (2, 2) {
        /// Source id of the school.
        school_id: Option<String> [required, key] refs "orgs",
        /// The year the school year ends in.
        school_year: Option<i64> [],
        /// Name ("Regular", "Early release").
        name: String [required],
    }
    check(r, p) {}
}

entity! {
    /// When one class period meets in one bell schedule.
    BellSchedulePeriod (BellSchedulePeriodView, BellSchedulePeriodBuilder) = BellSchedulePeriods since (2, 2) {
        /// Source id of the bell schedule.
        bell_schedule_id: Option<String> [required, key] refs "bell_schedules",
        /// Source id of the class period.
        period_id: Option<String> [required, key] refs "class_periods",
        /// When the period starts.
        start_time: Option<TimeOfDay> [],
        /// When the period ends.
        end_time: Option<TimeOfDay> [],
        /// Whether the period counts toward daily attendance.
        counts_for_attendance: Option<bool> [],
    }
    check(r, p) {
        if let (Some(s), Some(e)) = (r.start_time, r.end_time)
            && e < s
        {
            p.push(Violation::new("end_time", "ends before it starts"));
        }
    }
}

entity! {
    /// One day of a school's calendar, school day or not.
    CalendarDay (CalendarDayView, CalendarDayBuilder) = CalendarDays since (2, 2) {
        /// Source id of the school.
        school_id: Option<String> [required, key] refs "orgs",
        /// The day.
        date: Option<Date> [required],
        /// The year the school year ends in.
        school_year: Option<i64> [],
        /// Which of the school's calendars (a track), when it has several.
        calendar_code: Option<String> [],
        /// Whether school is in session (students expected).
        in_session: Option<bool> [],
        /// How much the day counts toward membership (1 a full day, 0.5 a half day, 0 none).
        membership_value: Option<Decimal> [],
        /// The day of the schedule cycle ("A", "B", "3").
        cycle_day: Option<String> [],
        /// Source id of the bell schedule followed that day.
        bell_schedule_id: Option<String> [] refs "bell_schedules",
        /// Kind of day; the source's day type is the original.
        day_type: Option<Code<DayType>> [],
        /// Note ("Snow day").
        note: Option<String> [],
    }
    check(r, p) {}
}
