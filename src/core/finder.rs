//! The constituency finder, shared by every front end (CLI, slash commands, autocomplete).
//!
//! Matching is case-, accent- and punctuation-insensitive ("ynys mon" finds Ynys Môn,
//! "weston super mare" finds Weston-super-Mare) and typo-tolerant ("hartlepol" finds
//! Hartlepool). An ambiguous query returns its candidates rather than a guess. Everything
//! is in memory, so an autocomplete answers in microseconds.

use std::cmp::Ordering;

use super::model::ConstituencyId;

/// The most choices Discord accepts in an autocomplete reply.
pub const MAX_SUGGESTIONS: usize = 25;

/// Words that mean the same in constituency names: "Saint" and "St", and the compass
/// abbreviations people type ("Nth", "SW").
fn expand(word: &str) -> &str {
    match word {
        "saint" => "st",
        "n" | "nth" => "north",
        "s" | "sth" => "south",
        "e" => "east",
        "w" => "west",
        "ne" => "north east",
        "nw" => "north west",
        "se" => "south east",
        "sw" => "south west",
        other => other,
    }
}

/// Reduces a name to the form queries are compared in: ASCII, lowercase, words separated by
/// single spaces, `&` read as "and", all other punctuation dropped, "Saint" read as "St" and
/// compass abbreviations spelled out.
pub fn normalise(s: &str) -> String {
    let ascii = deunicode::deunicode(s).to_lowercase().replace('&', " and ");
    let mut out = String::with_capacity(ascii.len());
    for word in ascii
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '\'')
        .map(|w| w.replace('\'', ""))
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(expand(&word));
    }
    out
}

struct Entry {
    id: ConstituencyId,
    name: String,
    norm: String,
    /// `norm` without spaces, so "westonsupermare" still matches.
    compact: String,
    words: Vec<String>,
    /// `heads[k]`: the first k+1 words run together, to forgive a typo in a prefix.
    heads: Vec<String>,
    /// Letter counts of `compact` and of each head, for a cheap bound on edit distance.
    counts: Counts,
    head_counts: Vec<Counts>,
}

/// How often each letter and digit occurs in a compact name.
type Counts = [u8; 36];

fn counts(s: &str) -> Counts {
    let mut c = [0u8; 36];
    for b in s.bytes() {
        let i = match b {
            b'a'..=b'z' => (b - b'a') as usize,
            b'0'..=b'9' => 26 + (b - b'0') as usize,
            _ => continue,
        };
        c[i] = c[i].saturating_add(1);
    }
    c
}

/// A lower bound on the edit distance between two strings with these letter counts: each
/// insertion or deletion changes the counts by one, each substitution by two, and a
/// transposition not at all.
fn distance_at_least(a: &Counts, b: &Counts) -> usize {
    let l1: usize = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y) as usize).sum();
    l1.div_ceil(2)
}

/// How a query was matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    Exact,
    Prefix,
    WordPrefix,
    /// Every word of the query is a word of the name, in any order ("swindon south").
    AllWords,
    Fuzzy,
}

/// One ranked match.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    pub id: ConstituencyId,
    pub name: String,
    pub kind: MatchKind,
    /// Higher is better; comparable within one query.
    pub score: f64,
}

/// The answer to "which constituency did the user mean?".
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    /// One constituency, exactly or by an unambiguous prefix or typo.
    Found(Match),
    /// Several equally good candidates: ask, do not guess.
    Ambiguous(Vec<Match>),
    /// Nothing close; the nearest names, if any, as suggestions.
    NotFound(Vec<Match>),
}

/// Entries with one per (seat, name shown): an alias and its seat's own name are one.
fn distinct(mut hits: Vec<&Entry>) -> Vec<&Entry> {
    let mut seen = std::collections::HashSet::new();
    hits.retain(|e| seen.insert((&e.id, &e.name)));
    hits
}

/// A query, normalised once.
struct Query {
    norm: String,
    compact: String,
    words: Vec<String>,
    counts: Counts,
}

