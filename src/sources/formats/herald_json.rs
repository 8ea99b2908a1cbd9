//! herald's own JSON feed format: what a newsroom's scraper writes and what the rehearsal
//! feed server serves. Documented in `docs/feed-format.md`, with the JSON Schema in
//! `docs/feed-format.schema.json`.
//!
//! Each declaration is parsed on its own, so an error names the line of the document and
//! the path of the field (`declarations[3].candidates[1].votes`).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::Loaded;
use crate::core::model::{
    Candidate, Constituency, ConstituencyId, ConstituencyResult, Declaration, DeclarationStatus,
    Election, Nation, PartyId,
};
use crate::core::parties::PartyRegistry;
use crate::core::validate;
use crate::sources::error::LoadError;

/// The value of the `format` key.
pub const FORMAT: &str = "herald/1";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ElectionDoc {
    pub id: String,
    pub name: String,
    pub date: NaiveDate,
    pub total_seats: u32,
    /// A notional result on new boundaries (a baseline), whose rows may be per party.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notional: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConstituencyDoc {
    pub id: String,
    pub name: String,
    pub region: String,
    pub nation: Nation,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CandidateDoc {
    /// Omitted only for a notional document's party aggregates.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub party: String,
    /// Absent only while a seat is called but its figures are not in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub votes: Option<u64>,
    #[serde(default)]
    pub elected: bool,
    /// The seat's sitting member.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sitting: bool,
}

fn one() -> u32 {
    1
}

fn is_declared(s: &DeclarationStatus) -> bool {
    *s == DeclarationStatus::Declared
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeclarationDoc {
    pub constituency: ConstituencyDoc,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub electorate: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_votes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_ballots: Option<u64>,
    pub candidates: Vec<CandidateDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_at: Option<DateTime<FixedOffset>>,
    #[serde(default = "one")]
    pub revision: u32,
    #[serde(default, skip_serializing_if = "is_declared")]
    pub status: DeclarationStatus,
}

/// A whole document, as written.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Document {
    pub format: String,
    pub election: ElectionDoc,
    pub declarations: Vec<DeclarationDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentIn<'a> {
    format: String,
    election: ElectionDoc,
    #[serde(borrow)]
    declarations: Vec<&'a RawValue>,
}

/// The 1-based lines of byte offsets in a text, asked in increasing order (as the
/// declarations of a document come): each call counts only the newlines since the last, so
/// a whole document costs one pass however many declarations it holds. (Counting from the
/// start for each one made a 250 kB document of 2,000 small declarations take seconds.)
struct Lines<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.text.len());
        if offset < self.offset {
            // Not expected (array elements come in order), but stay correct.
            *self = Lines {
                text: self.text,
                offset: 0,
                line: 1,
            };
        }
        self.line += self.text[self.offset..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        self.offset = offset;
        self.line
    }
}

fn json_error(
    file: &str,
    e: serde_path_to_error::Error<serde_json::Error>,
    base_line: u64,
    prefix: &str,
) -> LoadError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let problem = inner
        .to_string()
        .split(" at line ")
        .next()
        .unwrap_or("invalid JSON")
        .to_string();
    let mut err =
        LoadError::new(file, problem).at_line(base_line + inner.line().saturating_sub(1) as u64);
    if path != "." {
        err = err.in_field(format!("{prefix}{path}"));
    } else if !prefix.is_empty() {
        err = err.in_field(prefix.trim_end_matches('.'));
    }
    err
}

