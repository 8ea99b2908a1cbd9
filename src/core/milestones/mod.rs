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

/// The race on the hour, when a declaration at `t` is the first of a new hour and seats
/// remain to declare (the first hour of the night has the first declaration instead).
fn on_the_hour(
    board: &Board,
    t: chrono::DateTime<chrono::Utc>,
    to_declare: u32,
    fired: &mut Fired,
) -> Option<Milestone> {
    use chrono::DurationRound;
    let hour = t.duration_trunc(chrono::TimeDelta::hours(1)).ok()?;
    let was = fired.hour;
    fired.hour = was.max(Some(hour));
    if was.is_none_or(|h| hour <= h) || to_declare == 0 {
        return None;
    }
    let m = Milestone::Hourly {
        at: hour,
        race: board.race(&Scope::All)?,
    };
    if fired.keys.contains(&m.key()) {
        return None;
    }
    fired.note(&m);
    Some(m)
}

/// The biggest swing and the closest majority so far, followed from the first declaration
/// and announced when beaten from [`records_from`] declarations on.
fn records(
    figures: &super::arithmetic::Figures,
    seat: &str,
    declared: u32,
    total: u32,
    fired: &mut Fired,
) -> Vec<Milestone> {
    let counts = declared >= records_from(total);
    let mut out = Vec::new();
    if let Some(q) = figures.swing.quote().filter(|q| q.points.is_finite()) {
        let h = (q.points.abs() * 100.0).round() as i64;
        if fired.best_swing.is_none_or(|best| h > best) {
            fired.best_swing = Some(h);
            if counts {
                let m = Milestone::BiggestSwing {
                    seat: seat.to_string(),
                    from: if q.points >= 0.0 {
                        q.from.clone()
                    } else {
                        q.to.clone()
                    },
                    to: if q.points >= 0.0 {
                        q.to.clone()
                    } else {
                        q.from.clone()
                    },
                    hundredths: h,
                    n: fired.swing_records + 1,
                };
                fired.note(&m);
                out.push(m);
            }
        }
    }
    if let (Some(majority), Some(w)) = (figures.majority, figures.winning_candidate())
        && majority > 0
        && fired.closest.is_none_or(|c| majority < c)
    {
        fired.closest = Some(majority);
        if counts {
            let m = Milestone::ClosestMajority {
                seat: seat.to_string(),
                winner: w.party.clone(),
                majority,
                n: fired.closest_records + 1,
            };
            fired.note(&m);
            out.push(m);
        }
    }
    out
}

