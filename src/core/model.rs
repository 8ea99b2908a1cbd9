//! The election model: plain data, no I/O, no Discord types.
//!
//! Everything a source produces and every sink consumes is built from these types. They
//! carry exactly what was declared; derived figures (shares, majority, swing) live in
//! [`crate::core::arithmetic`] and are never stored here.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A stable party identifier, such as `con`, `lab` or `reform`.
///
/// Parties are matched by this id, never by display name. An id that the party registry
/// does not know is kept as it came from the feed and shown under that raw name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PartyId(pub String);

impl PartyId {
    /// The id every independent candidate carries. Independents are candidates, not a
    /// party: when results are compared each independent is matched on their own.
    pub const INDEPENDENT: &'static str = "ind";

    pub fn new(id: impl Into<String>) -> Self {
        PartyId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_independent(&self) -> bool {
        self.0 == Self::INDEPENDENT
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stable constituency identifier: the ONS/GSS code where one exists (`E14000733`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConstituencyId(pub String);

impl ConstituencyId {
    pub fn new(id: impl Into<String>) -> Self {
        ConstituencyId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConstituencyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The four nations of the United Kingdom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Nation {
    England,
    Scotland,
    Wales,
    #[serde(rename = "Northern Ireland")]
    NorthernIreland,
}

impl Nation {
    pub const ALL: [Nation; 4] = [
        Nation::England,
        Nation::Scotland,
        Nation::Wales,
        Nation::NorthernIreland,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Nation::England => "England",
            Nation::Scotland => "Scotland",
            Nation::Wales => "Wales",
            Nation::NorthernIreland => "Northern Ireland",
        }
    }

    /// Parses a nation name as the published files spell it (case-insensitive).
    pub fn parse(s: &str) -> Option<Nation> {
        match s.trim().to_ascii_lowercase().as_str() {
            "england" => Some(Nation::England),
            "scotland" => Some(Nation::Scotland),
            "wales" => Some(Nation::Wales),
            "northern ireland" => Some(Nation::NorthernIreland),
            _ => None,
        }
    }
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An election: a general election or a by-election.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Election {
    pub id: String,
    pub name: String,
    pub date: NaiveDate,
    /// Seats in the body being elected: 650 for the Commons; the majority line follows it.
    pub total_seats: u32,
}

impl Election {
    /// The id of the stand-in election a board holds until a feed names its own.
    pub const PENDING: &'static str = "pending";
}

/// A constituency: where a result is declared.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Constituency {
    pub id: ConstituencyId,
    pub name: String,
    /// The English region, or the nation's name in Scotland, Wales and Northern Ireland.
    pub region: String,
    pub nation: Nation,
    /// The election the seat is contested in, where a source carries several side by side
    /// (PA's `pa-s-2026-05-06` beside `pa-m-2026-05-06`); None where it carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub election: Option<String>,
}

/// One candidate's line in a declared result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub name: String,
    pub party: PartyId,
    pub votes: u64,
    /// Set where the source says who was elected (it settles ties by lot).
    pub elected: bool,
}

/// A declared result in one constituency, exactly as declared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstituencyResult {
    pub constituency: Constituency,
    pub electorate: Option<u64>,
    /// Valid votes as the returning officer stated them; the arithmetic uses the sum of
    /// candidate votes, which sources are checked to agree with.
    pub valid_votes: Option<u64>,
    /// Rejected (invalid) ballot papers, where the source gives them.
    pub rejected: Option<u64>,
    pub candidates: Vec<Candidate>,
}

impl ConstituencyResult {
    /// The sum of valid votes cast for all candidates (V in the arithmetic).
    pub fn total_votes(&self) -> u64 {
        self.candidates.iter().map(|c| c.votes).sum()
    }
}

/// Where a constituency stands on the night.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeclarationStatus {
    /// The full result, with every candidate's votes.
    #[default]
    Declared,
    /// The winner has been called (a PA "rush"); the figures follow.
    Called,
    /// A recount is under way; the seat stays undeclared until its result arrives.
    Recount,
    /// The declaration was withdrawn by the source.
    Withdrawn,
}

/// A result as declared at a moment, with its revision number.
///
/// A higher revision of the same constituency supersedes a lower one (a recount, a
/// corrected typo in the feed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub result: ConstituencyResult,
    pub declared_at: Option<DateTime<Utc>>,
    pub revision: u32,
    pub status: DeclarationStatus,
    /// What the source said of the seat beside the votes (PA's previous election, sitting
    /// party and own figures), where it said anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Box<SourceView>>,
    /// How the seats were allocated, where not to one winner by first past the post (a
    /// council, a list): its candidates are then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation: Option<Box<super::allocation::Allocation>>,
}

/// A seat's candidates before its declaration (PA's nominations message): who stands, for
/// `/result` to show while the seat awaits its declaration. Never announced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nominated {
    pub constituency: Constituency,
    /// In ballot order, with no votes.
    pub candidates: Vec<Candidate>,
    pub revision: u32,
    /// The seat's previous election and defending party, as the source gives them.
    pub source: Option<Box<SourceView>>,
}

