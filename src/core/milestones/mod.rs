//! Milestones of the night, each posted once on its own: the first declaration, a party
//! reaching the majority line, a hung parliament becoming certain, the largest party
//! changing, the last seat declaring, a notable sitting member defeated, and the biggest
//! swing or closest majority so far. A pure function of the board after each event and of
//! the milestones already fired (kept by the store, so a restart fires nothing twice); a
//! milestone a correction undoes is found by [`undone`], and may fire again when reached
//! again.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::board::{Board, Scope};
use super::model::{ConstituencyId, PartyId};
use super::national::{Race, Tally};

mod records;
mod undo;

use records::{on_the_hour, records};
pub use undo::undone;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "milestone", rename_all = "snake_case")]
pub enum Milestone {
    /// The first seat declared.
    FirstDeclaration { seat: String },
    /// A party has reached the majority line.
    Majority {
        party: PartyId,
        seats: u32,
        line: u32,
    },
    /// No party can reach the majority line any more.
    HungCertain {
        largest: Option<PartyId>,
        line: u32,
        to_declare: u32,
    },
    /// Another party is now the largest (the `n`th change of lead).
    LargestParty {
        party: PartyId,
        seats: u32,
        was: PartyId,
        n: u32,
    },
    /// Every seat has declared.
    Complete { declared: u32 },
    /// A sitting member on the notable list (party leaders, ministers) has lost.
    NotableDefeated {
        name: String,
        party: PartyId,
        seat: String,
    },
    /// The biggest swing so far (the `n`th time the record is beaten once records count).
    BiggestSwing {
        seat: String,
        from: PartyId,
        to: PartyId,
        /// The swing in hundredths of a point.
        hundredths: i64,
        n: u32,
    },
    /// The race on the hour: at the first declaration of a new hour (by the declarations'
    /// own times), where the race stood. A digest for announcement channels and
    /// milestones-only subscriptions, not for channels that see every declaration.
    Hourly {
        at: chrono::DateTime<chrono::Utc>,
        race: Race,
    },
    /// The closest majority so far (the `n`th time the record is beaten once records count).
    ClosestMajority {
        seat: String,
        winner: PartyId,
        majority: u64,
        n: u32,
    },
}

impl Milestone {
    /// What makes it fire once: one of each kind per election (a change of lead by its
    /// number).
    pub fn key(&self) -> String {
        match self {
            Milestone::FirstDeclaration { .. } => "first".into(),
            Milestone::Majority { party, .. } => format!("majority:{party}"),
            Milestone::HungCertain { .. } => "hung".into(),
            Milestone::LargestParty { n, .. } => format!("lead:{n}"),
            Milestone::Complete { .. } => "complete".into(),
            Milestone::NotableDefeated { name, .. } => {
                format!("defeated:{}", super::finder::normalise(name))
            }
            Milestone::BiggestSwing { n, .. } => format!("swing:{n}"),
            Milestone::ClosestMajority { n, .. } => format!("closest:{n}"),
            Milestone::Hourly { at, .. } => format!("hour:{}", at.format("%Y-%m-%dT%H")),
        }
    }

    /// A digest of the race (posted where milestones are asked for, or published), not an
    /// event of the night (posted to every channel that takes milestones).
    pub fn is_digest(&self) -> bool {
        matches!(self, Milestone::Hourly { .. })
    }
}

/// Records (biggest swing, closest majority) count from this many declarations on (a tenth
/// of the seats, at least ten): before that every seat would be a record.
pub fn records_from(total_seats: u32) -> u32 {
    (total_seats / 10).max(10)
}

/// What has fired so far: the keys of the milestones that stand, the milestones themselves
/// (to see whether a correction undoes one), those a correction undid, the party that led
/// when the lead last changed (or first showed), and the records so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fired {
    pub keys: BTreeSet<String>,
    pub standing: Vec<Milestone>,
    pub undone: BTreeSet<String>,
    pub leader: Option<PartyId>,
    pub lead_changes: u32,
    /// The biggest swing so far, in hundredths, and how many times it was announced.
    pub best_swing: Option<i64>,
    pub swing_records: u32,
    /// The closest majority so far, and how many times it was announced.
    pub closest: Option<u64>,
    pub closest_records: u32,
    /// The hour of the latest declaration seen (by its own time).
    pub hour: Option<chrono::DateTime<chrono::Utc>>,
}

impl Fired {
    /// Notes a milestone as fired (as recorded, or as read back from the store).
    pub fn note(&mut self, m: &Milestone) {
        if self.keys.insert(m.key()) {
            self.standing.push(m.clone());
        }
        self.undone.remove(&m.key());
        match m {
            Milestone::LargestParty { party, n, .. } => {
                self.leader = Some(party.clone());
                self.lead_changes = self.lead_changes.max(*n);
            }
            Milestone::BiggestSwing { hundredths, n, .. } => {
                self.best_swing = Some(*hundredths);
                self.swing_records = self.swing_records.max(*n);
            }
            Milestone::ClosestMajority { majority, n, .. } => {
                self.closest = Some(*majority);
                self.closest_records = self.closest_records.max(*n);
            }
            Milestone::Hourly { at, .. } => self.hour = self.hour.max(Some(*at)),
            _ => {}
        }
    }

