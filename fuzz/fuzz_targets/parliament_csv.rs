//! The UK Parliament results export (CSV).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let parties = herald::demo::parties();
        let _ = herald::sources::formats::parliament_csv::load("fuzz", text, &parties);
    }
});
