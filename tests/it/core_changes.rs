//! Change detection: new declarations, calls and their completion, corrections with what
//! changed, retractions, late revisions, repeats, and feeds that go back in time.

use std::collections::{BTreeMap, BTreeSet};

use herald::core::board::Board;
use herald::core::changes::{Difference, EventKind, Latest, Refusal, detect};
use herald::core::model::*;
use proptest::prelude::*;

fn decl(id: &str, revision: u32, votes: &[u64], status: DeclarationStatus) -> Declaration {
    Declaration {
        allocation: None,
        result: ConstituencyResult {
            constituency: Constituency {
                id: ConstituencyId::new(id),
                name: format!("Seat {id}"),
                region: "Wales".into(),
                nation: Nation::Wales,
                election: None,
            },
            electorate: Some(100_000),
            valid_votes: None,
            rejected: None,
            candidates: votes
                .iter()
                .enumerate()
                .map(|(i, v)| Candidate {
                    name: format!("Candidate {i}"),
                    party: PartyId::new(["con", "lab", "ld", "pc"][i % 4]),
                    votes: *v,
                    elected: status == DeclarationStatus::Called && i == 0,
                })
                .collect(),
        },
        declared_at: None,
        revision,
        status,
        source: None,
    }
}

fn declared(id: &str, revision: u32, votes: &[u64]) -> Declaration {
    decl(id, revision, votes, DeclarationStatus::Declared)
}

fn known(ds: &[Declaration]) -> BTreeMap<ConstituencyId, Declaration> {
    ds.iter().map(|d| (d.id().clone(), d.clone())).collect()
}

fn kinds(det: &herald::core::changes::Detection) -> Vec<(String, EventKind)> {
    det.changes
        .iter()
        .map(|c| (c.declaration.id().to_string(), c.kind))
        .collect()
}

#[test]
fn new_declarations_and_repeats() {
    let a = declared("A", 1, &[10, 5]);
    let b = declared("B", 1, &[7, 9]);
    let det = detect(&BTreeMap::new(), &[a.clone(), b.clone()], true).unwrap();
    assert_eq!(
        kinds(&det),
        [
            ("A".into(), EventKind::Declared),
            ("B".into(), EventKind::Declared)
        ]
    );
    // The same snapshot again changes nothing.
    let det = detect(&known(&[a.clone(), b.clone()]), &[a, b], true).unwrap();
    assert!(det.changes.is_empty() && det.ignored.is_empty());
}

#[test]
fn corrections_say_what_changed() {
    let old = declared("A", 1, &[10, 5]);
    let new = declared("A", 2, &[10, 8]);
    let det = detect(&known(&[old]), std::slice::from_ref(&new), true).unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Corrected)]);
    let diffs = &det.changes[0].differences;
    assert!(diffs.contains(&Difference::Revision { from: 1, to: 2 }));
    assert!(diffs.contains(&Difference::Votes {
        candidate: "Candidate 1".into(),
        party: PartyId::new("lab"),
        from: 5,
        to: 8
    }));
    // Changed votes under the same revision are a correction too.
    let same_rev = declared("A", 2, &[11, 8]);
    let det = detect(&known(&[new]), &[same_rev], true).unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Corrected)]);
}

#[test]
fn late_older_revisions_are_ignored_with_a_reason() {
    let current = declared("A", 3, &[10, 5]);
    let late = declared("A", 2, &[10, 4]);
    let det = detect(&known(&[current]), &[late], true).unwrap();
    assert!(det.changes.is_empty());
    assert!(
        det.ignored[0]
            .reason
            .contains("revision 2 arrived after revision 3")
    );
}

#[test]
fn one_revision_counter_is_shared_by_calls_and_results() {
    let call = decl("A", 1, &[0, 0], DeclarationStatus::Called);
    let det = detect(&BTreeMap::new(), std::slice::from_ref(&call), false).unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Called)]);
    let result = declared("A", 1, &[10, 5]);
    let det = detect(
        &known(std::slice::from_ref(&call)),
        std::slice::from_ref(&result),
        false,
    )
    .unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Completed)]);
    // The call of the same revision adds nothing to the result.
    let det = detect(&known(std::slice::from_ref(&result)), &[call], false).unwrap();
    assert!(det.changes.is_empty());
    assert!(det.ignored[0].reason.contains("cannot displace"), "{det:?}");
    // A later call corrects the result: another winner, the figures withdrawn.
    let mut correction = decl("A", 2, &[0, 0], DeclarationStatus::Called);
    correction.result.candidates[0].elected = false;
    correction.result.candidates[1].elected = true;
    let det = detect(
        &known(std::slice::from_ref(&result)),
        std::slice::from_ref(&correction),
        false,
    )
    .unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Corrected)]);
    assert!(det.changes[0].differences.contains(&Difference::Status {
        from: DeclarationStatus::Declared,
        to: DeclarationStatus::Called
    }));
    assert!(
        det.changes[0]
            .differences
            .iter()
            .any(|d| matches!(d, Difference::Winner { .. })),
        "{det:?}"
    );
    // The result it superseded, arriving late, is older; the corrected result completes it.
    let det = detect(&known(&[correction.clone()]), &[result], false).unwrap();
    assert!(det.changes.is_empty());
    assert!(
        det.ignored[0]
            .reason
            .contains("revision 1 arrived after revision 2")
    );
    let det = detect(&known(&[correction]), &[declared("A", 3, &[4, 9])], false).unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Completed)]);
}

