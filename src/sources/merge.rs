//! Many single messages (a folder of PA files, or of herald JSON documents) into one state
//! of the feed: for each seat the message with the highest revision stands, whatever its
//! kind, since PA numbers a seat's rush, result and recount messages with one counter (a
//! corrected seat goes `result_1`, `rush_2`, `result_3`). At the same revision a result is
//! the fuller message; a result also ends a recount whatever their numbers. The latest
//! state of parties of each election stands. Messages of several elections are told apart,
//! each its own election, never mixed.

use std::collections::BTreeMap;

use super::live::{Contest, Parts, PublishedTotals, Snapshot};
use crate::core::model::{ConstituencyId, Declaration, DeclarationStatus, Election};

/// The elections the messages belong to, with how many messages each: for the refusal
/// that names them.
fn describe(seen: &BTreeMap<String, (Contest, usize)>) -> String {
    seen.values()
        .map(|(c, n)| {
            format!(
                "{} on {} (`{}`, {n} message{})",
                c.name,
                c.date,
                c.id,
                if *n == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether `choice` names the contest: its id, or its name (case and spacing aside).
fn names(choice: &str, c: &Contest) -> bool {
    let norm = |s: &str| {
        s.split(|ch: char| !ch.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" ")
    };
    choice == c.id || norm(choice) == norm(&c.name)
}

/// Merges `messages` (each with its arrival order). Messages of several elections are kept
/// apart, each its own election; `choice` (`source.election`: an id or a name) follows one
/// of them only, and the rest are reported as left aside (in the state's `skipped`). The
/// state is the messages' whole: a seat none of them has is not declared.
pub fn merge<'a>(
    messages: impl IntoIterator<Item = (&'a Parts, u64)>,
    choice: Option<&str>,
) -> Snapshot {
    let mut messages: Vec<(&Parts, u64)> = messages.into_iter().collect();
    messages.sort_by_key(|(_, arrival)| *arrival);
    let mut seen: BTreeMap<String, (Contest, usize)> = BTreeMap::new();
    for (p, _) in &messages {
        if let Some(c) = &p.contest {
            seen.entry(c.id.clone()).or_insert_with(|| (c.clone(), 0)).1 += 1;
        }
    }
    // With a choice that no message names yet, nothing is followed (its first message may
    // be yet to come); what is left aside is said either way.
    let followed: Vec<Contest> = match choice {
        Some(choice) => seen
            .values()
            .filter(|(c, _)| names(choice, c))
            .map(|(c, _)| c.clone())
            .take(1)
            .collect(),
        None => seen.values().map(|(c, _)| c.clone()).collect(),
    };
    let follows = |p: &Parts| match (&p.contest, choice) {
        (Some(c), _) => followed.iter().any(|f| f.id == c.id),
        (None, None) => true,
        (None, Some(_)) => false,
    };

    let mut best: BTreeMap<ConstituencyId, (&Declaration, u64)> = BTreeMap::new();
    let mut nominated: BTreeMap<ConstituencyId, &crate::core::model::Nominated> = BTreeMap::new();
    let mut totals: BTreeMap<Option<String>, &PublishedTotals> = BTreeMap::new();
    let mut sized: BTreeMap<String, &Election> = BTreeMap::new();
    for (p, arrival) in messages {
        if !follows(p) {
            continue;
        }
        if let Some(e) = &p.election {
            sized.insert(e.id.clone(), e);
        }
        if let Some(t) = &p.totals {
            let key = p.contest.as_ref().map(|c| c.id.clone());
            if totals.get(&key).is_none_or(|old| t.results >= old.results) {
                totals.insert(key, t);
            }
        }
        for n in &p.nominations {
            // Messages come in arrival order: the later of equal revisions stands.
            if nominated
                .get(&n.constituency.id)
                .is_none_or(|old| n.revision >= old.revision)
            {
                nominated.insert(n.constituency.id.clone(), n);
            }
        }
        for d in &p.declarations {
            let replace = match best.get(d.id()) {
                None => true,
                Some((old, old_arrival)) => supersedes(d, arrival, old, *old_arrival),
            };
            if replace {
                best.insert(d.id().clone(), (d, arrival));
            }
        }
    }
    // Each election followed, sized where a message said (a state of parties), else 0:
    // not known yet.
    let mut elections: Vec<Election> = followed
        .iter()
        .map(|c| {
            sized.remove(&c.id).cloned().unwrap_or(Election {
                id: c.id.clone(),
                name: c.name.clone(),
                date: c.date,
                total_seats: c.seats,
            })
        })
        .collect();
    // Formats whose documents name their election without a contest (herald JSON).
    elections.extend(sized.into_values().cloned());
    let others: BTreeMap<String, (Contest, usize)> = seen
        .into_iter()
        .filter(|(id, _)| !followed.iter().any(|f| &f.id == id))
        .collect();
    let left_aside = (!others.is_empty()).then(|| {
        format!(
            "left aside, as not the election followed (source.election `{}`): {}",
            choice.unwrap_or_default(),
            describe(&others)
        )
    });
    Snapshot {
        elections,
        declarations: best.into_values().map(|(d, _)| d.clone()).collect(),
        complete: true,
        totals: totals.into_values().cloned().collect(),
        skipped: left_aside.into_iter().collect(),
        nominations: nominated.into_values().cloned().collect(),
    }
}

/// Whether message `new` (arrived `na`) supersedes `old` (arrived `oa`) for one seat: the
/// higher revision; at the same revision a result (or withdrawal) before a call before a
/// recount, then the later arrival. A result ends a recount whatever their numbers.
pub fn supersedes(new: &Declaration, na: u64, old: &Declaration, oa: u64) -> bool {
    use DeclarationStatus as S;
    let rank = |d: &Declaration| match d.status {
        S::Declared | S::Withdrawn => 2,
        S::Called => 1,
        S::Recount => 0,
    };
    match (old.status, new.status) {
        (S::Recount, S::Declared) => return true,
        (S::Declared, S::Recount) => return false,
        _ => {}
    }
    (new.revision, rank(new), na) > (old.revision, rank(old), oa)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::*;
    use chrono::NaiveDate;

    fn seat(revision: u32, status: DeclarationStatus, winner: usize) -> Declaration {
        Declaration {
            allocation: None,
            result: ConstituencyResult {
                constituency: Constituency {
                    id: ConstituencyId::new("pa:s-2026-05-06:13"),
                    name: "Bathgate".into(),
                    region: "Scotland".into(),
                    nation: Nation::Scotland,
                    election: None,
                },
                electorate: None,
                valid_votes: None,
                rejected: None,
                candidates: ["lab", "snp"]
                    .iter()
                    .enumerate()
                    .map(|(i, p)| Candidate {
                        name: p.to_string(),
                        party: PartyId::new(*p),
                        votes: 0,
                        elected: i == winner,
                    })
                    .collect(),
            },
            declared_at: None,
            revision,
            status,
            source: None,
        }
    }

    fn parts(d: Declaration, contest: &str) -> Parts {
        Parts {
            election: None,
            declarations: vec![d],
            totals: None,
            unread: None,
            nominations: Vec::new(),
            contest: Some(Contest {
                id: contest.to_string(),
                name: format!("Election {contest}"),
                date: NaiveDate::from_ymd_opt(2026, 5, 6).unwrap(),
                seats: 0,
            }),
        }
    }

    #[test]
    fn the_highest_revision_stands_whatever_its_kind() {
        use DeclarationStatus::*;
        let result_1 = parts(seat(1, Declared, 0), "a");
        let rush_2 = parts(seat(2, Called, 1), "a");
        let result_3 = parts(seat(3, Declared, 1), "a");
        let state = |ms: &[(&Parts, u64)]| merge(ms.iter().copied(), None).declarations;
        // The correcting rush beats the earlier result, in any arrival order.
        for order in [
            [(&result_1, 1), (&rush_2, 2)],
            [(&rush_2, 1), (&result_1, 2)],
        ] {
            let d = state(&order);
            assert_eq!((d[0].revision, d[0].status), (2, Called));
        }
        let d = state(&[(&result_1, 1), (&rush_2, 2), (&result_3, 3)]);
        assert_eq!((d[0].revision, d[0].status), (3, Declared));
        // At the same revision the result is the fuller message.
        let rush_1 = parts(seat(1, Called, 0), "a");
        let d = state(&[(&result_1, 1), (&rush_1, 2)]);
        assert_eq!(d[0].status, Declared);
        // A result ends a recount whatever the numbers.
        let recount_4 = parts(seat(4, Recount, 0), "a");
        let d = state(&[(&recount_4, 1), (&result_1, 2)]);
        assert_eq!(d[0].status, Declared);
    }

    #[test]
    fn elections_are_told_apart_never_mixed() {
        use DeclarationStatus::*;
        let a = parts(seat(1, Declared, 0), "pa-s-2026-05-06");
        let mut b = parts(seat(1, Declared, 1), "pa-m-2026-05-06");
        b.declarations[0].result.constituency.id = ConstituencyId::new("pa:m-2026-05-06:1");
        let m = merge([(&a, 1), (&b, 2)], None);
        assert_eq!(m.declarations.len(), 2, "each its own election");
        let ids: Vec<&str> = m.elections.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["pa-m-2026-05-06", "pa-s-2026-05-06"]);
        assert!(
            m.elections.iter().all(|e| e.total_seats == 0),
            "not sized yet"
        );
        assert!(m.skipped.is_empty());
        let m = merge([(&a, 1), (&b, 2)], Some("pa-m-2026-05-06"));
        assert_eq!(m.declarations.len(), 1);
        assert!(m.declarations[0].result.candidates[1].elected);
        assert!(m.skipped[0].contains("`pa-s-2026-05-06`, 1 message"));
        // By name, whatever the case and punctuation.
        let m = merge([(&a, 1), (&b, 2)], Some("election PA-S-2026-05-06"));
        assert!(m.declarations[0].result.candidates[0].elected);
        // A choice no message names yet follows nothing, and says what it left aside.
        let m = merge([(&a, 1), (&b, 2)], Some("Mayor of London"));
        assert!(m.declarations.is_empty() && m.elections.is_empty());
        assert!(m.skipped[0].contains("`Mayor of London`"));
    }
}
