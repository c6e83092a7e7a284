//! Source tables: every export file read once more, when the destination
//! keeps the old system as it came (the archive), into batches of its own
//! table under PowerSchool's names (`StoredGrades.Grade`).
//!
//! Two reads per file: the first decides each column's type from every value
//! (integers without leading zeros, decimals of at most four places, dates in
//! a PowerSchool date format; text otherwise), the second builds the
//! batches. Secret columns are left out unless `include_secrets` is set. A
//! row the reader cannot split into the file's columns (a tab inside a
//! value) is kept whole in an `_unparsed` column, its other columns empty,
//! so the table still holds every row of the file.

use std::fs::File;

use ferry_sdk::model::source_table::{CellKind, ColumnType, SourceTableBuilder, TypeGuess};
use ferry_sdk::text::{TextReader, ValueParser};
use ferry_sdk::{BatchBuilder, Error};

use crate::files::FileSpec;
use crate::header;

/// The column that keeps rows the reader could not split.
pub const UNPARSED_COLUMN: &str = "_unparsed";

/// How one file becomes a source table.
#[derive(Clone, Debug)]
pub struct RawPlan {
    /// The source table's name.
    pub table: String,
    /// `(row index, column name, type)` of the columns kept, in file order.
    pub columns: Vec<(usize, String, ColumnType)>,
    /// Whether some row could not be split (then [`UNPARSED_COLUMN`] exists).
    pub unparsed: bool,
}

/// The names of a file's columns in its source table: the header without a
/// qualifier of the file's own table; a name used twice keeps its full
/// header, and a header used twice is numbered.
pub fn column_names(spec: &FileSpec) -> Vec<String> {
    let bare: Vec<String> = spec.columns.iter().map(|c| header::split(&c.header).1.to_owned()).collect();
    let mut out: Vec<String> = Vec::with_capacity(bare.len());
    for (i, c) in spec.columns.iter().enumerate() {
        let clash = bare.iter().enumerate().any(|(j, b)| j != i && b.eq_ignore_ascii_case(&bare[i]));
        let mut name = if clash || bare[i].is_empty() { c.header.clone() } else { bare[i].clone() };
        if name.is_empty() {
            name = format!("column_{}", i + 1);
        }
        let base = name.clone();
        let mut n = 1;
        let reserved = |n: &str| n == ferry_sdk::model::source_table::LINE_COLUMN || n == UNPARSED_COLUMN;
        while reserved(&name) || out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
            n += 1;
            name = format!("{base} ({n})");
        }
        out.push(name);
    }
    out
}

/// The first read: each kept column's type.
pub fn plan(spec: &FileSpec, table: &str, keep: &[bool]) -> Result<RawPlan, Error> {
    let names = column_names(spec);
    let parser = ValueParser::new(&spec.dialect);
    let mut guesses = vec![TypeGuess::default(); names.len()];
    let mut unparsed = false;
    let mut reader = spec.open()?;
    while let Some(row) = reader.next_row()? {
        let Ok(row) = row else {
            unparsed = true;
            continue;
        };
        for (c, cell) in row.iter().enumerate() {
            let Some(g) = guesses.get_mut(c) else { break };
            if g.is_text() || !keep[c] {
                continue;
            }
            g.observe(classify(cell, &parser));
        }
    }
    let columns = names
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep[*i])
        .map(|(i, n)| (i, n, guesses[i].column_type()))
        .collect();
    Ok(RawPlan { table: table.to_owned(), columns, unparsed })
}

fn classify(cell: &str, parser: &ValueParser) -> CellKind {
    if cell.is_empty() {
        return CellKind::Empty;
    }
    match CellKind::of_number(cell) {
        CellKind::Text if cell.len() <= 10 && cell.bytes().any(|b| b == b'/' || b == b'-') => {
            // Dates exactly as the dialect reads them (and only whole dates).
            if cell.trim() == cell && parser.parse_date(cell).is_ok() {
                CellKind::Date
            } else {
                CellKind::Text
            }
        }
        k => k,
    }
}

/// The second read of one file, batch by batch.
pub struct RawRead {
    reader: TextReader<File>,
    parser: ValueParser,
    builder: SourceTableBuilder,
    plan: RawPlan,
}

impl RawRead {
    /// Opens the file for the second read.
    pub fn open(spec: &FileSpec, plan: RawPlan, omitted: &[String]) -> Result<RawRead, Error> {
        let mut cols: Vec<(String, ColumnType)> =
            plan.columns.iter().map(|(_, n, t)| (n.clone(), *t)).collect();
        if plan.unparsed {
            cols.push((UNPARSED_COLUMN.to_owned(), ColumnType::Text));
        }
        let builder = SourceTableBuilder::new(&plan.table, &spec.name, &cols, omitted)
            .map_err(|e| Error::internal(format!("{}: {}", spec.name, e.0)))?;
        Ok(RawRead { reader: spec.open()?, parser: ValueParser::new(&spec.dialect), builder, plan })
    }

    /// The source table's name.
    pub fn table(&self) -> &str {
        &self.plan.table
    }

    /// Reads up to `out`'s capacity of rows into one batch and sends it;
    /// returns whether the file ended.
    pub fn fill(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        let RawRead { reader, parser, builder, plan } = self;
        let capacity = out.capacity() as usize;
        let date = |s: &str| parser.parse_date(s).ok();
        let mut ended = false;
        while builder.len() < capacity {
            let Some(row) = reader.next_row()? else {
                ended = true;
                break;
            };
            match row {
                Ok(row) => {
                    builder.start_row(row.line());
                    for (c, (i, _, _)) in plan.columns.iter().enumerate() {
                        builder.push(c, row.get(*i).unwrap_or_default(), date);
                    }
                    if plan.unparsed {
                        builder.push(plan.columns.len(), "", date);
                    }
                }
                Err(e) => {
                    builder.start_row(e.line);
                    for c in 0..plan.columns.len() {
                        builder.push(c, "", date);
                    }
                    builder.push(plan.columns.len(), &e.raw, date);
                }
            }
        }
        if !builder.is_empty() {
            let batch = builder.finish().map_err(|e| Error::internal(e.0))?;
            out.push_table(&plan.table, batch)?;
        }
        Ok(ended)
    }
}
