//! Live sources: what the watcher polls. Each turns outside data into a [`Snapshot`] of
//! the declared results, behind one small trait, [`Source`].

use std::future::Future;
use std::pin::Pin;

use super::{Format, LoadError, LoadErrorKind};
use crate::core::model::{Declaration, Election};
use crate::core::parties::PartyRegistry;
use crate::observe::metrics::FeedCause;

/// National totals a source published (PA's state of parties), to cross-check with.
#[derive(Clone, Debug, PartialEq)]
pub struct PublishedTotals {
    /// The election they are of, where the source carries several.
    pub election: Option<String>,
    pub results: u32,
    /// Seats by party label as the source spells it, with the id herald resolved it to.
    pub seats: Vec<(String, Option<crate::core::model::PartyId>, u32)>,
}

/// The state of a feed at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The elections the feed names: one for most feeds, several side by side in a PA
    /// folder. `total_seats` is 0 where the feed has not said yet.
    pub elections: Vec<Election>,
    pub declarations: Vec<Declaration>,
    /// True when the snapshot is the feed's whole state, so that a declaration missing from
    /// it has been retracted.
    pub complete: bool,
    /// The latest national totals the source published, per election.
    pub totals: Vec<PublishedTotals>,
    /// Files or messages the source could not read, and why (a folder's half-written file,
    /// a message type herald does not read): reported, not fatal.
    pub skipped: Vec<String>,
    /// Who stands in seats yet to declare, where the source says (PA's nominations).
    pub nominations: Vec<crate::core::model::Nominated>,
}

/// What a poll found.
#[derive(Clone, Debug, PartialEq)]
pub enum Polled {
    /// Nothing new since the last poll (an HTTP 304, an untouched file).
    Unchanged,
    Changed(Snapshot),
}

/// A poll that failed; the last good state stands.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    pub cause: FeedCause,
    pub message: String,
}

impl SourceError {
    pub fn new(cause: FeedCause, message: impl Into<String>) -> Self {
        SourceError {
            cause,
            message: message.into(),
        }
    }
}

impl From<LoadError> for SourceError {
    fn from(e: LoadError) -> Self {
        let cause = match e.kind {
            LoadErrorKind::Malformed => FeedCause::malformed,
            LoadErrorKind::Invalid => FeedCause::invalid,
        };
        SourceError::new(cause, e.to_string())
    }
}

pub type PollFuture<'a> = Pin<Box<dyn Future<Output = Result<Polled, SourceError>> + Send + 'a>>;

/// A results source the watcher polls.
pub trait Source: Send {
    /// Looks at the source once. What a `Changed` poll returns stays new (the next poll
    /// returns it again) until [`Source::commit`] says it was recorded, so that a poll whose
    /// record failed is not lost.
    fn poll(&mut self) -> PollFuture<'_>;
    /// Marks the last `Changed` poll as recorded: conditional-request state (ETag,
    /// Last-Modified, file stamps) advances only here.
    fn commit(&mut self);
    /// What the source is, for logs and `/about` ("http://…/feed.json (herald-json)").
    fn describe(&self) -> String;
}

/// What one file or message holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Parts {
    /// The election with its size, where the message gives it (a PA state of parties, a
    /// herald JSON document).
    pub election: Option<Election>,
    pub declarations: Vec<Declaration>,
    pub totals: Option<PublishedTotals>,
    /// Which election the message belongs to, to keep elections apart.
    pub contest: Option<Contest>,
    /// Why the message contributes nothing, where herald does not read its kind.
    pub unread: Option<String>,
    /// Who stands in seats yet to declare (PA's nominations).
    pub nominations: Vec<crate::core::model::Nominated>,
}

/// Which election a message belongs to: every PA message names it, with or without its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contest {
    /// The election id herald uses (`pa-s-2026-05-06`).
    pub id: String,
    pub name: String,
    pub date: chrono::NaiveDate,
    /// Seats in the body elected, where known from the kind of election alone (a
    /// parliament's chamber); 0 where a message must say.
    pub seats: u32,
}

fn pa_contest(e: &super::formats::pa_xml::PaElection) -> Contest {
    Contest {
        id: e.id(),
        name: e.name.clone(),
        date: e.date,
        seats: e.chamber_size().unwrap_or(0),
    }
}

/// What one PA message contributes: the seat's declaration, or national totals (and, from
/// a state of parties, the size of the election).
pub fn pa_parts(file: &str, text: &str, parties: &PartyRegistry) -> Result<Parts, SourceError> {
    Ok(pa_message_parts(file, text, parties)?)
}

