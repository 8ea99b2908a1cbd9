//! The national picture (or that of any set of constituencies): seats and seat change by
//! party, declared and to declare, the majority line, vote share and national swing.
//!
//! [`tally`] is a pure function of the per-constituency [`Figures`]; it is the same for the
//! whole nation, one region or one nation of the UK.

use std::collections::BTreeMap;

use super::arithmetic::{Figures, Outcome, SeatFigures, SwingQuote, butler_swing, pct};
use super::model::PartyId;
use super::parties::PartyRegistry;

/// One party's line in the tally.
#[derive(Clone, Debug, PartialEq)]
pub struct PartyTally {
    pub party: PartyId,
    pub seats: u32,
    /// Seats won minus seats held in the baseline, over the same declared constituencies.
    pub seat_change: i64,
    pub gains: u32,
    pub losses: u32,
    pub votes: u64,
    /// Percent of all valid votes in the declared constituencies.
    pub share: f64,
    /// Share now minus share in the baseline, over the declared constituencies that have a
    /// baseline. None where the party got no votes in that baseline.
    pub share_change: Option<f64>,
}

/// The tally over a set of declared constituencies.
#[derive(Clone, Debug, PartialEq)]
pub struct Tally {
    pub total_seats: u32,
    pub declared: u32,
    pub to_declare: u32,
    /// `floor(total / 2) + 1`: 326 of 650.
    pub majority_line: u32,
    /// Parties with seats or votes, most seats first, then most votes.
    pub parties: Vec<PartyTally>,
    pub total_votes: u64,
    /// The party that has reached the majority line, if any.
    pub majority_party: Option<PartyId>,
    /// The party with the most seats (None when nobody has a seat or the lead is shared).
    pub leader: Option<PartyId>,
    /// Butler swing between the two parties with most votes, quoted towards whichever it
    /// favours, over declared constituencies with a baseline.
    pub swing: Option<SwingQuote>,
}

impl Tally {
    pub fn party(&self, id: &PartyId) -> Option<&PartyTally> {
        self.parties.iter().find(|p| &p.party == id)
    }

    /// Where the race stands, for the line on every announcement: the `n` parties with
    /// most seats.
    pub fn race(&self, n: usize) -> Race {
        Race {
            declared: self.declared,
            total_seats: self.total_seats,
            majority_line: self.majority_line,
            majority_party: self.majority_party.clone(),
            leaders: self
                .parties
                .iter()
                .filter(|p| p.seats > 0)
                .take(n)
                .map(|p| (p.party.clone(), p.seats, p.seat_change))
                .collect(),
            projected: None,
        }
    }
}

/// Where the race stands after one declaration: declared of total, and the leading parties'
/// seats and change (from the same tally as `/seats`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Race {
    pub declared: u32,
    pub total_seats: u32,
    pub majority_line: u32,
    pub majority_party: Option<PartyId>,
    /// Party, seats, change in seats; most seats first.
    pub leaders: Vec<(PartyId, u32, i64)>,
    /// The projection's largest party and its projected seats, where there is a projection.
    pub projected: Option<(PartyId, u32)>,
}

/// The key national totals are kept under: the party mapped through configured
/// successions, so that a baseline's Brexit Party seat counts against Reform UK. Independents
/// are pooled under `ind`, as published tallies do.
fn tally_party(p: &PartyId, parties: &PartyRegistry) -> PartyId {
    parties.current(p).clone()
}

