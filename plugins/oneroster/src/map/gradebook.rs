//! The gradebook, both ways: categories.csv ↔ `line_item_categories`,
//! lineItems.csv ↔ `line_items`, results.csv ↔ `line_item_results`.

use ferry_sdk::model::{Code, Decimal, LineItem, LineItemCategory, LineItemResult, ScoreStatus};

use super::inbound::{Ctx, Mapped, sourced_id};
use super::outbound::leftovers;
use super::{OrRow, OutRow, Version};

/// OneRoster score statuses (with their spaces).
pub const SCORE_STATUSES: &[(&str, ScoreStatus)] = &[
    ("exempt", ScoreStatus::Exempt),
    ("fully graded", ScoreStatus::FullyGraded),
    ("not submitted", ScoreStatus::NotSubmitted),
    ("partially graded", ScoreStatus::PartiallyGraded),
    ("submitted", ScoreStatus::Submitted),
];

fn decimal(c: &mut super::inbound::Cells<'_>, col: &str, field: &str) -> Option<Decimal> {
    let v = c.row.get(col)?;
    match Decimal::parse(v) {
        Ok(d) => Some(d),
        Err(_) => {
            c.issue(field, col, "not a number", v);
            None
        }
    }
}

/// A categories.csv row.
pub fn category(ctx: &Ctx, row: &dyn OrRow) -> Result<Mapped<LineItemCategory>, String> {
    let id = sourced_id(row)?;
    let mut c = super::inbound::Cells::new(row, ctx.version);
    let mut r = LineItemCategory::default();
    super::inbound::meta(ctx, row, id, &mut r, &mut c, false);
    r.title = c.text("title").unwrap_or_default();
    r.weight = decimal(&mut c, "weight", "weight");
    Ok(c.done(r))
}

/// A lineItems.csv row.
pub fn line_item(ctx: &Ctx, row: &dyn OrRow) -> Result<Mapped<LineItem>, String> {
    let id = sourced_id(row)?;
    let mut c = super::inbound::Cells::new(row, ctx.version);
    let mut r = LineItem::default();
    super::inbound::meta(ctx, row, id, &mut r, &mut c, false);
    r.title = c.text("title").unwrap_or_default();
    r.description = c.text("description");
    r.assign_date = c.date("assignDate", "assign_date");
    r.due_date = c.date("dueDate", "due_date");
    r.section_id = c.text("classSourcedId");
    r.category_id = c.text("categorySourcedId");
    r.session_id = c.text("academicSessionSourcedId").or_else(|| c.text("gradingPeriodSourcedId"));
    r.points_possible = decimal(&mut c, "resultValueMax", "points_possible");
    for (col, key) in
        [("resultValueMin", "oneroster.resultValueMin"), ("schoolSourcedId", "oneroster.schoolSourcedId")]
    {
        if let Some(v) = c.text(col) {
            r.meta.ext.insert(key, v);
        }
    }
    Ok(c.done(r))
}

/// A results.csv row.
pub fn result(ctx: &Ctx, row: &dyn OrRow) -> Result<Mapped<LineItemResult>, String> {
    let id = sourced_id(row)?;
    let mut c = super::inbound::Cells::new(row, ctx.version);
    let mut r = LineItemResult::default();
    super::inbound::meta(ctx, row, id, &mut r, &mut c, false);
    r.line_item_id = c.text("lineItemSourcedId");
    r.student_id = c.text("studentSourcedId");
    r.status = c.code("scoreStatus", "status", SCORE_STATUSES);
    r.score = decimal(&mut c, "score", "score");
    r.text_score = c.text("textScore");
    r.score_date = c.date("scoreDate", "score_date");
    r.comment = c.text("comment");
    r.late = c.boolean("late", "late");
    r.missing = c.boolean("missing", "missing");
    for col in ["inProgress", "incomplete", "classSourcedId"] {
        if let Some(v) = c.text(col) {
            r.meta.ext.insert(format!("oneroster.{col}"), v);
        }
    }
    Ok(c.done(r))
}

