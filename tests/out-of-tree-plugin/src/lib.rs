//! An example third-party plugin: "Acme Roster", a source that reads a tiny
//! line-based roster format (`number|first|last|grade`) and produces students.
//! It depends on ferry-sdk only.

use std::io::{BufRead, BufReader};

use ferry_sdk::model::{Code, EntityKind, GradeLevel, Meta, Origin, Student};
use ferry_sdk::{BatchBuilder, Error, OpenContext, Plugin, Reject, Source};

/// The plugin.
pub struct AcmeRoster;

#[derive(serde::Deserialize)]
struct Config {
    file: String,
}

impl Plugin for AcmeRoster {
    const MANIFEST: &'static str = r#"
        id = "acme-roster"
        description = "Acme Roster files (number|first|last|grade), a third-party example"
        capabilities = ["source"]
        entities = ["students"]
        [config.file]
        type = "string"
        description = "the roster file"
        required = true
    "#;

    fn open_source(ctx: &OpenContext) -> Result<Box<dyn Source>, Error> {
        let c: Config = ctx.config()?;
        let path = ctx.resolve(&c.file);
        let f = std::fs::File::open(&path).map_err(|e| Error::io(format!("cannot open {}: {e}", path.display())))?;
        Ok(Box::new(RosterSource { lines: BufReader::new(f), line: 0, file: c.file }))
    }
}

struct RosterSource {
    lines: BufReader<std::fs::File>,
    line: u64,
    file: String,
}

impl Source for RosterSource {
    fn entities(&self) -> Vec<EntityKind> {
        vec![EntityKind::Students]
    }

    fn next_batch(&mut self, out: &mut BatchBuilder) -> Result<bool, Error> {
        let mut text = String::new();
        while !out.is_full() {
            text.clear();
            if self.lines.read_line(&mut text)? == 0 {
                // Reaches the host's log output through the SDK's log bridge.
                ferry_sdk::tracing::info!(lines = self.line, "Acme roster read to the end.");
                return Ok(false);
            }
            self.line += 1;
            let fields: Vec<&str> = text.trim_end_matches(['\r', '\n']).split('|').collect();
            let [number, first, last, grade] = fields[..] else {
                out.reject(
                    Reject::new(EntityKind::Students, format!("expected 4 fields, found {}", fields.len()))
                        .at(&self.file, self.line),
                );
                continue;
            };
            let mut meta = Meta::new("acme", number);
            meta.origin = Some(Origin { file: self.file.clone(), line: self.line, raw: None });
            let student = Student {
                meta,
                student_number: Some(number.to_owned()),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                grade_level: Some(Code::<GradeLevel>::normalize(grade)),
                ..Student::default()
            };
            out.push(&student)?;
        }
        Ok(true)
    }
}

ferry_sdk::export_plugin!(AcmeRoster);