#[test]
fn recounts_precede_results() {
    let recount = decl("A", 1, &[], DeclarationStatus::Recount);
    let det = detect(&BTreeMap::new(), std::slice::from_ref(&recount), false).unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Recount)]);
    let det = detect(&known(&[recount]), &[declared("A", 1, &[3, 2])], false).unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Completed)]);
}

#[test]
fn retractions_only_by_withdrawal_and_missing_seats_are_reported() {
    let a = declared("A", 1, &[10, 5]);
    let b = declared("B", 1, &[7, 9]);
    let mut withdrawn = a.clone();
    withdrawn.status = DeclarationStatus::Withdrawn;
    let det = detect(
        &known(&[a.clone(), b.clone()]),
        &[withdrawn, b.clone()],
        true,
    )
    .unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Retracted)]);
    assert!(det.missing.is_empty());
    // A declaration missing from a complete snapshot (a cut transfer looks like this) is
    // reported, never retracted.
    let det = detect(
        &known(&[a.clone(), b.clone()]),
        std::slice::from_ref(&b),
        true,
    )
    .unwrap();
    assert!(det.changes.is_empty(), "{:?}", det.changes);
    assert_eq!(det.missing, vec![ConstituencyId::new("A")]);
    // From a partial snapshot (a folder of messages), absence means nothing.
    let det = detect(
        &known(&[a.clone(), b.clone()]),
        std::slice::from_ref(&b),
        false,
    )
    .unwrap();
    assert!(det.changes.is_empty());
    assert!(det.missing.is_empty());
    // A withdrawal stands while the feed still shows the very declaration withdrawn (an
    // operator's /retract)...
    let mut gone = a.clone();
    gone.status = DeclarationStatus::Withdrawn;
    let det = detect(
        &known(std::slice::from_ref(&gone)),
        std::slice::from_ref(&a),
        false,
    )
    .unwrap();
    assert!(det.changes.is_empty(), "{:?}", det.changes);
    // ...and a seat declared again (a new revision, or other figures) is announced again.
    let again = declared("A", 2, &[10, 5]);
    let det = detect(&known(std::slice::from_ref(&gone)), &[again], false).unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Declared)]);
    let recounted = declared("A", 1, &[10, 6]);
    let det = detect(&known(&[gone]), &[recounted], false).unwrap();
    assert_eq!(kinds(&det), [("A".into(), EventKind::Declared)]);
}

/// The board is the watcher's record of each seat's latest declaration: a withdrawn one
/// stays in it (off the board's seats), and detection against the board is detection
/// against the same declarations held in a map.
#[test]
fn the_board_is_the_record_detection_compares_with() {
    let parties = herald::demo::parties();
    let election = herald::demo::load(&parties).0.election;
    let mut board = Board::new(election, parties, Baseline::default());
    let a = declared("A", 1, &[10, 5]);
    let b = declared("B", 1, &[7, 9]);
    let mut gone = b.clone();
    gone.status = DeclarationStatus::Withdrawn;
    for d in [&a, &b, &gone] {
        board.apply(d.clone());
    }
    assert_eq!(board.latest_of(a.id()), Some(&a));
    assert_eq!(
        board.latest_of(b.id()),
        Some(&gone),
        "the withdrawal is B's latest"
    );
    assert!(board.get(b.id()).is_none(), "B is off the board's seats");
    let mut every: Vec<_> = board.all_latest().cloned().collect();
    every.sort_by(|x, y| x.id().cmp(y.id()));
    assert_eq!(every, [a.clone(), gone.clone()]);
    let map = known(&[a.clone(), gone.clone()]);
    let feeds = [
        vec![a.clone(), b.clone()],
        vec![declared("A", 2, &[10, 6]), declared("B", 2, &[7, 9])],
        vec![],
    ];
    for feed in feeds {
        for complete in [false, true] {
            let on_board = detect(&board, &feed, complete).unwrap();
            let in_map = detect(&map, &feed, complete).unwrap();
            assert_eq!(kinds(&on_board), kinds(&in_map), "{feed:?}");
            assert_eq!(on_board.missing, in_map.missing);
        }
    }
    // Declared again, B is back on the board and its latest.
    let again = declared("B", 3, &[8, 9]);
    board.apply(again.clone());
    assert_eq!(board.latest_of(b.id()), Some(&again));
    assert!(!board.is_withdrawn(b.id()));
}

