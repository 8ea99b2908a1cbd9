//! The arithmetic of councils, as `../shared/docs/election-arithmetic.md` (Councils) defines
//! it: a council's size and seats up, control after (a party with a majority of all its
//! seats, `floor(size / 2) + 1`, else no overall control) against control before, each
//! party's seats won, change and whole-council seats; the source's own call compared; and
//! the night's running tally of councils and seats by party.

use std::collections::BTreeMap;

use super::allocation::{Control, CouncilSeats, PartySeats, Proportion};
use super::model::PartyId;

/// What happened to control of a council.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CouncilOutcome {
    /// A party takes control from another party or from no overall control.
    Gain { party: PartyId, from: Control },
    /// The party in control keeps it.
    Hold(PartyId),
    /// The party in control loses its majority: no overall control now.
    LoseToNoc(PartyId),
    /// No overall control before and after.
    NocStays,
}

/// One party's row in a council's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CouncilRow {
    pub party: PartyId,
    /// Seats won this time.
    pub won: u32,
    pub change: i64,
    /// Seats on the whole council after.
    pub council: u32,
}

/// A council's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CouncilFigures {
    /// Seats on the whole council.
    pub size: u32,
    /// Seats up this time.
    pub up: u32,
    pub majority_line: u32,
    pub control: Control,
    pub outcome: CouncilOutcome,
    /// Most seats on the council first.
    pub rows: Vec<CouncilRow>,
    /// Where the figures contradict themselves or the source's own call, in words: logged
    /// and listed, the council still announced on herald's figures.
    pub problems: Vec<String>,
}

fn total(seats: &[PartySeats]) -> u32 {
    seats.iter().map(|p| p.seats).sum()
}

fn of(seats: &[PartySeats], party: &PartyId) -> u32 {
    seats
        .iter()
        .filter(|p| &p.party == party)
        .map(|p| p.seats)
        .sum()
}

/// Names control for problems ("Lab", "NOC").
fn control_name(c: &Control) -> String {
    match c {
        Control::Party(p) => p.to_string(),
        Control::Noc => "NOC".to_string(),
    }
}

/// Computes a council's figures from its seats.
pub fn council_figures(c: &CouncilSeats) -> CouncilFigures {
    let size = total(&c.council);
    let up = if c.proportion == Proportion::All && c.won.is_empty() {
        size
    } else {
        total(&c.won)
    };
    let majority_line = size / 2 + 1;
    let control = c
        .council
        .iter()
        .find(|p| size > 0 && p.seats >= majority_line)
        .map_or(Control::Noc, |p| Control::Party(p.party.clone()));
    let outcome = match (&c.before, &control) {
        (Control::Party(a), Control::Party(b)) if a == b => CouncilOutcome::Hold(b.clone()),
        (from, Control::Party(b)) => CouncilOutcome::Gain {
            party: b.clone(),
            from: from.clone(),
        },
        (Control::Party(a), Control::Noc) => CouncilOutcome::LoseToNoc(a.clone()),
        (Control::Noc, Control::Noc) => CouncilOutcome::NocStays,
    };
    let mut parties: Vec<PartyId> = c.council.iter().map(|p| p.party.clone()).collect();
    for p in c
        .won
        .iter()
        .map(|p| &p.party)
        .chain(c.change.iter().map(|(p, _)| p))
    {
        if !parties.contains(p) {
            parties.push(p.clone());
        }
    }
    let won_of = |p: &PartyId| {
        if c.proportion == Proportion::All && c.won.is_empty() {
            of(&c.council, p)
        } else {
            of(&c.won, p)
        }
    };
    let mut rows: Vec<CouncilRow> = parties
        .iter()
        .map(|p| CouncilRow {
            party: p.clone(),
            won: won_of(p),
            change: c
                .change
                .iter()
                .filter(|(q, _)| q == p)
                .map(|(_, n)| n)
                .sum(),
            council: of(&c.council, p),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.council
            .cmp(&a.council)
            .then(b.won.cmp(&a.won))
            .then_with(|| a.party.cmp(&b.party))
    });
    let mut problems = Vec::new();
    if size == 0 {
        problems.push(
            "the council has no seats: no party's seats on the whole council are given".into(),
        );
    }
    if up > size {
        problems.push(format!(
            "{up} seats won this time, more than the council's {size}"
        ));
    }
    for r in &rows {
        if r.won > r.council {
            problems.push(format!(
                "{} won {} seats this time but holds {} on the whole council",
                r.party, r.won, r.council
            ));
        }
    }
    if let Some(q) = &c.quoted_control
        && *q != control
    {
        problems.push(format!(
            "the source says {} controls it; its seats say {} ({} of {} needed)",
            control_name(q),
            control_name(&control),
            majority_line,
            size
        ));
    }
    CouncilFigures {
        size,
        up,
        majority_line,
        control,
        outcome,
        rows,
        problems,
    }
}

/// The night's councils so far, by party.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CouncilTally {
    pub declared: u32,
    /// Councils controlled, by party (no overall control under [`Control::Noc`]), and the
    /// change in control: councils gained minus councils lost.
    pub control: Vec<(Control, u32, i64)>,
    /// Seats won this time and the net change, by party, most seats first.
    pub seats: Vec<(PartyId, u32, i64)>,
}

