//! The results board: the election as it stands, in memory. It holds the latest declaration
//! of each constituency with its computed figures, the baseline, and a finder over every
//! known constituency. Every front end (console, CLI, Discord) answers from a board, so the
//! same declaration always reads the same everywhere.

use std::collections::BTreeMap;

use super::arithmetic::{Against, Figures, compute_against};
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
        let figures = self.compute(&declaration);
        self.sequence += 1;
        let entry = Entry {
            declaration,
            figures,
            sequence: self.sequence,
        };
        self.entries.insert(id.clone(), entry);
        self.entries.get(&id)
    }

    /// Where the source's own figures for a seat on the board differ from herald's (see
    /// [`crate::core::crosscheck`]). Change and swing are compared only where the figures
    /// are against the source's own previous result.
    pub fn disagreements(&self, id: &ConstituencyId) -> Vec<super::crosscheck::Disagreement> {
        let Some(entry) = self.entries.get(id) else {
            return Vec::new();
        };
        let Some(view) = entry.declaration.source.as_deref() else {
            return Vec::new();
        };
        let same_baseline = self.baseline.get(id).is_none();
        super::crosscheck::compare(
            &entry.figures,
            &view.quoted,
            entry.declaration.status,
            same_baseline,
            &self.parties,
        )
    }

    /// Whether the seat's declaration was withdrawn (and not declared again since).
    pub fn is_withdrawn(&self, id: &ConstituencyId) -> bool {
        self.withdrawn.contains(id)
    }

    /// The figures of any declaration (not put on the board): against the configured
    /// baseline where it has the seat, else against the source's own previous result; hold
    /// or gain against the party the source names as defending the seat, if it names one.
    pub fn compute(&self, d: &Declaration) -> Figures {
        let mut figures = compute_against(&d.result, self.against(d), &self.parties);
        if self.baseline.get(d.id()).is_none()
            && let Some(p) = d.source.as_ref().and_then(|s| s.previous.as_ref())
        {
            figures.since = Some(p.label());
        }
        figures
    }

    /// What a declaration is compared with (see [`Board::compute`]).
    pub fn against<'a>(&'a self, d: &'a Declaration) -> Against<'a> {
        let source = d.source.as_deref();
        let defending = source.and_then(|s| s.defending.as_ref());
        if let Some(configured) = self.baseline.get(d.id()) {
            return Against {
                previous: Some(configured),
                notional: self.baseline.is_notional(),
                defending,
            };
        }
        match source.and_then(|s| s.previous.as_ref()) {
            Some(p) => Against {
                previous: Some(&p.result),
                notional: p.notional,
                defending,
            },
            None => Against {
                defending,
                notional: source.is_some_and(|s| s.new_boundaries),
                ..Against::default()
            },
        }
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
