//! herald JSON feed documents, as the watcher reads them (whole document, then validation),
//! and single declarations as the rehearsal server's edit endpoint takes them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| herald::sources::fuzzing::herald_json(data));
