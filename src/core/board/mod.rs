//! The results board: the election as it stands, in memory. It holds the latest declaration
//! of each constituency with its computed figures, the baseline, and a finder over every
//! known constituency. Every front end (console, CLI, Discord) answers from a board, so the
//! same declaration always reads the same everywhere.

use std::collections::BTreeMap;

use super::allocation::{Allocation, CouncilSeats, PartySeats};
use super::arithmetic::{Against, Figures, SeatFigures, compute_against};
use super::council::{CouncilFigures, CouncilTally, council_figures, council_tally};
use super::finder::{Aliases, Finder, Lookup, Match, MatchKind};
use super::lists::list_figures;
use super::model::{
    Baseline, Constituency, ConstituencyId, Declaration, DeclarationStatus, Election, Nation,
    Nominated,
};
use super::national::{Race, Tally, tally};
use super::parties::PartyRegistry;

/// A multi-member ward's winners (those the source marks elected, else the most votes) and
/// its majority: the last elected's votes minus the best loser's (the arithmetic note).
fn several_elected(f: &mut Figures, seats: u32) {
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
    f.winner = super::arithmetic::Winner::Elected(first);
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
    f.majority_pct = Some(super::arithmetic::pct(m, f.total_votes));
}

/// Where an election stands: seats (a parliament, a by-election) or councils.
#[derive(Clone, Debug, PartialEq)]
pub enum Standing {
    Seats(Tally),
    Councils(CouncilTally),
}

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
    /// Seats whose declaration was withdrawn (and not declared again since).
    withdrawn: std::collections::BTreeSet<ConstituencyId>,
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
    pub fn projection(&self) -> Option<super::projection::Projection> {
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
        super::projection::project(
            declared,
            undeclared,
            self.election.total_seats,
            &self.parties,
        )
    }

    /// Whether the election's size is known (given by a feed or a baseline, not guessed).
    pub fn size_known(&self) -> bool {
        !self.size_unknown.contains(&self.election.id)
    }

    /// The race as it stood right after event `seq`, where it was noted.
    pub fn race_at(&self, seq: i64) -> Option<&Race> {
        self.races.get(&seq)
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

    /// The constituency seats each party has won in a list's region, where the board knows
    /// which constituencies lie in it: those the aliases' `[regions]` table lists under the
    /// list's name, else those whose region is the list's name. None where it knows none;
    /// a constituency listed but not yet declared counts nothing yet.
    fn constituency_seats_in(&self, list: &Constituency) -> Option<Vec<PartySeats>> {
        let region = &list.name;
        let listed: Option<Vec<String>> = self
            .aliases
            .regions
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(region))
            .map(|(_, names)| names.iter().map(|n| super::finder::normalise(n)).collect());
        let inside: Vec<&ConstituencyId> = self
            .known
            .values()
            .filter(|c| c.election == list.election && c.id != list.id)
            .filter(|c| match &listed {
                Some(names) => names.contains(&super::finder::normalise(&c.name)),
                None => c.region.eq_ignore_ascii_case(region),
            })
            .map(|c| &c.id)
            .collect();
        if inside.is_empty() && listed.is_none() {
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
