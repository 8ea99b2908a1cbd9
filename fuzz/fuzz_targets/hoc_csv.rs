//! The House of Commons Library pair: the input is split at the first NUL byte into the
//! candidate file and the constituency file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let parties = herald::demo::parties();
        let (candidates, seats) = match text.split_once('\0') {
            Some((c, s)) => (c, Some(("seats", s))),
            None => (text, None),
        };
        let _ = herald::sources::formats::hoc_csv::load(("candidates", candidates), seats, &parties);
    }
});