/// Tallies councils' figures.
pub fn council_tally<'a>(
    councils: impl IntoIterator<Item = (&'a CouncilSeats, &'a CouncilFigures)>,
) -> CouncilTally {
    let mut control: BTreeMap<Control, (u32, i64)> = BTreeMap::new();
    let mut seats: BTreeMap<PartyId, (u32, i64)> = BTreeMap::new();
    let mut declared = 0;
    for (c, f) in councils {
        declared += 1;
        control.entry(f.control.clone()).or_default().0 += 1;
        if c.before != f.control {
            control.entry(f.control.clone()).or_default().1 += 1;
            control.entry(c.before.clone()).or_default().1 -= 1;
        }
        for r in &f.rows {
            let e = seats.entry(r.party.clone()).or_default();
            e.0 += r.won;
            e.1 += r.change;
        }
    }
    let mut control: Vec<(Control, u32, i64)> =
        control.into_iter().map(|(c, (n, d))| (c, n, d)).collect();
    control.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(b.2.cmp(&a.2))
            .then_with(|| a.0.cmp(&b.0))
    });
    let mut seats: Vec<(PartyId, u32, i64)> =
        seats.into_iter().map(|(p, (n, d))| (p, n, d)).collect();
    seats.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    CouncilTally {
        declared,
        control,
        seats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seats(v: &[(&str, u32)]) -> Vec<PartySeats> {
        v.iter()
            .map(|(p, n)| PartySeats {
                party: PartyId::new(*p),
                seats: *n,
            })
            .collect()
    }

    fn party(p: &str) -> Control {
        Control::Party(PartyId::new(p))
    }

    /// Westminster in PA's May 2026 test: all out, C 31, Lab 16, Reform 7; Labour before.
    fn westminster() -> CouncilSeats {
        CouncilSeats {
            proportion: Proportion::All,
            council_type: "London".into(),
            won: Vec::new(),
            change: vec![
                (PartyId::new("con"), 7),
                (PartyId::new("reform"), 5),
                (PartyId::new("lab"), -12),
            ],
            council: seats(&[("con", 31), ("lab", 16), ("reform", 7)]),
            before: party("lab"),
            quoted_control: Some(party("con")),
            quoted_outcome: Some("gain".into()),
        }
    }

    #[test]
    fn control_is_a_majority_of_the_whole_council() {
        // 54 seats, 28 for a majority: C's 31 take it from Labour.
        let f = council_figures(&westminster());
        assert_eq!((f.size, f.up, f.majority_line), (54, 54, 28));
        assert_eq!(
            f.outcome,
            CouncilOutcome::Gain {
                party: PartyId::new("con"),
                from: party("lab")
            }
        );
        assert_eq!(
            f.rows[0],
            CouncilRow {
                party: PartyId::new("con"),
                won: 31,
                change: 7,
                council: 31
            }
        );
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        // Adur, half up: 14 seats won of a council of 29 (15 for a majority); Labour's 19
        // hold it.
        let adur = CouncilSeats {
            proportion: Proportion::Half,
            council_type: "Non-Met".into(),
            won: seats(&[("lab", 7), ("ind", 4), ("green", 2), ("con", 1)]),
            change: vec![(PartyId::new("lab"), 2), (PartyId::new("con"), -1)],
            council: seats(&[("lab", 19), ("ind", 6), ("green", 3), ("con", 1)]),
            before: party("lab"),
            quoted_control: Some(party("lab")),
            quoted_outcome: Some("no change".into()),
        };
        let f = council_figures(&adur);
        assert_eq!((f.size, f.up, f.majority_line), (29, 14, 15));
        assert_eq!(f.outcome, CouncilOutcome::Hold(PartyId::new("lab")));
        // Bolton: Labour's 24 of 60 is short of 31: no overall control, as before.
        let bolton = CouncilSeats {
            council: seats(&[
                ("lab", 24),
                ("ind", 15),
                ("con", 11),
                ("ld", 8),
                ("green", 2),
            ]),
            before: Control::Noc,
            ..adur.clone()
        };
        assert_eq!(council_figures(&bolton).outcome, CouncilOutcome::NocStays);
        let lost = CouncilSeats {
            before: party("lab"),
            ..bolton
        };
        assert_eq!(
            council_figures(&lost).outcome,
            CouncilOutcome::LoseToNoc(PartyId::new("lab"))
        );
    }

    #[test]
    fn contradictions_are_reported_not_guessed() {
        let mut w = westminster();
        w.won = seats(&[("con", 40), ("lab", 16), ("reform", 7)]);
        w.proportion = Proportion::Half;
        w.quoted_control = Some(Control::Noc);
        let f = council_figures(&w);
        assert!(
            f.problems
                .iter()
                .any(|p| p == "63 seats won this time, more than the council's 54"),
            "{:?}",
            f.problems
        );
        assert!(
            f.problems
                .iter()
                .any(|p| p == "con won 40 seats this time but holds 31 on the whole council")
        );
        assert!(
            f.problems
                .iter()
                .any(|p| p.starts_with("the source says NOC controls it; its seats say con"))
        );
        // Announced on its own figures all the same.
        assert_eq!(f.control, party("con"));
    }

    #[test]
    fn the_tally_counts_councils_by_control_and_seats_by_party() {
        let w = westminster();
        let fw = council_figures(&w);
        let t = council_tally([(&w, &fw)]);
        assert_eq!(t.declared, 1);
        assert_eq!(t.control, vec![(party("con"), 1, 1), (party("lab"), 0, -1)]);
        assert_eq!(t.seats[0], (PartyId::new("con"), 31, 7));
        assert_eq!(t.seats[2], (PartyId::new("reform"), 7, 5));
    }
}
