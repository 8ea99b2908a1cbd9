//! Milestones a correction undoes: those that stand but that the board no longer bears out
//! (a party back below the majority line, a seat withdrawn after the last declared).

use super::{Fired, Milestone};
use crate::core::board::{Board, Scope};

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
                let wanted = crate::core::finder::normalise(name);
                let still = board.entries().any(|e| {
                    e.declaration.result.constituency.name == *seat
                        && e.figures
                            .sitting_defeated
                            .iter()
                            .any(|(n, _)| crate::core::finder::normalise(n) == wanted)
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
