//! `ferry inventory --from SOURCE`, in a migration folder: the source read
//! once through its connector in a dry run (nothing is written anywhere),
//! every batch profiled by the host's inventory tap
//! (`ferry_host::inventory`), then the profile written to `reports/` as
//! JSON, Markdown and a standalone HTML page with charts (`crate::html`),
//! and summed up on the terminal. Names, birth dates and
//! contact details never appear: personal fields are profiled by fill rate
//! only, and anomalies name records by id, file and line.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;

use crate::cli::Format;
use crate::freeze::{entity_counts, journal, read_source, source_files};
use crate::html::Page;
use crate::project::{Project, Step};

use crate::html::percent as pct;

/// The records of `entity` the run rejected on reading.
fn rejected_of(report: &Value, entity: &str) -> u64 {
    report["entities"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x["entity"] == entity)
        .map_or(0, |x| x["rejected"].as_u64().unwrap_or(0))
}

/// The profile as Markdown.
fn markdown(source: &str, profile: &Value, report: &Value) -> String {
    let mut md = format!("# Inventory of {source}\n\n");
    let years: Vec<&str> =
        profile["school_years"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let _ = writeln!(
        md,
        "School years present: {}\n",
        if years.is_empty() { "none recorded".into() } else { years.join(", ") }
    );
    md.push_str("| entity | records | rejected on reading | anomalies |\n|---|---:|---:|---:|\n");
    let rejected = |e: &str| rejected_of(report, e);
    let entities = profile["entities"].as_array().cloned().unwrap_or_default();
    for e in &entities {
        let name = e["entity"].as_str().unwrap_or_default();
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} |",
            e["records"],
            rejected(name),
            e["anomalies"].as_array().map_or(0, Vec::len)
        );
    }
    for e in &entities {
        let name = e["entity"].as_str().unwrap_or_default();
        let records = e["records"].as_u64().unwrap_or(0);
        let _ = writeln!(md, "\n## {name} ({records} records)\n");
        md.push_str("| field | type | filled | values |\n|---|---|---:|---|\n");
        for f in e["fields"].as_array().into_iter().flatten() {
            let filled = f["filled"].as_u64().unwrap_or(0);
            let values = if let Some(codes) = f["codes"].as_array() {
                let shown: Vec<String> = codes
                    .iter()
                    .take(12)
                    .map(|c| {
                        format!(
                            "`{}`→{} ×{}",
                            c["original"].as_str().unwrap_or(""),
                            c["code"].as_str().unwrap_or(""),
                            c["count"]
                        )
                    })
                    .collect();
                let more = codes.len().saturating_sub(shown.len());
                format!(
                    "{}{}",
                    shown.join(", "),
                    if more > 0 { format!(" (+{more} more)") } else { String::new() }
                )
            } else if let (Some(a), Some(b)) = (f["min"].as_str(), f["max"].as_str()) {
                format!("{a} to {b}")
            } else if f["pii"] == true {
                "personal: not shown".to_owned()
            } else {
                String::new()
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {values} |",
                f["field"].as_str().unwrap_or(""),
                f["ty"].as_str().unwrap_or(""),
                pct(filled, records)
            );
        }
        if let Some(per) = e["per_school_year"].as_array().filter(|p| !p.is_empty()) {
            md.push_str("\n| school | school year | records |\n|---|---|---:|\n");
            for p in per {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} |",
                    p[0].as_str().unwrap_or(""),
                    p[1].as_str().unwrap_or(""),
                    p[2]
                );
            }
        }
        for a in e["anomalies"].as_array().into_iter().flatten() {
            let field =
                a["field"].as_str().filter(|f| !f.is_empty()).map(|f| format!(" ({f})")).unwrap_or_default();
            let _ = writeln!(
                md,
                "\n**{}**{field}: {} record(s), for example:",
                a["kind"].as_str().unwrap_or(""),
                a["count"]
            );
            for x in a["examples"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    md,
                    "- id `{}`, {} line {}",
                    x["id"].as_str().unwrap_or(""),
                    x["file"].as_str().unwrap_or(""),
                    x["line"]
                );
            }
        }
    }
    md
}