impl Query {
    /// The query with people's short forms spelled out ("cambs" → "cambridgeshire").
    fn expanded(s: &str, words: &std::collections::HashMap<String, String>) -> Query {
        let norm = normalise(s)
            .split(' ')
            .map(|w| words.get(w).map_or(w, String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        let compact = norm.replace(' ', "");
        Query {
            counts: counts(&compact),
            compact,
            words: norm
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect(),
            norm,
        }
    }
}

/// An index over constituency names (or, for [`Finder::people`], candidates' names).
pub struct Finder {
    entries: Vec<Entry>,
    /// Short forms people type for words of names ("cambs": "cambridgeshire").
    words: std::collections::HashMap<String, String>,
}

/// What people call constituencies besides their names: another name for a seat (an
/// English name for a Welsh or Gaelic one, an old seat's name for its successor), and short
/// forms of words ("Cambs", "Bham"). `config/aliases.toml` is the bundled list; an admin's
/// own file adds to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aliases {
    /// Another name → the name of the seat it means.
    #[serde(default)]
    pub seats: std::collections::BTreeMap<String, String>,
    /// A short form → the word(s) it stands for.
    #[serde(default)]
    pub words: std::collections::BTreeMap<String, String>,
    /// A list region → the constituencies that lie in it, by name (the Scottish
    /// Parliament's regions: its additional members are allocated against the constituency
    /// seats won in the region, which PA's messages do not say).
    #[serde(default)]
    pub regions: std::collections::BTreeMap<String, Vec<String>>,
}

impl Aliases {
    /// The bundled list, `config/aliases.toml` (checked by the test suite).
    pub fn bundled() -> Aliases {
        Aliases::from_toml(include_str!("../../config/aliases.toml")).unwrap_or_default()
    }

    /// Reads an aliases file (TOML: `[seats]`, `[words]` and `[regions]` tables).
    pub fn from_toml(text: &str) -> Result<Aliases, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim().replace('\n', " "))
    }

    /// These aliases with `more` added (theirs win).
    pub fn merged(mut self, more: Aliases) -> Aliases {
        self.seats.extend(more.seats);
        self.words.extend(more.words);
        self.regions.extend(more.regions);
        self
    }
}

impl Finder {
    pub fn new<I, S>(constituencies: I) -> Finder
    where
        I: IntoIterator<Item = (ConstituencyId, S)>,
        S: Into<String>,
    {
        let mut f = Finder::index(
            constituencies
                .into_iter()
                .map(|(id, name)| {
                    let name = name.into();
                    (id, name.clone(), name)
                })
                .collect(),
        );
        f.entries.dedup_by(|a, b| a.id == b.id && a.norm == b.norm);
        f
    }

    /// An index of constituencies that also knows `aliases`: each other name of a seat
    /// finds it (shown under its own name), and short forms of words are spelled out.
    pub fn with_aliases<I, S>(constituencies: I, aliases: &Aliases) -> Finder
    where
        I: IntoIterator<Item = (ConstituencyId, S)>,
        S: Into<String>,
    {
        let seats: Vec<(ConstituencyId, String)> = constituencies
            .into_iter()
            .map(|(id, name)| (id, name.into()))
            .collect();
        let by_norm: std::collections::HashMap<String, &(ConstituencyId, String)> =
            seats.iter().map(|s| (normalise(&s.1), s)).collect();
        let mut rows: Vec<(ConstituencyId, String, String)> = seats
            .iter()
            .map(|(id, name)| (id.clone(), name.clone(), name.clone()))
            .collect();
        for (alias, means) in &aliases.seats {
            if let Some((id, name)) = by_norm.get(&normalise(means)).copied() {
                rows.push((id.clone(), name.clone(), alias.clone()));
            }
        }
        let mut f = Finder::index(rows);
        f.entries.dedup_by(|a, b| a.id == b.id && a.norm == b.norm);
        f.words = aliases
            .words
            .iter()
            .map(|(k, v)| (normalise(k), normalise(v)))
            .collect();
        f
    }

    /// An index of candidates' names, each leading to their seat (`name` is the person's).
    pub fn people<I>(people: I) -> Finder
    where
        I: IntoIterator<Item = (ConstituencyId, String)>,
    {
        Finder::index(
            people
                .into_iter()
                .map(|(id, person)| (id, person.clone(), person))
                .collect(),
        )
    }

