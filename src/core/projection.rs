//! The projection of the seats still to declare, by uniform swing in each nation, as
//! `shared/docs/election-arithmetic.md` (Projection) defines it: the change in each party's
//! share over a nation's declared seats that have a baseline, applied to each undeclared
//! seat's baseline shares (floored at 0, renormalised); Northern Ireland held at its
//! baseline. A nation with fewer than [`MIN_COMPARABLE`] comparable seats is not projected.
//! A pure function of declared figures and previous results; always labelled a projection.

use std::collections::BTreeMap;

use super::arithmetic::Figures;
use super::model::{ConstituencyResult, Nation, PartyId};
use super::parties::PartyRegistry;

/// Comparable declared seats a nation needs before its undeclared seats are projected.
pub const MIN_COMPARABLE: u32 = 20;

/// One party's seats: declared so far, and declared plus projected.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectedParty {
    pub party: PartyId,
    pub declared: u32,
    pub projected: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Most projected seats first.
    pub parties: Vec<ProjectedParty>,
    pub total_seats: u32,
    pub majority_line: u32,
    /// Comparable declared seats each projected nation rests on.
    pub rests_on: Vec<(Nation, u32)>,
    /// Undeclared seats projected (Northern Ireland's held at their baseline included).
    pub projected_seats: u32,
    /// Undeclared seats not projected: a nation below the minimum, or no previous result.
    pub unprojected: u32,
}

impl Projection {
    pub fn party(&self, p: &PartyId) -> Option<&ProjectedParty> {
        self.parties.iter().find(|x| &x.party == p)
    }
}

/// Votes by party (through successions) and their total.
fn votes_of(r: &ConstituencyResult, parties: &PartyRegistry) -> (BTreeMap<PartyId, u64>, u64) {
    let mut by = BTreeMap::new();
    for c in &r.candidates {
        *by.entry(parties.current(&c.party).clone()).or_insert(0) += c.votes;
    }
    (by, r.total_votes())
}

/// The projected winner of a seat whose previous shares were `before`, with `change`
/// (points) applied to every party.
fn winner(
    before: &(BTreeMap<PartyId, u64>, u64),
    change: &BTreeMap<PartyId, f64>,
) -> Option<PartyId> {
    let (votes, total) = before;
    if *total == 0 {
        return None;
    }
    let mut shares: BTreeMap<&PartyId, f64> = BTreeMap::new();
    for (p, v) in votes {
        shares.insert(p, *v as f64 / *total as f64 * 100.0);
    }
    for p in change.keys() {
        shares.entry(p).or_insert(0.0);
    }
    // Floored at 0; renormalising to 100 keeps the order, so the largest wins as it is.
    shares
        .into_iter()
        .map(|(p, s)| (p, (s + change.get(p).copied().unwrap_or(0.0)).max(0.0)))
        .max_by(|a, b| {
            a.1.partial_cmp(&b.1)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.0.cmp(a.0))
        })
        .filter(|(_, s)| *s > 0.0)
        .map(|(p, _)| p.clone())
}

