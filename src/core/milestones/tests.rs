//! Milestones fired, undone and fired again, over tallies and over a board.

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
    let leaders: Vec<&(&str, u32)> = seats.iter().filter(|(_, s)| *s == top && top > 0).collect();
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
