//! Milestones of the night, each posted once on its own: the first declaration, a party
//! reaching the majority line, a hung parliament becoming certain, the largest party
//! changing, the last seat declaring, and a notable sitting member defeated. A pure function of the tally after each event and
//! of the milestones already fired (kept by the store, so a restart fires nothing twice).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::model::PartyId;
use super::national::Tally;

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
        }
    }
}

/// What has fired so far: the keys, and the party that led when the lead last changed (or
/// first showed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fired {
    pub keys: BTreeSet<String>,
    pub leader: Option<PartyId>,
    pub lead_changes: u32,
}

impl Fired {
    /// Notes a milestone as fired (as recorded, or as read back from the store).
    pub fn note(&mut self, m: &Milestone) {
        self.keys.insert(m.key());
        if let Milestone::LargestParty { party, n, .. } = m {
            self.leader = Some(party.clone());
            self.lead_changes = self.lead_changes.max(*n);
        }
    }
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
        if fired.keys.insert(m.key()) {
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
mod tests {
    use super::*;
    use crate::core::national::PartyTally;

    fn tally(declared: u32, total: u32, seats: &[(&str, u32)]) -> Tally {
        let parties: Vec<PartyTally> = seats
            .iter()
            .map(|(p, s)| PartyTally {
                party: PartyId::new(*p),
                seats: *s,
                seat_change: 0,
                gains: 0,
                losses: 0,
                votes: 0,
                share: 0.0,
                share_change: None,
            })
            .collect();
        let line = total / 2 + 1;
        let top = seats.iter().map(|(_, s)| *s).max().unwrap_or(0);
        let leaders: Vec<&(&str, u32)> =
            seats.iter().filter(|(_, s)| *s == top && top > 0).collect();
        Tally {
            total_seats: total,
            declared,
            to_declare: total - declared,
            majority_line: line,
            majority_party: seats
                .iter()
                .find(|(_, s)| *s >= line)
                .map(|(p, _)| PartyId::new(*p)),
            leader: (leaders.len() == 1).then(|| PartyId::new(leaders[0].0)),
            parties,
            total_votes: 0,
            swing: None,
        }
    }

    fn keys(ms: &[Milestone]) -> Vec<String> {
        ms.iter().map(Milestone::key).collect()
    }

    #[test]
    fn each_fires_once_in_the_night_s_order() {
        let mut f = Fired::default();
        assert!(detect(&tally(0, 10, &[]), "-", &mut f).is_empty());
        assert_eq!(
            keys(&detect(&tally(1, 10, &[("lab", 1)]), "A", &mut f)),
            ["first"]
        );
        assert!(detect(&tally(2, 10, &[("lab", 2)]), "B", &mut f).is_empty());
        // Level: no sole leader, nothing fires; then Con leads.
        assert!(detect(&tally(4, 10, &[("lab", 2), ("con", 2)]), "C", &mut f).is_empty());
        let m = detect(&tally(5, 10, &[("con", 3), ("lab", 2)]), "D", &mut f);
        assert_eq!(
            m,
            [Milestone::LargestParty {
                party: PartyId::new("con"),
                seats: 3,
                was: PartyId::new("lab"),
                n: 1
            }]
        );
        // 6 for a majority of 10.
        let m = detect(&tally(8, 10, &[("con", 6), ("lab", 2)]), "E", &mut f);
        assert_eq!(keys(&m), ["majority:con"]);
        assert!(detect(&tally(9, 10, &[("con", 7), ("lab", 2)]), "F", &mut f).is_empty());
        assert_eq!(
            keys(&detect(
                &tally(10, 10, &[("con", 7), ("lab", 3)]),
                "G",
                &mut f
            )),
            ["complete"]
        );
        assert!(detect(&tally(10, 10, &[("con", 7), ("lab", 3)]), "G", &mut f).is_empty());
    }

    #[test]
    fn a_hung_parliament_is_certain_once_nobody_can_reach_the_line() {
        let mut f = Fired::default();
        detect(&tally(1, 10, &[("con", 1)]), "A", &mut f);
        // 6 needed: Con 3 + 2 to declare = 5.
        let m = detect(
            &tally(8, 10, &[("con", 3), ("lab", 3), ("ld", 2)]),
            "B",
            &mut f,
        );
        assert_eq!(keys(&m), ["hung"]);
        // Fired from what the store holds, nothing fires twice after a restart.
        let mut again = Fired::default();
        for m in [
            Milestone::FirstDeclaration { seat: "A".into() },
            m[0].clone(),
        ] {
            again.note(&m);
        }
        again.leader = Some(PartyId::new("con"));
        assert!(
            detect(
                &tally(9, 10, &[("con", 4), ("lab", 3), ("ld", 2)]),
                "C",
                &mut again
            )
            .is_empty()
        );
    }
}
