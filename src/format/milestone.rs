//! The post of a milestone (a party reaching the majority line, a hung parliament becoming
//! certain, the last seat declaring): one embed, the same in every sink.

use super::embed::{Embed, escape_markdown};
use super::{Style, plural};
use crate::core::milestones::Milestone;
use crate::core::parties::Colour;

/// The milestone's title, as the console's header and the embed show it.
pub fn title(m: &Milestone, style: &Style) -> String {
    match m {
        Milestone::FirstDeclaration { seat } => format!("First declaration: {seat}"),
        Milestone::Majority { party, .. } => format!("{} has a majority", style.name(party)),
        Milestone::HungCertain { .. } => "A hung parliament is certain".to_string(),
        Milestone::LargestParty { party, .. } => {
            format!("{} is now the largest party", style.name(party))
        }
        Milestone::Complete { .. } => "Every seat has declared".to_string(),
        Milestone::NotableDefeated { name, seat, .. } => format!("{name} loses {seat}"),
    }
}

/// The embed of a milestone.
pub fn milestone_embed(m: &Milestone, election: &str, style: &Style) -> Embed {
    let (description, colour) = match m {
        Milestone::FirstDeclaration { seat } => (
            format!(
                "{} is the first seat of {} to declare.",
                escape_markdown(seat),
                escape_markdown(election)
            ),
            Colour::NEUTRAL,
        ),
        Milestone::Majority { party, seats, line } => (
            format!(
                "{} has {}, past the {line} needed for a majority.",
                escape_markdown(style.name(party)),
                plural(u64::from(*seats), "seat", "seats")
            ),
            style.parties.colour(party),
        ),
        Milestone::HungCertain {
            largest,
            line,
            to_declare,
        } => (
            format!(
                "No party can now reach the {line} seats needed for a majority, with {} still to declare{}.",
                to_declare,
                largest
                    .as_ref()
                    .map(|p| format!("; {} is the largest party", escape_markdown(style.name(p))))
                    .unwrap_or_default()
            ),
            Colour::NEUTRAL,
        ),
        Milestone::LargestParty {
            party, seats, was, ..
        } => (
            format!(
                "{} has {}, overtaking {}.",
                escape_markdown(style.name(party)),
                plural(u64::from(*seats), "seat", "seats"),
                escape_markdown(style.name(was))
            ),
            style.parties.colour(party),
        ),
        Milestone::NotableDefeated { name, party, seat } => (
            format!(
                "{} ({}), a sitting member, is defeated in {}.",
                escape_markdown(name),
                escape_markdown(style.name(party)),
                escape_markdown(seat)
            ),
            style.parties.colour(party),
        ),
        Milestone::Complete { declared } => (
            format!(
                "All {declared} seats of {} have declared.",
                escape_markdown(election)
            ),
            Colour::NEUTRAL,
        ),
    };
    Embed {
        title: escape_markdown(&title(m, style)),
        description,
        colour,
        fields: vec![],
        footer: Some(format!("Milestone · Source: {}", style.source)),
        timestamp: None,
        image: None,
    }
    .fit()
}
