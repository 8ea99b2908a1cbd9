//! PA Media election XML messages (rush, result, recount, state of parties).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| herald::sources::fuzzing::pa_xml(data));
