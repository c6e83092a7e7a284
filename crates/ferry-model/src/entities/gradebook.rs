//! Gradebook (new in 2.2, OneRoster 1.2 categories, lineItems and results):
//! assignment categories, assignments and their scores.

use super::*;

entity! {
    /// A category of gradebook line items ("Homework", "Tests"), with its weight.
    LineItemCategory (LineItemCategoryView, LineItemCategoryBuilder) = LineItemCategories since (2, 2) {
        /// Title.
        title: String [required],
        /// Weight in the final grade, a percent.
        weight: Option<Decimal> [],
        /// Source id of the section, when categories belong to one.
        section_id: Option<String> [key] refs "sections",
    }
    check(r, p) {}
}

entity! {
    /// A gradebook line item: an assignment, quiz or test of a section.
    LineItem (LineItemView, LineItemBuilder) = LineItems since (2, 2) {
        /// Source id of the section.
        section_id: Option<String> [required, key] refs "sections",
        /// Source id of the category.
        category_id: Option<String> [key] refs "line_item_categories",
        /// Title.
        title: String [required],
        /// Description.
        description: Option<String> [],
        /// The day it was assigned.
        assign_date: Option<Date> [],
        /// The day it is due.
        due_date: Option<Date> [],
        /// Points possible.
        points_possible: Option<Decimal> [],
        /// Source id of the grading period.
        session_id: Option<String> [] refs "academic_sessions",
    }
    check(r, p) {
        strict_order(r.assign_date, r.due_date, "due_date", p);
    }
}

entity! {
    /// A student's result on a line item.
    LineItemResult (LineItemResultView, LineItemResultBuilder) = LineItemResults since (2, 2) {
        /// Source id of the line item.
        line_item_id: Option<String> [required, key] refs "line_items",
        /// Source id of the student.
        student_id: Option<String> [required, key] refs "students",
        /// The score, in points.
        score: Option<Decimal> [],
        /// The score as text, when it is not a number ("A-", "✓").
        text_score: Option<String> [],
        /// Scoring status; the source's status is the original.
        status: Option<Code<ScoreStatus>> [],
        /// The day it was scored.
        score_date: Option<Date> [],
        /// Turned in late.
        late: Option<bool> [],
        /// Missing.
        missing: Option<bool> [],
        /// Teacher comment.
        comment: Option<String> [pii],
    }
    check(r, p) {}
}
