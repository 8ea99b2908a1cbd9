//! The results board: the election as it stands, in memory. It holds the latest declaration
//! of each constituency with its computed figures, the baseline, and a finder over every
//! known constituency. Every front end (console, CLI, Discord) answers from a board, so the
//! same declaration always reads the same everywhere.

use std::collections::BTreeMap;

use super::arithmetic::{Figures, compute};
use super::finder::Finder;
use super::model::{
    Baseline, Constituency, ConstituencyId, Declaration, DeclarationStatus, Election, Nation,
};
use super::national::{Tally, tally};
use super::parties::PartyRegistry;

/// A declaration on the board, with its figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub declaration: Declaration,
    pub figures: Figures,
    /// Position in the order declarations reached the board (for `/latest`).
    pub sequence: u64,
}

/// Which constituencies a tally covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Nation(Nation),
    Region(String),
}

impl Scope {
    pub fn covers(&self, c: &Constituency) -> bool {
        match self {
            Scope::All => true,
            Scope::Nation(n) => c.nation == *n,
            Scope::Region(r) => c.region.eq_ignore_ascii_case(r),
        }
    }
}

pub struct Board {
    pub election: Election,
    pub parties: PartyRegistry,
    pub baseline: Baseline,
    entries: BTreeMap<ConstituencyId, Entry>,
    /// Seats whose declaration was withdrawn (and not declared again since).
    withdrawn: std::collections::BTreeSet<ConstituencyId>,
    known: BTreeMap<ConstituencyId, Constituency>,
    finder: Finder,
    sequence: u64,
}

impl Board {
    pub fn new(election: Election, parties: PartyRegistry, baseline: Baseline) -> Board {
        let known: BTreeMap<ConstituencyId, Constituency> = baseline
            .iter()
            .map(|r| (r.constituency.id.clone(), r.constituency.clone()))
            .collect();
        let finder = Self::index(&known);
        Board {
            election,
            parties,
            baseline,
            entries: BTreeMap::new(),
            withdrawn: Default::default(),
            known,
            finder,
            sequence: 0,
        }
    }

    fn index(known: &BTreeMap<ConstituencyId, Constituency>) -> Finder {
        Finder::new(known.values().map(|c| (c.id.clone(), c.name.clone())))
    }

    /// Puts a declaration on the board (replacing any earlier one for its constituency) and
    /// returns its figures. A withdrawn declaration takes the constituency off the board.
    pub fn apply(&mut self, declaration: Declaration) -> Option<&Entry> {
        let id = declaration.id().clone();
        let c = declaration.result.constituency.clone();
        if self.known.insert(id.clone(), c.clone()).as_ref() != Some(&c) {
            self.finder = Self::index(&self.known);
        }
        if declaration.status == DeclarationStatus::Withdrawn {
            self.entries.remove(&id);
            self.withdrawn.insert(id);
            return None;
        }
        self.withdrawn.remove(&id);
        let figures = compute(&declaration.result, self.baseline.get(&id), &self.parties);
        self.sequence += 1;
        let entry = Entry {
            declaration,
            figures,
            sequence: self.sequence,
        };
        self.entries.insert(id.clone(), entry);
        self.entries.get(&id)
    }

    /// Whether the seat's declaration was withdrawn (and not declared again since).
    pub fn is_withdrawn(&self, id: &ConstituencyId) -> bool {
        self.withdrawn.contains(id)
    }

    /// The figures of any declaration against this board's baseline (not put on the board).
    pub fn compute(&self, d: &Declaration) -> Figures {
        compute(&d.result, self.baseline.get(d.id()), &self.parties)
    }

    /// Replaces the election (a feed names it once it is read).
    pub fn set_election(&mut self, election: Election) {
        self.election = election;
    }

    /// Maps a source's provisional id (`pa:20`) to the baseline constituency of the same
    /// name, adopting its id, region and nation. Unmatched declarations keep theirs.
    pub fn resolve_constituency(&self, d: &mut Declaration) {
        let c = &d.result.constituency;
        if self.known.contains_key(&c.id) {
            return;
        }
        let wanted = super::finder::normalise(&c.name);
        if let Some(known) = self
            .known
            .values()
            .find(|k| super::finder::normalise(&k.name) == wanted)
        {
            d.result.constituency = known.clone();
        }
    }

    pub fn get(&self, id: &ConstituencyId) -> Option<&Entry> {
        self.entries.get(id)
    }

    pub fn constituency(&self, id: &ConstituencyId) -> Option<&Constituency> {
        self.known.get(id)
    }

    pub fn constituencies(&self) -> impl Iterator<Item = &Constituency> {
        self.known.values()
    }

    pub fn finder(&self) -> &Finder {
        &self.finder
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The `n` most recent declarations, newest first.
    pub fn latest(&self, n: usize) -> Vec<&Entry> {
        let mut all: Vec<&Entry> = self.entries.values().collect();
        all.sort_by_key(|e| std::cmp::Reverse(e.sequence));
        all.truncate(n);
        all
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
            Scope::All => self.election.total_seats,
            _ => self.known.values().filter(|c| scope.covers(c)).count() as u32,
        };
        tally(self.declared(scope), total, &self.parties)
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
