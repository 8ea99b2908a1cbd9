//! What the board adds up: a scope's tally, the race right after each event and now, the
//! projection of the seats still to declare, a night's councils, and where each election
//! stands.

use super::{Board, Scope};
use crate::core::allocation::{Allocation, CouncilSeats};
use crate::core::arithmetic::{Figures, SeatFigures};
use crate::core::council::{CouncilFigures, CouncilTally, council_tally};
use crate::core::model::{Constituency, DeclarationStatus, Nation};
use crate::core::national::{Race, Tally, tally};

/// Where an election stands: seats (a parliament, a by-election) or councils.
#[derive(Clone, Debug, PartialEq)]
pub enum Standing {
    Seats(Tally),
    Councils(CouncilTally),
}

impl Board {
    /// How many parties the race line names.
    const RACE_LEADERS: usize = 4;

    /// Notes where the race stands right after event `seq` about seat `c` (call it after
    /// applying the event): the seat's election, or the whole board. A contest of one seat
    /// (a mayor, a lone by-election) has no race.
    pub fn note_race(&mut self, seq: i64, c: &Constituency) {
        let (scope, election) = match (self.election_of(c), self.elections.is_empty()) {
            (Some(e), false) => (Scope::Election(e.id.clone()), &e.id),
            _ => (Scope::All, &self.election.id),
        };
        if self.size_unknown.contains(election) {
            return;
        }
        if let Some(race) = self.race(&scope) {
            self.races.insert(seq, race);
        }
    }

    /// Where the race stands in `scope` now (None for a contest of one seat): the tally's
    /// leaders and, for the whole of a lone election, the projection's largest party.
    pub fn race(&self, scope: &Scope) -> Option<Race> {
        let tally = self.tally(scope);
        if tally.total_seats <= 1 {
            return None;
        }
        let mut race = tally.race(Self::RACE_LEADERS);
        if *scope == Scope::All
            && let Some(p) = self.projection()
        {
            race.projected = p.parties.first().map(|x| (x.party.clone(), x.projected));
        }
        Some(race)
    }

    /// The projection of the seats still to declare (uniform swing by nation, over the
    /// configured baseline, else the previous results a source sent with its nominations).
    /// None until enough seats are comparable, and for elections side by side.
    pub fn projection(&self) -> Option<crate::core::projection::Projection> {
        if !self.elections.is_empty() {
            return None;
        }
        let declared: Vec<&Figures> = self.declared(&Scope::All).collect();
        let undeclared = self
            .known
            .values()
            .filter(|c| {
                self.entries
                    .get(&c.id)
                    .is_none_or(|e| e.declaration.status != DeclarationStatus::Declared)
            })
            .map(|c| {
                let previous = self.baseline.get(&c.id).or_else(|| {
                    self.nominations
                        .get(&c.id)
                        .and_then(|n| n.source.as_deref())
                        .and_then(|s| s.previous.as_ref())
                        .map(|p| &p.result)
                });
                (c.nation, previous)
            });
        crate::core::projection::project(
            declared,
            undeclared,
            self.election.total_seats,
            &self.parties,
        )
    }

    /// The race as it stood right after event `seq`, where it was noted.
    pub fn race_at(&self, seq: i64) -> Option<&Race> {
        self.races.get(&seq)
    }

    /// Declared results only (not seats merely called or under recount).
    fn declared(&self, scope: &Scope) -> impl Iterator<Item = &Figures> {
        self.entries
            .values()
            .filter(move |e| {
                e.declaration.status == DeclarationStatus::Declared
                    && scope.covers(&e.figures.constituency)
            })
            .map(|e| &e.figures)
    }

    /// The tally over the whole election, a nation or a region.
    pub fn tally(&self, scope: &Scope) -> Tally {
        let total = match scope {
            Scope::All if self.elections.is_empty() => self.election.total_seats,
            Scope::All => self.elections.iter().map(|e| e.total_seats).sum(),
            Scope::Election(id) => self
                .elections
                .iter()
                .find(|e| &e.id == id)
                .map_or(0, |e| e.total_seats),
            _ => self.known.values().filter(|c| scope.covers(c)).count() as u32,
        };
        tally(self.declared(scope), total, &self.parties)
    }

    /// The scopes a night's answers are given in: the whole election, or each election
    /// followed side by side.
    pub fn election_scopes(&self) -> Vec<Scope> {
        if self.elections.is_empty() {
            vec![Scope::All]
        } else {
            self.elections
                .iter()
                .map(|e| Scope::Election(e.id.clone()))
                .collect()
        }
    }

    /// The councils declared in `scope`, tallied by control and seats; None where the scope
    /// holds no council.
    pub fn council_tally(&self, scope: &Scope) -> Option<CouncilTally> {
        let councils: Vec<(&CouncilSeats, &CouncilFigures)> = self
            .entries
            .values()
            .filter(|e| {
                e.declaration.status == DeclarationStatus::Declared
                    && scope.covers(&e.figures.constituency)
            })
            .filter_map(|e| {
                match (
                    e.declaration.allocation.as_deref(),
                    e.figures.seats.as_deref(),
                ) {
                    (Some(Allocation::Council(c)), Some(SeatFigures::Council(f))) => Some((c, f)),
                    _ => None,
                }
            })
            .collect();
        (!councils.is_empty()).then(|| council_tally(councils))
    }

    /// Where `scope` stands: its councils where it holds councils, else its seats.
    pub fn standing(&self, scope: &Scope) -> Standing {
        match self.council_tally(scope) {
            Some(c) => Standing::Councils(c),
            None => Standing::Seats(self.tally(scope)),
        }
    }

    /// Region and nation names on the board, for `/region`.
    pub fn regions(&self) -> Vec<String> {
        let mut names: Vec<String> = self.known.values().map(|c| c.region.clone()).collect();
        names.extend(Nation::ALL.iter().map(|n| n.name().to_string()));
        names.sort();
        names.dedup();
        names
    }
}