    /// Notes a milestone as undone by a correction: it may fire again.
    fn undo(&mut self, key: &str) {
        self.keys.remove(key);
        self.standing.retain(|m| m.key() != key);
        self.undone.insert(key.to_string());
    }
}

/// A milestone reached, or undone by a correction (with why).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Turn {
    Reached(Milestone),
    Undone(Milestone, String),
}

/// What one event on `board` (which holds it already) did to the milestones: those it
/// undid first (a correction or a retraction), then those it reached.
pub fn turns(board: &Board, seat: &ConstituencyId, fired: &mut Fired) -> Vec<Turn> {
    let mut out: Vec<Turn> = undone(board, fired)
        .into_iter()
        .map(|(m, why)| Turn::Undone(m, why))
        .collect();
    out.extend(after(board, seat, fired).into_iter().map(Turn::Reached));
    out
}

/// The milestones one event reaches on `board` (which holds it already), not fired before:
/// the night's (for one election of a known size, of more than one seat), the records, and
/// the notable defeats. `seat` is the event's constituency.
pub fn after(board: &Board, seat: &ConstituencyId, fired: &mut Fired) -> Vec<Milestone> {
    let mut out = Vec::new();
    let Some(entry) = board.get(seat) else {
        return out;
    };
    let name = &entry.declaration.result.constituency.name;
    let night =
        board.elections().is_empty() && board.size_known() && board.election.total_seats > 1;
    if night {
        let tally = board.tally(&Scope::All);
        out.extend(detect(&tally, name, fired));
        out.extend(records(
            &entry.figures,
            name,
            tally.declared,
            tally.total_seats,
            fired,
        ));
        if let Some(m) = entry
            .declaration
            .declared_at
            .and_then(|t| on_the_hour(board, t, tally.to_declare, fired))
        {
            out.push(m);
        }
    }
    if !board.notable.is_empty() {
        out.extend(notable_defeats(
            &entry.figures.sitting_defeated,
            name,
            &board.notable,
            fired,
        ));
    }
    out
}

/// The notable sitting members a declaration defeats (`defeated` from its figures), as
/// milestones not fired yet. `notable` holds names as people write them.
pub fn notable_defeats(
    defeated: &[(String, PartyId)],
    seat: &str,
    notable: &[String],
    fired: &mut Fired,
) -> Vec<Milestone> {
    let wanted: Vec<String> = notable
        .iter()
        .map(|n| super::finder::normalise(n))
        .collect();
    let mut out = Vec::new();
    for (name, party) in defeated {
        if !wanted.contains(&super::finder::normalise(name)) {
            continue;
        }
        let m = Milestone::NotableDefeated {
            name: name.clone(),
            party: party.clone(),
            seat: seat.to_string(),
        };
        if !fired.keys.contains(&m.key()) {
            fired.note(&m);
            out.push(m);
        }
    }
    out
}

/// The milestones `tally` reaches that have not fired. `seat` names the seat declared last
/// (for the first declaration). Call after each event; the leader is followed from the
/// first declaration on, so that a change of lead is seen.
pub fn detect(tally: &Tally, seat: &str, fired: &mut Fired) -> Vec<Milestone> {
    let mut out = Vec::new();
    if tally.declared == 0 {
        return out;
    }
    let mut push = |m: Milestone, fired: &mut Fired| {
        if !fired.keys.contains(&m.key()) {
            fired.note(&m);
            out.push(m);
        }
    };
    push(
        Milestone::FirstDeclaration {
            seat: seat.to_string(),
        },
        fired,
    );
    match (&tally.leader, fired.leader.clone()) {
        (Some(now), None) => fired.leader = Some(now.clone()),
        (Some(now), Some(was)) if *now != was => {
            let seats = tally.party(now).map_or(0, |p| p.seats);
            let n = fired.lead_changes + 1;
            push(
                Milestone::LargestParty {
                    party: now.clone(),
                    seats,
                    was,
                    n,
                },
                fired,
            );
            // Followed even where this change had fired before (a replay after a restart).
            fired.leader = Some(now.clone());
            fired.lead_changes = n;
        }
        _ => {}
    }
    if let Some(p) = &tally.majority_party {
        push(
            Milestone::Majority {
                party: p.clone(),
                seats: tally.party(p).map_or(0, |t| t.seats),
                line: tally.majority_line,
            },
            fired,
        );
    } else {
        let best = tally.parties.iter().map(|p| p.seats).max().unwrap_or(0);
        if best + tally.to_declare < tally.majority_line {
            push(
                Milestone::HungCertain {
                    largest: tally.leader.clone(),
                    line: tally.majority_line,
                    to_declare: tally.to_declare,
                },
                fired,
            );
        }
    }
    if tally.to_declare == 0 {
        push(
            Milestone::Complete {
                declared: tally.declared,
            },
            fired,
        );
    }
    out
}

#[cfg(test)]
mod tests;
