//! Change detection: what a new snapshot of a feed means against what herald already knows.
//!
//! Each constituency's latest accepted declaration is compared with the snapshot's: a new
//! declaration, a call (a PA rush) and the result that completes it, a recount, a
//! correction (a higher revision or changed figures, with what changed), a retraction (the
//! declaration marked withdrawn: only an explicit signal retracts). A declaration missing
//! from a feed that lists every result is reported as missing, never announced as
//! withdrawn: a cut transfer looks just like that. An older revision arriving late is
//! ignored with a reason. Repeating a snapshot changes nothing. A snapshot that looks like
//! the feed went back in time is refused whole.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::allocation::{Allocation, PartySeats};
use super::model::{ConstituencyId, Declaration, DeclarationStatus, PartyId};

/// What happened to a constituency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A result declared, for the first time (or again after a retraction).
    Declared,
    /// The winner called before the figures (a PA rush).
    Called,
    /// The full result of a seat that had been called.
    Completed,
    /// A recount is under way.
    Recount,
    /// A declared result (or a call) was revised.
    Corrected,
    /// The source withdrew the declaration.
    Retracted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Declared => "declared",
            EventKind::Called => "called",
            EventKind::Completed => "completed",
            EventKind::Recount => "recount",
            EventKind::Corrected => "corrected",
            EventKind::Retracted => "retracted",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        [
            EventKind::Declared,
            EventKind::Called,
            EventKind::Completed,
            EventKind::Recount,
            EventKind::Corrected,
            EventKind::Retracted,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One thing that differs between two versions of a declaration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Difference {
    Revision {
        from: u32,
        to: u32,
    },
    Status {
        from: DeclarationStatus,
        to: DeclarationStatus,
    },
    Winner {
        from: Option<String>,
        to: Option<String>,
    },
    Votes {
        candidate: String,
        party: PartyId,
        from: u64,
        to: u64,
    },
    CandidateAdded {
        candidate: String,
        party: PartyId,
        votes: u64,
    },
    CandidateRemoved {
        candidate: String,
        party: PartyId,
        votes: u64,
    },
    Electorate {
        from: Option<u64>,
        to: Option<u64>,
    },
    Rejected {
        from: Option<u64>,
        to: Option<u64>,
    },
    DeclaredAt,
    Details,
    /// A party's figure in a result declared in seats: `figure` is "list votes", "list
    /// seats", "seats won" or "council seats".
    PartyFigure {
        figure: String,
        party: PartyId,
        from: u64,
        to: u64,
    },
}

/// A change to announce.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub kind: EventKind,
    /// The declaration as it now stands (for a retraction: the withdrawn one).
    pub declaration: Declaration,
    /// What changed, for corrections and completions.
    pub differences: Vec<Difference>,
}

/// A declaration in the snapshot that was not taken, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignored {
    pub constituency: ConstituencyId,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detection {
    pub changes: Vec<Change>,
    pub ignored: Vec<Ignored>,
    /// Declarations herald holds that a complete snapshot lacks (not withdrawn: missing).
    pub missing: Vec<ConstituencyId>,
}

/// Why a whole snapshot was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the feed went back in time: {0} declarations arrived with older revisions than herald holds"
    )]
    OlderRevisions(usize),
}

fn winner_name(d: &Declaration) -> Option<String> {
    d.result
        .candidates
        .iter()
        .find(|c| c.elected)
        .or_else(|| {
            let top = d.result.candidates.iter().map(|c| c.votes).max()?;
            let mut at_top = d.result.candidates.iter().filter(|c| c.votes == top);
            let first = at_top.next()?;
            at_top.next().is_none().then_some(first)
        })
        .map(|c| c.name.clone())
}

