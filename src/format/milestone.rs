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
        Milestone::BiggestSwing { seat, .. } => format!("Biggest swing so far: {seat}"),
        Milestone::ClosestMajority { seat, .. } => format!("Closest result so far: {seat}"),
        Milestone::Hourly { at, race } => format!(
            "The race at {}: {} of {} declared",
            style.clock(*at),
            race.declared,
            race.total_seats
        ),
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
        Milestone::BiggestSwing {
            seat,
            from,
            to,
            hundredths,
            ..
        } => (
            format!(
                "A swing of {:.2} points from {} to {} in {}, the biggest of the night so far.",
                *hundredths as f64 / 100.0,
                escape_markdown(style.name(from)),
                escape_markdown(style.name(to)),
                escape_markdown(seat)
            ),
            style.parties.colour(to),
        ),
        Milestone::ClosestMajority {
            seat,
            winner,
            majority,
            ..
        } => (
            format!(
                "{} wins {} by {}, the closest result of the night so far.",
                escape_markdown(style.name(winner)),
                escape_markdown(seat),
                plural(*majority, "vote", "votes")
            ),
            style.parties.colour(winner),
        ),
        Milestone::Hourly { race, .. } => (
            crate::format::national::race_line(race, style),
            race.leaders
                .first()
                .map_or(Colour::NEUTRAL, |(p, _, _)| style.parties.colour(p)),
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

/// A milestone's post once a correction has undone it: the title struck through, and why.
pub fn undone_embed(m: &Milestone, why: &str, style: &Style) -> Embed {
    Embed {
        title: format!(
            "~~{}~~ — no longer stands",
            escape_markdown(&title(m, style))
        ),
        description: format!("Correction: {}.", escape_markdown(why)),
        colour: Colour::NEUTRAL,
        fields: vec![],
        footer: Some(format!("Milestone corrected · Source: {}", style.source)),
        timestamp: None,
        image: None,
    }
    .fit()
}

/// The short note posted under a milestone's post when a correction undoes it.
pub fn undone_note(m: &Milestone, why: &str, style: &Style) -> String {
    format!(
        "Correction: “{}” no longer stands: {}.",
        escape_markdown(&title(m, style)),
        escape_markdown(why)
    )
}
