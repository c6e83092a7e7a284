//! The PowerSchool district generator: students entering, moving, leaving
//! and graduating over four school years, their schedules, grades,
//! attendance and contacts, written as PowerSchool export files; with
//! [`PsGenOptions::district_tables`], also their logs and incidents, special
//! programs, tests, class ranks and extension rows, the bell schedules and
//! co-teachers.
//!
//! Generation runs in two passes. The first plans every student's
//! enrollment history (kept in memory: a few spans per student). Sections and
//! teachers are sized from it. The second pass streams every student's rows
//! into all files at once, so nothing per-row is held (ClassRank, ranked
//! within a school and grade, keeps a few numbers per high-school student
//! and is written at the end).
//!
//! Each module holds one concern and uses only modules listed above it:
//!
//! - [`options`]: what to generate; [`codes`] and [`district_codes`]: code
//!   tables; [`text`]: ASCII folding and phone numbers.
//! - [`columns`]: every table's columns; [`files`]: the export files and
//!   their layouts.
//! - [`model`]: the district model and the generator state.
//! - [`plan`] (pass 1) and [`staffing`]: enrollment histories, sections and
//!   staff.
//! - [`district_static`] and [`static_tables`]: schools, terms, calendars,
//!   bell schedules, codes, courses, staff, sections, co-teachers, tests.
//! - [`contacts`], [`schedule`], [`grades`], [`attendance`], [`logs`],
//!   [`assessments`], [`rank`]: a student's rows of each kind; [`district`]
//!   the student's district rows with them; [`students`] (pass 2) writes a
//!   student with all of them.
//! - [`orphans`]: the orphan rows quirks add.
//!
//! The core files come out byte for byte the same whether the district
//! tables, the secrets or the combined contacts file are asked for or not:
//! those draw from random streams of their own, and the rows they add to
//! core files (Gen, Calendar_Day and StudentContactDetail columns and rows,
//! Students secrets) are written only with them.
//!
//! The quirks of a file's layout are set in [`files`]; those of single values
//! (blanks, literal quotes, tabs, short dates, `--` grades) where the value
//! is written.

mod assessments;
mod attendance;
mod codes;
mod columns;
mod contacts;
mod district;
mod district_codes;
mod district_static;
mod files;
mod grades;
mod logs;
mod model;
mod options;
mod orphans;
mod plan;
mod rank;
mod schedule;
mod staffing;
mod static_tables;
mod students;
mod text;

use std::io;
use std::path::Path;

use crate::manifest::{GenManifest, MANIFEST_FILE, SOURCE_CONFIG_FILE};

use files::Files;
use model::Gen;

pub use options::{MISSING_COURSE_NUMBER, MISSING_STUDENT_ID, PsGenOptions};

/// Writes a synthetic PowerSchool district export into `out_dir` (created if
/// missing) plus `manifest.toml`, and returns the manifest.
///
/// The same options always write the same bytes. See the crate
/// documentation for the files, their columns and the quirks.
pub fn powerschool(opts: &PsGenOptions, out_dir: &Path) -> io::Result<GenManifest> {
    std::fs::create_dir_all(out_dir)?;
    let mut g = Gen::new(opts);
    g.plan();
    g.build_sections();
    let mut f = Files::open(out_dir, opts)?;
    g.write_static(&mut f)?;
    if opts.district_tables {
        g.write_district_static(&mut f)?;
    }
    if opts.quirks {
        g.orphan_section(&mut f)?;
    }
    let mut family = None;
    for i in 0..g.students.len() {
        g.student(&mut f, i, &mut family)?;
    }
    if opts.district_tables {
        g.write_ranks(&mut f)?;
    }
    if opts.quirks {
        g.orphans(&mut f)?;
        if opts.district_tables {
            g.district_orphans(&mut f)?;
        }
    }
    let files = f.finish()?;
    let manifest = GenManifest {
        system: "powerschool".to_owned(),
        students: opts.students,
        seed: opts.seed,
        quirks: opts.quirks,
        encoding: opts.encoding,
        district_tables: opts.district_tables,
        secrets: opts.secrets,
        contacts_export: opts.contacts_export,
        files,
    };
    std::fs::write(out_dir.join(MANIFEST_FILE), manifest.to_toml())?;
    std::fs::write(out_dir.join(SOURCE_CONFIG_FILE), manifest.source_config_toml())?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{HeaderStyle, TextEncoding};

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ferry-gen-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn deterministic_and_counted() {
        let opts = PsGenOptions {
            students: 120,
            seed: 5,
            quirks: true,
            encoding: TextEncoding::Utf8,
            ..PsGenOptions::default()
        };
        let a = tmp("a");
        let b = tmp("b");
        let ma = powerschool(&opts, &a).unwrap();
        let mb = powerschool(&opts, &b).unwrap();
        assert_eq!(ma, mb);
        for f in &ma.files {
            let x = std::fs::read(a.join(&f.name)).unwrap();
            assert_eq!(x, std::fs::read(b.join(&f.name)).unwrap(), "{}", f.name);
            // Rows = line breaks minus the header line.
            let lines = x.iter().filter(|&&c| c == b'\n').count() as u64;
            let header = u64::from(f.header != HeaderStyle::None);
            assert_eq!(lines, f.rows + header, "{}", f.name);
        }
        assert_eq!(GenManifest::parse(&std::fs::read_to_string(a.join(MANIFEST_FILE)).unwrap()).unwrap(), ma);
        assert_eq!(ma.file("students.txt").unwrap().rows, 120);
        assert_eq!(ma.file("cc.txt").unwrap().rejected_for("missing_student"), 2);
        assert_eq!(ma.file("sections.txt").unwrap().rejected_for("missing_course"), 1);
        let students = std::fs::read(a.join("students.txt")).unwrap();
        assert!(students.starts_with(b"\xEF\xBB\xBF[01]ID\t[01]DCID"));
        std::fs::remove_dir_all(&a).unwrap();
        std::fs::remove_dir_all(&b).unwrap();
    }

    #[test]
    fn full_district_is_deterministic() {
        let opts =
            PsGenOptions { quirks: true, contacts_export: true, ..PsGenOptions::full_district(150, 8) };
        let (a, b) = (tmp("full-a"), tmp("full-b"));
        let ma = powerschool(&opts, &a).unwrap();
        assert_eq!(ma, powerschool(&opts, &b).unwrap());
        for f in &ma.files {
            let x = std::fs::read(a.join(&f.name)).unwrap();
            assert_eq!(x, std::fs::read(b.join(&f.name)).unwrap(), "{}", f.name);
        }
        // Another seed, another district.
        let c = tmp("full-c");
        let mc = powerschool(&PsGenOptions { seed: 9, ..opts }, &c).unwrap();
        assert_ne!(std::fs::read(a.join("log.txt")).unwrap(), std::fs::read(c.join("log.txt")).unwrap());
        assert_ne!(ma.total_rows(), mc.total_rows());
        for d in [a, b, c] {
            std::fs::remove_dir_all(&d).unwrap();
        }
    }

    #[test]
    fn cp1252_has_no_utf8_multibyte_sequences() {
        let opts = PsGenOptions {
            students: 60,
            seed: 3,
            quirks: false,
            encoding: TextEncoding::Cp1252,
            ..PsGenOptions::default()
        };
        let d = tmp("c");
        powerschool(&opts, &d).unwrap();
        let s = std::fs::read(d.join("students.txt")).unwrap();
        assert!(std::str::from_utf8(&s).is_err(), "accented names make it invalid UTF-8");
        assert!(s.iter().any(|&b| b >= 0x80));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