/// Tallies `figures` (one per declared constituency) out of `total_seats`.
pub fn tally<'a>(
    figures: impl IntoIterator<Item = &'a Figures>,
    total_seats: u32,
    parties: &PartyRegistry,
) -> Tally {
    #[derive(Default)]
    struct Acc {
        seats: u32,
        change: i64,
        gains: u32,
        losses: u32,
        votes: u64,
        compared_now: u64,
        compared_before: u64,
        /// The id the party was declared under this time, shown in the tally.
        shown_as: Option<PartyId>,
    }
    let mut acc: BTreeMap<PartyId, Acc> = BTreeMap::new();
    let mut declared = 0u32;
    let mut total_votes = 0u64;
    let mut compared_total_now = 0u64;
    let mut compared_total_before = 0u64;

    for f in figures {
        match f.seats.as_deref() {
            // Councils are tallied apart (see `council::council_tally`).
            Some(SeatFigures::Council(_)) => continue,
            // List seats count as seats, each one declared.
            Some(SeatFigures::List(l)) => {
                for p in &l.seats {
                    let a = acc.entry(tally_party(&p.party, parties)).or_default();
                    a.seats += p.seats;
                    a.shown_as.get_or_insert_with(|| p.party.clone());
                    declared += p.seats;
                }
                continue;
            }
            None => {}
        }
        declared += 1;
        total_votes += f.total_votes;
        for c in &f.candidates {
            let a = acc.entry(tally_party(&c.party, parties)).or_default();
            a.votes += c.votes;
            a.shown_as.get_or_insert_with(|| c.party.clone());
        }
        let won = f.winning_party().map(|p| tally_party(p, parties));
        if let Some(w) = &won {
            acc.entry(w.clone()).or_default().seats += 1;
        }
        // A multi-member ward's further seats.
        for i in &f.also_elected {
            if let Some(c) = f.candidates.get(*i) {
                acc.entry(tally_party(&c.party, parties)).or_default().seats += 1;
                declared += 1;
            }
        }
        if let Some(base) = &f.baseline {
            if let (Some(w), Some(held)) = (&won, &base.winner)
                && w != held
            {
                acc.entry(w.clone()).or_default().change += 1;
                acc.entry(held.clone()).or_default().change -= 1;
            }
            if let Outcome::Gain { from } = &f.outcome {
                if let Some(w) = &won {
                    acc.entry(w.clone()).or_default().gains += 1;
                }
                acc.entry(tally_party(from, parties)).or_default().losses += 1;
            }
            // Vote-share change compares the same constituencies both times.
            if f.total_votes > 0 && base.total_votes > 0 {
                compared_total_now += f.total_votes;
                compared_total_before += base.total_votes;
                for c in &f.candidates {
                    acc.entry(tally_party(&c.party, parties))
                        .or_default()
                        .compared_now += c.votes;
                }
                for (p, v) in &base.votes {
                    acc.entry(p.clone()).or_default().compared_before += v;
                }
            }
        }
    }

    let compared = compared_total_now > 0 && compared_total_before > 0;
    let share_now = |a: &Acc| pct(a.compared_now, compared_total_now);
    let share_before = |a: &Acc| pct(a.compared_before, compared_total_before);

    // National swing: between the two parties with most votes that stood in the compared
    // baseline, over the same constituencies both times.
    let swing = if compared {
        let mut contenders: Vec<(&PartyId, &Acc)> = acc
            .iter()
            .filter(|(p, a)| !p.is_independent() && a.compared_before > 0 && a.compared_now > 0)
            .collect();
        contenders.sort_by(|a, b| b.1.votes.cmp(&a.1.votes).then(a.0.cmp(b.0)));
        match contenders.as_slice() {
            [(first, fa), (second, sa), ..] => {
                let points = butler_swing(
                    share_now(sa),
                    share_before(sa),
                    share_now(fa),
                    share_before(fa),
                );
                let first = fa.shown_as.clone().unwrap_or_else(|| (*first).clone());
                let second = sa.shown_as.clone().unwrap_or_else(|| (*second).clone());
                Some(if points >= 0.0 {
                    SwingQuote {
                        from: second,
                        to: first,
                        points,
                    }
                } else {
                    SwingQuote {
                        from: first,
                        to: second,
                        points: -points,
                    }
                })
            }
            _ => None,
        }
    } else {
        None
    };

    let mut rows: Vec<PartyTally> = acc
        .iter()
        .filter(|(_, a)| a.seats > 0 || a.votes > 0 || a.change != 0 || a.losses > 0)
        .map(|(party, a)| PartyTally {
            party: a.shown_as.clone().unwrap_or_else(|| party.clone()),
            seats: a.seats,
            seat_change: a.change,
            gains: a.gains,
            losses: a.losses,
            votes: a.votes,
            share: pct(a.votes, total_votes),
            share_change: (compared && a.compared_before > 0)
                .then(|| share_now(a) - share_before(a)),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.seats
            .cmp(&a.seats)
            .then(b.votes.cmp(&a.votes))
            .then(a.party.cmp(&b.party))
    });

    let majority_line = total_seats / 2 + 1;
    let majority_party = rows
        .iter()
        .find(|r| r.seats >= majority_line)
        .map(|r| r.party.clone());
    let leader = match rows.as_slice() {
        [first, second, ..] if first.seats == second.seats => None,
        [first, ..] if first.seats > 0 => Some(first.party.clone()),
        _ => None,
    };

    Tally {
        total_seats,
        declared,
        to_declare: total_seats.saturating_sub(declared),
        majority_line,
        parties: rows,
        total_votes,
        majority_party,
        leader,
        swing,
    }
}
