//! The arithmetic of `shared/docs/election-arithmetic.md`, checked on the worked example
//! (the demo: Hartlepool 2021 against 2019), on edge cases, and by property tests.

use herald::core::arithmetic::{
    Change, NoSwing, Outcome, Swing, TurnoutBasis, Winner, butler_swing, compute,
};
use herald::core::board::{Board, Scope};
use herald::core::model::*;
use herald::core::national::tally;
use herald::core::parties::PartyRegistry;
use herald::demo;
use proptest::prelude::*;

fn seat(id: &str) -> Constituency {
    Constituency {
        id: ConstituencyId::new(id),
        name: format!("Seat {id}"),
        region: "North East".into(),
        nation: Nation::England,
        election: None,
    }
}

fn result(id: &str, cands: &[(&str, &str, u64)]) -> ConstituencyResult {
    ConstituencyResult {
        constituency: seat(id),
        electorate: None,
        valid_votes: None,
        rejected: None,
        candidates: cands
            .iter()
            .map(|(n, p, v)| Candidate {
                name: n.to_string(),
                party: PartyId::new(*p),
                votes: *v,
                elected: false,
            })
            .collect(),
    }
}

fn demo_figures() -> (
    herald::core::arithmetic::Figures,
    herald::core::arithmetic::Figures,
) {
    let parties = demo::parties();
    let (results, baseline) = demo::load(&parties);
    let now = &results.declarations[0].result;
    let before = &baseline.declarations[0].result;
    (
        compute(now, Some(before), &parties),
        compute(before, None, &parties),
    )
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[test]
fn demo_reproduces_the_published_hartlepool_figures() {
    let (f, f2019) = demo_figures();
    let w = f.winning_candidate().expect("a winner");
    assert_eq!(w.name, "Jill Mortimer");
    assert_eq!(round2(w.share), 51.88);
    assert_eq!(f.majority, Some(6940));
    assert_eq!(
        f.outcome,
        Outcome::Gain {
            from: PartyId::new("lab")
        }
    );
    let q = f.swing.quote().expect("a swing is quoted on this gain");
    assert_eq!((q.from.as_str(), q.to.as_str()), ("lab", "con"));
    assert_eq!(round2(q.points), 15.97);
    // Changes to two places, as the worked check gives them.
    let change = |party: &str| {
        f.candidates
            .iter()
            .find(|c| c.party.as_str() == party)
            .map(|c| c.change)
    };
    assert_eq!(
        change("con").and_then(|c| c.points()).map(round2),
        Some(22.96)
    );
    assert_eq!(
        change("lab").and_then(|c| c.points()).map(round2),
        Some(-8.99)
    );
    // Reform UK is compared with the Brexit Party's 2019 share through the configured succession.
    assert_eq!(
        change("reform").and_then(|c| c.points()).map(round2),
        Some(-24.61)
    );
    // Turnout counts ballot papers (valid + rejected): 30,115 / 70,768.
    let t = f.turnout.expect("electorate is known");
    assert_eq!(t.basis, TurnoutBasis::Ballots);
    assert_eq!(round2(t.pct), 42.55);
    // The 2019 baseline on its own: Labour majority 3,595 (8.76%).
    assert_eq!(f2019.majority, Some(3595));
    assert_eq!(f2019.majority_pct.map(round2), Some(8.76));
    assert_eq!(f2019.winning_party(), Some(&PartyId::new("lab")));
    assert_eq!(f2019.outcome, Outcome::NoComparison);
    assert_eq!(f2019.swing, Swing::NotQuoted(NoSwing::NoBaseline));
}

#[test]
fn independents_are_compared_one_by_one_and_departures_listed() {
    let (f, _) = demo_figures();
    let sam_lee = f.candidates.iter().find(|c| c.name == "Sam Lee").unwrap();
    assert_eq!(
        sam_lee.change,
        Change::New,
        "a different independent is not the 2019 one"
    );
    let gone: Vec<_> = f
        .departed
        .iter()
        .map(|d| (d.party.as_str(), d.candidate.as_deref()))
        .collect();
    assert_eq!(gone, [("ind", Some("Joe Bousfield")), ("sl", None)]);
}

#[test]
fn without_the_succession_reform_is_new_and_brexit_departed() {
    let no_succession = demo::PARTIES_TOML.replace("successor = \"reform\"", "");
    let parties = PartyRegistry::from_toml(&no_succession).unwrap();
    let (results, baseline) = demo::load(&parties);
    let f = compute(
        &results.declarations[0].result,
        Some(&baseline.declarations[0].result),
        &parties,
    );
    let reform = f
        .candidates
        .iter()
        .find(|c| c.party.as_str() == "reform")
        .unwrap();
    assert_eq!(reform.change, Change::New);
    assert!(f.departed.iter().any(|d| d.party.as_str() == "brx"));
}

#[test]
fn a_hold_quotes_swing_towards_whichever_side_it_favours() {
    let parties = PartyRegistry::default();
    let before = result(
        "E1",
        &[("A", "lab", 500), ("B", "con", 300), ("C", "ld", 200)],
    );
    // Lab holds but Con gains share: swing is quoted from Lab to Con.
    let now = result(
        "E1",
        &[("A2", "lab", 450), ("B2", "con", 400), ("C2", "ld", 150)],
    );
    let f = compute(&now, Some(&before), &parties);
    assert_eq!(f.outcome, Outcome::Hold);
    let q = f.swing.quote().unwrap();
    assert_eq!((q.from.as_str(), q.to.as_str()), ("lab", "con"));
    assert!((q.points - 7.5).abs() < 1e-9, "{}", q.points);
    // Lab holds and gains share: swing is quoted towards Lab.
    let now = result(
        "E1",
        &[("A2", "lab", 600), ("B2", "con", 250), ("C2", "ld", 150)],
    );
    let q = compute(&now, Some(&before), &parties)
        .swing
        .quote()
        .cloned()
        .unwrap();
    assert_eq!((q.from.as_str(), q.to.as_str()), ("con", "lab"));
    assert!((q.points - 7.5).abs() < 1e-9);
}

#[test]
fn no_swing_where_a_party_did_not_stand_before() {
    let parties = PartyRegistry::default();
    let before = result("E1", &[("A", "lab", 500), ("B", "con", 300)]);
    let now = result("E1", &[("A", "lab", 300), ("N", "newparty", 500)]);
    let f = compute(&now, Some(&before), &parties);
    assert_eq!(
        f.outcome,
        Outcome::Gain {
            from: PartyId::new("lab")
        }
    );
    assert_eq!(
        f.swing,
        Swing::NotQuoted(NoSwing::NotStoodBefore(PartyId::new("newparty")))
    );
}

#[test]
fn ties_and_empty_results_do_not_panic_or_guess() {
    let parties = PartyRegistry::default();
    let tie = result(
        "E1",
        &[("A", "lab", 100), ("B", "con", 100), ("C", "ld", 5)],
    );
    let f = compute(&tie, None, &parties);
    assert_eq!(f.winner, Winner::Tie(vec![0, 1]));
    assert_eq!(f.outcome, Outcome::Undetermined);
    assert_eq!(f.majority, None);
    // The source settles it by lot and marks the winner.
    let mut settled = tie.clone();
    settled.candidates[1].elected = true;
    let f = compute(&settled, None, &parties);
    assert_eq!(f.winning_party(), Some(&PartyId::new("con")));
    assert_eq!(f.majority, Some(0));

    let zero = result("E1", &[("A", "lab", 0), ("B", "con", 0)]);
    let f = compute(&zero, Some(&zero), &parties);
    assert!(f.candidates.iter().all(|c| c.share == 0.0));
    assert!(matches!(f.winner, Winner::Tie(_)));

    let empty = result("E1", &[]);
    let f = compute(&empty, Some(&tie), &parties);
    assert_eq!(f.winner, Winner::Nobody);
    assert_eq!(f.swing, Swing::NotQuoted(NoSwing::NoPair));

    let mut no_electorate = result("E1", &[("A", "lab", 10)]);
    no_electorate.electorate = Some(0);
    assert_eq!(compute(&no_electorate, None, &parties).turnout, None);
    assert_eq!(compute(&no_electorate, None, &parties).majority, Some(10));
}

#[test]
fn turnout_says_which_denominator_it_used() {
    let parties = PartyRegistry::default();
    let mut r = result("E1", &[("A", "lab", 40), ("B", "con", 10)]);
    r.electorate = Some(100);
    let t = compute(&r, None, &parties).turnout.unwrap();
    assert_eq!((round2(t.pct), t.basis), (50.0, TurnoutBasis::ValidVotes));
    r.rejected = Some(5);
    let t = compute(&r, None, &parties).turnout.unwrap();
    assert_eq!((round2(t.pct), t.basis), (55.0, TurnoutBasis::Ballots));
}

#[test]
fn national_tally_counts_seats_changes_and_the_majority_line() {
    let parties = PartyRegistry::default();
    let b1 = result("E1", &[("A", "lab", 500), ("B", "con", 300)]);
    let b2 = result("E2", &[("A", "lab", 500), ("B", "con", 400)]);
    let b3 = result("E3", &[("A", "con", 500), ("B", "lab", 400)]);
    let n1 = result("E1", &[("A", "lab", 400), ("B", "con", 450)]);
    let n2 = result("E2", &[("A", "lab", 500), ("B", "con", 300)]);
    let n3 = result("E3", &[("A", "con", 600), ("B", "lab", 300)]);
    let figs = [
        compute(&n1, Some(&b1), &parties),
        compute(&n2, Some(&b2), &parties),
        compute(&n3, Some(&b3), &parties),
    ];
    let t = tally(figs.iter(), 5, &parties);
    assert_eq!((t.declared, t.to_declare, t.majority_line), (3, 2, 3));
    let con = t.party(&PartyId::new("con")).unwrap();
    let lab = t.party(&PartyId::new("lab")).unwrap();
    assert_eq!(
        (con.seats, con.seat_change, con.gains, con.losses),
        (2, 1, 1, 0)
    );
    assert_eq!(
        (lab.seats, lab.seat_change, lab.gains, lab.losses),
        (1, -1, 0, 1)
    );
    assert_eq!(t.majority_party, None);
    assert_eq!(t.leader, Some(PartyId::new("con")));
    // Shares over the declared seats: Con 1350 / 2550, Lab 1200 / 2550.
    assert!((con.share - 1350.0 / 2550.0 * 100.0).abs() < 1e-9);
    let q = t.swing.clone().unwrap();
    let expected = butler_swing(
        1200.0 / 2550.0 * 100.0,
        1400.0 / 2600.0 * 100.0,
        1350.0 / 2550.0 * 100.0,
        1200.0 / 2600.0 * 100.0,
    );
    assert_eq!((q.from.as_str(), q.to.as_str()), ("lab", "con"));
    assert!((q.points - expected).abs() < 1e-9);
    // Once three of five are Con, the line is crossed.
    let t = tally(
        figs.iter()
            .chain([compute(&n3, Some(&b3), &parties)].iter()),
        5,
        &parties,
    );
    assert_eq!(t.majority_party, Some(PartyId::new("con")));
}

#[test]
fn board_scopes_and_corrections_recompute() {
    let parties = demo::parties();
    let (results, baseline) = demo::load(&parties);
    let mut board = Board::new(results.election.clone(), parties, baseline.into_baseline());
    assert_eq!(board.tally(&Scope::All).declared, 0);
    let d = results.declarations[0].clone();
    board.apply(d.clone());
    assert_eq!(board.tally(&Scope::All).declared, 1);
    assert_eq!(board.tally(&Scope::Nation(Nation::Scotland)).declared, 0);
    assert_eq!(board.tally(&Scope::Region("north east".into())).declared, 1);
    // A correction: Labour's votes revised up; the majority follows.
    let mut fix = d.clone();
    fix.revision = 2;
    fix.result.candidates[1].votes += 1000;
    fix.result.valid_votes = fix.result.valid_votes.map(|v| v + 1000);
    let e = board.apply(fix).unwrap();
    assert_eq!(e.figures.majority, Some(5940));
    assert_eq!(board.latest(5).len(), 1);
    let mut gone = d;
    gone.status = DeclarationStatus::Withdrawn;
    board.apply(gone);
    assert_eq!(board.tally(&Scope::All).declared, 0);
}

fn arb_result() -> impl Strategy<Value = ConstituencyResult> {
    let parties = prop::sample::select(vec![
        "con", "lab", "ld", "snp", "green", "ind", "brx", "reform",
    ]);
    prop::collection::vec((parties, 0u64..60_000), 0..12).prop_map(|cands| {
        let cands: Vec<(String, &str, u64)> = cands
            .into_iter()
            .enumerate()
            .map(|(i, (p, v))| (format!("Candidate {i}"), p, v))
            .collect();
        let refs: Vec<(&str, &str, u64)> =
            cands.iter().map(|(n, p, v)| (n.as_str(), *p, *v)).collect();
        result("E1", &refs)
    })
}

proptest! {
    #[test]
    fn shares_sum_to_100_and_majority_is_never_negative(now in arb_result(), before in arb_result()) {
        let parties = demo::parties();
        let f = compute(&now, Some(&before), &parties);
        let sum: f64 = f.candidates.iter().map(|c| c.share).sum();
        if f.total_votes > 0 {
            prop_assert!((sum - 100.0).abs() < 1e-9, "sum {}", sum);
        } else {
            prop_assert_eq!(sum, 0.0);
        }
        if let (Some(m), Some(w)) = (f.majority, f.winning_candidate()) {
            prop_assert!(m <= w.votes);
            prop_assert!(f.candidates.iter().all(|c| c.votes <= w.votes));
        }
        prop_assert!(f.candidates.iter().all(|c| c.share.is_finite()));
    }

    #[test]
    fn swing_from_a_to_b_is_minus_swing_from_b_to_a(a_now in 0.0f64..100.0, a_before in 0.0f64..100.0, b_now in 0.0f64..100.0, b_before in 0.0f64..100.0) {
        let ab = butler_swing(a_now, a_before, b_now, b_before);
        let ba = butler_swing(b_now, b_before, a_now, a_before);
        prop_assert!((ab + ba).abs() < 1e-9);
    }

    #[test]
    fn gain_exactly_when_the_winning_party_changes(now in arb_result(), before in arb_result()) {
        let parties = demo::parties();
        let f = compute(&now, Some(&before), &parties);
        let b = compute(&before, None, &parties);
        match (f.winning_candidate(), b.winning_candidate()) {
            (Some(w), Some(h)) => {
                let same = parties.current(&w.party) == parties.current(&h.party)
                    && (!w.party.is_independent() || w.name == h.name);
                prop_assert_eq!(matches!(f.outcome, Outcome::Gain { .. }), !same);
                prop_assert_eq!(f.outcome == Outcome::Hold, same);
            }
            (None, _) => prop_assert_eq!(f.outcome, Outcome::Undetermined),
            (Some(_), None) => prop_assert_eq!(f.outcome, Outcome::NoComparison),
        }
    }

    #[test]
    fn quoted_swing_is_never_negative(now in arb_result(), before in arb_result()) {
        let parties = demo::parties();
        let f = compute(&now, Some(&before), &parties);
        if let Swing::Quoted(q) = &f.swing {
            if f.outcome == Outcome::Hold {
                prop_assert!(q.points >= 0.0);
            }
            prop_assert!(q.points.is_finite());
        }
    }
}
