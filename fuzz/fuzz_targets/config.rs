//! herald's configuration file and the party registry (both TOML).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| herald::sources::fuzzing::config(data));
