//! Readers through the real binary: a folder with nothing to migrate is a
//! configuration error before anything is written, for both file sources.

use crate::support::*;

#[test]
fn an_empty_export_folder_fails_and_commits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("emptydir");
    std::fs::create_dir(&empty).unwrap();
    for from in ["powerschool:emptydir/", "csv:emptydir/"] {
        let run = ferry(tmp.path(), &[plugins_dir()], &["migrate", "--from", from]);
        assert_ne!(run.code, Some(0), "{from}: {}", run.stderr);
        assert!(run.stderr.contains("emptydir"), "{from}: the message names the folder: {}", run.stderr);
        assert!(
            run.stderr.contains("is empty") || run.stderr.contains("holds no export files"),
            "{}",
            run.stderr
        );
        assert!(!tmp.path().join("ferry-archive.sqlite").exists(), "{from}: no archive was committed");
    }
    // Files none of which is a PowerSchool table: the same.
    std::fs::write(empty.join("notes.txt"), "Log_Archive.ID\tLog_Archive.Note\n1\tx\n").unwrap();
    let run = ferry(tmp.path(), &[plugins_dir()], &["migrate", "--from", "powerschool:emptydir/"]);
    assert_ne!(run.code, Some(0));
    assert!(
        run.stderr.contains("none of them a PowerSchool table Ferry recognizes (notes.txt)"),
        "{}",
        run.stderr
    );
    assert!(!tmp.path().join("ferry-archive.sqlite").exists());
}
