//! CSV to CSV (written once the CSV connector lands).
