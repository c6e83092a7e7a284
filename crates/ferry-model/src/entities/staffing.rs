//! Staff assignments (new in 2.2): a staff member's role at a school for a
//! span of dates.

use super::*;

entity! {
    /// A staff member's assignment to a school, with a role and a title, for a span of dates.
    StaffAssignment (StaffAssignmentView, StaffAssignmentBuilder) = StaffAssignments since (2, 2) {
        /// Source id of the staff member.
        staff_id: Option<String> [required, key] refs "staff",
        /// Source id of the school (or the district office).
        school_id: Option<String> [required, key] refs "orgs",
        /// Role at that school.
        role: Option<Code<StaffRole>> [],
        /// Job title as the source states it.
        title: Option<String> [],
        /// First day of the assignment.
        start_date: Option<Date> [],
        /// Last day of the assignment (inclusive).
        end_date: Option<Date> [],
    }
    check(r, p) {
        date_order(r.start_date, r.end_date, "end_date", p);
    }
}
