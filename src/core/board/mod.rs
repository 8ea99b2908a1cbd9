//! The results board: the election as it stands, in memory. It holds the latest declaration
//! of each constituency with its computed figures, the baseline, and a finder over every
//! known constituency. Every front end (console, CLI, Discord) answers from a board, so the
//! same declaration always reads the same everywhere. What it adds up (tallies, the race,
//! the projection, councils) is in `tallies`; the figures of results in seats that need
//! the board, in `seats`.

use std::collections::BTreeMap;

use super::allocation::Allocation;
use super::arithmetic::{Against, Figures, SeatFigures, compute_against};
use super::changes::Latest;
use super::council::council_figures;
use super::finder::{Aliases, Finder, Lookup, Match, MatchKind};
use super::lists::list_figures;
use super::model::{
    Baseline, Constituency, ConstituencyId, Declaration, DeclarationStatus, Election, Nation,
    Nominated,
};
use super::national::Race;
use super::parties::PartyRegistry;

mod seats;
mod tallies;

use seats::several_elected;
pub use tallies::Standing;

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
    /// One of several elections side by side, by id.
    Election(String),
}

impl Scope {
    pub fn covers(&self, c: &Constituency) -> bool {
        match self {
            Scope::All => true,
            Scope::Nation(n) => c.nation == *n,
            Scope::Region(r) => c.region.eq_ignore_ascii_case(r),
            Scope::Election(id) => c.election.as_deref() == Some(id.as_str()),
        }
    }
}

pub struct Board {
    /// The election, or the first of several side by side.
    pub election: Election,
    /// Every election the source carries, where it carries several (else empty): each its
    /// own seats, tally and majority line.
    elections: Vec<Election>,
    pub parties: PartyRegistry,
    pub baseline: Baseline,
    entries: BTreeMap<ConstituencyId, Entry>,
    /// Seats whose declaration was withdrawn (and not declared again since), with that
    /// withdrawal: with `entries`, the latest declaration of every seat.
    withdrawn: BTreeMap<ConstituencyId, Declaration>,
    known: BTreeMap<ConstituencyId, Constituency>,
    nominations: BTreeMap<ConstituencyId, Nominated>,
    finder: Finder,
    aliases: Aliases,
    /// Sitting members whose defeat is a milestone (party leaders, ministers).
    pub notable: Vec<String>,
    /// Candidates' names, rebuilt on demand after a change.
    people: std::sync::OnceLock<Finder>,
    sequence: u64,
    /// The race as it stood right after each recorded event, by the event's number.
    races: BTreeMap<i64, Race>,
    /// Elections whose size no source has given (a PA folder before its state of parties,
    /// with no baseline): no race line is drawn against a guessed majority line.
    size_unknown: std::collections::BTreeSet<String>,
}

impl Board {
    pub fn new(election: Election, parties: PartyRegistry, baseline: Baseline) -> Board {
        let known: BTreeMap<ConstituencyId, Constituency> = baseline
            .iter()
            .map(|r| (r.constituency.id.clone(), r.constituency.clone()))
            .collect();
        let aliases = Aliases::bundled();
        let finder = Self::index(&known, &aliases);
        let mut size_unknown = std::collections::BTreeSet::new();
        if election.id == super::model::Election::PENDING && baseline.is_empty() {
            size_unknown.insert(election.id.clone());
        }
        Board {
            election,
            elections: Vec::new(),
            parties,
            baseline,
            entries: BTreeMap::new(),
            withdrawn: Default::default(),
            known,
            nominations: BTreeMap::new(),
            finder,
            aliases,
            notable: Vec::new(),
            people: std::sync::OnceLock::new(),
            sequence: 0,
            races: BTreeMap::new(),
            size_unknown,
        }
    }

    fn index(known: &BTreeMap<ConstituencyId, Constituency>, aliases: &Aliases) -> Finder {
        Finder::with_aliases(
            known.values().map(|c| (c.id.clone(), c.name.clone())),
            aliases,
        )
    }

    /// Finds a seat by its name, another name people use for it, or the name of a
    /// candidate standing in it ("Boris Johnson": exactly, or by every word).
    pub fn find(&self, query: &str) -> Lookup {
        let found = self.finder.find(query);
        if !matches!(found, Lookup::Found(_))
            && let Lookup::Found(person) = self.people().find(query)
            && matches!(person.kind, MatchKind::Exact | MatchKind::AllWords)
            && let Some(c) = self.known.get(&person.id)
        {
            return Lookup::Found(Match {
                id: c.id.clone(),
                name: c.name.clone(),
                kind: person.kind,
                score: person.score,
            });
        }
        found
    }