/// What a source says of a declaration beyond its votes: the seat's previous result as the
/// source knows it (used as the baseline where none is configured), the party defending the
/// seat, and the source's own figures, which herald compares with its own and never adopts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Previous>,
    /// The party defending the seat (PA's `sittingParty`): hold or gain is against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defending: Option<PartyId>,
    #[serde(default)]
    pub quoted: Quoted,
    /// The seat's boundaries changed since the last election (PA's
    /// `percentageBoundaryChange`): its defending party is a notional one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub new_boundaries: bool,
    /// The candidates who are sitting members (of this seat or another), by name: the
    /// Parliament export's `Candidate is sitting MP`, PA's `previousSittingMember`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sitting: Vec<String>,
}

/// A seat's previous result as the source gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    pub result: ConstituencyResult,
    pub date: NaiveDate,
    /// An estimate on new boundaries (votes per party), not a declared result.
    pub notional: bool,
}

impl Previous {
    /// How sentences name it: "2021", "2021 (notional)".
    pub fn label(&self) -> String {
        let year = self.date.format("%Y");
        if self.notional {
            format!("{year} (notional)")
        } else {
            year.to_string()
        }
    }
}

/// Figures as the source states them. Percentages are in hundredths of a point, as PA
/// gives them (two decimal places).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quoted {
    /// `gain`, `hold` or `win`, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<PartyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub majority: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swing: Option<QuotedSwing>,
    /// Change in share by party, in hundredths of a point.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub share_changes: Vec<(PartyId, i64)>,
}

/// A swing as the source quotes it: `hundredths` of a point from one party to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedSwing {
    pub hundredths: i64,
    pub from: PartyId,
    pub to: PartyId,
}

impl Declaration {
    pub fn id(&self) -> &ConstituencyId {
        &self.result.constituency.id
    }
}

/// The previous result of each constituency, against which changes and swing are measured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    /// The election the baseline comes from ("General election 2019").
    pub election: Option<Election>,
    results: std::collections::BTreeMap<ConstituencyId, ConstituencyResult>,
}

impl Baseline {
    pub fn new(
        election: Option<Election>,
        results: impl IntoIterator<Item = ConstituencyResult>,
    ) -> Self {
        Baseline {
            election,
            results: results
                .into_iter()
                .map(|r| (r.constituency.id.clone(), r))
                .collect(),
        }
    }

    pub fn get(&self, id: &ConstituencyId) -> Option<&ConstituencyResult> {
        self.results.get(id)
    }

    /// Whether the baseline is notional: results estimated on new boundaries (its
    /// election's id ends `-notional`, as the loaders mark it).
    pub fn is_notional(&self) -> bool {
        self.election
            .as_ref()
            .is_some_and(|e| e.id.ends_with("-notional"))
    }

    pub fn len(&self) -> usize {
        self.results.len()
    }

    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ConstituencyResult> {
        self.results.values()
    }
}