/// What differs, party by party, between two versions of a result declared in seats.
fn allocation_differences(old: &Allocation, new: &Allocation) -> Vec<Difference> {
    fn compare(
        what: &str,
        old: &[(PartyId, u64)],
        new: &[(PartyId, u64)],
        out: &mut Vec<Difference>,
    ) {
        let get = |l: &[(PartyId, u64)], p: &PartyId| {
            l.iter()
                .filter(|(q, _)| q == p)
                .map(|(_, n)| n)
                .sum::<u64>()
        };
        let mut parties: Vec<&PartyId> = new.iter().chain(old).map(|(p, _)| p).collect();
        parties.sort();
        parties.dedup();
        for p in parties {
            let (from, to) = (get(old, p), get(new, p));
            if from != to {
                out.push(Difference::PartyFigure {
                    figure: what.to_string(),
                    party: p.clone(),
                    from,
                    to,
                });
            }
        }
    }
    let seats = |s: &[PartySeats]| -> Vec<(PartyId, u64)> {
        s.iter()
            .map(|p| (p.party.clone(), u64::from(p.seats)))
            .collect()
    };
    let mut out = Vec::new();
    match (old, new) {
        (Allocation::List(o), Allocation::List(n)) => {
            if !o.votes.is_empty() && !n.votes.is_empty() {
                compare("list votes", &o.votes, &n.votes, &mut out);
            }
            compare(
                "list seats",
                &seats(&o.by_party()),
                &seats(&n.by_party()),
                &mut out,
            );
        }
        (Allocation::Council(o), Allocation::Council(n)) => {
            compare("seats won", &seats(&o.won), &seats(&n.won), &mut out);
            compare(
                "council seats",
                &seats(&o.council),
                &seats(&n.council),
                &mut out,
            );
        }
        _ => {}
    }
    out
}

/// Lists what differs between two versions of one constituency's declaration.
pub fn differences(old: &Declaration, new: &Declaration) -> Vec<Difference> {
    let mut out = Vec::new();
    if old.revision != new.revision {
        out.push(Difference::Revision {
            from: old.revision,
            to: new.revision,
        });
    }
    if old.status != new.status {
        out.push(Difference::Status {
            from: old.status,
            to: new.status,
        });
    }
    let (ow, nw) = (winner_name(old), winner_name(new));
    if ow != nw {
        out.push(Difference::Winner { from: ow, to: nw });
    }
    let key = |c: &super::model::Candidate| (c.name.trim().to_lowercase(), c.party.clone());
    let old_c: BTreeMap<_, _> = old.result.candidates.iter().map(|c| (key(c), c)).collect();
    let new_c: BTreeMap<_, _> = new.result.candidates.iter().map(|c| (key(c), c)).collect();
    // Votes only mean something where both versions carry figures.
    let figures =
        old.status == DeclarationStatus::Declared && new.status == DeclarationStatus::Declared;
    for (k, n) in &new_c {
        match old_c.get(k) {
            Some(o) if figures && o.votes != n.votes => out.push(Difference::Votes {
                candidate: n.name.clone(),
                party: n.party.clone(),
                from: o.votes,
                to: n.votes,
            }),
            Some(_) => {}
            None => out.push(Difference::CandidateAdded {
                candidate: n.name.clone(),
                party: n.party.clone(),
                votes: n.votes,
            }),
        }
    }
    for (k, o) in &old_c {
        if !new_c.contains_key(k) {
            out.push(Difference::CandidateRemoved {
                candidate: o.name.clone(),
                party: o.party.clone(),
                votes: o.votes,
            });
        }
    }
    if old.result.electorate != new.result.electorate {
        out.push(Difference::Electorate {
            from: old.result.electorate,
            to: new.result.electorate,
        });
    }
    if old.result.rejected != new.result.rejected {
        out.push(Difference::Rejected {
            from: old.result.rejected,
            to: new.result.rejected,
        });
    }
    if let (Some(o), Some(n)) = (old.allocation.as_deref(), new.allocation.as_deref()) {
        out.extend(allocation_differences(o, n));
    }
    if old.declared_at != new.declared_at {
        out.push(Difference::DeclaredAt);
    }
    if out.is_empty() && old != new {
        out.push(Difference::Details);
    }
    out
}

/// The latest accepted declaration of each constituency, withdrawn ones included: what a
/// feed's state is compared with. The board keeps it while herald runs (one record, put
/// there as each event is recorded); a map of them serves tools and tests.
pub trait Latest {
    /// The seat's latest declaration, if it has one.
    fn latest_of(&self, id: &ConstituencyId) -> Option<&Declaration>;
    /// Every seat's latest declaration.
    fn all_latest(&self) -> Box<dyn Iterator<Item = &Declaration> + '_>;
}

impl Latest for BTreeMap<ConstituencyId, Declaration> {
    fn latest_of(&self, id: &ConstituencyId) -> Option<&Declaration> {
        self.get(id)
    }