/// Projects the seats still to declare. `declared` are the figures of the declared seats;
/// `undeclared` the previous result of each seat still to declare (None where it has none).
/// None until some nation has [`MIN_COMPARABLE`] comparable seats.
pub fn project<'a>(
    declared: impl IntoIterator<Item = &'a Figures>,
    undeclared: impl IntoIterator<Item = (Nation, Option<&'a ConstituencyResult>)>,
    total_seats: u32,
    parties: &PartyRegistry,
) -> Option<Projection> {
    // Per nation: votes now and before over the comparable declared seats.
    #[derive(Default)]
    struct Sums {
        seats: u32,
        now: BTreeMap<PartyId, u64>,
        now_total: u64,
        before: BTreeMap<PartyId, u64>,
        before_total: u64,
    }
    let mut sums: BTreeMap<Nation, Sums> = BTreeMap::new();
    let mut seats: BTreeMap<PartyId, (u32, u32)> = BTreeMap::new();
    for f in declared {
        if let Some(w) = f.winning_party() {
            let e = seats.entry(parties.current(w).clone()).or_default();
            e.0 += 1;
            e.1 += 1;
        }
        let Some(base) = &f.baseline else { continue };
        if f.total_votes == 0 || base.total_votes == 0 {
            continue;
        }
        let s = sums.entry(f.constituency.nation).or_default();
        s.seats += 1;
        for c in &f.candidates {
            *s.now.entry(parties.current(&c.party).clone()).or_insert(0) += c.votes;
        }
        s.now_total += f.total_votes;
        for (p, v) in &base.votes {
            *s.before.entry(p.clone()).or_insert(0) += v;
        }
        s.before_total += base.total_votes;
    }
    let changes: BTreeMap<Nation, BTreeMap<PartyId, f64>> = sums
        .iter()
        .filter(|(n, s)| **n != Nation::NorthernIreland && s.seats >= MIN_COMPARABLE)
        .map(|(n, s)| {
            let mut change = BTreeMap::new();
            for p in s.now.keys().chain(s.before.keys()) {
                let now = s.now.get(p).copied().unwrap_or(0) as f64 / s.now_total as f64;
                let then = s.before.get(p).copied().unwrap_or(0) as f64 / s.before_total as f64;
                change.insert(p.clone(), (now - then) * 100.0);
            }
            (*n, change)
        })
        .collect();
    if changes.is_empty() {
        return None;
    }
    let (mut projected_seats, mut unprojected) = (0, 0);
    for (nation, previous) in undeclared {
        let Some(previous) = previous else {
            unprojected += 1;
            continue;
        };
        let before = votes_of(previous, parties);
        let won = if nation == Nation::NorthernIreland {
            // Held at its baseline.
            winner(&before, &BTreeMap::new())
        } else {
            match changes.get(&nation) {
                Some(change) => winner(&before, change),
                None => {
                    unprojected += 1;
                    continue;
                }
            }
        };
        match won {
            Some(p) => {
                projected_seats += 1;
                seats.entry(p).or_default().1 += 1;
            }
            None => unprojected += 1,
        }
    }
    let mut list: Vec<ProjectedParty> = seats
        .into_iter()
        .map(|(party, (declared, projected))| ProjectedParty {
            party,
            declared,
            projected,
        })
        .collect();
    list.sort_by(|a, b| {
        b.projected
            .cmp(&a.projected)
            .then(b.declared.cmp(&a.declared))
            .then(a.party.cmp(&b.party))
    });
    Some(Projection {
        parties: list,
        total_seats,
        majority_line: total_seats / 2 + 1,
        rests_on: changes
            .keys()
            .map(|n| (*n, sums.get(n).map_or(0, |s| s.seats)))
            .collect(),
        projected_seats,
        unprojected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::arithmetic::compute;
    use crate::core::model::{Candidate, Constituency, ConstituencyId};

    fn result(id: &str, nation: Nation, votes: &[(&str, u64)]) -> ConstituencyResult {
        ConstituencyResult {
            constituency: Constituency {
                id: ConstituencyId::new(id),
                name: id.to_string(),
                region: nation.name().to_string(),
                nation,
                election: None,
            },
            electorate: None,
            valid_votes: None,
            rejected: None,
            candidates: votes
                .iter()
                .map(|(p, v)| Candidate {
                    name: format!("{p} {id}"),
                    party: PartyId::new(*p),
                    votes: *v,
                    elected: false,
                })
                .collect(),
        }
    }

    #[test]
    fn uniform_swing_by_nation_floored_and_held() {
        let parties = crate::demo::parties();
        // 20 English seats, each Lab 50 Con 40 Ind 10 before and Lab 45 Con 45 Ind 10 now:
        // Lab −5, Con +5 points.
        let declared: Vec<Figures> = (0..MIN_COMPARABLE)
            .map(|i| {
                let id = format!("E{i}");
                let before = result(
                    &id,
                    Nation::England,
                    &[("lab", 50), ("con", 40), ("ld", 10)],
                );
                let now = result(
                    &id,
                    Nation::England,
                    &[("lab", 45), ("con", 45), ("ld", 10)],
                );
                compute(&now, Some(&before), &parties)
            })
            .collect();
        // Tied 45–45 now: no winner, so no declared seats yet; the projection still runs.
        let a = result("A", Nation::England, &[("lab", 52), ("con", 44), ("ld", 4)]);
        let b = result(
            "B",
            Nation::England,
            &[("lab", 60), ("con", 30), ("ld", 10)],
        );
        // LD at 3 before: 3 + 0 change stays 3; a party's share never goes below 0.
        let c = result("C", Nation::England, &[("con", 96), ("lab", 1), ("ld", 3)]);
        let scot = result("S", Nation::Scotland, &[("snp", 50), ("lab", 40)]);
        let ni = result("N", Nation::NorthernIreland, &[("dup", 50), ("sf", 40)]);
        let undeclared = vec![
            (Nation::England, Some(&a)),
            (Nation::England, Some(&b)),
            (Nation::England, Some(&c)),
            (Nation::Scotland, Some(&scot)),
            (Nation::NorthernIreland, Some(&ni)),
            (Nation::Wales, None),
        ];
        let p = project(&declared, undeclared, 26, &parties).expect("England is comparable");
        // A: Lab 52 − 5 = 47, Con 44 + 5 = 49: Con. B: Lab 55, Con 35: Lab. C: Con.
        // Scotland has no comparable seat: not projected; NI held: DUP; Wales: no baseline.
        let seats = |id: &str| p.party(&PartyId::new(id)).map_or(0, |x| x.projected);
        assert_eq!((seats("con"), seats("lab"), seats("dup")), (2, 1, 1));
        assert_eq!((p.projected_seats, p.unprojected), (4, 2));
        assert_eq!(p.rests_on, [(Nation::England, MIN_COMPARABLE)]);
        assert_eq!(p.majority_line, 14);
        // Below the minimum, no projection at all.
        assert!(
            project(
                &declared[1..],
                vec![(Nation::England, Some(&a))],
                26,
                &parties
            )
            .is_none()
        );
    }
}
