//! Democracy Club's results JSON: ward-level local results and by-elections typed in by
//! volunteers (`../shared/data/feeds/README.md`, "Democracy Club"). Two shapes are read:
//! the API v0.9 `result_sets` (a list of ballots, or one), and the current
//! `/api/next/results/` (a page `{count, next, previous, results}`, or one result). Each
//! ballot is a contest of its own, with its winners: several in a multi-member ward (an
//! [`Allocation::MultiMember`]). Ballots are grouped into their elections
//! (`local.sheffield.2021-05-06`), each sized by the seats its ballots fill.
//!
//! Like every loader, a pure function of `(file name, text)`: bad input is a [`LoadError`]
//! naming the file, the ballot and the field; a ballot herald cannot read is refused, never
//! guessed.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use super::party_for;
use crate::core::allocation::Allocation;
use crate::core::model::{
    Candidate, Constituency, ConstituencyId, ConstituencyResult, Declaration, DeclarationStatus,
    Election, Nation, PartyId,
};
use crate::core::parties::PartyRegistry;
use crate::core::validate;
use crate::sources::error::LoadError;

/// A ballot's result in either shape (fields absent in one shape are defaulted).
#[derive(Deserialize)]
struct Ballot {
    /// v0.9.
    #[serde(default)]
    ballot_paper_id: Option<String>,
    /// next: `ballot{ballot_paper_id}`.
    #[serde(default)]
    ballot: Option<BallotRef>,
    #[serde(default)]
    candidate_results: Vec<CandidateResult>,
    #[serde(default)]
    num_spoilt_ballots: Option<u64>,
    #[serde(default)]
    total_electorate: Option<u64>,
}

#[derive(Deserialize)]
struct BallotRef {
    ballot_paper_id: String,
    /// Seats the ballot fills, where the document says.
    #[serde(default)]
    winner_count: Option<u32>,
}

#[derive(Deserialize)]
struct CandidateResult {
    num_ballots: u64,
    /// v0.9.
    #[serde(default)]
    is_winner: Option<bool>,
    /// next.
    #[serde(default)]
    elected: Option<bool>,
    /// v0.9: person, party, post and election.
    #[serde(default)]
    membership: Option<Membership>,
    /// next.
    #[serde(default)]
    person: Option<Named>,
    #[serde(default)]
    party: Option<Named>,
}

#[derive(Deserialize)]
struct Membership {
    person: Named,
    on_behalf_of: Named,
    #[serde(default)]
    post: Option<Post>,
    #[serde(default)]
    election: Option<NamedElection>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Post {
    #[serde(default)]
    id: Option<String>,
    label: String,
}

#[derive(Deserialize)]
struct NamedElection {
    id: String,
    name: String,
}

/// What a Democracy Club document holds: its elections, and one declaration per ballot.
#[derive(Clone, Debug, PartialEq)]
pub struct DcResults {
    pub elections: Vec<Election>,
    pub declarations: Vec<Declaration>,
    /// Whether the document is the whole state (a list, or a page with no next page): a
    /// ballot missing from it has been retracted.
    pub complete: bool,
    /// Ballots refused (a ward with fewer candidates than seats, a result that does not
    /// add up), each with why: reported, the rest of the document still read.
    pub skipped: Vec<LoadError>,
}

/// The ballots of a document in either shape, and whether it is the whole state.
fn ballots(file: &str, text: &str) -> Result<(Vec<Value>, bool), LoadError> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| LoadError::new(file, format!("not JSON: {e}")).at_line(e.line() as u64))?;
    Ok(match v {
        Value::Array(list) => (list, true),
        Value::Object(mut o) => {
            let more = o.get("next").is_some_and(|n| !n.is_null());
            match o.remove("results") {
                Some(Value::Array(list)) => (list, !more),
                Some(_) => {
                    return Err(LoadError::new(file, "`results` is not a list").in_field("results"));
                }
                // One result alone says nothing of the others.
                None => (vec![Value::Object(o)], false),
            }
        }
        _ => {
            return Err(LoadError::new(
                file,
                "neither a list of results nor a page of them",
            ));
        }
    })
}