#[test]
fn a_feed_that_goes_back_in_time_is_refused_whole() {
    let held: Vec<_> = (0..5)
        .map(|i| declared(&format!("S{i}"), 2, &[10, 5]))
        .collect();
    // Seats that vanish are missing (reported), not a refusal and not retractions.
    let det = detect(&known(&held), &held[..2], true).unwrap();
    assert!(det.changes.is_empty());
    assert_eq!(det.missing.len(), 3);
    assert_eq!(detect(&known(&held), &[], true).unwrap().missing.len(), 5);
    let older: Vec<_> = (0..5)
        .map(|i| declared(&format!("S{i}"), 1, &[10, 4]))
        .collect();
    assert_eq!(
        detect(&known(&held), &older, true),
        Err(Refusal::OlderRevisions(5))
    );
}

#[test]
fn events_come_out_in_declaration_order() {
    let t = |h| {
        chrono::DateTime::parse_from_rfc3339(&format!("2019-12-13T0{h}:00:00Z"))
            .unwrap()
            .to_utc()
    };
    let mut late = declared("A", 1, &[1, 2]);
    late.declared_at = Some(t(3));
    let mut early = declared("Z", 1, &[1, 2]);
    early.declared_at = Some(t(1));
    let untimed = declared("M", 1, &[1, 2]);
    let det = detect(&BTreeMap::new(), &[untimed, late, early], true).unwrap();
    let ids: Vec<_> = det
        .changes
        .iter()
        .map(|c| c.declaration.id().to_string())
        .collect();
    assert_eq!(ids, ["Z", "A", "M"]);
}

/// A feed's possible states of one seat: deterministic content per (seat, revision).
fn seat_state(seat: usize, revision: u32, withdrawn: bool) -> Declaration {
    let mut d = declared(
        &format!("S{seat}"),
        revision,
        &[100 + revision as u64 * 7 + seat as u64, 50 + seat as u64],
    );
    if withdrawn {
        d.status = DeclarationStatus::Withdrawn;
    }
    d
}

proptest! {
    /// Whatever sequence of snapshots a feed serves (revisions moving up and down, seats
    /// coming and going), each (constituency, revision) is announced at most once as long as
    /// the feed never withdraws; and replaying any snapshot straight after applying it
    /// yields nothing.
    #[test]
    fn each_constituency_revision_is_yielded_at_most_once(
        snapshots in prop::collection::vec(prop::collection::vec((0usize..6, 1u32..5), 0..6), 1..25)
    ) {
        let mut held: BTreeMap<ConstituencyId, Declaration> = BTreeMap::new();
        let mut yielded: BTreeSet<(String, u32)> = BTreeSet::new();
        for snap in snapshots {
            let mut by_seat = BTreeMap::new();
            for (seat, rev) in snap {
                by_seat.insert(seat, seat_state(seat, rev, false));
            }
            let decls: Vec<Declaration> = by_seat.into_values().collect();
            let Ok(det) = detect(&held, &decls, false) else { continue };
            for c in &det.changes {
                let key = (c.declaration.id().to_string(), c.declaration.revision);
                prop_assert!(yielded.insert(key.clone()), "{:?} yielded twice", key);
                held.insert(c.declaration.id().clone(), c.declaration.clone());
            }
            let again = detect(&held, &decls, false).expect("a replay is never refused");
            prop_assert!(again.changes.is_empty(), "replay yielded {:?}", again.changes);
        }
    }

    /// With complete snapshots and withdrawals too, no event ever repeats the state herald
    /// already holds, only explicit withdrawals retract, and absent seats are missing.
    #[test]
    fn complete_snapshots_never_repeat_the_held_state(
        snapshots in prop::collection::vec(prop::collection::vec((0usize..6, 1u32..4, prop::bool::weighted(0.15)), 0..6), 1..25)
    ) {
        let mut held: BTreeMap<ConstituencyId, Declaration> = BTreeMap::new();
        for snap in snapshots {
            let mut by_seat = BTreeMap::new();
            for (seat, rev, w) in snap {
                by_seat.insert(seat, seat_state(seat, rev, w));
            }
            let decls: Vec<Declaration> = by_seat.into_values().collect();
            let Ok(det) = detect(&held, &decls, true) else { continue };
            // Only an explicit withdrawal retracts; absent seats are listed as missing.
            for c in det.changes.iter().filter(|c| c.kind == EventKind::Retracted) {
                prop_assert!(decls.iter().any(|d| d.id() == c.declaration.id()));
            }
            let absent: Vec<ConstituencyId> = held
                .iter()
                .filter(|(id, d)| d.status != DeclarationStatus::Withdrawn && !decls.iter().any(|x| x.id() == *id))
                .map(|(id, _)| id.clone())
                .collect();
            prop_assert_eq!(&det.missing, &absent);
            for c in &det.changes {
                prop_assert_ne!(held.get(c.declaration.id()), Some(&c.declaration));
                held.insert(c.declaration.id().clone(), c.declaration.clone());
            }
        }
    }
}
