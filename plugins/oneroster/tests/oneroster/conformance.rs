//! Ferry's conformance kit (`ferry_sdk::testing`) on the OneRoster connector:
//! the Lakeview sample package read, and written as a 1.2 package.

use ferry_sdk::model::EntityKind;
use ferry_sdk::testing::Conformance;

use super::*;

#[test]
fn the_oneroster_connector_passes_the_conformance_kit() {
    let dir = tempfile::tempdir().unwrap();
    let report = Conformance::<OneRosterPlugin>::new(dir.path())
        .source(json!({ "path": sample() }))
        // The Lakeview sample has no parent or guardian users; the source
        // lists contacts whatever the package holds.
        .not_produced(&[EntityKind::Contacts, EntityKind::StudentContacts])
        .sink(|out| json!({ "path": out.join("package"), "version": "1.2" }))
        .run();
    eprintln!("{report}");
    report.assert_passed();
}
