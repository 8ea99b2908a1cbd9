//! The House of Commons Library pair: the input is split at the first NUL byte into the
//! candidate file and the constituency file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| herald::sources::fuzzing::hoc_csv(data));
