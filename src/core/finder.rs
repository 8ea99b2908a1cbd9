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

/// Reduces a name to the form queries are compared in: ASCII, lowercase, words separated by
/// single spaces, `&` read as "and", all other punctuation dropped.
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
        out.push_str(&word);
    }
    out
}

struct Entry {
    id: ConstituencyId,
    name: String,
    norm: String,
    /// `norm` without spaces, so "westonsupermare" still matches.
    compact: String,
}

/// How a query was matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    Exact,
    Prefix,
    WordPrefix,
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

/// An index over constituency names.
pub struct Finder {
    entries: Vec<Entry>,
}

impl Finder {
    pub fn new<I, S>(constituencies: I) -> Finder
    where
        I: IntoIterator<Item = (ConstituencyId, S)>,
        S: Into<String>,
    {
        let mut entries: Vec<Entry> = constituencies
            .into_iter()
            .map(|(id, name)| {
                let name = name.into();
                let norm = normalise(&name);
                let compact = norm.replace(' ', "");
                Entry {
                    id,
                    name,
                    norm,
                    compact,
                }
            })
            .collect();
        entries.sort_by(|a, b| a.norm.cmp(&b.norm));
        entries.dedup_by(|a, b| a.id == b.id);
        Finder { entries }
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

    /// Edit distance from the query to the entry: against the whole name, or against the
    /// name's first words when the query has fewer words (a typo in a prefix).
    fn distance(query: &str, query_compact: &str, e: &Entry) -> usize {
        let whole = strsim::damerau_levenshtein(query_compact, &e.compact);
        let words = query.split(' ').count();
        let head: String = e.norm.split(' ').take(words).collect::<Vec<_>>().join("");
        whole.min(strsim::damerau_levenshtein(query_compact, &head) + 1)
    }

    /// Resolves a query to one constituency, or says why it cannot.
    pub fn find(&self, query: &str) -> Lookup {
        let q = normalise(query);
        if q.is_empty() {
            return Lookup::NotFound(Vec::new());
        }
        let qc = q.replace(' ', "");
        if let Some(e) = self.entries.iter().find(|e| e.norm == q || e.compact == qc) {
            return Lookup::Found(Self::as_match(e, MatchKind::Exact, 1.0));
        }
        let prefixed: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.norm.starts_with(&q) || e.compact.starts_with(&qc))
            .collect();
        match prefixed.as_slice() {
            [one] => return Lookup::Found(Self::as_match(one, MatchKind::Prefix, 0.9)),
            [] => {}
            many => {
                return Lookup::Ambiguous(
                    many.iter()
                        .take(MAX_SUGGESTIONS)
                        .map(|e| Self::as_match(e, MatchKind::Prefix, 0.9))
                        .collect(),
                );
            }
        }
        // Typos: the nearest names by edit distance, within a tolerance for the length.
        let mut scored: Vec<(usize, &Entry)> = self
            .entries
            .iter()
            .map(|e| (Self::distance(&q, &qc, e), e))
            .collect();
        scored.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.norm.cmp(&b.1.norm)));
        let tolerance = Self::tolerance(qc.len());
        let to_match =
            |(d, e): &(usize, &Entry)| Self::as_match(e, MatchKind::Fuzzy, 1.0 / (1.0 + *d as f64));
        let best = scored.first().map_or(usize::MAX, |s| s.0);
        if best <= tolerance {
            let level: Vec<Match> = scored
                .iter()
                .take_while(|s| s.0 == best)
                .map(to_match)
                .collect();
            if level.len() == 1 {
                return Lookup::Found(level.into_iter().next().expect("one match"));
            }
            return Lookup::Ambiguous(level.into_iter().take(MAX_SUGGESTIONS).collect());
        }
        // Nothing within tolerance: offer the closest few, by similarity.
        Lookup::NotFound(self.closest(&q, 5))
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
    /// the query, then names with a word starting with it, then near misses.
    pub fn suggest(&self, query: &str, limit: usize) -> Vec<Match> {
        let limit = limit.min(MAX_SUGGESTIONS);
        let q = normalise(query);
        if q.is_empty() {
            return self
                .entries
                .iter()
                .take(limit)
                .map(|e| Self::as_match(e, MatchKind::Prefix, 0.0))
                .collect();
        }
        let qc = q.replace(' ', "");
        let word_prefix = format!(" {q}");
        let mut hits: Vec<Match> = Vec::new();
        for e in &self.entries {
            let kind = if e.norm == q {
                MatchKind::Exact
            } else if e.norm.starts_with(&q) || e.compact.starts_with(&qc) {
                MatchKind::Prefix
            } else if e.norm.contains(&word_prefix) {
                MatchKind::WordPrefix
            } else {
                continue;
            };
            // Shorter names first among equals: "York Central" before "York Outer" is
            // alphabetical, "Hartlepool" before "Hartlepool and X" is by length.
            hits.push(Self::as_match(e, kind, 1.0 / (1.0 + e.norm.len() as f64)));
        }
        hits.sort_by(|a, b| {
            a.kind
                .cmp(&b.kind)
                .then(b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal))
                .then(a.name.cmp(&b.name))
        });
        hits.truncate(limit);
        if hits.len() < limit {
            let tolerance = Self::tolerance(qc.len()).max(1);
            let mut fuzzy: Vec<(usize, &Entry)> = self
                .entries
                .iter()
                .filter(|e| !hits.iter().any(|h| h.id == e.id))
                .map(|e| (Self::distance(&q, &qc, e), e))
                .filter(|(d, _)| *d <= tolerance)
                .collect();
            fuzzy.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.norm.cmp(&b.1.norm)));
            hits.extend(
                fuzzy
                    .into_iter()
                    .take(limit - hits.len())
                    .map(|(d, e)| Self::as_match(e, MatchKind::Fuzzy, 1.0 / (1.0 + d as f64))),
            );
        }
        hits
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
        let s: Vec<_> = f.suggest("hart", 25).into_iter().map(|m| m.name).collect();
        assert_eq!(s[..3], ["Hartford", "Hartlepool", "Hart and Holmes"]);
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
}
