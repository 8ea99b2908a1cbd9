//! Replays every saved fuzz input: each file under `tests/fuzz_regressions/TARGET/` goes
//! through `herald::sources::fuzzing::TARGET`, the very function the fuzz target of that
//! name calls (see `fuzz/README.md`). Each must return, without a panic, within a time
//! limit. The folders hold the crashes the fuzzer found (fixed since) and a few
//! hand-written inputs aimed at each parser's edges.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use herald::sources::fuzzing;

/// Far above what any input here needs, even in an unoptimised build: a parser that has not
/// returned by then is stuck.
const LIMIT: Duration = Duration::from_secs(60);

fn folder(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target)
}

/// The files saved for a target, in name order.
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = folder(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs one input on its own thread, so that a panic is caught and reported with the file
/// name, and an input that never returns fails the test instead of hanging it.
fn run_one(target: &str, run: fuzzing::EntryPoint, file: &Path) -> Result<Duration, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read: {e}"))?;
    let (done, finished) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name(format!("{target}:{}", file.display()))
        .spawn(move || {
            let start = Instant::now();
            run(&bytes);
            let _ = done.send(start.elapsed());
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    match finished.recv_timeout(LIMIT) {
        Ok(took) => {
            let _ = worker.join();
            Ok(took)
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = worker.join().err();
            let message = payload
                .as_ref()
                .and_then(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                })
                .unwrap_or_else(|| "(no message)".into());
            Err(format!("panicked: {message}"))
        }
        // The thread is left running; the test process ends it.
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!("did not return within {LIMIT:?}")),
    }
}

fn replay(target: &str) {
    let run = fuzzing::target(target).expect("a fuzz entry point");
    let files = inputs(target);
    assert!(
        !files.is_empty(),
        "{}: no inputs to replay",
        folder(target).display()
    );
    let mut failures = Vec::new();
    for file in &files {
        match run_one(target, run, file) {
            Ok(took) => eprintln!("{target}: {} ok in {took:?}", file.display()),
            Err(problem) => failures.push(format!("{}: {problem}", file.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} of {} inputs failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn herald_json() {
    replay("herald_json");
}

#[test]
fn parliament_csv() {
    replay("parliament_csv");
}

#[test]
fn hoc_csv() {
    replay("hoc_csv");
}

#[test]
fn pa_xml() {
    replay("pa_xml");
}

#[test]
fn config() {
    replay("config");
}

/// The names of the entries of a folder that pass `keep`, without `strip` at their end.
fn names(dir: &Path, keep: fn(&Path) -> bool, strip: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a readable folder entry").path())
        .filter(|p| keep(p))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            Some(name.strip_suffix(strip).unwrap_or(&name).to_string())
        })
        .collect();
    names.sort();
    names
}

/// Every regression folder and every fuzz target is an entry point of
/// `herald::sources::fuzzing`, and every entry point has both: a folder or a target named
/// after no entry point would be skipped silently.
#[test]
fn folders_fuzz_targets_and_entry_points_match() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut entry_points: Vec<String> = fuzzing::TARGETS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    entry_points.sort();
    let folders = names(&root.join("tests/fuzz_regressions"), Path::is_dir, "");
    assert_eq!(
        folders, entry_points,
        "folders under tests/fuzz_regressions"
    );
    let targets = names(
        &root.join("fuzz/fuzz_targets"),
        |p| p.extension().is_some_and(|e| e == "rs"),
        ".rs",
    );
    assert_eq!(targets, entry_points, "fuzz/fuzz_targets/*.rs");
    for name in &targets {
        let file = root.join("fuzz/fuzz_targets").join(format!("{name}.rs"));
        let source = std::fs::read_to_string(&file).expect("a readable fuzz target");
        let call = format!("herald::sources::fuzzing::{name}(data)");
        assert!(
            source.contains(&call),
            "{} must call {call}, as the replay does",
            file.display()
        );
    }
}

/// The harness itself catches what it is there to catch: a panicking entry point fails.
#[test]
fn a_panic_or_a_hang_is_reported_not_swallowed() {
    fn panics(_: &[u8]) {
        panic!("boom");
    }
    let any = inputs("config").into_iter().next().expect("a config input");
    let e = run_one("test", panics, &any).unwrap_err();
    assert!(e.contains("panicked: boom"), "{e}");
}
