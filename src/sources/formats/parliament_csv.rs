//! The UK Parliament election results export (electionresults.parliament.uk):
//! `candidate-level-results-general-election-*.csv`, one row per candidate, each row also
//! carrying its constituency's electorate, valid and invalid votes, declaration time and
//! result. Names arrive HTML-escaped (`O&#39;Hara`) and are decoded.
//!
//! The notional results on new boundaries (the baseline of the election after a boundary
//! review) come in the same layout with the column `Candidate is notional political party
//! aggregate`: a row per party, with no candidate name. Each is read as one "candidate"
//! named after its party, and two aggregates of one party in a seat (two Independent
//! aggregates) are added together: a baseline compares parties.

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::table::Table;
use super::{Loaded, SeatBuilder, agree, party_for, seats_in_order};
use crate::core::model::{Candidate, ConstituencyId, Election, Nation, PartyId};
use crate::core::parties::PartyRegistry;
use crate::sources::error::LoadError;

/// The column that marks a notional party aggregate.
const NOTIONAL: &str = "Candidate is notional political party aggregate";

fn unescape(s: &str) -> String {
    html_escape::decode_html_entities(s).trim().to_string()
}

/// Reads the export. `file` names the input in errors.
pub fn load(file: &str, text: &str, parties: &PartyRegistry) -> Result<Loaded, LoadError> {
    let t = Table::parse(file, text)?;
    let c_id = t.col("Constituency geographic code")?;
    let c_name = t.col("Constituency name")?;
    let c_country = t.col("Country name")?;
    let c_region = t.col("English region name")?;
    let c_electorate = t.col("Electorate")?;
    let c_polling = t.col("Election polling date")?;
    let c_declared = t.col("Declaration time")?;
    let c_valid = t.col("Election valid vote count")?;
    let c_invalid = t.col("Election invalid vote count")?;
    let c_family = t.col("Candidate family name")?;
    let c_given = t.col("Candidate given name")?;
    let c_abbr = t.col("Main party abbreviation")?;
    let c_party = t.col("Main party name")?;
    let c_speaker = t.col("Candidate is standing as Commons Speaker")?;
    let c_ind = t.col("Candidate is standing as independent")?;
    let c_votes = t.col("Candidate vote count")?;
    let c_position = t.col("Candidate result position")?;
    let c_by = t.col("Election is by-election")?;
    let c_notional = t.has(NOTIONAL).then(|| t.col(NOTIONAL)).transpose()?;
    let c_sitting = t.opt_col("Candidate is sitting MP");
    let mut sitting: std::collections::HashMap<ConstituencyId, Vec<String>> = Default::default();

    let mut seats: Vec<SeatBuilder> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut polling: Option<NaiveDate> = None;
    let mut by_election = false;
    let mut notional = false;

    for row in t.rows() {
        let id = ConstituencyId::new(row.text(c_id)?);
        let name = unescape(row.text(c_name)?);
        let country = row.text(c_country)?;
        let nation = Nation::parse(country)
            .ok_or_else(|| row.error(c_country, format!("unknown nation `{country}`")))?;
        let region = match row.str(c_region) {
            "" => nation.name().to_string(),
            r => unescape(r),
        };
        let electorate = row.opt_count(c_electorate)?;
        let valid = row.opt_count(c_valid)?;
        let invalid = row.opt_count(c_invalid)?;
        let declared_at = match row.str(c_declared) {
            "" => None,
            s => Some(
                NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S UTC")
                    .map(|t| Utc.from_utc_datetime(&t))
                    .map_err(|_| {
                        row.error(
                            c_declared,
                            format!("expected `YYYY-MM-DD hh:mm:ss UTC`, found `{s}`"),
                        )
                    })?,
            ),
        };
        let date_text = row.text(c_polling)?;
        let date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d").map_err(|_| {
            row.error(
                c_polling,
                format!("expected YYYY-MM-DD, found `{date_text}`"),
            )
        })?;
        match polling {
            None => polling = Some(date),
            Some(d) if d != date => {
                return Err(row.error(
                    c_polling,
                    format!("{date} differs from {d} on earlier rows: one election per file"),
                ));
            }
            _ => {}
        }
        by_election |= row.flag(c_by)?;

        let aggregate = match c_notional {
            Some(c) => row.flag(c)?,
            None => false,
        };
        notional |= aggregate;
        let party = if row.flag(c_speaker)? {
            PartyId::new("spk")
        } else if row.flag(c_ind)? {
            PartyId::new(PartyId::INDEPENDENT)
        } else {
            let abbr = unescape(row.str(c_abbr));
            let pname = unescape(row.str(c_party));
            if abbr.is_empty() && pname.is_empty() {
                return Err(row.error(c_party, "no party, and not marked independent or Speaker"));
            }
            party_for(parties, &abbr, &pname)
        };
        let cand_name = if aggregate {
            // A party's notional votes: named after the party, as the file names it.
            let pname = unescape(row.str(c_party));
            match pname.as_str() {
                "" if party.as_str() == PartyId::INDEPENDENT => "Independent".to_string(),
                "" => unescape(row.str(c_abbr)),
                _ => pname,
            }
        } else {
            let given = unescape(row.str(c_given));
            let family = unescape(row.text(c_family)?);
            if given.is_empty() {
                family
            } else {
                format!("{given} {family}")
            }
        };
        let votes = row.count(c_votes)?;
        let position = if aggregate {
            row.opt_count(c_position)?.unwrap_or(0)
        } else {
            row.count(c_position)?
        };

        let seat = *index.entry(id.clone()).or_insert_with(|| {
            seats.push(SeatBuilder::new(id.clone(), row.line));
            seats.len() - 1
        });
        let b = &mut seats[seat];
        agree(&mut b.name, name, &row, c_name)?;
        agree(&mut b.region, region, &row, c_region)?;
        agree(&mut b.nation, nation, &row, c_country)?;
        agree(&mut b.electorate, electorate, &row, c_electorate)?;
        agree(&mut b.valid, valid, &row, c_valid)?;
        agree(&mut b.rejected, invalid, &row, c_invalid)?;
        agree(&mut b.declared_at, declared_at, &row, c_declared)?;
        if aggregate
            && let Some(same) = b
                .candidates
                .iter_mut()
                .find(|c| c.party == party && c.name == cand_name)
        {
            same.votes += votes;
            same.elected |= position == 1;
            continue;
        }
        if let Some(c) = c_sitting
            && !aggregate
            && row.flag(c)?
        {
            sitting
                .entry(id.clone())
                .or_default()
                .push(cand_name.clone());
        }
        b.candidates.push(Candidate {
            name: cand_name,
            party,
            votes,
            elected: position == 1,
        });
    }

    let Some(date) = polling else {
        return Err(LoadError::new(file, "no results in the file"));
    };
    let total_seats = seats.len() as u32;
    let kind = if by_election {
        "By-election"
    } else {
        "General election"
    };
    // Notional results are the election re-counted on other boundaries: said in its id and
    // name, so that comparisons with it say "notional".
    let election = Election {
        id: format!(
            "{}-{date}{}",
            if by_election { "by" } else { "ge" },
            if notional { "-notional" } else { "" }
        ),
        name: format!(
            "{kind} {}{}",
            date.format("%-d %B %Y"),
            if notional { " (notional)" } else { "" }
        ),
        date,
        total_seats,
    };
    let mut declarations = seats_in_order(file, seats)?;
    for d in &mut declarations {
        if let Some(names) = sitting.remove(d.id()) {
            d.source = Some(Box::new(crate::core::model::SourceView {
                sitting: names,
                ..Default::default()
            }));
        }
    }
    Ok(Loaded {
        election,
        declarations,
    })
}