/// [`pa_parts`], with the loader's error (file, line and field) as it is.
pub fn pa_message_parts(
    file: &str,
    text: &str,
    parties: &PartyRegistry,
) -> Result<Parts, LoadError> {
    use super::formats::pa_xml::{PaMessage, parse};
    Ok(match parse(file, text, parties)? {
        PaMessage::Rush(s) | PaMessage::Result(s) | PaMessage::Recount(s) => Parts {
            election: None,
            contest: Some(pa_contest(&s.election)),
            declarations: vec![s.declaration],
            totals: None,
            unread: None,
            nominations: Vec::new(),
        },
        PaMessage::Nominations(n) => Parts {
            election: None,
            contest: Some(pa_contest(&n.election)),
            declarations: Vec::new(),
            totals: None,
            unread: None,
            nominations: vec![n.nominated],
        },
        PaMessage::Unread { root } => Parts {
            election: None,
            contest: None,
            declarations: Vec::new(),
            totals: None,
            unread: Some(format!(
                "{file}: a PA <{root}> message, which herald does not read: skipped"
            )),
            nominations: Vec::new(),
        },
        PaMessage::StateOfParties(sop) => {
            let election = Election {
                id: sop.election.id(),
                name: sop.election.name.clone(),
                date: sop.election.date,
                total_seats: sop
                    .election
                    .chamber_size()
                    .unwrap_or(sop.total_constituencies)
                    .max(1),
            };
            let totals = PublishedTotals {
                election: Some(sop.election.id()),
                results: sop.number_of_results,
                seats: sop
                    .parties
                    .iter()
                    .filter(|p| p.seats > 0)
                    .map(|p| (p.abbreviation.clone(), p.party.clone(), p.seats))
                    .collect(),
            };
            Parts {
                election: Some(election),
                contest: Some(pa_contest(&sop.election)),
                declarations: Vec::new(),
                totals: Some(totals),
                unread: None,
                nominations: Vec::new(),
            }
        }
    })
}

/// Parses a whole document (feed body or file) into a snapshot: complete for every format
/// but PA's, whose files are single messages.
pub fn parse_document(
    format: Format,
    name: &str,
    text: &str,
    constituencies: Option<(&str, &str)>,
    parties: &PartyRegistry,
) -> Result<Snapshot, SourceError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if format != Format::PaXml && trimmed.starts_with('<') {
        let head: String = trimmed.chars().take(60).collect();
        return Err(SourceError::new(
            FeedCause::html,
            format!(
                "{name}: received markup, not a {} feed (an error page?): {head:?}",
                format.name()
            ),
        ));
    }
    if trimmed.is_empty() {
        return Err(SourceError::new(
            FeedCause::malformed,
            format!("{name}: empty document"),
        ));
    }
    if format == Format::PaXml {
        let parts = pa_parts(name, text, parties)?;
        return Ok(Snapshot {
            elections: parts.election.into_iter().collect(),
            declarations: parts.declarations,
            complete: false,
            totals: parts.totals.into_iter().collect(),
            skipped: Vec::new(),
            nominations: parts.nominations,
        });
    }
    if format == Format::DemocracyClub {
        let r = super::formats::democracy_club::load(name, text, parties)?;
        return Ok(Snapshot {
            // A results document lists the ballots with results only: the seats it counts
            // are those declared, not the election's size, which stays unknown (and the
            // night's milestones off).
            elections: r
                .elections
                .into_iter()
                .map(|mut e| {
                    e.total_seats = 0;
                    e
                })
                .collect(),
            declarations: r.declarations,
            complete: r.complete,
            totals: Vec::new(),
            skipped: r.skipped.iter().map(|e| format!("{e}: skipped")).collect(),
            nominations: Vec::new(),
        });
    }
    let loaded = super::parse(format, name, text, constituencies, parties)?;
    Ok(Snapshot {
        elections: vec![loaded.election],
        declarations: loaded.declarations,
        complete: true,
        totals: Vec::new(),
        skipped: Vec::new(),
        nominations: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_democracy_club_document_leaves_its_elections_unsized() {
        // The results API lists only ballots with results: one ward declared says nothing
        // of the council's size (and a night's milestones must not think it complete).
        let text = r#"[{"ballot_paper_id": "local.adur.buckingham.2021-05-06", "candidate_results": [
            {"person": {"name": "A Able"}, "party": {"name": "Labour Party"}, "num_ballots": 10, "elected": true},
            {"person": {"name": "B Baker"}, "party": {"name": "Green Party"}, "num_ballots": 5, "elected": false}]}]"#;
        let s = parse_document(
            Format::DemocracyClub,
            "d.json",
            text,
            None,
            &crate::demo::parties(),
        )
        .unwrap();
        assert_eq!(s.elections.len(), 1);
        assert_eq!(s.elections[0].total_seats, 0);
        assert!(s.complete, "a list is the whole state");
        assert_eq!(s.declarations[0].result.constituency.name, "Buckingham");
    }
}
