//! Results declared in seats rather than by one winner: a council's seats (won this time,
//! the change, the whole council after, control before) and a region's or closed-list
//! constituency's list seats (the list votes and the members elected). Plain data, carried
//! on a [`Declaration`](super::model::Declaration) beside its (empty) candidates, so that
//! revisions, corrections, the store and the outbox treat them as any other declaration.

use serde::{Deserialize, Serialize};

use super::model::PartyId;

/// How a declaration's seats were allocated, where not to one winner by first past the post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Allocation {
    Council(CouncilSeats),
    List(ListSeats),
    /// A multi-member ward: `seats` candidates elected on one ballot, each voter with as
    /// many votes (its candidates are the declaration's own).
    MultiMember {
        seats: u32,
    },
}

impl Allocation {
    /// The seats a contest of candidates fills: several in a multi-member ward, else one.
    pub fn seats_of(allocation: Option<&Allocation>) -> u32 {
        match allocation {
            Some(Allocation::MultiMember { seats }) => (*seats).max(1),
            _ => 1,
        }
    }
}

/// Who controls a council: a party with a majority of all its seats, or nobody.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    Party(PartyId),
    /// No overall control.
    Noc,
}

/// How much of a council was elected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proportion {
    All,
    Half,
    Third,
}

/// A party's seats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartySeats {
    pub party: PartyId,
    pub seats: u32,
}

/// A council's result, as the source gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouncilSeats {
    pub proportion: Proportion,
    /// The source's kind of council (PA: `Metro`, `Non-Met`, `London`, `Unitary`, `England`).
    pub council_type: String,
    /// Seats won this time, by party (for an all-out election, the whole council).
    pub won: Vec<PartySeats>,
    /// Change in seats by party, as the source gives it (unchanged parties left out).
    pub change: Vec<(PartyId, i64)>,
    /// The whole council after the election, by party.
    pub council: Vec<PartySeats>,
    /// Control before the election (PA's `sittingParty`).
    pub before: Control,
    /// The source's own call, compared with herald's and never adopted: control after, and
    /// its gain/hold wording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_control: Option<Control>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_outcome: Option<String>,
}

/// A member elected from a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMember {
    pub name: String,
    pub party: PartyId,
    /// Their place on the party's list.
    pub rank: Option<u32>,
}

/// A region's (additional member system) or a closed-list constituency's list seats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSeats {
    /// Seats the list fills (7 a Scottish region, 6 a Senedd constituency).
    pub seats: u32,
    /// Whether the constituency seats won in the region count against a party's list
    /// seats (the Scottish Parliament's additional members), or the list votes alone
    /// decide (the Senedd's closed lists from 2026).
    pub additional: bool,
    /// List votes by party, as the source gives them (empty on a call).
    pub votes: Vec<(PartyId, u64)>,
    /// The members the source says are elected.
    pub elected: Vec<ListMember>,
}

impl ListSeats {
    /// The source's allocation: members elected, by party, most first.
    pub fn by_party(&self) -> Vec<PartySeats> {
        let mut out: Vec<PartySeats> = Vec::new();
        for m in &self.elected {
            match out.iter_mut().find(|p| p.party == m.party) {
                Some(p) => p.seats += 1,
                None => out.push(PartySeats {
                    party: m.party.clone(),
                    seats: 1,
                }),
            }
        }
        out.sort_by(|a, b| b.seats.cmp(&a.seats).then_with(|| a.party.cmp(&b.party)));
        out
    }
}
