//! herald JSON feed documents, as the watcher reads them (whole document, then validation).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let parties = herald::demo::parties();
        let _ = herald::sources::live::parse_document(herald::sources::Format::HeraldJson, "fuzz", text, None, &parties);
        let _ = herald::sources::formats::herald_json::parse_declaration("fuzz", text, &parties);
    }
});