/// `local.sheffield.ecclesall.2021-05-06` → (`local.sheffield.2021-05-06`, the date).
fn election_of(ballot: &str) -> Option<(String, NaiveDate)> {
    let parts: Vec<&str> = ballot.split('.').collect();
    let date = NaiveDate::parse_from_str(parts.last()?, "%Y-%m-%d").ok()?;
    // `{type}.{org}.{division}.{by?}.{date}`: the election drops the division (and `by`).
    let kind = parts.first()?;
    let id = match parts.len() {
        0..=2 => ballot.to_string(),
        3 => ballot.to_string(),
        _ => format!("{kind}.{}.{}", parts[1], parts[parts.len() - 1]),
    };
    Some((id, date))
}

/// A ward's name from its slug, where the shape names none: `crookes-crosspool` → "Crookes
/// Crosspool".
fn name_from_slug(slug: &str) -> String {
    slug.split('-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn nation_of_post(id: Option<&str>) -> Nation {
    let code = id.and_then(|i| i.rsplit(':').next()).unwrap_or("");
    match code.chars().next() {
        Some('S') => Nation::Scotland,
        Some('W') => Nation::Wales,
        Some('N') => Nation::NorthernIreland,
        _ => Nation::England,
    }
}

/// Reads a Democracy Club results document.
pub fn load(file: &str, text: &str, parties: &PartyRegistry) -> Result<DcResults, LoadError> {
    let mut elections: BTreeMap<String, Election> = BTreeMap::new();
    let mut declarations = Vec::new();
    let (list, complete) = ballots(file, text)?;
    let mut skipped = Vec::new();
    for (i, raw) in list.into_iter().enumerate() {
        let (d, name) = match ballot(file, i, raw, parties) {
            Ok(x) => x,
            Err(e) => {
                skipped.push(e);
                continue;
            }
        };
        let Some(id) = d.result.constituency.election.clone() else {
            continue;
        };
        let Some((_, date)) = election_of(&id) else {
            continue;
        };
        let seats = Allocation::seats_of(d.allocation.as_deref());
        elections
            .entry(id.clone())
            .or_insert_with(|| Election {
                id,
                name,
                date,
                total_seats: 0,
            })
            .total_seats += seats;
        declarations.push(d);
    }
    if declarations.is_empty() {
        return Err(match skipped.into_iter().next() {
            Some(e) => e,
            None => LoadError::new(file, "no ballot results in the document"),
        });
    }
    Ok(DcResults {
        elections: elections.into_values().collect(),
        declarations,
        complete,
        skipped,
    })
}

/// One ballot (the `i`th of the document): its declaration and its election's name.
fn ballot(
    file: &str,
    i: usize,
    raw: Value,
    parties: &PartyRegistry,
) -> Result<(Declaration, String), LoadError> {
    let at = |field: &str| format!("[{i}].{field}");
    let b: Ballot = serde_json::from_value(raw).map_err(|e| {
        LoadError::new(file, format!("ballot {}: {e}", i + 1)).in_field(format!("[{i}]"))
    })?;
    let Some(ballot_id) = b
        .ballot_paper_id
        .clone()
        .or_else(|| b.ballot.as_ref().map(|r| r.ballot_paper_id.clone()))
    else {
        return Err(
            LoadError::new(file, format!("ballot {} has no ballot_paper_id", i + 1))
                .in_field(at("ballot_paper_id")),
        );
    };
    let Some((election_id, _)) = election_of(&ballot_id) else {
        return Err(LoadError::new(
            file,
            format!("`{ballot_id}` is not a ballot id of the form type.org.division.date"),
        )
        .in_field(at("ballot_paper_id"))
        .invalid());
    };
    let first = b
        .candidate_results
        .iter()
        .find_map(|c| c.membership.as_ref());
    let post = first.and_then(|m| m.post.as_ref());
    // The division: the part before the date (and before `by`), where there is one.
    let parts: Vec<&str> = ballot_id.split('.').collect();
    let slug = match parts.len() {
        0..=3 => parts.get(1).copied().unwrap_or(&ballot_id),
        _ => parts[2],
    };
    let name = post.map_or_else(|| name_from_slug(slug), |p| p.label.trim().to_string());
    // The council (or place) the ballot belongs to, as its region: "Sheffield".
    let kind = ballot_id.split('.').next().unwrap_or("");
    let org = if kind == "parl" {
        "UK Parliament".to_string()
    } else {
        name_from_slug(ballot_id.split('.').nth(1).unwrap_or(""))
    };
    let election_name = first
        .and_then(|m| m.election.as_ref())
        .filter(|e| e.id == election_id)
        .map_or_else(|| format!("{org} {kind} election"), |e| e.name.clone());
    let region = org;
    let mut candidates = Vec::new();
    for (j, c) in b.candidate_results.iter().enumerate() {
        let (person, party) = match (&c.membership, &c.person, &c.party) {
            (Some(m), _, _) => (m.person.name.clone(), m.on_behalf_of.name.clone()),
            (None, Some(p), Some(q)) => (p.name.clone(), q.name.clone()),
            _ => {
                return Err(LoadError::new(
                    file,
                    format!("{ballot_id}: candidate {} has no person or party", j + 1),
                )
                .in_field(at(&format!("candidate_results[{j}]"))));
            }
        };
        let party = if party.trim().eq_ignore_ascii_case("independent") {
            PartyId::new(PartyId::INDEPENDENT)
        } else {
            party_for(parties, "", party.trim())
        };
        candidates.push(Candidate {
            name: person.trim().to_string(),
            party,
            votes: c.num_ballots,
            elected: c.is_winner.or(c.elected).unwrap_or(false),
        });
    }
    let winners = candidates.iter().filter(|c| c.elected).count().max(1) as u32;
    let seats = b
        .ballot
        .as_ref()
        .and_then(|r| r.winner_count)
        .unwrap_or(winners);
    let d = Declaration {
        result: ConstituencyResult {
            constituency: Constituency {
                id: ConstituencyId::new(format!("dc:{ballot_id}")),
                name,
                region,
                nation: nation_of_post(post.and_then(|p| p.id.as_deref())),
                election: Some(election_id.clone()),
            },
            electorate: b.total_electorate,
            valid_votes: None,
            rejected: b.num_spoilt_ballots,
            candidates,
        },
        declared_at: None,
        revision: 1,
        status: DeclarationStatus::Declared,
        source: None,
        allocation: (seats > 1).then(|| Box::new(Allocation::MultiMember { seats })),
    };
    validate::check(&d).map_err(|e| {
        LoadError::new(file, format!("{ballot_id}: {e}"))
            .in_field(at("candidate_results"))
            .invalid()
    })?;
    Ok((d, election_name))
}

/// One election of a document, for the commands that read a file (`result`, `seats`):
/// the only one, or the one `election` names (its id or name).
pub fn loaded(
    file: &str,
    text: &str,
    election: Option<&str>,
    parties: &PartyRegistry,
) -> Result<crate::sources::Loaded, LoadError> {
    let r = load(file, text, parties)?;
    let chosen: Vec<&Election> = match election {
        Some(want) => r
            .elections
            .iter()
            .filter(|e| e.id.eq_ignore_ascii_case(want) || e.name.eq_ignore_ascii_case(want))
            .collect(),
        None => r.elections.iter().collect(),
    };
    let [one] = chosen.as_slice() else {
        let names: Vec<String> = r
            .elections
            .iter()
            .map(|e| format!("{} (`{}`)", e.name, e.id))
            .collect();
        return Err(LoadError::new(
            file,
            match (election, chosen.len()) {
                (Some(want), 0) => {
                    format!("no election `{want}` here; it holds {}", names.join(", "))
                }
                _ => format!(
                    "the ballots are of {} elections: {}; choose one with --election",
                    names.len(),
                    names.join(", ")
                ),
            },
        ));
    };
    let election = (*one).clone();
    Ok(crate::sources::Loaded {
        declarations: r
            .declarations
            .into_iter()
            .filter(|d| d.result.constituency.election.as_deref() == Some(election.id.as_str()))
            .collect(),
        election,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEXT_PAGE: &str = r#"{"count": 1, "next": null, "previous": null, "results": [
      {"ballot": {"ballot_paper_id": "local.sheffield.richmond.2021-05-06"},
       "num_spoilt_ballots": 20, "total_electorate": 14000,
       "candidate_results": [
         {"person": {"name": "A Smith"}, "party": {"name": "Labour Party"}, "num_ballots": 1828, "elected": true},
         {"person": {"name": "B Jones"}, "party": {"name": "Labour Party"}, "num_ballots": 1378, "elected": true},
         {"person": {"name": "C Lord"}, "party": {"name": "Conservative and Unionist Party"}, "num_ballots": 995, "elected": false}
       ]}]}"#;

    #[test]
    fn reads_the_current_api_s_page_with_a_multi_member_ward() {
        let parties = crate::demo::parties();
        let r = load("page.json", NEXT_PAGE, &parties).unwrap();
        assert_eq!(r.elections.len(), 1);
        assert_eq!(r.elections[0].id, "local.sheffield.2021-05-06");
        assert_eq!(r.elections[0].total_seats, 2);
        let d = &r.declarations[0];
        assert_eq!(d.result.constituency.name, "Richmond");
        assert_eq!(
            d.allocation.as_deref(),
            Some(&Allocation::MultiMember { seats: 2 })
        );
        assert_eq!(d.result.candidates[0].party.as_str(), "lab");
        assert_eq!(d.result.constituency.region, "Sheffield");
        assert_eq!(r.elections[0].name, "Sheffield local election");
        // A ward with fewer candidates than seats: refused, naming the ballot.
        let bad = NEXT_PAGE.replace(
            "\"ballot_paper_id\": \"local.sheffield.richmond.2021-05-06\"}",
            "\"ballot_paper_id\": \"local.sheffield.richmond.2021-05-06\", \"winner_count\": 4}",
        );
        let e = load("page.json", &bad, &parties).unwrap_err().to_string();
        assert!(
            e.contains("local.sheffield.richmond.2021-05-06: 3 candidates stand for 4 seats"),
            "{e}"
        );
        // Beside a good ballot, the bad one is skipped and reported; the good one read.
        let both = bad.replace(
            "\"results\": [",
            "\"results\": [{\"ballot\": {\"ballot_paper_id\": \"local.sheffield.ecclesall.2021-05-06\"}, \"candidate_results\": [{\"person\": {\"name\": \"D Ross\"}, \"party\": {\"name\": \"Liberal Democrats\"}, \"num_ballots\": 2904, \"elected\": true}]},",
        );
        let r = load("page.json", &both, &parties).unwrap();
        assert_eq!(r.declarations.len(), 1);
        assert_eq!(r.declarations[0].result.constituency.name, "Ecclesall");
        assert_eq!(r.skipped.len(), 1);
        assert!(
            r.skipped[0]
                .to_string()
                .contains("3 candidates stand for 4 seats")
        );
    }

    #[test]
    fn a_ballot_id_names_its_election() {
        assert_eq!(
            election_of("local.sheffield.ecclesall.2021-05-06").map(|e| e.0),
            Some("local.sheffield.2021-05-06".into())
        );
        assert_eq!(
            election_of("parl.hartlepool.by.2021-05-06").map(|e| e.0),
            Some("parl.hartlepool.2021-05-06".into())
        );
        assert_eq!(name_from_slug("crookes-crosspool"), "Crookes Crosspool");
        // A mayoral ballot has no division: named after its place, not its date.
        let page = NEXT_PAGE.replace(
            "local.sheffield.richmond.2021-05-06",
            "mayor.london.2024-05-02",
        );
        let r = load("page.json", &page, &crate::demo::parties()).unwrap();
        assert_eq!(r.declarations[0].result.constituency.name, "London");
        assert!(election_of("nonsense").is_none());
    }
}
