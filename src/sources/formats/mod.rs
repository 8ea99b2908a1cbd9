//! Readers for the published results formats. Each turns text into an [`Election`] and its
//! [`Declaration`]s, or a [`LoadError`] naming file, line and field; none panics.
//!
//! * [`parliament_csv`]: the UK Parliament results export, one row per candidate.
//! * [`hoc_csv`]: the House of Commons Library pair (candidates + constituencies).
//! * [`herald_json`]: herald's own feed format (`docs/feed-format.md`).
//! * [`pa_xml`]: PA Media's first-past-the-post XML messages (rush, result, recount, state
//!   of parties), one file at a time.

pub mod democracy_club;
pub mod herald_json;
pub mod hoc_csv;
pub mod pa_may;
pub mod pa_xml;
pub mod parliament_csv;
pub mod table;

use std::fmt::Debug;

use chrono::{DateTime, Utc};

use self::table::{Col, Row};
use crate::core::model::{
    Candidate, Constituency, ConstituencyId, ConstituencyResult, Declaration, DeclarationStatus,
    Election, Nation, PartyId,
};
use crate::core::parties::PartyRegistry;
use crate::core::validate;
use crate::sources::error::LoadError;

/// What a results file holds: the election and every declaration in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub election: Election,
    pub declarations: Vec<Declaration>,
}

impl Loaded {
    /// The declared results, as a baseline for a later election.
    pub fn into_baseline(self) -> crate::core::model::Baseline {
        crate::core::model::Baseline::new(
            Some(self.election),
            self.declarations
                .into_iter()
                .filter(|d| d.status == DeclarationStatus::Declared)
                .map(|d| d.result),
        )
    }
}

/// The party id for a source's abbreviation and name: the registry's id where it knows
/// either label, else the raw name (an unknown party is shown under it, never dropped).
pub fn party_for(parties: &PartyRegistry, abbreviation: &str, name: &str) -> PartyId {
    party_known(parties, abbreviation, name)
        .unwrap_or_else(|| PartyId::new(if name.is_empty() { abbreviation } else { name }))
}

/// The registry's party for a name and abbreviation, if it knows it. The name first:
/// abbreviations collide across parties (PA's SLP is the Scottish Libertarian Party; the
/// registry's SLP the Socialist Labour Party). An unknown name is taken at its
/// abbreviation's word only when the two agree: a significant word of the name is in the
/// registry's name for that party.
pub fn party_known(parties: &PartyRegistry, abbreviation: &str, name: &str) -> Option<PartyId> {
    if let Some(id) = parties.resolve(name).filter(|_| !name.is_empty()) {
        return Some(id);
    }
    parties
        .resolve(abbreviation)
        .filter(|_| !abbreviation.is_empty())
        .filter(|id| name.is_empty() || shares_a_word(name, parties.name(id)))
}

/// Whether two party names share a word that says something (not "party", "the", …).
fn shares_a_word(a: &str, b: &str) -> bool {
    const FILLER: [&str; 8] = ["party", "the", "and", "of", "uk", "for", "&", "-"];
    let words = |s: &str| -> Vec<String> {
        crate::core::finder::normalise(s)
            .split_whitespace()
            .filter(|w| !FILLER.contains(w))
            .map(str::to_string)
            .collect()
    };
    let b = words(b);
    words(a).iter().any(|w| b.contains(w))
}

/// A constituency being assembled from several rows, each of which must agree on the
/// constituency-level fields.
pub(crate) struct SeatBuilder {
    pub id: ConstituencyId,
    pub first_line: u64,
    pub name: Option<String>,
    pub region: Option<String>,
    pub nation: Option<Nation>,
    pub electorate: Option<Option<u64>>,
    pub valid: Option<Option<u64>>,
    pub rejected: Option<Option<u64>>,
    pub declared_at: Option<Option<DateTime<Utc>>>,
    pub candidates: Vec<Candidate>,
}

impl SeatBuilder {
    pub fn new(id: ConstituencyId, first_line: u64) -> Self {
        SeatBuilder {
            id,
            first_line,
            name: None,
            region: None,
            nation: None,
            electorate: None,
            valid: None,
            rejected: None,
            declared_at: None,
            candidates: Vec::new(),
        }
    }
}

/// Records a constituency-level value, or fails if an earlier row said otherwise.
pub(crate) fn agree<T: PartialEq + Debug>(
    slot: &mut Option<T>,
    value: T,
    row: &Row<'_>,
    col: Col,
) -> Result<(), LoadError> {
    match slot {
        None => {
            *slot = Some(value);
            Ok(())
        }
        Some(v) if *v == value => Ok(()),
        Some(v) => Err(row.error(
            col,
            format!("{value:?} differs from {v:?} on an earlier row of this constituency"),
        )),
    }
}

/// Finishes the builders into validated declarations, in file order.
pub(crate) fn seats_in_order(
    file: &str,
    seats: Vec<SeatBuilder>,
) -> Result<Vec<Declaration>, LoadError> {
    seats
        .into_iter()
        .map(|b| {
            let d = Declaration {
                allocation: None,
                result: ConstituencyResult {
                    constituency: Constituency {
                        id: b.id,
                        name: b.name.unwrap_or_default(),
                        region: b.region.unwrap_or_default(),
                        nation: b.nation.unwrap_or(Nation::England),
                        election: None,
                    },
                    electorate: b.electorate.flatten(),
                    valid_votes: b.valid.flatten(),
                    rejected: b.rejected.flatten(),
                    candidates: b.candidates,
                },
                declared_at: b.declared_at.flatten(),
                revision: 1,
                status: DeclarationStatus::Declared,
                source: None,
            };
            validate::check(&d).map_err(|e| {
                LoadError::new(
                    file,
                    format!(
                        "{} ({}): {e}",
                        d.result.constituency.name, d.result.constituency.id
                    ),
                )
                .at_line(b.first_line)
                .invalid()
            })?;
            Ok(d)
        })
        .collect()
}
