//! Header normalization: the four header styles PowerSchool tools write
//! (`Student_Number`, `[01]Student_Number`, `[Students]Student_Number`,
//! `STUDENTS.STUDENT_NUMBER`) come down to one key per column.
//!
//! A qualifier naming the file's own table is dropped. A qualifier naming
//! another table marks a *related* column (`[05]Last_Name` in a sections
//! export is the teacher's name, never the section's): its key keeps the
//! table (`teachers.lastname`) and its extension key keeps the full header.

use crate::tables::{Table, fold};

/// The qualifier in front of a column name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Qualifier {
    /// A table the connector knows.
    Known(Table),
    /// Anything else (`U_StudentsUserFields`, `S_NJ_STU_X`, `[77]`).
    Other(String),
}

/// One column of a file, as the connector understands it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The header as written (trimmed).
    pub header: String,
    /// Comparison key: the folded column name for the file's own columns,
    /// `table.column` (both folded) for related ones.
    pub key: String,
    /// Whether the column belongs to the file's own table.
    pub own: bool,
    /// The extension key the column's values are kept under when unmapped:
    /// the header without an own-table qualifier; related columns keep it.
    pub ext_key: String,
    /// The column holds a secret (a password, a social security number) and
    /// is left out of everything (see `secrets`).
    pub secret: bool,
}

/// Splits a header into its qualifier and column name.
pub fn split(header: &str) -> (Option<Qualifier>, &str) {
    let h = header.trim();
    if let Some(rest) = h.strip_prefix('[')
        && let Some((inner, col)) = rest.split_once(']')
    {
        let inner = inner.trim();
        let q =
            match inner.parse::<u16>() {
                Ok(n) => Table::from_number(n)
                    .map_or_else(|| Qualifier::Other(format!("[{inner}]")), Qualifier::Known),
                Err(_) => Table::from_name(inner)
                    .map_or_else(|| Qualifier::Other(inner.to_owned()), Qualifier::Known),
            };
        return (Some(q), col.trim());
    }
    if let Some((table, col)) = h.split_once('.') {
        let ident = !table.is_empty() && table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ident && !col.trim().is_empty() {
            let q =
                Table::from_name(table).map_or_else(|| Qualifier::Other(table.to_owned()), Qualifier::Known);
            return (Some(q), col.trim());
        }
    }
    (None, h)
}

/// The qualifier a header names, if it is a known table.
pub fn qualifier_table(header: &str) -> Option<Table> {
    match split(header).0 {
        Some(Qualifier::Known(t)) => Some(t),
        _ => None,
    }
}

/// Understands the headers of a file of `table`.
pub fn columns(headers: &[String], table: Table) -> Vec<Column> {
    headers
        .iter()
        .map(|h| {
            let header = h.trim().to_owned();
            let (q, col) = split(&header);
            match q {
                None => Column { key: fold(col), own: true, ext_key: col.to_owned(), header, secret: false },
                Some(Qualifier::Known(t)) if t == table => {
                    Column { key: fold(col), own: true, ext_key: col.to_owned(), header, secret: false }
                }
                Some(Qualifier::Known(t)) => Column {
                    key: format!("{}.{}", fold(t.name()), fold(col)),
                    own: false,
                    ext_key: header.clone(),
                    header,
                    secret: false,
                },
                Some(Qualifier::Other(o)) => Column {
                    key: format!("{}.{}", fold(&o), fold(col)),
                    own: false,
                    ext_key: header.clone(),
                    header,
                    secret: false,
                },
            }
        })
        .collect()
}

/// The name of a table the connector does not know that most headers are
/// qualified with (`U_StudentsUserFields.StudentsDCID`), when at least half are.
pub fn other_table_from_headers(headers: &[String]) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for h in headers {
        if let (Some(Qualifier::Other(t)), _) = split(h) {
            if t.starts_with('[') {
                continue;
            }
            match counts.iter_mut().find(|(x, _)| x.eq_ignore_ascii_case(&t)) {
                Some(c) => c.1 += 1,
                None => counts.push((t, 1)),
            }
        }
    }
    let (t, n) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    (n * 2 >= headers.len() && n > 0).then_some(t)
}

/// The table most headers are qualified with, when at least half are.
pub fn table_from_headers(headers: &[String]) -> Option<Table> {
    let mut counts: Vec<(Table, usize)> = Vec::new();
    for h in headers {
        if let Some(t) = qualifier_table(h) {
            match counts.iter_mut().find(|(x, _)| *x == t) {
                Some(c) => c.1 += 1,
                None => counts.push((t, 1)),
            }
        }
    }
    let (t, n) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    (n * 2 >= headers.len() && n > 0).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(hs: &[&str], t: Table) -> Vec<Column> {
        columns(&hs.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>(), t)
    }

    #[test]
    fn four_styles_give_one_key() {
        for h in [
            "Student_Number",
            "[01]Student_Number",
            "[1]Student_Number",
            "[Students]Student_Number",
            "STUDENTS.STUDENT_NUMBER",
        ] {
            let c = &cols(&[h], Table::Students)[0];
            assert_eq!(c.key, "studentnumber", "{h}");
            assert!(c.own, "{h}");
        }
        let c = &cols(&["STUDENTS.STUDENT_NUMBER"], Table::Students)[0];
        assert_eq!(c.ext_key, "STUDENT_NUMBER");
    }

    #[test]
    fn related_columns_keep_their_table() {
        let c = cols(
            &["[05]Last_Name", "U_StudentsUserFields.Locker", "[Students]Student_Number"],
            Table::Sections,
        );
        assert_eq!((c[0].key.as_str(), c[0].own), ("teachers.lastname", false));
        assert_eq!(c[0].ext_key, "[05]Last_Name");
        assert_eq!((c[1].key.as_str(), c[1].own), ("ustudentsuserfields.locker", false));
        assert_eq!(c[1].ext_key, "U_StudentsUserFields.Locker");
        assert_eq!(c[2].key, "students.studentnumber");
        let d = cols(&["[77]Thing", "Odd.Name With Space"], Table::Cc);
        assert_eq!(d[0].key, "[77].thing");
        assert_eq!(d[1].key, "odd.namewithspace");
    }

    #[test]
    fn table_from_qualified_headers() {
        let hs: Vec<String> =
            ["[01]ID", "[01]Last_Name", "[39]Name"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(table_from_headers(&hs), Some(Table::Students));
        let hs: Vec<String> = ["ID", "Last_Name", "[39]Name"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(table_from_headers(&hs), None);
    }
}
