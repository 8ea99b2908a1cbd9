//! The House of Commons Library results pair, joined on the ONS ID:
//! a candidate file (`HoC-GE2019-results-by-candidate.csv`) and a constituency file
//! (`HoC-GE2019-results-by-constituency.csv`). Both the current Library schema and the
//! older snake_case one (`GE2017-candidate.csv`, `GE2017-constituency.csv`) are read.
//!
//! The constituency file gives electorate, valid and invalid votes, the declaration time
//! (UK local time) and the winner. Without it the candidate file alone still makes a
//! usable baseline: the winner is then the candidate with most votes.
//!
//! The Library's by-election pair (every by-election of a Parliament in one pair) is read
//! too: its candidate file keys seats by `ONS ID2` and dates each contest in `Election
//! date`; its constituency file dates them in `By-election date`. Each by-election is a
//! contest of its own, joined to its constituency row on code and date, and compared (as a
//! by-election is) with the general election in that seat, the configured baseline. Where
//! one seat had two by-elections, the later stands.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::London;

use super::table::{Col, Table};
use super::{Loaded, SeatBuilder, agree, party_for, seats_in_order};
use crate::core::model::{Candidate, ConstituencyId, Election, Nation};
use crate::core::parties::PartyRegistry;
use crate::sources::error::LoadError;

/// A by-election's date column, in either file of the by-election pair.
const DATE_COLUMNS: [&str; 2] = ["Election date", "By-election date"];
/// The constituency code: `ONS ID2` in the by-election pair.
const ID_COLUMNS: [&str; 2] = ["ONS ID", "ONS ID2"];

struct CandidateCols {
    id: Col,
    /// Set in the by-election file.
    date: Option<Col>,
    name: Col,
    region: Col,
    country: Col,
    abbr: Col,
    party: Col,
    first: Col,
    surname: Col,
    votes: Col,
}

impl CandidateCols {
    fn find(t: &Table) -> Result<Self, LoadError> {
        if t.has("ons_id") {
            Ok(CandidateCols {
                id: t.col("ons_id")?,
                date: None,
                name: t.col("constituency_name")?,
                region: t.col("region_name")?,
                country: t.col("country_name")?,
                abbr: t.col("party_abbreviation")?,
                party: t.col("party_name")?,
                first: t.col("firstname")?,
                surname: t.col("surname")?,
                votes: t.col("votes")?,
            })
        } else {
            Ok(CandidateCols {
                id: t.col_of(&ID_COLUMNS)?,
                date: DATE_COLUMNS.iter().find_map(|n| t.opt_col(n)),
                name: t.col("Constituency name")?,
                region: t.col("Region name")?,
                country: t.col("Country name")?,
                abbr: t.col("Party abbreviation")?,
                party: t.col("Party name")?,
                first: t.col("Candidate first name")?,
                surname: t.col("Candidate surname")?,
                votes: t.col("Votes")?,
            })
        }
    }
}

struct SeatCols {
    id: Col,
    /// Set in the by-election file.
    date: Option<Col>,
    declared: Option<Col>,
    first_party: Col,
    electorate: Col,
    valid: Col,
    invalid: Col,
    member: Option<(Col, Col)>,
}

impl SeatCols {
    fn find(t: &Table) -> Result<Self, LoadError> {
        if t.has("ons_id") {
            Ok(SeatCols {
                id: t.col("ons_id")?,
                date: None,
                declared: Some(t.col("declaration_time")?),
                first_party: t.col("first_party")?,
                electorate: t.col("electorate")?,
                valid: t.col("valid_votes")?,
                invalid: t.col("invalid_votes")?,
                member: None,
            })
        } else {
            let date = DATE_COLUMNS.iter().find_map(|n| t.opt_col(n));
            Ok(SeatCols {
                id: t.col_of(&ID_COLUMNS)?,
                date,
                // A by-election file may give only the date.
                declared: match date {
                    Some(_) => t.opt_col("Declaration time"),
                    None => Some(t.col("Declaration time")?),
                },
                first_party: t.col("First party")?,
                electorate: t.col("Electorate")?,
                valid: t.col("Valid votes")?,
                invalid: t.col("Invalid votes")?,
                member: Some((t.col("Member first name")?, t.col("Member surname")?)),
            })
        }
    }
}

/// What the constituency file says of one seat.
struct SeatRow {
    line: u64,
    declared_at: Option<chrono::DateTime<Utc>>,
    first_party: String,
    member: Option<String>,
    electorate: Option<u64>,
    valid: Option<u64>,
    invalid: Option<u64>,
}