    fn all_latest(&self) -> Box<dyn Iterator<Item = &Declaration> + '_> {
        Box::new(self.values())
    }
}

/// Compares `snapshot` with what herald `known`s (the latest accepted declaration of each
/// constituency). `complete` says the snapshot is the feed's whole state, so that a
/// declaration missing from it is worth reporting (it is not retracted for that).
pub fn detect(
    known: &(impl Latest + ?Sized),
    snapshot: &[Declaration],
    complete: bool,
) -> Result<Detection, Refusal> {
    use DeclarationStatus as S;
    let mut det = Detection::default();
    let mut older = 0usize;
    let mut present = BTreeSet::new();
    for new in snapshot {
        let id = new.id().clone();
        present.insert(id.clone());
        let Some(old) = known.latest_of(&id) else {
            let kind = match new.status {
                S::Declared => EventKind::Declared,
                S::Called => EventKind::Called,
                S::Recount => EventKind::Recount,
                S::Withdrawn => {
                    det.ignored.push(Ignored {
                        constituency: id,
                        reason: "withdrawn before herald saw it declared".into(),
                    });
                    continue;
                }
            };
            det.changes.push(Change {
                kind,
                declaration: new.clone(),
                differences: Vec::new(),
            });
            continue;
        };
        if old == new {
            continue;
        }
        // A withdrawal stands until the seat comes back with a higher revision or other
        // figures: the very declaration that was withdrawn (an operator's `/retract` while
        // the feed still lists it) does not undo it.
        if old.status == S::Withdrawn
            && new.status != S::Withdrawn
            && new.revision == old.revision
            && new.result == old.result
        {
            continue;
        }
        // One revision counter per seat, shared by every kind of message (PA numbers a
        // corrected seat result_1, rush_2, result_3): the highest revision stands. A result
        // ends a recount whatever its number, since recounts may be numbered on their own.
        let result_after_recount = new.status == S::Declared && old.status == S::Recount;
        if new.revision < old.revision && !result_after_recount {
            older += 1;
            det.ignored.push(Ignored {
                constituency: id,
                reason: format!(
                    "revision {} arrived after revision {}; the later one stands",
                    new.revision, old.revision
                ),
            });
            continue;
        }
        let kind = match (old.status, new.status) {
            (_, S::Withdrawn) if old.status == S::Withdrawn => continue,
            (_, S::Withdrawn) => EventKind::Retracted,
            (S::Called | S::Recount, S::Declared) => EventKind::Completed,
            (S::Withdrawn, S::Declared) => EventKind::Declared,
            (S::Withdrawn, S::Called) => EventKind::Called,
            (S::Withdrawn, S::Recount) | (S::Called, S::Recount) => EventKind::Recount,
            // At the same revision a result is the fuller message: a call or a recount of
            // that revision adds nothing to it.
            (S::Declared, S::Called | S::Recount) if new.revision == old.revision => {
                det.ignored.push(Ignored {
                    constituency: id,
                    reason: format!(
                        "a {} message of revision {} cannot displace the result of the same revision",
                        if new.status == S::Called {
                            "call"
                        } else {
                            "recount"
                        },
                        new.revision
                    ),
                });
                continue;
            }
            // A later call corrects the result (its figures no longer stand until the
            // next result); a later recount reopens the seat.
            (S::Declared, S::Called) => EventKind::Corrected,
            (S::Declared, S::Recount) => EventKind::Recount,
            (S::Recount, S::Called) => EventKind::Called,
            (S::Declared, S::Declared) | (S::Called, S::Called) | (S::Recount, S::Recount) => {
                EventKind::Corrected
            }
        };
        det.changes.push(Change {
            kind,
            declaration: new.clone(),
            differences: differences(old, new),
        });
    }
    if older > 1 {
        return Err(Refusal::OlderRevisions(older));
    }
    if complete {
        det.missing = known
            .all_latest()
            .filter(|d| !present.contains(d.id()) && d.status != S::Withdrawn)
            .map(|d| d.id().clone())
            .collect();
    }
    // Announce in the order seats declared (those without a time last, then by id).
    det.changes.sort_by(|a, b| {
        let at = |c: &Change| {
            (
                c.declaration.declared_at.is_none(),
                c.declaration.declared_at,
            )
        };
        at(a)
            .cmp(&at(b))
            .then_with(|| a.declaration.id().cmp(b.declaration.id()))
    });
    Ok(det)
}
