//! One entry point per fuzz target: the exact calls each target in `fuzz/` makes, shared
//! with `tests/it/fuzz_regressions.rs`, which replays every saved input through them. See
//! `fuzz/README.md`.
//!
//! Each takes raw bytes (input that is not UTF-8 is ignored, as a file that is not UTF-8 is
//! refused before any parser sees it) and returns nothing: the only outcome that matters is
//! that it returns at all, without a panic, in bounded time and memory. Beyond that, each
//! checks two promises every loader makes, so that the fuzzer finds breaches of them too:
//! an error names the file it came from and says what is wrong, and whatever a loader
//! accepts passes [`validate::check`].

use std::sync::LazyLock;

use crate::core::parties::PartyRegistry;
use crate::core::validate;
use crate::sources::error::LoadError;
use crate::sources::formats::{Loaded, hoc_csv, pa_xml, parliament_csv};
use crate::sources::live::{Snapshot, SourceError};
use crate::sources::{Format, formats, live};

/// The file name every entry point passes.
const FILE: &str = "fuzz";

/// The bundled registry, parsed once rather than for every input.
static PARTIES: LazyLock<PartyRegistry> = LazyLock::new(crate::demo::parties);

/// A fuzz entry point: bytes in, nothing out.
pub type EntryPoint = fn(&[u8]);

/// Every entry point by target name (the names of `fuzz/fuzz_targets/*.rs` and of the
/// folders under `tests/fuzz_regressions/`).
pub const TARGETS: [(&str, EntryPoint); 5] = [
    ("herald_json", herald_json),
    ("parliament_csv", parliament_csv),
    ("hoc_csv", hoc_csv),
    ("pa_xml", pa_xml),
    ("config", config),
];

/// The entry point for a target name.
pub fn target(name: &str) -> Option<EntryPoint> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

fn checked_error(e: &LoadError) {
    assert!(!e.file.is_empty(), "an error names no file: {e:?}");
    assert!(!e.problem.is_empty(), "an error says nothing: {e:?}");
}

fn checked_loaded(result: &Result<Loaded, LoadError>) {
    match result {
        Ok(loaded) => {
            for d in &loaded.declarations {
                assert_eq!(validate::check(d), Ok(()), "accepted but invalid: {d:?}");
            }
        }
        Err(e) => checked_error(e),
    }
}

fn checked_snapshot(result: &Result<Snapshot, SourceError>) {
    match result {
        Ok(snapshot) => {
            for d in &snapshot.declarations {
                assert_eq!(validate::check(d), Ok(()), "accepted but invalid: {d:?}");
            }
        }
        Err(e) => assert!(!e.message.is_empty(), "a feed error says nothing: {e:?}"),
    }
}

/// herald JSON: a whole feed document as the watcher reads it, then the same text as the
/// single declaration the rehearsal server's edit endpoint takes.
pub fn herald_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parties = &*PARTIES;
    checked_snapshot(&live::parse_document(
        Format::HeraldJson,
        FILE,
        text,
        None,
        parties,
    ));
    match formats::herald_json::parse_declaration(FILE, text, parties) {
        Ok(d) => assert_eq!(validate::check(&d), Ok(()), "accepted but invalid: {d:?}"),
        Err(e) => checked_error(&e),
    }
}

/// The UK Parliament results export (CSV).
pub fn parliament_csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    checked_loaded(&parliament_csv::load(FILE, text, &PARTIES));
}

/// The House of Commons Library pair: the input is split at the first NUL byte into the
/// candidate file and the constituency file (no NUL: the candidate file alone).
pub fn hoc_csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (candidates, seats) = match text.split_once('\0') {
        Some((c, s)) => (c, Some(("seats", s))),
        None => (text, None),
    };
    checked_loaded(&hoc_csv::load((FILE, candidates), seats, &PARTIES));
}

/// A PA Media XML message, as a folder source reads it (through [`pa_xml::parse`]), and
/// the same text taken as a file name (for the revision PA puts in file names).
pub fn pa_xml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    checked_snapshot(&live::parse_document(
        Format::PaXml,
        FILE,
        text,
        None,
        &PARTIES,
    ));
    let _ = pa_xml::revision_from_file_name(text);
}

/// herald's configuration file (with an empty environment) and the party registry: both
/// TOML, so one input feeds both.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = crate::config::Config::parse(None, text, &|_| None);
    let _ = PartyRegistry::from_toml(text);
}
