//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared real-data folder (`../shared/data` beside the repository, or
/// `HERALD_SHARED_DATA`). Tests that need it print a skip notice where it is absent, unless
/// `HERALD_REQUIRE_SHARED_DATA=1` (set by `.ci/run`), which makes its absence a failure.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("HERALD_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.join("README.md").is_file() {
        return Some(dir);
    }
    if std::env::var("HERALD_REQUIRE_SHARED_DATA").is_ok_and(|v| v == "1") {
        panic!(
            "shared data folder {} is missing and HERALD_REQUIRE_SHARED_DATA=1",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: shared data folder {} not found (set HERALD_SHARED_DATA)",
        dir.display()
    );
    None
}

/// Reads a CSV file's rows as maps from header to value.
pub fn csv_rows(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("readable csv");
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .map(String::from)
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}
