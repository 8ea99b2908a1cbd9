//! The bundled demo election, embedded in the binary so that `herald demo` needs no files,
//! no network and no token: the Hartlepool by-election of 6 May 2021 against its 2019
//! general-election baseline (`config/demo/`), with the party registry
//! (`config/parties.toml`).

use crate::core::parties::PartyRegistry;
use crate::sources::formats::{Loaded, herald_json};

/// The party registry shipped in `config/parties.toml`.
pub const PARTIES_TOML: &str = include_str!("../config/parties.toml");
/// The by-election result, in herald JSON.
pub const RESULTS_JSON: &str = include_str!("../config/demo/hartlepool-2021.json");
/// The 2019 general election in Hartlepool, in herald JSON.
pub const BASELINE_JSON: &str = include_str!("../config/demo/baseline-ge2019.json");

/// What the demo names as its source.
pub const SOURCE: &str = "herald demo (bundled Hartlepool by-election 2021)";

/// The bundled registry. It is checked by the test suite, so failing here is a build defect.
pub fn parties() -> PartyRegistry {
    PartyRegistry::from_toml(PARTIES_TOML).expect("config/parties.toml is valid (checked by tests)")
}

/// The demo's results and baseline.
pub fn load(parties: &PartyRegistry) -> (Loaded, Loaded) {
    let results = herald_json::load("config/demo/hartlepool-2021.json", RESULTS_JSON, parties)
        .expect("bundled demo results are valid (checked by tests)");
    let baseline = herald_json::load("config/demo/baseline-ge2019.json", BASELINE_JSON, parties)
        .expect("bundled demo baseline is valid (checked by tests)");
    (results, baseline)
}