/// Reads a herald JSON document. Unknown party ids are kept as given (and shown raw); a
/// party given by a known alias ("Conservative") is mapped to its id.
pub fn load(file: &str, text: &str, parties: &PartyRegistry) -> Result<Loaded, LoadError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let doc: DocumentIn =
        serde_path_to_error::deserialize(de).map_err(|e| json_error(file, e, 1, ""))?;
    if doc.format != FORMAT {
        return Err(LoadError::new(
            file,
            format!("expected format \"{FORMAT}\", found \"{}\"", doc.format),
        )
        .in_field("format"));
    }
    if doc.election.total_seats == 0 {
        return Err(LoadError::new(file, "must be at least 1").in_field("election.total_seats"));
    }
    let notional = doc.election.notional;
    let election = Election {
        // Marked as the loaders mark a notional election (see `Baseline::is_notional`).
        id: if notional && !doc.election.id.ends_with("-notional") {
            format!("{}-notional", doc.election.id)
        } else {
            doc.election.id
        },
        name: doc.election.name,
        date: doc.election.date,
        total_seats: doc.election.total_seats,
    };
    let mut declarations = Vec::with_capacity(doc.declarations.len());
    let mut seen = std::collections::HashMap::new();
    let mut lines = Lines::new(text);
    for (i, raw) in doc.declarations.iter().enumerate() {
        // A raw value borrows from `text` (it is deserialized from a `&str`), so this is its
        // byte offset; `saturating_sub` keeps even a broken assumption from panicking.
        let offset = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        let line = lines.at(offset);
        let prefix = format!("declarations[{i}].");
        let de = &mut serde_json::Deserializer::from_str(raw.get());
        let d: DeclarationDoc =
            serde_path_to_error::deserialize(de).map_err(|e| json_error(file, e, line, &prefix))?;
        let here = |field: &str, problem: String| {
            let path = if field.is_empty() {
                prefix.trim_end_matches('.').to_string()
            } else {
                format!("{prefix}{field}")
            };
            LoadError::new(file, problem).at_line(line).in_field(path)
        };
        if let Some(earlier) = seen.insert(d.constituency.id.clone(), i) {
            return Err(here(
                "constituency.id",
                format!(
                    "constituency `{}` is already declared at declarations[{earlier}]",
                    d.constituency.id
                ),
            )
            .invalid());
        }
        let decl = convert(d, notional, parties).map_err(|(field, problem, invalid)| {
            let e = here(&field, problem);
            if invalid { e.invalid() } else { e }
        })?;
        declarations.push(decl);
    }
    Ok(Loaded {
        election,
        declarations,
    })
}

/// Turns a parsed declaration into the model and validates it. Errors give the field path
/// (relative to the declaration), the problem, and whether it is a validation failure.
fn convert(
    d: DeclarationDoc,
    notional: bool,
    parties: &PartyRegistry,
) -> Result<Declaration, (String, String, bool)> {
    let figures_due = d.status == DeclarationStatus::Declared;
    let mut candidates: Vec<Candidate> = Vec::with_capacity(d.candidates.len());
    let sitting: Vec<String> = d
        .candidates
        .iter()
        .filter(|c| c.sitting)
        .map(|c| c.name.trim().to_string())
        .collect();
    for (j, c) in d.candidates.into_iter().enumerate() {
        let votes = match (c.votes, figures_due) {
            (Some(v), _) => v,
            (None, false) => 0,
            (None, true) => {
                return Err((
                    format!("candidates[{j}].votes"),
                    "missing: a declared result needs votes".into(),
                    false,
                ));
            }
        };
        if c.party.trim().is_empty() {
            return Err((format!("candidates[{j}].party"), "empty".into(), false));
        }
        let party = parties
            .resolve(&c.party)
            .unwrap_or_else(|| PartyId::new(c.party.trim()));
        let name = c.name.trim();
        if name.is_empty() {
            if !notional {
                return Err((
                    format!("candidates[{j}].name"),
                    "missing: only a notional document's party rows may omit the name".into(),
                    false,
                ));
            }
            // A party aggregate, named after the party; two of one party (two Independent
            // aggregates) are one row.
            if let Some(same) = candidates
                .iter_mut()
                .find(|k| k.party == party && k.name == parties.name(&party))
            {
                same.votes += votes;
                continue;
            }
            candidates.push(Candidate {
                name: parties.name(&party).to_string(),
                party,
                votes,
                elected: c.elected,
            });
            continue;
        }
        candidates.push(Candidate {
            name: name.to_string(),
            party,
            votes,
            elected: c.elected,
        });
    }
    let decl = Declaration {
        allocation: None,
        result: ConstituencyResult {
            constituency: Constituency {
                id: ConstituencyId::new(d.constituency.id.trim()),
                name: d.constituency.name.trim().to_string(),
                region: d.constituency.region.trim().to_string(),
                nation: d.constituency.nation,
                election: None,
            },
            electorate: d.electorate,
            valid_votes: d.valid_votes,
            rejected: d.rejected_ballots,
            candidates,
        },
        declared_at: d.declared_at.map(|t| t.with_timezone(&Utc)),
        revision: d.revision,
        status: d.status,
        source: (!sitting.is_empty()).then(|| {
            Box::new(crate::core::model::SourceView {
                sitting,
                ..Default::default()
            })
        }),
    };
    validate::check(&decl).map_err(|e| (String::new(), e.to_string(), true))?;
    Ok(decl)
}