/// A categories.csv row out (1.1 has no weight: metadata).
pub fn category_out(r: &LineItemCategory, v: Version, delta: bool) -> OutRow {
    let mut out = OutRow::new(&r.meta.source.id);
    out.set("title", Some(r.title.as_str()));
    let mut used = vec!["title"];
    // weight is an integer percent.
    if v == Version::V1_2
        && let Some(w) = r.weight
        && w.units() % 10_000 == 0
    {
        out.set("weight", Some((w.units() / 10_000).to_string()));
        used.push("weight");
    }
    leftovers(r, &used, false, delta, &mut out);
    out
}

/// A lineItems.csv row out; `school` is its class's school, `session` the
/// session used when the line item names none (its class's first).
pub fn line_item_out(r: &LineItem, school: &str, session: Option<&str>, v: Version, delta: bool) -> OutRow {
    let mut out = OutRow::new(&r.meta.source.id);
    out.set("title", Some(r.title.as_str()));
    out.set("description", r.description.as_deref());
    out.set("assignDate", r.assign_date.or(r.due_date).map(|d| d.to_string()));
    out.set("dueDate", r.due_date.or(r.assign_date).map(|d| d.to_string()));
    out.set("classSourcedId", r.section_id.as_deref());
    out.set("categorySourcedId", r.category_id.as_deref());
    let session_col = if v == Version::V1_2 { "academicSessionSourcedId" } else { "gradingPeriodSourcedId" };
    out.set(session_col, r.session_id.as_deref().or(session));
    out.set("resultValueMax", r.points_possible.map(|d| d.to_string()));
    let min = r.meta.ext.get("oneroster.resultValueMin");
    out.set("resultValueMin", min.or((v == Version::V1_1 && r.points_possible.is_some()).then_some("0")));
    if v == Version::V1_2 {
        out.set("schoolSourcedId", Some(r.meta.ext.get("oneroster.schoolSourcedId").unwrap_or(school)));
    }
    let mut used = vec!["title", "description", "section_id", "category_id", "points_possible"];
    if r.session_id.is_some() {
        used.push("session_id");
    }
    if r.assign_date.is_some() {
        used.push("assign_date");
    }
    if r.due_date.is_some() {
        used.push("due_date");
    }
    leftovers(r, &used, false, delta, &mut out);
    out
}

/// A results.csv row out.
pub fn result_out(
    r: &LineItemResult,
    class: Option<&str>,
    v: Version,
    delta: bool,
) -> Result<OutRow, String> {
    let mut out = OutRow::new(&r.meta.source.id);
    out.set("lineItemSourcedId", r.line_item_id.as_deref());
    out.set("studentSourcedId", r.student_id.as_deref());
    let status = match &r.status {
        Some(s) => match SCORE_STATUSES.iter().find(|(_, c)| *c == s.code) {
            Some((t, _)) => (*t).to_owned(),
            None if v == Version::V1_2 && s.original.starts_with("ext:") => s.original.clone(),
            None if v == Version::V1_2 => format!("ext:{}", s.original.replace(',', " ")),
            None => return Err("the result's status has no OneRoster 1.1 score status".to_owned()),
        },
        // A result with a score and no status is graded.
        None if r.score.is_some() || r.text_score.is_some() => "fully graded".to_owned(),
        None => return Err("the result has no status and no score (results.scoreStatus)".to_owned()),
    };
    out.set("scoreStatus", Some(status));
    out.set("score", r.score.map(|d| d.to_string()));
    out.set("scoreDate", r.score_date.map(|d| d.to_string()));
    out.set("comment", r.comment.as_deref());
    let mut used = vec!["line_item_id", "student_id", "status", "score", "score_date", "comment"];
    if v == Version::V1_2 {
        out.set("textScore", r.text_score.as_deref());
        out.set("classSourcedId", r.meta.ext.get("oneroster.classSourcedId").or(class));
        out.set("inProgress", r.meta.ext.get("oneroster.inProgress"));
        out.set("incomplete", r.meta.ext.get("oneroster.incomplete"));
        out.set("late", r.late.map(|b| b.to_string()));
        out.set("missing", r.missing.map(|b| b.to_string()));
        used.extend(["text_score", "late", "missing"]);
    }
    leftovers(r, &used, false, delta, &mut out);
    Ok(out)
}

/// A code from its token (tests).
pub fn status(token: &str) -> Option<Code<ScoreStatus>> {
    SCORE_STATUSES.iter().find(|(t, _)| *t == token).map(|(t, c)| Code::mapped(*c, *t))
}
