//! herald's configuration file and the party registry (both TOML).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = herald::config::Config::parse(None, text, &|_| None);
        let _ = herald::core::parties::PartyRegistry::from_toml(text);
    }
});