/// Reads the pair. `constituencies` is optional (see the module doc).
pub fn load(
    candidates: (&str, &str),
    constituencies: Option<(&str, &str)>,
    parties: &PartyRegistry,
) -> Result<Loaded, LoadError> {
    let (cand_file, cand_text) = candidates;
    // Keyed by code and, in the by-election pair, date ("" otherwise).
    let mut seat_rows: HashMap<(String, String), SeatRow> = HashMap::new();
    let mut seat_file = "";
    if let Some((file, text)) = constituencies {
        seat_file = file;
        let t = Table::parse(file, text)?;
        let c = SeatCols::find(&t)?;
        for row in t.rows() {
            let id = row.text(c.id)?.to_string();
            let date = match c.date {
                Some(col) => by_election_date(&row, col)?.to_string(),
                None => String::new(),
            };
            let declared_at = match c.declared.map_or("", |col| row.str(col)) {
                "" => None,
                s => Some(parse_uk_local(s).ok_or_else(|| {
                    row.error(
                        c.declared.unwrap_or(c.id),
                        format!("expected `dd/mm/yyyy hh:mm` (UK time), found `{s}`"),
                    )
                })?),
            };
            let member = c
                .member
                .map(|(first, surname)| {
                    format!("{} {}", row.str(first), row.str(surname))
                        .trim()
                        .to_string()
                })
                .filter(|m| !m.is_empty());
            let seat = SeatRow {
                line: row.line,
                declared_at,
                first_party: row.text(c.first_party)?.to_string(),
                member,
                electorate: row.opt_count(c.electorate)?,
                valid: row.opt_count(c.valid)?,
                invalid: row.opt_count(c.invalid)?,
            };
            if seat_rows.insert((id.clone(), date), seat).is_some() {
                return Err(row.error(c.id, format!("constituency `{id}` appears twice")));
            }
        }
    }

    let t = Table::parse(cand_file, cand_text)?;
    let c = CandidateCols::find(&t)?;
    let mut seats: Vec<SeatBuilder> = Vec::new();
    let mut raw_parties: Vec<Vec<String>> = Vec::new();
    let mut index: HashMap<(ConstituencyId, NaiveDate), usize> = HashMap::new();
    let mut dates: Vec<NaiveDate> = Vec::new();
    for row in t.rows() {
        let id = ConstituencyId::new(row.text(c.id)?);
        let date = match c.date {
            Some(col) => by_election_date(&row, col)?,
            None => NaiveDate::MIN,
        };
        let country = row.text(c.country)?;
        let nation = Nation::parse(country)
            .ok_or_else(|| row.error(c.country, format!("unknown nation `{country}`")))?;
        let region = match row.str(c.region) {
            "" => nation.name().to_string(),
            r => r.to_string(),
        };
        let abbr = row.str(c.abbr).to_string();
        let pname = row.str(c.party);
        if abbr.is_empty() && pname.is_empty() {
            return Err(row.error(c.abbr, "no party"));
        }
        let name = format!("{} {}", row.str(c.first), row.text(c.surname)?)
            .trim()
            .to_string();
        let votes = row.count(c.votes)?;
        let seat = *index.entry((id.clone(), date)).or_insert_with(|| {
            seats.push(SeatBuilder::new(id.clone(), row.line));
            raw_parties.push(Vec::new());
            dates.push(date);
            seats.len() - 1
        });
        let b = &mut seats[seat];
        agree(&mut b.name, row.text(c.name)?.to_string(), &row, c.name)?;
        agree(&mut b.region, region, &row, c.region)?;
        agree(&mut b.nation, nation, &row, c.country)?;
        b.candidates.push(Candidate {
            name,
            party: party_for(parties, &abbr, pname),
            votes,
            elected: false,
        });
        raw_parties[seat].push(if abbr.is_empty() {
            pname.to_string()
        } else {
            abbr
        });
    }
    if seats.is_empty() {
        return Err(LoadError::new(cand_file, "no results in the file"));
    }

    if constituencies.is_some() {
        for ((b, raw), date) in seats.iter_mut().zip(&raw_parties).zip(&dates) {
            let key = match c.date {
                Some(_) => (b.id.to_string(), date.to_string()),
                None => (b.id.to_string(), String::new()),
            };
            let Some(seat) = seat_rows.remove(&key) else {
                let on = if c.date.is_some() {
                    format!(" (by-election of {date})")
                } else {
                    String::new()
                };
                return Err(LoadError::new(
                    cand_file,
                    format!("constituency `{}`{on} is not in {seat_file}", b.id),
                )
                .at_line(b.first_line));
            };
            b.electorate = Some(seat.electorate);
            b.valid = Some(seat.valid);
            b.rejected = Some(seat.invalid);
            b.declared_at = Some(seat.declared_at);
            mark_winner(b, raw, &seat).map_err(|problem| {
                LoadError::new(seat_file, problem)
                    .at_line(seat.line)
                    .in_field("First party")
            })?;
        }
        if let Some(((id, _), seat)) = seat_rows.iter().min_by_key(|(_, s)| s.line) {
            return Err(LoadError::new(
                seat_file,
                format!("constituency `{id}` has no candidates in {cand_file}"),
            )
            .at_line(seat.line));
        }
    }

    if c.date.is_some() {
        return by_elections(cand_file, seat_file, seats, dates);
    }
    let first_declared = seats
        .iter()
        .filter_map(|s| s.declared_at.flatten())
        .min()
        .map(|t| t.with_timezone(&London).date_naive());
    let date = first_declared.unwrap_or(NaiveDate::MIN);
    let total_seats = seats.len() as u32;
    let election = Election {
        id: format!("ge-{date}"),
        name: match first_declared {
            Some(d) => format!("General election {}", d.format("%-d %B %Y")),
            None => "General election".to_string(),
        },
        date,
        total_seats,
    };
    let file = if seat_file.is_empty() {
        cand_file.to_string()
    } else {
        format!("{cand_file} + {seat_file}")
    };
    Ok(Loaded {
        election,
        declarations: seats_in_order(&file, seats)?,
    })
}

