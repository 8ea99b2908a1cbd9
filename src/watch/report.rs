//! What the watcher reports without announcing it: declarations a complete feed lacks
//! (missing, never withdrawn), and disagreements with a source's own national totals.

use super::Watcher;
use crate::core::board::{Board, Scope};
use crate::core::model::{ConstituencyId, DeclarationStatus};
use crate::sources::live::PublishedTotals;

impl Watcher {
    /// Reports declarations a complete snapshot lacks: logged when the set changes,
    /// counted, and shown by `/healthz`; never announced.
    pub(super) fn report_missing(&mut self, missing: &[ConstituencyId]) {
        let names: Vec<String> = {
            let board = self.board.read();
            missing
                .iter()
                .map(|id| {
                    board
                        .constituency(id)
                        .map_or_else(|| id.to_string(), |c| c.name.clone())
                })
                .collect()
        };
        self.metrics.missing.set(names.len() as i64);
        if self.status.borrow().missing != names {
            if names.is_empty() {
                tracing::info!("no declaration is missing from the feed any more");
            } else {
                tracing::warn!(
                    count = names.len(),
                    "declarations herald holds are missing from the feed (a cut transfer, or a retraction the feed does not mark): not announced as withdrawn: {}",
                    names.join(", ")
                );
            }
            self.status.send_modify(|s| s.missing = names);
        }
    }
}

/// Compares a source's published national totals with the board's own: each disagreement
/// as a sentence (herald's figures stand; `watch` logs them for the duty editor, `feed
/// check` lists them).
pub fn cross_check(board: &Board, totals: &PublishedTotals) -> Vec<String> {
    let mut out = Vec::new();
    // With elections side by side, the totals are of their own election.
    let (scope, of) = match (&totals.election, board.elections().is_empty()) {
        (Some(id), false) => (
            Scope::Election(id.clone()),
            board
                .elections()
                .iter()
                .find(|e| &e.id == id)
                .map(|e| format!(" ({})", e.name))
                .unwrap_or_default(),
        ),
        _ => (Scope::All, String::new()),
    };
    // Councils: PA's councils declared and seats won against herald's council tally.
    if let crate::core::board::Standing::Councils(c) = board.standing(&scope) {
        if c.declared != totals.results {
            out.push(format!(
                "state of parties{of} covers {} councils; herald holds {}",
                totals.results, c.declared
            ));
        }
        for (label, party, seats) in &totals.seats {
            let ours = party
                .as_ref()
                .and_then(|p| c.seats.iter().find(|s| &s.0 == p))
                .map_or(0, |s| s.1);
            if ours != *seats {
                out.push(format!(
                    "state of parties{of} gives {label} {seats} seats won; herald counts {ours}"
                ));
            }
        }
        return out;
    }
    let tally = board.tally(&scope);
    let declared = board
        .entries()
        .filter(|e| {
            e.declaration.status != DeclarationStatus::Withdrawn
                && e.figures.winning_party().is_some()
                && scope.covers(&e.declaration.result.constituency)
        })
        .count() as u32;
    if declared != totals.results {
        out.push(format!(
            "state of parties{of} covers {} results; herald holds {} declared or called seats",
            totals.results, declared
        ));
    }
    for (label, party, seats) in &totals.seats {
        let ours = party
            .as_ref()
            .and_then(|p| tally.party(p))
            .map_or(0, |t| t.seats);
        if ours != *seats {
            out.push(format!(
                "state of parties{of} gives {label} {seats} seats; herald counts {ours}"
            ));
        }
    }
    out
}
