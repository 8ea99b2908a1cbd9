//! PA Media election XML messages (rush, result, recount, state of parties).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let parties = herald::demo::parties();
        let _ = herald::sources::formats::pa_xml::parse("fuzz", text, &parties);
        let _ = herald::sources::formats::pa_xml::revision_from_file_name(text);
    }
});