/// A by-election's date: `dd/mm/yyyy` as the Library writes dates, or ISO `yyyy-mm-dd`.
fn by_election_date(row: &super::table::Row, col: Col) -> Result<NaiveDate, LoadError> {
    let s = row.text(col)?;
    NaiveDate::parse_from_str(s, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .map_err(|_| row.error(col, format!("expected a date (dd/mm/yyyy), found `{s}`")))
}

/// The by-elections of a Parliament as one set of contests, each a seat of its own; where a
/// seat had two, the later stands.
fn by_elections(
    cand_file: &str,
    seat_file: &str,
    seats: Vec<SeatBuilder>,
    dates: Vec<NaiveDate>,
) -> Result<Loaded, LoadError> {
    let mut latest: HashMap<ConstituencyId, (NaiveDate, SeatBuilder)> = HashMap::new();
    for (b, date) in seats.into_iter().zip(dates) {
        match latest.get(&b.id) {
            Some((held, _)) if *held >= date => {
                tracing::info!(
                    "{}: the by-election of {date} is followed by a later one in the file; the later stands",
                    b.id
                );
            }
            _ => {
                latest.insert(b.id.clone(), (date, b));
            }
        }
    }
    let mut kept: Vec<(NaiveDate, SeatBuilder)> = latest.into_values().collect();
    kept.sort_by_key(|(date, b)| (*date, b.first_line));
    let (first, last) = match (kept.first(), kept.last()) {
        (Some((f, _)), Some((l, _))) => (*f, *l),
        _ => return Err(LoadError::new(cand_file, "no results in the file")),
    };
    let election = Election {
        id: format!("by-{first}-{last}"),
        name: if first == last {
            format!("By-election {}", first.format("%-d %B %Y"))
        } else {
            format!(
                "By-elections {} to {}",
                first.format("%-d %B %Y"),
                last.format("%-d %B %Y")
            )
        },
        date: last,
        total_seats: kept.len() as u32,
    };
    let file = if seat_file.is_empty() {
        cand_file.to_string()
    } else {
        format!("{cand_file} + {seat_file}")
    };
    Ok(Loaded {
        election,
        declarations: seats_in_order(&file, kept.into_iter().map(|(_, b)| b).collect())?,
    })
}

/// Marks the elected candidate: the sitting member by name where the file gives one, else
/// the best-placed candidate of the first party.
fn mark_winner(b: &mut SeatBuilder, raw_parties: &[String], seat: &SeatRow) -> Result<(), String> {
    let by_member = seat.member.as_ref().and_then(|m| {
        let m = m.to_lowercase();
        b.candidates.iter().position(|c| c.name.to_lowercase() == m)
    });
    let by_party = || {
        b.candidates
            .iter()
            .enumerate()
            .filter(|(i, _)| raw_parties[*i].eq_ignore_ascii_case(&seat.first_party))
            .max_by_key(|(_, c)| c.votes)
            .map(|(i, _)| i)
    };
    match by_member.or_else(by_party) {
        Some(i) => {
            b.candidates[i].elected = true;
            Ok(())
        }
        None => Err(format!(
            "first party `{}` matches no candidate of {}",
            seat.first_party, b.id
        )),
    }
}

/// `13/12/2019 02:30`, UK local time, to UTC.
fn parse_uk_local(s: &str) -> Option<chrono::DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s, "%d/%m/%Y %H:%M").ok()?;
    London
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}
