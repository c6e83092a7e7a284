//! Ferry's conformance kit (`ferry_sdk::testing`) on the CSV connector: the
//! bundled sample district read, and written back.

use ferry_plugin_csv::CsvPlugin;
use ferry_sdk::serde_json::json;
use ferry_sdk::testing::Conformance;

#[test]
fn the_csv_connector_passes_the_conformance_kit() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/csv-district");
    // The sample's own job configuration, as `--from csv:samples/csv-district/source.toml` reads it.
    let text = std::fs::read_to_string(sample.join("source.toml")).unwrap();
    let mut config = ferry_sdk::serde_json::to_value(text.parse::<toml::Table>().unwrap()).unwrap();
    config["directory"] = json!(sample);
    let report = Conformance::<CsvPlugin>::new(dir.path())
        .source(config)
        .sink(|out| json!({ "directory": out }))
        .run();
    eprintln!("{report}");
    report.assert_passed();
}