/// Reads one declaration object on its own (as the rehearsal server's edit endpoint
/// receives it), with the same checks as in a document.
pub fn parse_declaration(
    file: &str,
    text: &str,
    parties: &PartyRegistry,
) -> Result<Declaration, LoadError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let d: DeclarationDoc =
        serde_path_to_error::deserialize(de).map_err(|e| json_error(file, e, 1, ""))?;
    convert(d, false, parties).map_err(|(field, problem, invalid)| {
        let e = LoadError::new(file, problem);
        let e = if field.is_empty() {
            e
        } else {
            e.in_field(field)
        };
        if invalid { e.invalid() } else { e }
    })
}

/// Writes declarations as a herald JSON document (what the rehearsal feed server serves).
pub fn document(election: &Election, declarations: &[Declaration]) -> Document {
    Document {
        format: FORMAT.to_string(),
        election: ElectionDoc {
            id: election.id.clone(),
            name: election.name.clone(),
            date: election.date,
            total_seats: election.total_seats,
            notional: false,
        },
        declarations: declarations.iter().map(declaration_doc).collect(),
    }
}

pub fn declaration_doc(d: &Declaration) -> DeclarationDoc {
    let r = &d.result;
    let figures = d.status == DeclarationStatus::Declared;
    DeclarationDoc {
        constituency: ConstituencyDoc {
            id: r.constituency.id.to_string(),
            name: r.constituency.name.clone(),
            region: r.constituency.region.clone(),
            nation: r.constituency.nation,
        },
        electorate: r.electorate,
        valid_votes: r.valid_votes,
        rejected_ballots: r.rejected,
        candidates: r
            .candidates
            .iter()
            .map(|c| CandidateDoc {
                name: c.name.clone(),
                party: c.party.to_string(),
                votes: figures.then_some(c.votes),
                elected: c.elected,
                sitting: d
                    .source
                    .as_ref()
                    .is_some_and(|s| s.sitting.contains(&c.name)),
            })
            .collect(),
        declared_at: d.declared_at.map(|t| t.fixed_offset()),
        revision: d.revision,
        status: d.status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> PartyRegistry {
        PartyRegistry::from_toml("[[party]]\nid='con'\nshort='Con'\nname='Conservative'\n").unwrap()
    }

    const GOOD: &str = r#"{
  "format": "herald/1",
  "election": {"id": "t", "name": "Test", "date": "2021-05-06", "total_seats": 2},
  "declarations": [
    {
      "constituency": {"id": "E1", "name": "One", "region": "North East", "nation": "England"},
      "electorate": 100, "valid_votes": 30, "rejected_ballots": 1,
      "candidates": [
        {"name": "A", "party": "Conservative", "votes": 20, "elected": true},
        {"name": "B", "party": "Heritage Party", "votes": 10}
      ],
      "declared_at": "2021-05-07T06:00:00+01:00",
      "revision": 2
    }
  ]
}"#;

    #[test]
    fn reads_a_document_and_maps_party_aliases() {
        let l = load("t.json", GOOD, &registry()).unwrap();
        assert_eq!(l.election.total_seats, 2);
        let d = &l.declarations[0];
        assert_eq!(d.revision, 2);
        assert_eq!(d.result.candidates[0].party, PartyId::new("con"));
        assert_eq!(d.result.candidates[1].party, PartyId::new("Heritage Party"));
        assert_eq!(
            d.declared_at.unwrap().to_rfc3339(),
            "2021-05-07T05:00:00+00:00"
        );
    }

    #[test]
    fn round_trips_through_the_writer() {
        let l = load("t.json", GOOD, &registry()).unwrap();
        let text = serde_json::to_string_pretty(&document(&l.election, &l.declarations)).unwrap();
        let again = load("t2.json", &text, &registry()).unwrap();
        assert_eq!(again, l);
    }

    #[test]
    fn a_notional_document_may_give_votes_per_party() {
        let text = r#"{"format": "herald/1",
  "election": {"id": "ge-2019", "name": "General election 2019", "date": "2019-12-12", "total_seats": 650, "notional": true},
  "declarations": [
    {"constituency": {"id": "E1", "name": "One", "region": "North East", "nation": "England"},
     "candidates": [
        {"party": "con", "votes": 20},
        {"party": "ind", "votes": 3},
        {"party": "ind", "votes": 2}
     ]}
  ]}"#;
        let l = load("n.json", text, &registry()).unwrap();
        assert_eq!(l.election.id, "ge-2019-notional");
        let b = l.into_baseline();
        assert!(b.is_notional());
        let r = b.get(&ConstituencyId::new("E1")).unwrap();
        let rows: Vec<(&str, u64)> = r
            .candidates
            .iter()
            .map(|c| (c.name.as_str(), c.votes))
            .collect();
        assert_eq!(
            rows,
            [("Conservative", 20), ("ind", 5)],
            "two Independent aggregates are one row"
        );
        // Outside a notional document, a candidate needs a name.
        let e = load(
            "n.json",
            &text.replace(", \"notional\": true", ""),
            &registry(),
        )
        .unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("declarations[0].candidates[0].name"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_line_and_field() {
        let bad = GOOD.replace(r#""votes": 10"#, r#""votes": "ten""#);
        let e = load("t.json", &bad, &registry()).unwrap_err();
        assert_eq!(e.line, Some(10));
        assert_eq!(
            e.field.as_deref(),
            Some("declarations[0].candidates[1].votes")
        );
        assert!(
            e.to_string().starts_with(
                "t.json:10: field `declarations[0].candidates[1].votes`: invalid type"
            ),
            "{e}"
        );

        let bad = GOOD.replace("\"England\"", "\"Englnd\"");
        let e = load("t.json", &bad, &registry()).unwrap_err();
        assert_eq!(e.line, Some(6));
        assert_eq!(
            e.field.as_deref(),
            Some("declarations[0].constituency.nation")
        );

        let bad = GOOD.replace("\"electorate\": 100", "\"electorate\": 10");
        let e = load("t.json", &bad, &registry()).unwrap_err();
        assert_eq!(e.line, Some(5));
        assert!(e.problem.contains("electorate is 10"), "{e}");

        let bad = GOOD.replace("herald/1", "other/2");
        assert_eq!(
            load("t.json", &bad, &registry())
                .unwrap_err()
                .field
                .as_deref(),
            Some("format")
        );

        let e = load("t.json", "<html>502 Bad Gateway</html>", &registry()).unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = load("t.json", &GOOD[..200], &registry()).unwrap_err();
        assert!(e.problem.contains("EOF"), "{e}");
    }

    #[test]
    fn errors_in_later_declarations_name_their_own_line() {
        let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        let mut second = v["declarations"][0].clone();
        second["constituency"]["id"] = "E2".into();
        second["candidates"][1]["votes"] = "ten".into();
        v["declarations"].as_array_mut().unwrap().push(second);
        let text = serde_json::to_string_pretty(&v).unwrap();
        let e = load("t.json", &text, &registry()).unwrap_err();
        let want = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("\"ten\""))
            .map(|(i, _)| i as u64 + 1)
            .next();
        assert_eq!(e.line, want, "{e}");
        assert_eq!(
            e.field.as_deref(),
            Some("declarations[1].candidates[1].votes")
        );

        let mut lines = Lines::new("a\nb\nc");
        assert_eq!(
            (lines.at(0), lines.at(2), lines.at(4), lines.at(99)),
            (1, 2, 3, 3)
        );
        assert_eq!(lines.at(1), 1, "an earlier offset is counted afresh");
    }

    #[test]
    fn refuses_a_constituency_declared_twice() {
        let mut v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        let d = v["declarations"][0].clone();
        v["declarations"].as_array_mut().unwrap().push(d);
        let e = load("t.json", &v.to_string(), &registry()).unwrap_err();
        assert!(e.problem.contains("already declared"), "{e}");
    }
}