/// The profile as a standalone HTML page: headline figures, records per
/// entity, and per entity its fill rates, code distributions, records per
/// school and school year, and anomalies by id, file and line.
fn html(source: &str, taken: &str, profile: &Value, report: &Value, files: &[(&str, &str)]) -> String {
    let entities = profile["entities"].as_array().cloned().unwrap_or_default();
    let rejected = |e: &str| rejected_of(report, e);
    let records = |e: &Value| e["records"].as_u64().unwrap_or(0);
    let anomalies = |e: &Value| e["anomalies"].as_array().cloned().unwrap_or_default();
    let years: Vec<&str> =
        profile["school_years"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let name = |e: &Value| e["entity"].as_str().unwrap_or_default().to_owned();

    let mut page = Page::new(&format!("Inventory of {source}"));
    page.meta(&[("Source", source), ("Taken", taken)]);
    let total_rejected: u64 = entities.iter().map(|e| rejected(&name(e))).sum();
    let anomaly_records: u64 =
        entities.iter().flat_map(anomalies).map(|a| a["count"].as_u64().unwrap_or(0)).sum();
    page.figures(&[
        ("entities", "Entities", entities.len() as u64),
        ("records", "Records", entities.iter().map(records).sum()),
        ("rejected", "Rejected on reading", total_rejected),
        ("anomalies", "Records in anomalies", anomaly_records),
        ("school-years", "School years", years.len() as u64),
    ]);
    page.para(&format!(
        "School years present: {}.",
        if years.is_empty() { "none recorded".to_owned() } else { years.join(", ") }
    ));
    page.links("The same inventory as data", files);
    page.note(
        "Names, birth dates and contact details are never shown: personal fields are profiled by fill rate only, and anomalies name records by id, file and line.",
    );

    page.heading("Entities");
    let rows: Vec<Vec<String>> = entities
        .iter()
        .map(|e| {
            let fields = e["fields"].as_array().cloned().unwrap_or_default();
            let used = fields.iter().filter(|f| f["filled"].as_u64().unwrap_or(0) > 0).count();
            vec![
                name(e),
                records(e).to_string(),
                rejected(&name(e)).to_string(),
                format!("{used} of {}", fields.len()),
                anomalies(e).len().to_string(),
            ]
        })
        .collect();
    page.table(&["entity", "records", "rejected on reading", "fields filled", "anomalies"], &rows);
    let per_entity: Vec<(String, u64)> = entities.iter().map(|e| (name(e), records(e))).collect();
    page.bar_chart("Records per entity", &per_entity);

    for e in &entities {
        let entity = name(e);
        let n = records(e);
        page.heading(&format!("{entity} ({n} records)"));
        let fields = e["fields"].as_array().cloned().unwrap_or_default();
        let fill: Vec<(String, u64)> = fields
            .iter()
            .map(|f| (f["field"].as_str().unwrap_or("").to_owned(), f["filled"].as_u64().unwrap_or(0)))
            .collect();
        page.fill_chart(&format!("{entity}: fill rate per field"), n, &fill);
        let rows: Vec<Vec<String>> = fields
            .iter()
            .map(|f| {
                let values = if let Some(codes) = f["codes"].as_array() {
                    format!("{} distinct codes (chart below)", codes.len())
                } else if let (Some(a), Some(b)) = (f["min"].as_str(), f["max"].as_str()) {
                    format!("{a} to {b}")
                } else if f["pii"] == true {
                    "personal: not shown".to_owned()
                } else {
                    String::new()
                };
                vec![
                    f["field"].as_str().unwrap_or("").to_owned(),
                    f["ty"].as_str().unwrap_or("").to_owned(),
                    f["filled"].as_u64().unwrap_or(0).to_string(),
                    crate::html::percent(f["filled"].as_u64().unwrap_or(0), n),
                    values,
                ]
            })
            .collect();
        page.table(&["field", "type", "filled", "fill rate", "values"], &rows);
        for f in &fields {
            let Some(codes) = f["codes"].as_array().filter(|c| !c.is_empty()) else { continue };
            let field = f["field"].as_str().unwrap_or("");
            let bars: Vec<(String, u64)> = codes
                .iter()
                .map(|c| {
                    let (o, code) = (c["original"].as_str().unwrap_or(""), c["code"].as_str().unwrap_or(""));
                    let label = if o == code { o.to_owned() } else { format!("{o} → {code}") };
                    (label, c["count"].as_u64().unwrap_or(0))
                })
                .collect();
            page.bar_chart(&format!("{entity}.{field}: code distribution (as given → canonical)"), &bars);
        }
        if let Some(per) = e["per_school_year"].as_array().filter(|p| !p.is_empty()) {
            let bars: Vec<(String, u64)> = per
                .iter()
                .map(|p| {
                    let school = p[0].as_str().filter(|s| !s.is_empty()).unwrap_or("(no school)");
                    let year = p[1].as_str().filter(|s| !s.is_empty()).unwrap_or("(no year)");
                    (format!("{school} · {year}"), p[2].as_u64().unwrap_or(0))
                })
                .collect();
            page.bar_chart(&format!("{entity}: records per school and school year"), &bars);
        }
        for a in anomalies(e) {
            let field =
                a["field"].as_str().filter(|f| !f.is_empty()).map(|f| format!(" ({f})")).unwrap_or_default();
            page.subheading(&format!(
                "Anomaly: {}{field}: {} record(s)",
                a["kind"].as_str().unwrap_or(""),
                a["count"]
            ));
            let rows: Vec<Vec<String>> = a["examples"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| {
                    vec![
                        x["id"].as_str().unwrap_or("").to_owned(),
                        x["file"].as_str().unwrap_or("").to_owned(),
                        x["line"].to_string(),
                    ]
                })
                .collect();
            if rows.len() as u64 != a["count"].as_u64().unwrap_or(0) {
                page.note(&format!("The first {} of them:", rows.len()));
            }
            page.table(&["id", "file", "line"], &rows);
        }
    }
    page.finish()
}

/// `ferry inventory`.
pub fn inventory(source: &str, sets: &[String], format: Format) -> anyhow::Result<ExitCode> {
    let project = Project::here()?;
    let started_at = ferry_host::time::now();
    let tmp = project.root.join(format!("reports/.inventory-{}.partial", std::process::id()));
    let read = (|| {
        crate::project::private_dir(&tmp)?;
        let profile_path = tmp.join("profile.json");
        let report = read_source(
            source,
            sets,
            &tmp.join("none.sqlite"),
            &tmp.join("rejects.jsonl"),
            &["--dry-run".as_ref(), "--inventory".as_ref(), profile_path.as_os_str()],
        )?;
        let text = std::fs::read_to_string(&profile_path)
            .with_context(|| format!("the dry run wrote no profile ({})", profile_path.display()))?;
        let profile: Value = serde_json::from_str(&text)?;
        Ok::<_, anyhow::Error>((report, profile))
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    let (report, profile) = match read {
        Ok(x) => x,
        Err(e) => {
            journal(&project, Step::Inventory, None, started_at, Vec::new(), Value::Null, Some(&e), None)?;
            return Err(e);
        }
    };
    let stamp = started_at.replace([':', '-'], "");
    let mut full = profile.clone();
    full["source"] = Value::String(source.to_owned());
    full["read"] = entity_counts(&report);
    let json_report =
        project.write_report(&format!("inventory-{stamp}.json"), &serde_json::to_string_pretty(&full)?)?;
    let md_report =
        project.write_report(&format!("inventory-{stamp}.md"), &markdown(source, &profile, &report))?;
    let page = html(
        source,
        &started_at,
        &profile,
        &report,
        &[("JSON", crate::html::file_name(&json_report)), ("Markdown", crate::html::file_name(&md_report))],
    );
    let html_report = project.write_report(&format!("inventory-{stamp}.html"), &page)?;
    let files = source_files(&project, source)?;
    journal(
        &project,
        Step::Inventory,
        None,
        started_at,
        files,
        entity_counts(&report),
        None,
        Some(json_report.clone()),
    )?;
    match format {
        Format::Json => {
            full["reports"] = serde_json::json!([json_report, md_report, html_report]);
            outln!("{full}");
        }
        Format::Text => {
            outln!("{:<22} {:>10} {:>10}  FIELDS FILLED  ANOMALIES", "ENTITY", "RECORDS", "REJECTED");
            for e in profile["entities"].as_array().into_iter().flatten() {
                let records = e["records"].as_u64().unwrap_or(0);
                let fields = e["fields"].as_array().cloned().unwrap_or_default();
                let used = fields.iter().filter(|f| f["filled"].as_u64().unwrap_or(0) > 0).count();
                let name = e["entity"].as_str().unwrap_or_default();
                let rejected = rejected_of(&report, name);
                let anomalies: Vec<String> = e["anomalies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| format!("{} × {}", a["count"], a["kind"].as_str().unwrap_or("")))
                    .collect();
                outln!(
                    "{name:<22} {records:>10} {rejected:>10}  {:>6} of {:<4}  {}",
                    used,
                    fields.len(),
                    if anomalies.is_empty() { "-".to_owned() } else { anomalies.join("; ") }
                );
            }
            outln!("Reports: {json_report}, {md_report}");
            outln!("Open in a browser: {html_report}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