    /// Builds entries from (id, name shown, name matched).
    fn index(rows: Vec<(ConstituencyId, String, String)>) -> Finder {
        let mut entries: Vec<Entry> = rows
            .into_iter()
            .map(|(id, name, matched)| {
                let norm = normalise(&matched);
                let compact = norm.replace(' ', "");
                let words: Vec<String> = norm.split(' ').map(str::to_string).collect();
                let mut heads = Vec::with_capacity(words.len());
                let mut acc = String::new();
                for w in &words {
                    acc.push_str(w);
                    heads.push(acc.clone());
                }
                Entry {
                    id,
                    name,
                    counts: counts(&compact),
                    head_counts: heads.iter().map(|h| counts(h)).collect(),
                    norm,
                    compact,
                    words,
                    heads,
                }
            })
            .collect();
        entries.sort_by(|a, b| a.norm.cmp(&b.norm));
        Finder {
            entries,
            words: std::collections::HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn as_match(e: &Entry, kind: MatchKind, score: f64) -> Match {
        Match {
            id: e.id.clone(),
            name: e.name.clone(),
            kind,
            score,
        }
    }

    /// Typo distance allowed for a query of this many characters.
    fn tolerance(len: usize) -> usize {
        match len {
            0..=3 => 0,
            4..=7 => 1,
            8..=12 => 2,
            _ => 3,
        }
    }

    /// Whether every query word is a word of the name (the last may be a word's start).
    fn all_words(q: &Query, e: &Entry) -> bool {
        let n = q.words.len();
        n > 0
            && q.words.iter().enumerate().all(|(i, w)| {
                e.words
                    .iter()
                    .any(|ew| ew == w || (i + 1 == n && ew.starts_with(w.as_str())))
            })
    }

    /// Edit distance (optimal string alignment) from the query to the entry, against the
    /// whole name or against the name's first words when the query has fewer words (a
    /// typo in a prefix, at one extra step), if within `tolerance`. Lengths are compared
    /// first: names too long or too short to be within reach are never measured.
    fn distance(q: &Query, e: &Entry, tolerance: usize) -> Option<usize> {
        let qc = q.compact.as_str();
        let mut best: Option<usize> = None;
        if e.compact.len().abs_diff(qc.len()) <= tolerance
            && distance_at_least(&q.counts, &e.counts) <= tolerance
        {
            best = Some(strsim::osa_distance(qc, &e.compact));
        }
        let words = q.words.len();
        if words >= 1 && words < e.heads.len() {
            let head = &e.heads[words - 1];
            if head.len().abs_diff(qc.len()) < tolerance
                && distance_at_least(&q.counts, &e.head_counts[words - 1]) < tolerance
            {
                let d = strsim::osa_distance(qc, head) + 1;
                best = Some(best.map_or(d, |b| b.min(d)));
            }
        }
        best.filter(|d| *d <= tolerance)
    }

    /// Resolves a query to one constituency, or says why it cannot.
    pub fn find(&self, query: &str) -> Lookup {
        let q = Query::expanded(query, &self.words);
        if q.norm.is_empty() {
            return Lookup::NotFound(Vec::new());
        }
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.norm == q.norm || e.compact == q.compact)
        {
            return Lookup::Found(Self::as_match(e, MatchKind::Exact, 1.0));
        }
        let one_or_many = |hits: Vec<&Entry>, kind: MatchKind| match hits.as_slice() {
            [] => None,
            [one] => Some(Lookup::Found(Self::as_match(one, kind, 0.9))),
            many => Some(Lookup::Ambiguous(
                many.iter()
                    .take(MAX_SUGGESTIONS)
                    .map(|e| Self::as_match(e, kind, 0.9))
                    .collect(),
            )),
        };
        // A name that begins with the query as whole words ("York Central" for "york")
        // beats one that merely begins with its letters ("Yorkshire…").
        let whole = format!("{} ", q.norm);
        let (whole_words, prefixed): (Vec<&Entry>, Vec<&Entry>) = self
            .entries
            .iter()
            .filter(|e| e.norm.starts_with(&q.norm) || e.compact.starts_with(&q.compact))
            .partition(|e| e.norm.starts_with(&whole));
        if let Some(l) = one_or_many(distinct(whole_words), MatchKind::Prefix) {
            return l;
        }
        if let Some(l) = one_or_many(distinct(prefixed), MatchKind::Prefix) {
            return l;
        }
        let words: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| Self::all_words(&q, e))
            .collect();
        if let Some(l) = one_or_many(distinct(words), MatchKind::AllWords) {
            return l;
        }
        // Typos: the nearest names by edit distance, within a tolerance for the length.
        let tolerance = Self::tolerance(q.compact.len());
        let mut scored: Vec<(usize, &Entry)> = self
            .entries
            .iter()
            .filter_map(|e| Self::distance(&q, e, tolerance).map(|d| (d, e)))
            .collect();
        scored.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.norm.cmp(&b.1.norm)));
        if let Some(best) = scored.first().map(|s| s.0) {
            let level: Vec<Match> = scored
                .iter()
                .take_while(|s| s.0 == best)
                .map(|(d, e)| Self::as_match(e, MatchKind::Fuzzy, 1.0 / (1.0 + *d as f64)))
                .collect();
            if level.len() == 1 {
                return Lookup::Found(level.into_iter().next().expect("one match"));
            }
            return Lookup::Ambiguous(level.into_iter().take(MAX_SUGGESTIONS).collect());
        }
        // Nothing within tolerance: offer the closest few, by similarity.
        Lookup::NotFound(self.closest(&q.norm, 5))
    }

    /// The `limit` names most similar to `q` (Jaro-Winkler over normalised names).
    fn closest(&self, q: &str, limit: usize) -> Vec<Match> {
        let mut scored: Vec<(f64, &Entry)> = self
            .entries
            .iter()
            .map(|e| (strsim::jaro_winkler(q, &e.norm), e))
            .filter(|(s, _)| *s > 0.6)
            .collect();
        scored.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(Ordering::Equal));
        scored
            .into_iter()
            .take(limit)
            .map(|(s, e)| Self::as_match(e, MatchKind::Fuzzy, s))
            .collect()
    }

    /// Up to `limit` (at most 25) ranked choices for an autocomplete box: names starting with
    /// the query, then names with a word starting with it, then names with all its words,
    /// then near misses.
    pub fn suggest(&self, query: &str, limit: usize) -> Vec<Match> {
        let limit = limit.min(MAX_SUGGESTIONS);
        let q = Query::expanded(query, &self.words);
        if q.norm.is_empty() {
            return self
                .entries
                .iter()
                .take(limit)
                .map(|e| Self::as_match(e, MatchKind::Prefix, 0.0))
                .collect();
        }
        let word_prefix = format!(" {}", q.norm);
        let whole = format!("{} ", q.norm);
        let mut hits: Vec<(MatchKind, usize, &Entry)> = Vec::new();
        let mut taken = vec![false; self.entries.len()];
        for (i, e) in self.entries.iter().enumerate() {
            // Within a kind, whole words (`0`) before a word's mere start (`1`).
            let (kind, rank) = if e.norm == q.norm {
                (MatchKind::Exact, 0)
            } else if e.norm.starts_with(&whole) {
                (MatchKind::Prefix, 0)
            } else if e.norm.starts_with(&q.norm) || e.compact.starts_with(&q.compact) {
                (MatchKind::Prefix, 1)
            } else if e.norm.contains(&format!("{word_prefix} ")) {
                (MatchKind::WordPrefix, 0)
            } else if e.norm.contains(&word_prefix) {
                (MatchKind::WordPrefix, 1)
            } else if q.words.len() > 1 && Self::all_words(&q, e) {
                (MatchKind::AllWords, 0)
            } else {
                continue;
            };
            hits.push((kind, rank, e));
            taken[i] = true;
        }
        if hits.len() < limit {
            let tolerance = Self::tolerance(q.compact.len()).max(1);
            for (i, e) in self.entries.iter().enumerate() {
                if taken[i] {
                    continue;
                }
                if let Some(d) = Self::distance(&q, e, tolerance) {
                    hits.push((MatchKind::Fuzzy, d, e));
                }
            }
        }
        // Among equals: nearer first, then shorter names ("Hartlepool" before "Hartlepool
        // and X"), then alphabetical.
        hits.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.cmp(&b.1))
                .then(a.2.norm.len().cmp(&b.2.norm.len()))
                .then(a.2.name.cmp(&b.2.name))
        });
        // One suggestion per seat (an alias and the name it stands for are one seat).
        let mut seen = std::collections::HashSet::new();
        hits.retain(|h| seen.insert((h.2.id.clone(), h.2.name.clone())));
        hits.truncate(limit);
        hits.into_iter()
            .map(|(kind, d, e)| {
                Self::as_match(
                    e,
                    kind,
                    1.0 / (1.0 + d as f64 + e.norm.len() as f64 / 100.0),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finder() -> Finder {
        let names = [
            ("E1", "Hartlepool"),
            ("W1", "Ynys Môn"),
            ("E2", "Weston-super-Mare"),
            ("E3", "York Central"),
            ("E4", "York Outer"),
            ("E5", "Birmingham, Edgbaston"),
            ("E6", "Birmingham, Hall Green"),
            ("E7", "Hartford"),
            ("E8", "Barking"),
            ("E9", "Dagenham and Rainham"),
            ("E10", "Hart and Holmes"),
            ("N1", "Fermanagh & South Tyrone"),
            ("E11", "Bury St Edmunds"),
            ("E12", "Bury North"),
            ("E13", "South Swindon"),
            ("E14", "Wolverhampton South West"),
            ("E15", "St Albans"),
        ];
        Finder::new(names.iter().map(|(i, n)| (ConstituencyId::new(*i), *n)))
    }

    fn found(l: Lookup) -> String {
        match l {
            Lookup::Found(m) => m.name,
            other => panic!("expected one match, got {other:?}"),
        }
    }

    #[test]
    fn normalises_accents_case_and_punctuation() {
        assert_eq!(normalise("Ynys Môn"), "ynys mon");
        assert_eq!(normalise("Weston-super-Mare"), "weston super mare");
        assert_eq!(
            normalise("Fermanagh & South Tyrone"),
            "fermanagh and south tyrone"
        );
        assert_eq!(
            normalise("  Birmingham,  Edgbaston "),
            "birmingham edgbaston"
        );
        assert_eq!(normalise("St Helen's"), "st helens");
    }

    #[test]
    fn finds_exact_and_insensitive_matches() {
        let f = finder();
        assert_eq!(found(f.find("Hartlepool")), "Hartlepool");
        assert_eq!(found(f.find("ynys mon")), "Ynys Môn");
        assert_eq!(found(f.find("weston super mare")), "Weston-super-Mare");
        assert_eq!(found(f.find("westonsupermare")), "Weston-super-Mare");
        assert_eq!(
            found(f.find("fermanagh and south tyrone")),
            "Fermanagh & South Tyrone"
        );
    }

    #[test]
    fn tolerates_typos() {
        let f = finder();
        assert_eq!(found(f.find("hartlepol")), "Hartlepool");
        assert_eq!(found(f.find("Hartelpool")), "Hartlepool");
        assert_eq!(found(f.find("ynys monn")), "Ynys Môn");
        assert_eq!(
            found(f.find("birmingham edgbastn")),
            "Birmingham, Edgbaston"
        );
    }

    #[test]
    fn ambiguous_queries_return_candidates() {
        let f = finder();
        match f.find("york") {
            Lookup::Ambiguous(ms) => {
                let names: Vec<_> = ms.iter().map(|m| m.name.as_str()).collect();
                assert_eq!(names, ["York Central", "York Outer"]);
            }
            other => panic!("expected ambiguity, got {other:?}"),
        }
        assert!(matches!(f.find("Birmingham"), Lookup::Ambiguous(ms) if ms.len() == 2));
        assert!(matches!(f.find("bury"), Lookup::Ambiguous(_)));
    }

    #[test]
    fn word_order_saints_and_compass_abbreviations_are_forgiven() {
        let f = finder();
        assert_eq!(found(f.find("Swindon Sth")), "South Swindon");
        assert_eq!(found(f.find("swindon south")), "South Swindon");
        assert_eq!(
            found(f.find("Wolverhampton SW")),
            "Wolverhampton South West"
        );
        assert_eq!(found(f.find("Saint Albans")), "St Albans");
        assert_eq!(f.suggest("swindon s", 25)[0].name, "South Swindon");
    }

    #[test]
    fn unique_prefix_is_found() {
        assert_eq!(found(finder().find("hartle")), "Hartlepool");
        assert_eq!(found(finder().find("york o")), "York Outer");
    }

    #[test]
    fn unknown_queries_get_suggestions_not_guesses() {
        let f = finder();
        assert!(matches!(f.find("Atlantis"), Lookup::NotFound(_)));
        assert!(matches!(f.find(""), Lookup::NotFound(v) if v.is_empty()));
        assert!(matches!(f.find("!!!"), Lookup::NotFound(v) if v.is_empty()));
        match f.find("Hartlepoolshire") {
            Lookup::NotFound(s) => assert_eq!(s[0].name, "Hartlepool"),
            Lookup::Found(m) => assert_eq!(m.name, "Hartlepool"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn suggestions_rank_prefix_before_word_prefix_before_typos() {
        let f = finder();
        // The whole word first: "hart" is Hart and Holmes before Hartford and Hartlepool.
        let s: Vec<_> = f.suggest("hart", 25).into_iter().map(|m| m.name).collect();
        assert_eq!(s[..3], ["Hart and Holmes", "Hartford", "Hartlepool"]);
        let s: Vec<_> = f
            .suggest("edgbaston", 25)
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(s[0], "Birmingham, Edgbaston");
        let s: Vec<_> = f
            .suggest("hartlepol", 25)
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(s[0], "Hartlepool");
        assert!(f.suggest("", 25).len() <= MAX_SUGGESTIONS);
        assert_eq!(f.suggest("b", 2).len(), 2);
        assert!(f.suggest("zzzzzz", 25).is_empty());
    }

    #[test]
    fn the_names_people_type_find_their_seats() {
        let seats = [
            ("S1", "Na h-Eileanan an Iar"),
            ("E1", "South East Cambridgeshire"),
            ("E2", "Birmingham, Ladywood"),
            ("E3", "Milton Keynes Central"),
            ("E4", "Isle of Wight East"),
            ("E5", "Derby North"),
            ("E6", "Derbyshire Dales"),
            ("E7", "Derby South"),
            ("E8", "Wells and Mendip Hills"),
        ];
        let aliases = Aliases::bundled();
        let f = Finder::with_aliases(
            seats.iter().map(|(i, n)| (ConstituencyId::new(*i), *n)),
            &aliases,
        );
        assert_eq!(found(f.find("western isles")), "Na h-Eileanan an Iar");
        assert_eq!(found(f.find("se cambs")), "South East Cambridgeshire");
        assert_eq!(found(f.find("Bham Ladywood")), "Birmingham, Ladywood");
        assert_eq!(found(f.find("mk central")), "Milton Keynes Central");
        assert_eq!(found(f.find("IoW East")), "Isle of Wight East");
        // The alias shows under the seat's own name, once.
        let s = f.suggest("western", 25);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, "Na h-Eileanan an Iar");
        // A whole word beats a word's mere start: "derby" is Derby North or South, not
        // Derbyshire Dales.
        match f.find("derby") {
            Lookup::Ambiguous(ms) => {
                let names: Vec<&str> = ms.iter().map(|m| m.name.as_str()).collect();
                assert_eq!(names, ["Derby North", "Derby South"]);
            }
            other => panic!("{other:?}"),
        }
        let s = f.suggest("derby", 25);
        assert_eq!(s.last().map(|m| m.name.as_str()), Some("Derbyshire Dales"));
        assert_eq!(found(f.find("wells")), "Wells and Mendip Hills");
    }

    #[test]
    fn the_bundled_aliases_read() {
        let a = Aliases::from_toml(include_str!("../../config/aliases.toml")).unwrap();
        assert!(a.seats.contains_key("Western Isles") && a.words.contains_key("cambs"));
        assert!(Aliases::from_toml("[seats]\nx = 1\n").is_err());
        let more = Aliases::from_toml("[words]\ncambs = \"cambridge\"\n").unwrap();
        assert_eq!(
            a.merged(more).words["cambs"],
            "cambridge",
            "the admin's file wins"
        );
    }

    #[test]
    fn candidates_are_found_by_name() {
        let people = [
            ("E1", "Boris Johnson"),
            ("E1", "Ali Milani"),
            ("E2", "Karin Smyth"),
            ("E3", "Jo Johnson"),
        ];
        let f = Finder::people(
            people
                .iter()
                .map(|(i, n)| (ConstituencyId::new(*i), n.to_string())),
        );
        match f.find("boris johnson") {
            Lookup::Found(m) => assert_eq!((m.id.as_str(), m.kind), ("E1", MatchKind::Exact)),
            other => panic!("{other:?}"),
        }
        match f.find("johnson boris") {
            Lookup::Found(m) => assert_eq!((m.id.as_str(), m.kind), ("E1", MatchKind::AllWords)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(f.find("johnson"), Lookup::Ambiguous(_)));
    }
}