/// The standing milestones `board` no longer bears out (after a correction or a
/// retraction), each with why, in words; they are marked undone in `fired` and fire again
/// if reached again. A change of lead and a record are facts of their moment, never undone.
pub fn undone(board: &Board, fired: &mut Fired) -> Vec<(Milestone, String)> {
    let night =
        board.elections().is_empty() && board.size_known() && board.election.total_seats > 1;
    let tally = night.then(|| board.tally(&Scope::All));
    let mut out = Vec::new();
    for m in fired.standing.clone() {
        let why = match (&m, &tally) {
            (Milestone::FirstDeclaration { .. }, Some(t)) if t.declared == 0 => {
                Some("no seat's declaration stands now".to_string())
            }
            (Milestone::Majority { party, line, .. }, Some(t)) => {
                let seats = t.party(party).map_or(0, |p| p.seats);
                (seats < *line).then(|| {
                    format!(
                        "after a correction the party has {} seat{}, short of the {line} needed",
                        seats,
                        if seats == 1 { "" } else { "s" }
                    )
                })
            }
            (Milestone::HungCertain { line, .. }, Some(t)) => {
                let best = t.parties.iter().map(|p| p.seats).max().unwrap_or(0);
                (best + t.to_declare >= *line).then(|| {
                    format!("with {} seats to declare after a correction, a majority of {line} is possible again", t.to_declare)
                })
            }
            (Milestone::Complete { .. }, Some(t)) if t.to_declare > 0 => Some(format!(
                "after a correction {} still to declare",
                if t.to_declare == 1 {
                    "1 seat is".to_string()
                } else {
                    format!("{} seats are", t.to_declare)
                }
            )),
            (Milestone::NotableDefeated { name, seat, .. }, _) => {
                let wanted = super::finder::normalise(name);
                let still = board.entries().any(|e| {
                    e.declaration.result.constituency.name == *seat
                        && e.figures
                            .sitting_defeated
                            .iter()
                            .any(|(n, _)| super::finder::normalise(n) == wanted)
                });
                (!still)
                    .then(|| format!("after a correction in {seat}, {name} is not defeated there"))
            }
            _ => None,
        };
        if let Some(why) = why {
            fired.undo(&m.key());
            out.push((m, why));
        }
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

    /// A board of `n` seats in England, each won by Con over Lab in the baseline with
    /// 600 to 400 votes.
    fn board(n: u32) -> Board {
        use crate::core::model::*;
        let baseline = Baseline::new(None, (1..=n).map(|i| result(i, 600, 400)));
        let election = Election {
            id: "t".into(),
            name: "Test".into(),
            date: chrono::NaiveDate::from_ymd_opt(2024, 7, 4).unwrap_or_default(),
            total_seats: n,
        };
        Board::new(election, crate::demo::parties(), baseline)
    }

    fn result(i: u32, con: u64, lab: u64) -> crate::core::model::ConstituencyResult {
        use crate::core::model::*;
        let candidate = |name: &str, party: &str, votes: u64, elected: bool| Candidate {
            name: name.into(),
            party: PartyId::new(party),
            votes,
            elected,
        };
        ConstituencyResult {
            constituency: Constituency {
                id: ConstituencyId::new(format!("E{i}")),
                name: format!("Seat {i}"),
                region: "North East".into(),
                nation: crate::core::model::Nation::England,
                election: None,
            },
            electorate: Some(2_000),
            valid_votes: Some(con + lab),
            rejected: None,
            candidates: vec![
                candidate("C", "con", con, con > lab),
                candidate("L", "lab", lab, lab > con),
            ],
        }
    }

    /// Declares seat `i` at `minute` past 23:00 (minutes past 60 run into the next hour).
    fn declare(b: &mut Board, i: u32, con: u64, lab: u64, minute: i64, f: &mut Fired) -> Vec<Turn> {
        use crate::core::model::*;
        let at = chrono::DateTime::parse_from_rfc3339("2024-07-04T23:00:00Z")
            .map(|t| t.with_timezone(&chrono::Utc) + chrono::TimeDelta::minutes(minute))
            .ok();
        let d = Declaration {
            allocation: None,
            result: result(i, con, lab),
            declared_at: at,
            revision: 1,
            status: DeclarationStatus::Declared,
            source: None,
        };
        let id = d.id().clone();
        b.apply(d);
        turns(b, &id, f)
    }

    fn reached(ts: &[Turn]) -> Vec<String> {
        ts.iter()
            .filter_map(|t| match t {
                Turn::Reached(m) => Some(m.key()),
                Turn::Undone(..) => None,
            })
            .collect()
    }

    #[test]
    fn records_count_from_a_tenth_of_the_seats_and_the_race_is_digested_on_the_hour() {
        let mut b = board(12);
        let mut f = Fired::default();
        // Nine seats, 23:00 to 23:40, swings growing: no record announced yet.
        for i in 1..=9u32 {
            let lab = 400 + 10 * u64::from(i);
            let t = declare(
                &mut b,
                i,
                600 - 10 * u64::from(i),
                lab,
                i64::from(i) * 5,
                &mut f,
            );
            assert!(
                reached(&t)
                    .iter()
                    .all(|k| !k.starts_with("swing") && !k.starts_with("closest")),
                "{t:?}"
            );
        }
        assert_eq!(f.best_swing, Some(900), "seat 9: 51 to 49 from 60 to 40");
        assert_eq!(f.closest, Some(20));
        // The tenth, after midnight, with a smaller swing and a wider majority: the hour's
        // digest, but no record.
        let t = declare(&mut b, 10, 620, 380, 65, &mut f);
        assert_eq!(reached(&t), ["hour:2024-07-05T00"]);
        let Some(Turn::Reached(Milestone::Hourly { race, .. })) = t.first() else {
            panic!("{t:?}")
        };
        assert_eq!((race.declared, race.total_seats), (10, 12));
        // The eleventh beats both records: a swing of 10.50 and a majority of 10.
        let t = declare(&mut b, 11, 495, 505, 70, &mut f);
        assert_eq!(reached(&t), ["swing:1", "closest:1"]);
        let Turn::Reached(Milestone::BiggestSwing {
            hundredths,
            from,
            to,
            ..
        }) = &t[0]
        else {
            panic!("{t:?}")
        };
        assert_eq!(
            (*hundredths, from.as_str(), to.as_str()),
            (1050, "con", "lab")
        );
        // Nothing again within the hour, nor for a smaller swing: only the last seat.
        assert_eq!(
            reached(&declare(&mut b, 12, 550, 450, 80, &mut f)),
            ["complete"]
        );
    }

    #[test]
    fn a_correction_that_undoes_a_majority_undoes_its_milestone_and_it_may_fire_again() {
        let mut b = board(5);
        let mut f = Fired::default();
        declare(&mut b, 1, 600, 400, 0, &mut f);
        declare(&mut b, 2, 600, 400, 1, &mut f);
        let t = declare(&mut b, 3, 600, 400, 2, &mut f);
        assert_eq!(reached(&t), ["majority:con"]);
        // Seat 3 corrected: Lab won it. Con has 2 of the 3 needed.
        let t = declare(&mut b, 3, 400, 600, 3, &mut f);
        let Some(Turn::Undone(Milestone::Majority { .. }, why)) = t.first() else {
            panic!("{t:?}")
        };
        assert_eq!(
            why,
            "after a correction the party has 2 seats, short of the 3 needed"
        );
        assert!(f.undone.contains("majority:con") && !f.keys.contains("majority:con"));
        // Reached again with seat 4.
        let t = declare(&mut b, 4, 600, 400, 4, &mut f);
        assert_eq!(reached(&t), ["majority:con"]);
        assert!(f.undone.is_empty());
    }
}
