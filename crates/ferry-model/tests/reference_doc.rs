//! `docs/canonical-model-reference.md` is generated from the model; this test
//! fails when it is stale. `UPDATE_EXPECT=1` rewrites it.

#[test]
fn reference_doc_is_up_to_date() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/canonical-model-reference.md");
    let expected = ferry_model::reference_markdown();
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale: run `UPDATE_EXPECT=1 cargo test -p ferry-model`",
        path.display()
    );
}
