//! The UK Parliament results export (CSV).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| herald::sources::fuzzing::parliament_csv(data));
