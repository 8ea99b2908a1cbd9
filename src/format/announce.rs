//! Announcements of events: what every sink says when a seat declares, is called, is
//! corrected or is retracted. A correction says what changed; the embed is always the
//! result as it now stands.

use super::embed::{Embed, Field, escape_markdown};
use super::national::race_line;
use super::result::{Declared, result_embed};
use super::{Style, signed1, thousands};
use crate::core::arithmetic::Figures;
use crate::core::changes::{Difference, EventKind};
use crate::core::model::{Declaration, DeclarationStatus};
use crate::core::national::Race;

/// What to post for one event.
#[derive(Clone, Debug, PartialEq)]
pub struct Announcement {
    pub kind: EventKind,
    /// A short line to post beside (or, for corrections, in reply to) the embed.
    pub note: Option<String>,
    pub embed: Embed,
}

/// A one-line label for the event, as the console's header shows it.
pub fn label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Declared => "DECLARED",
        EventKind::Called => "CALLED",
        EventKind::Completed => "DECLARED (completes the call)",
        EventKind::Recount => "RECOUNT",
        EventKind::Corrected => "CORRECTION",
        EventKind::Retracted => "RETRACTED",
    }
}

fn describe(d: &Difference, style: &Style) -> Option<String> {
    Some(match d {
        Difference::Revision { from, to } => format!("revision {from} → {to}"),
        Difference::Status { from, to } => format!("status {} → {}", status(*from), status(*to)),
        Difference::Winner { from, to } => format!(
            "winner {} → {}",
            from.as_deref().unwrap_or("none"),
            to.as_deref().unwrap_or("none")
        ),
        Difference::Votes {
            candidate,
            party,
            from,
            to,
        } => format!(
            "{candidate} ({}) {} → {} votes",
            style.short(party),
            thousands(*from),
            thousands(*to)
        ),
        Difference::CandidateAdded {
            candidate, party, ..
        } => format!("{candidate} ({}) added", style.short(party)),
        Difference::CandidateRemoved {
            candidate, party, ..
        } => format!("{candidate} ({}) removed", style.short(party)),
        Difference::Electorate { from, to } => format!("electorate {} → {}", opt(*from), opt(*to)),
        Difference::Rejected { from, to } => {
            format!("rejected ballots {} → {}", opt(*from), opt(*to))
        }
        Difference::DeclaredAt => "declaration time".to_string(),
        Difference::Details => "details".to_string(),
        Difference::PartyFigure {
            figure,
            party,
            from,
            to,
        } => format!(
            "{} {figure} {} → {}",
            style.short(party),
            thousands(*from),
            thousands(*to)
        ),
    })
}

fn opt(n: Option<u64>) -> String {
    n.map_or_else(|| "unknown".to_string(), thousands)
}

fn status(s: DeclarationStatus) -> &'static str {
    match s {
        DeclarationStatus::Declared => "declared",
        DeclarationStatus::Called => "called",
        DeclarationStatus::Recount => "recount",
        DeclarationStatus::Withdrawn => "withdrawn",
    }
}

/// The correction note: what changed, and how the headline figures moved.
pub fn correction_note(
    differences: &[Difference],
    before: Option<&Figures>,
    after: &Figures,
    style: &Style,
) -> String {
    let mut parts: Vec<String> = differences
        .iter()
        .filter(|d| !matches!(d, Difference::Revision { .. } | Difference::DeclaredAt))
        .filter_map(|d| describe(d, style))
        .collect();
    if let Some(b) = before {
        if let (Some(old), Some(new)) = (b.majority, after.majority)
            && old != new
        {
            parts.push(format!("majority {} → {}", thousands(old), thousands(new)));
        }
        if let (Some(old), Some(new)) = (b.turnout, after.turnout)
            && (old.pct - new.pct).abs() >= 0.05
        {
            parts.push(format!(
                "turnout {:.1}% → {:.1}% ({})",
                old.pct,
                new.pct,
                signed1(new.pct - old.pct)
            ));
        }
    }
    if parts.is_empty() {
        parts.push("re-issued with no change to the figures".to_string());
    }
    let revision = differences.iter().find_map(|d| match d {
        Difference::Revision { to, .. } => Some(format!(" (revision {to})")),
        _ => None,
    });
    // A call that supersedes a result (PA's correcting rush) withdraws its figures.
    let withdrawn = differences.iter().any(|d| {
        matches!(
            d,
            Difference::Status {
                from: DeclarationStatus::Declared,
                to: DeclarationStatus::Called
            }
        )
    });
    format!(
        "Correction to {}{}: {}.{}",
        escape_markdown(&after.constituency.name),
        revision.unwrap_or_default(),
        escape_markdown(&parts.join("; ")),
        if withdrawn {
            " The figures shown earlier no longer stand; the corrected result follows."
        } else {
            ""
        }
    )
}

/// The announcement of an event. `figures` are those of `declaration` as it now stands;
/// `before` those of the version it replaced, where there was one.
pub fn announcement(
    kind: EventKind,
    declaration: &Declaration,
    differences: &[Difference],
    figures: &Figures,
    before: Option<&Figures>,
    race: Option<&Race>,
    style: &Style,
) -> Announcement {
    let view = Declared {
        figures,
        declared_at: declaration.declared_at,
        revision: declaration.revision,
        status: declaration.status,
    };
    let mut embed = result_embed(&view, style);
    // Where the race stands: the same tally as `/seats`, as of this event.
    if let Some(r) = race {
        embed.fields.push(Field {
            name: "The race".to_string(),
            value: escape_markdown(&race_line(r, style)),
            inline: false,
        });
        embed = embed.fit();
    }
    let name = escape_markdown(&figures.constituency.name);
    let note = match kind {
        EventKind::Corrected => Some(correction_note(differences, before, figures, style)),
        EventKind::Retracted => Some(format!(
            "Retraction: the declaration for {name} has been withdrawn by the source. Figures shown earlier no longer stand."
        )),
        EventKind::Completed => Some(format!("Full result for {name}.")),
        EventKind::Recount => Some(format!("Recount under way in {name}.")),
        EventKind::Declared | EventKind::Called => None,
    };
    Announcement { kind, note, embed }
}
