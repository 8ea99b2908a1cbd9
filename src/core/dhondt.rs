//! The d'Hondt allocation of list seats, as `../shared/docs/election-arithmetic.md` defines
//! it: seats go one at a time to the party with the highest `votes / (seats + 1)`, where
//! `seats` counts the list seats it has so far plus, for additional members (the Scottish
//! Parliament), the constituency seats it won in the region. A tie in the quotient goes to
//! the party with more votes, and is reported; a tie in votes too is reported unsettled
//! (decided by lot in law) and given to the first in the order given.

use super::allocation::PartySeats;
use super::model::PartyId;

/// The list seats by party, and the ties met on the way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allocated {
    /// Parties with list seats, most first.
    pub seats: Vec<PartySeats>,
    /// Each tie met, in words.
    pub ties: Vec<String>,
}

impl Allocated {
    pub fn of(&self, party: &PartyId) -> u32 {
        self.seats
            .iter()
            .find(|p| &p.party == party)
            .map_or(0, |p| p.seats)
    }
}

/// Allocates `seats` list seats over `votes`, counting `already` (constituency seats won in
/// the region; empty for closed lists) against each party. A party whose constituency seats
/// already exceed its share gets no list seat (an overhang), never a negative number.
pub fn allocate(seats: u32, votes: &[(PartyId, u64)], already: &[PartySeats]) -> Allocated {
    let prior = |p: &PartyId| {
        already
            .iter()
            .filter(|a| &a.party == p)
            .map(|a| a.seats)
            .sum::<u32>()
    };
    let mut won: Vec<u32> = vec![0; votes.len()];
    let mut ties = Vec::new();
    for round in 1..=seats {
        // The quotient votes / (seats + 1), compared exactly as fractions.
        let mut best: Option<usize> = None;
        let mut tied: Vec<usize> = Vec::new();
        for (i, (p, v)) in votes.iter().enumerate() {
            if *v == 0 {
                continue;
            }
            let d = u128::from(prior(p) + won[i] + 1);
            match best {
                None => {
                    best = Some(i);
                    tied.clear();
                }
                Some(b) => {
                    let (bv, bd) = (
                        u128::from(votes[b].1),
                        u128::from(prior(&votes[b].0) + won[b] + 1),
                    );
                    let (lhs, rhs) = (u128::from(*v) * bd, bv * d);
                    if lhs > rhs {
                        best = Some(i);
                        tied.clear();
                    } else if lhs == rhs {
                        tied.push(i);
                    }
                }
            }
        }
        let Some(mut b) = best else {
            break; // no votes at all: nothing to allocate
        };
        if !tied.is_empty() {
            let mut all = vec![b];
            all.extend(tied);
            let most = all.iter().map(|i| votes[*i].1).max().unwrap_or(0);
            let top: Vec<usize> = all
                .iter()
                .copied()
                .filter(|i| votes[*i].1 == most)
                .collect();
            let names: Vec<&str> = all.iter().map(|i| votes[*i].0.as_str()).collect();
            b = top[0];
            ties.push(if top.len() == 1 {
                format!(
                    "seat {round}: a tie in the quotient between {}, given to {} (more votes)",
                    names.join(", "),
                    votes[b].0
                )
            } else {
                format!(
                    "seat {round}: a tie in the quotient and in votes between {}, decided by lot in law; given here to {}",
                    names.join(", "),
                    votes[b].0
                )
            });
        }
        won[b] += 1;
    }
    let mut out: Vec<PartySeats> = votes
        .iter()
        .zip(&won)
        .filter(|(_, n)| **n > 0)
        .map(|((p, _), n)| PartySeats {
            party: p.clone(),
            seats: *n,
        })
        .collect();
    out.sort_by(|a, b| b.seats.cmp(&a.seats).then_with(|| a.party.cmp(&b.party)));
    Allocated { seats: out, ties }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn votes(v: &[(&str, u64)]) -> Vec<(PartyId, u64)> {
        v.iter().map(|(p, n)| (PartyId::new(*p), *n)).collect()
    }

    fn seats(v: &[(&str, u32)]) -> Vec<PartySeats> {
        v.iter()
            .map(|(p, n)| PartySeats {
                party: PartyId::new(*p),
                seats: *n,
            })
            .collect()
    }

    #[test]
    fn closed_lists_share_seats_by_the_largest_quotient() {
        // The Senedd sample (Blaenau Gwent Caerffili Rhymni): six seats on the list votes.
        // Quotients: PC 24484, 12242, 8161; C 14554, 7277; Lab 12462; Reform 10732;
        // Green 9907; LD 8420. The six largest: PC 24484, C 14554, Lab 12462, PC 12242,
        // Reform 10732, Green 9907.
        let v = votes(&[
            ("pc", 24484),
            ("con", 14554),
            ("lab", 12462),
            ("reform", 10732),
            ("green", 9907),
            ("ld", 8420),
        ]);
        let a = allocate(6, &v, &[]);
        assert_eq!(
            a.seats,
            seats(&[
                ("pc", 2),
                ("con", 1),
                ("green", 1),
                ("lab", 1),
                ("reform", 1)
            ])
        );
        assert!(a.ties.is_empty());
    }

    #[test]
    fn additional_members_count_the_constituency_seats_won() {
        // A: 100,000 votes and 5 constituency seats; B: 60,000 and none; C: 30,000 and 1.
        // Divisors start at 6, 1 and 2: B 60,000, B 30,000 (÷2), then B 20,000 (÷3) beats
        // A 16,667 (÷6) and C 15,000 (÷2); then A 16,667, then B 15,000 = C 15,000: B has
        // more votes, said so; then C.
        let v = votes(&[("a", 100_000), ("b", 60_000), ("c", 30_000)]);
        let a = allocate(6, &v, &seats(&[("a", 5), ("c", 1)]));
        assert_eq!(a.seats, seats(&[("b", 4), ("a", 1), ("c", 1)]));
        assert_eq!(a.ties.len(), 1, "{:?}", a.ties);
        assert!(a.ties[0].starts_with("seat 5: a tie in the quotient between b, c, given to b"));
    }

    #[test]
    fn a_party_with_more_constituency_seats_than_its_share_gets_no_list_seat() {
        // A won 9 constituencies on 40% of the list vote: its divisor starts at 10, so its
        // quotient (4,000) never beats the others'; it gets none, and nobody gets fewer
        // than none.
        let v = votes(&[("a", 40_000), ("b", 35_000), ("c", 25_000)]);
        let a = allocate(7, &v, &seats(&[("a", 9)]));
        assert_eq!(a.of(&PartyId::new("a")), 0);
        assert_eq!(a.seats.iter().map(|p| p.seats).sum::<u32>(), 7);
        assert_eq!(a.seats, seats(&[("b", 4), ("c", 3)]));
    }

    #[test]
    fn a_tie_in_votes_too_is_said_to_be_decided_by_lot() {
        let v = votes(&[("a", 1_000), ("b", 1_000)]);
        let a = allocate(1, &v, &[]);
        assert_eq!(a.seats, seats(&[("a", 1)]));
        assert!(a.ties[0].contains("decided by lot"), "{:?}", a.ties);
        assert_eq!(allocate(3, &votes(&[("a", 0)]), &[]).seats, vec![]);
    }
}