    /// Takes what people call constituencies besides their names (`config/aliases.toml`).
    /// The names the finder knows besides the seats' own, and the list regions.
    pub fn aliases(&self) -> &Aliases {
        &self.aliases
    }

    pub fn set_aliases(&mut self, aliases: Aliases) {
        self.aliases = aliases;
        self.finder = Self::index(&self.known, &self.aliases);
    }

    /// A finder over the candidates standing now (declared, called or nominated), each
    /// leading to their seat; built when first asked after a change.
    pub fn people(&self) -> &Finder {
        self.people.get_or_init(|| {
            let declared = self.entries.values().flat_map(|e| {
                e.declaration
                    .result
                    .candidates
                    .iter()
                    .map(|c| (e.declaration.id().clone(), c.name.clone()))
            });
            let nominated = self
                .nominations
                .iter()
                .filter(|(id, _)| !self.entries.contains_key(*id))
                .flat_map(|(id, n)| n.candidates.iter().map(|c| (id.clone(), c.name.clone())));
            Finder::people(declared.chain(nominated))
        })
    }

    /// Puts a declaration on the board (replacing any earlier one for its constituency) and
    /// returns its figures. A withdrawn declaration takes the constituency off the board.
    pub fn apply(&mut self, declaration: Declaration) -> Option<&Entry> {
        let id = declaration.id().clone();
        let c = declaration.result.constituency.clone();
        if self.known.insert(id.clone(), c.clone()).as_ref() != Some(&c) {
            self.finder = Self::index(&self.known, &self.aliases);
        }
        self.people = std::sync::OnceLock::new();
        if declaration.status == DeclarationStatus::Withdrawn {
            self.entries.remove(&id);
            self.withdrawn.insert(id, declaration);
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

    /// Whether the election's size is known (given by a feed or a baseline, not guessed).
    pub fn size_known(&self) -> bool {
        !self.size_unknown.contains(&self.election.id)
    }

    /// Whether the seat's declaration was withdrawn (and not declared again since).
    pub fn is_withdrawn(&self, id: &ConstituencyId) -> bool {
        self.withdrawn.contains_key(id)
    }

    /// The figures of any declaration (not put on the board): against the configured
    /// baseline where it has the seat, else against the source's own previous result; hold
    /// or gain against the party the source names as defending the seat, if it names one.
    pub fn compute(&self, d: &Declaration) -> Figures {
        let mut figures = compute_against(&d.result, self.against(d), &self.parties);
        figures.election = self
            .election_of(&d.result.constituency)
            .map(|e| e.name.clone());
        // Sitting members who stood here and did not win lost.
        if let Some(view) = d.source.as_deref()
            && d.status == DeclarationStatus::Declared
            && let Some(winner) = figures.winning_candidate().map(|w| w.name.clone())
        {
            figures.sitting_defeated = figures
                .candidates
                .iter()
                .filter(|c| c.name != winner && view.sitting.contains(&c.name))
                .map(|c| (c.name.clone(), c.party.clone()))
                .collect();
        }
        if self.baseline.get(d.id()).is_none()
            && let Some(p) = d.source.as_ref().and_then(|s| s.previous.as_ref())
        {
            figures.since = Some(p.label());
        }
        figures.seats = match d.allocation.as_deref() {
            Some(Allocation::Council(c)) => {
                Some(Box::new(SeatFigures::Council(council_figures(c))))
            }
            Some(Allocation::List(l)) => {
                let won = self.constituency_seats_in(&d.result.constituency);
                Some(Box::new(SeatFigures::List(list_figures(l, won.as_deref()))))
            }
            Some(Allocation::MultiMember { seats }) => {
                several_elected(&mut figures, *seats);
                None
            }
            None => None,
        };
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
        self.set_elections(vec![election]);
    }

    /// Takes the elections a feed names: one, or several side by side. An election whose
    /// size the feed has not said (`total_seats` 0) keeps the size known before: for a lone
    /// election the board's own (the baseline's), for one of several the seats heard of.
    pub fn set_elections(&mut self, mut list: Vec<Election>) {
        if list.is_empty() {
            return;
        }
        let lone = list.len() == 1;
        let sized: Vec<String> = list
            .iter()
            .filter(|e| e.total_seats > 0)
            .map(|e| e.id.clone())
            .collect();
        for e in &mut list {
            if e.total_seats > 0 {
                continue;
            }
            let before = self
                .elections
                .iter()
                .chain(std::iter::once(&self.election))
                .find(|b| b.id == e.id && b.total_seats > 0)
                .map(|b| b.total_seats);
            if before.is_none() && (!lone || self.size_unknown.contains(&self.election.id)) {
                self.size_unknown.insert(e.id.clone());
            }
            e.total_seats = match before {
                Some(n) => n,
                None if lone => self.election.total_seats,
                None => {
                    let scope = Scope::Election(e.id.clone());
                    (self.known.values().filter(|c| scope.covers(c)).count() as u32).max(1)
                }
            };
        }
        for e in &list {
            if self.size_unknown.contains(&e.id) && sized.contains(&e.id) {
                self.size_unknown.remove(&e.id);
            }
        }
        self.election = list[0].clone();
        self.elections = if lone { Vec::new() } else { list };
    }

    /// How a scope is named in titles: the election's name for the whole board or one of
    /// several elections, else the nation or region.
    pub fn scope_name(&self, scope: &Scope) -> String {
        match scope {
            Scope::All => self.election.name.clone(),
            Scope::Nation(n) => n.name().to_string(),
            Scope::Region(r) => r.clone(),
            Scope::Election(id) => self
                .elections
                .iter()
                .find(|e| &e.id == id)
                .map_or_else(|| id.clone(), |e| e.name.clone()),
        }
    }

    /// The elections side by side, where the source carries several (else empty).
    pub fn elections(&self) -> &[Election] {
        &self.elections
    }

    /// The election a seat is contested in, where its source names elections per seat
    /// (PA does; every announcement then names it).
    pub fn election_of(&self, c: &Constituency) -> Option<&Election> {
        let id = c.election.as_deref()?;
        self.elections
            .iter()
            .chain(std::iter::once(&self.election))
            .find(|e| e.id == id)
    }

    /// Maps a source's provisional id (`pa:20`) to the baseline constituency of the same
    /// name, adopting its id, region and nation. Unmatched declarations keep theirs.
    pub fn resolve_constituency(&self, d: &mut Declaration) {
        self.resolve(&mut d.result.constituency);
    }

    fn resolve(&self, c: &mut Constituency) {
        if self.known.contains_key(&c.id) {
            return;
        }
        let wanted = super::finder::normalise(&c.name);
        // Only to a seat of no election or of the same one: a mayoralty never becomes the
        // constituency of the same name.
        if let Some(known) = self.known.values().find(|k| {
            super::finder::normalise(&k.name) == wanted
                && (k.election.is_none() || k.election == c.election)
        }) {
            let election = c.election.take();
            *c = known.clone();
            c.election = election;
        }
    }

    /// Takes the source's nominations (who stands where, before declaring): the seats join
    /// the finder, and `/result` shows their candidates until they declare.
    pub fn set_nominations(&mut self, nominations: Vec<Nominated>) {
        let mut changed = false;
        self.people = std::sync::OnceLock::new();
        for mut n in nominations {
            self.resolve(&mut n.constituency);
            let c = n.constituency.clone();
            changed |= self.known.insert(c.id.clone(), c.clone()).as_ref() != Some(&c);
            self.nominations.insert(c.id, n);
        }
        if changed {
            self.finder = Self::index(&self.known, &self.aliases);
        }
    }

    /// Who stands in a seat, where the source sent its nominations.
    pub fn nominated(&self, id: &ConstituencyId) -> Option<&Nominated> {
        self.nominations.get(id)
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
}

/// The board holds the latest declaration of every seat (on the board, or withdrawn): the
/// one record the watcher compares each feed state with.
impl Latest for Board {
    fn latest_of(&self, id: &ConstituencyId) -> Option<&Declaration> {
        self.entries
            .get(id)
            .map(|e| &e.declaration)
            .or_else(|| self.withdrawn.get(id))
    }

    fn all_latest(&self) -> Box<dyn Iterator<Item = &Declaration> + '_> {
        Box::new(
            self.entries
                .values()
                .map(|e| &e.declaration)
                .chain(self.withdrawn.values()),
        )
    }
}
