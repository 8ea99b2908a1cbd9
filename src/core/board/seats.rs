//! The figures of results declared in seats that need the board: a multi-member ward's
//! winners and majority, and the constituency seats won in a list's region.

use super::Board;
use crate::core::allocation::PartySeats;
use crate::core::arithmetic::Figures;
use crate::core::model::{Constituency, ConstituencyId};

/// A multi-member ward's winners (those the source marks elected, else the most votes) and
/// its majority: the last elected's votes minus the best loser's (the arithmetic note).
pub(super) fn several_elected(f: &mut Figures, seats: u32) {
    let n = seats as usize;
    let marked: Vec<usize> = (0..f.candidates.len())
        .filter(|i| f.candidates[*i].elected)
        .collect();
    let elected: Vec<usize> = if marked.is_empty() {
        (0..f.candidates.len().min(n)).collect()
    } else {
        marked
    };
    let Some(&first) = elected.first() else {
        return;
    };
    f.winner = crate::core::arithmetic::Winner::Elected(first);
    f.also_elected = elected[1..].to_vec();
    // Each voter had several votes: the votes say nothing of how many voted.
    f.turnout = None;
    f.turnout_change = None;
    let last = elected
        .iter()
        .map(|i| f.candidates[*i].votes)
        .min()
        .unwrap_or(0);
    let best_loser = (0..f.candidates.len())
        .filter(|i| !elected.contains(i))
        .map(|i| f.candidates[i].votes)
        .max();
    let m = best_loser.map_or(last, |l| last.saturating_sub(l));
    f.majority = Some(m);
    f.majority_pct = Some(crate::core::arithmetic::pct(m, f.total_votes));
}

impl Board {
    /// The constituency seats each party has won in a list's region, where the board knows
    /// which constituencies lie in it (those the aliases' `[regions]` table lists under the
    /// list's name, else those whose region is the list's name) and all of them have
    /// declared; None otherwise, so that the source's allocation stands.
    pub(super) fn constituency_seats_in(&self, list: &Constituency) -> Option<Vec<PartySeats>> {
        let region = &list.name;
        let listed: Option<Vec<String>> = self
            .aliases
            .regions
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(region))
            .map(|(_, names)| {
                names
                    .iter()
                    .map(|n| crate::core::finder::normalise(n))
                    .collect()
            });
        let inside: Vec<&ConstituencyId> = self
            .known
            .values()
            .filter(|c| c.election == list.election && c.id != list.id)
            .filter(|c| match &listed {
                Some(names) => names.contains(&crate::core::finder::normalise(&c.name)),
                None => c.region.eq_ignore_ascii_case(region),
            })
            .map(|c| &c.id)
            .collect();
        if inside.is_empty() && listed.is_none() {
            return None;
        }
        // Every constituency of the region must have declared (and every one listed be
        // known): else the count would be short, and the source's allocation stands.
        if listed
            .as_ref()
            .is_some_and(|names| names.len() != inside.len())
            || inside.iter().any(|id| {
                self.get(id)
                    .and_then(|e| e.figures.winning_party())
                    .is_none()
            })
        {
            return None;
        }
        let mut won: Vec<PartySeats> = Vec::new();
        for id in inside {
            if let Some(p) = self.get(id).and_then(|e| e.figures.winning_party()) {
                match won.iter_mut().find(|w| &w.party == p) {
                    Some(w) => w.seats += 1,
                    None => won.push(PartySeats {
                        party: p.clone(),
                        seats: 1,
                    }),
                }
            }
        }
        Some(won)
    }
}
