//! The words and tables of results declared in seats: a council ("Westminster: Con GAIN
//! from Lab", its seats won, change and whole council, 28 for a majority) and a list
//! ("Scotland South: list seats Con 1, Lab 2, SNP 3, Grn 1", the members elected and the
//! list votes). Shared by every sink through [`super::result::result_embed`].

use super::embed::{Embed, Field, escape_code, escape_markdown, truncate};
use super::result::{Declared, footer, table_fields};
use super::{Style, pct1, signed_int, thousands};
use crate::core::allocation::{Control, PartySeats};
use crate::core::arithmetic::SeatFigures;
use crate::core::board::Standing;
use crate::core::council::{CouncilFigures, CouncilOutcome, CouncilTally};
use crate::core::lists::ListFigures;
use crate::core::model::DeclarationStatus;
use crate::core::parties::Colour;

/// Control in words: the party's short name, or "NOC".
pub fn control_short(c: &Control, style: &Style) -> String {
    match c {
        Control::Party(p) => style.short(p).to_string(),
        Control::Noc => "NOC".to_string(),
    }
}

fn seats_list(seats: &[PartySeats], style: &Style) -> String {
    seats
        .iter()
        .map(|p| format!("{} {}", style.short(&p.party), p.seats))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The headline: "Con GAIN from Lab", "Lab HOLD", "Lab LOSE to NOC", "NOC, no change";
/// for a list, its seats by party.
pub fn headline(s: &SeatFigures, style: &Style) -> String {
    match s {
        SeatFigures::Council(f) => match &f.outcome {
            CouncilOutcome::Gain { party, from } => format!(
                "{} GAIN from {}",
                style.short(party),
                control_short(from, style)
            ),
            CouncilOutcome::Hold(p) => format!("{} HOLD", style.short(p)),
            CouncilOutcome::LoseToNoc(p) => format!("{} LOSE to NOC", style.short(p)),
            CouncilOutcome::NocStays => "NOC, no change".to_string(),
        },
        SeatFigures::List(l) if l.seats.is_empty() => "list seats to follow".to_string(),
        SeatFigures::List(l) => format!("list seats {}", seats_list(&l.seats, style)),
    }
}

/// The embed of a council or a list.
pub fn embed(d: &Declared, s: &SeatFigures, style: &Style) -> Embed {
    let name = &d.figures.constituency.name;
    let (title, description, colour, fields) = match (s, d.status) {
        (_, DeclarationStatus::Withdrawn) => (
            format!("{name}: declaration withdrawn"),
            super::result::WITHDRAWN.to_string(),
            Colour::NEUTRAL,
            Vec::new(),
        ),
        (SeatFigures::Council(f), _) => council(name, f, style),
        (SeatFigures::List(l), status) => list(name, l, status, style),
    };
    Embed {
        title: escape_markdown(&title),
        description,
        colour,
        fields,
        footer: Some(footer(d, style)),
        timestamp: d.declared_at,
        image: None,
    }
    .fit()
}

type Parts = (String, String, Colour, Vec<Field>);

fn council(name: &str, f: &CouncilFigures, style: &Style) -> Parts {
    let head = headline(&SeatFigures::Council(f.clone()), style);
    let control = match &f.control {
        Control::Party(p) => format!(
            "{} controls the council with {} of {} seats ({} for a majority).",
            escape_markdown(style.name(p)),
            f.rows
                .iter()
                .find(|r| &r.party == p)
                .map_or(0, |r| r.council),
            f.size,
            f.majority_line
        ),
        Control::Noc => format!(
            "No party has a majority: no overall control ({} of {} seats needed).",
            f.majority_line, f.size
        ),
    };
    let up = if f.up == f.size {
        format!("All {} seats were up.", f.size)
    } else {
        format!("{} of {} seats were up.", f.up, f.size)
    };
    let mut description = format!("{control} {up}");
    if !f.problems.is_empty() {
        description.push_str(&format!(
            "\nThe source's figures disagree with themselves: {}.",
            escape_markdown(&f.problems.join("; "))
        ));
    }
    let mut rows = vec![format!(
        "{:<9} {:>5} {:>6} {:>8}",
        "Party", "Won", "Change", "Council"
    )];
    for r in &f.rows {
        rows.push(format!(
            "{:<9} {:>5} {:>6} {:>8}",
            truncate(&escape_code(style.short(&r.party)), 9),
            r.won,
            signed_int(r.change),
            r.council
        ));
    }
    let colour = match &f.control {
        Control::Party(p) => style.parties.colour(p),
        Control::Noc => Colour::NEUTRAL,
    };
    (
        format!("{name}: {head}"),
        description,
        colour,
        table_fields("Seats", &rows),
    )
}

fn list(name: &str, l: &ListFigures, status: DeclarationStatus, style: &Style) -> Parts {
    let head = headline(&SeatFigures::List(l.clone()), style);
    let mut lines = Vec::new();
    if status == DeclarationStatus::Called {
        lines.push("The members elected are known; the list votes will follow.".to_string());
    }
    match (&l.computed, &l.unchecked) {
        (Some(a), _) => {
            lines.push("Allocated by d'Hondt on the list votes (herald's own count).".to_string());
            for t in &a.ties {
                lines.push(format!("A tie: {}.", escape_markdown(t)));
            }
        }
        (None, Some(why)) if status != DeclarationStatus::Called => lines.push(format!(
            "As the source allocates them; not checked: {}.",
            escape_markdown(why)
        )),
        _ => {}
    }
    for p in &l.problems {
        lines.push(format!("The source differs: {}.", escape_markdown(p)));
    }
    let mut fields = Vec::new();
    if !l.elected.is_empty() {
        fields.push(Field {
            name: "Elected from the lists".to_string(),
            value: l
                .elected
                .iter()
                .map(|m| {
                    format!(
                        "{} ({})",
                        escape_markdown(&m.name),
                        escape_markdown(style.short(&m.party))
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            inline: false,
        });
    }
    if !l.votes.is_empty() {
        let mut rows = vec![format!(
            "{:<9} {:>9} {:>6} {:>5}",
            "Party", "Votes", "Share", "Seats"
        )];
        for (p, v, share) in l.votes.iter().take(12) {
            let seats = l
                .seats
                .iter()
                .find(|s| &s.party == p)
                .map_or(0, |s| s.seats);
            rows.push(format!(
                "{:<9} {:>9} {:>6} {:>5}",
                truncate(&escape_code(style.short(p)), 9),
                thousands(*v),
                pct1(*share),
                seats
            ));
        }
        fields.extend(table_fields("List votes", &rows));
    }
    let colour = l
        .seats
        .first()
        .map_or(Colour::NEUTRAL, |p| style.parties.colour(&p.party));
    let title = if status == DeclarationStatus::Called {
        format!("{name}: {head}, votes to follow")
    } else {
        format!("{name}: {head}")
    };
    (title, lines.join("\n"), colour, fields)
}

/// The councils so far: councils controlled by party with the change in control, and
/// seats won by party with the net change (`/councils`, and `/seats` for local elections).
pub fn councils_embed(t: &CouncilTally, election_name: &str, style: &Style) -> Embed {
    let control_line: Vec<String> = t
        .control
        .iter()
        .filter(|(_, n, d)| *n > 0 || *d != 0)
        .map(|(c, n, d)| format!("{} {n} ({})", control_short(c, style), signed_int(*d)))
        .collect();
    let mut control = vec![format!(
        "{:<9} {:>8} {:>6}",
        "Control", "Councils", "Change"
    )];
    for (c, n, d) in &t.control {
        control.push(format!(
            "{:<9} {:>8} {:>6}",
            truncate(&escape_code(&control_short(c, style)), 9),
            n,
            signed_int(*d)
        ));
    }
    let mut seats = vec![format!("{:<9} {:>8} {:>6}", "Party", "Seats", "Change")];
    for (p, n, d) in t.seats.iter().take(15) {
        seats.push(format!(
            "{:<9} {:>8} {:>6}",
            truncate(&escape_code(style.short(p)), 9),
            thousands(u64::from(*n)),
            signed_int(*d)
        ));
    }
    let mut fields = table_fields("Councils", &control);
    fields.extend(table_fields("Seats won", &seats));
    let colour = t
        .control
        .iter()
        .find_map(|(c, _, _)| match c {
            Control::Party(p) => Some(style.parties.colour(p)),
            Control::Noc => None,
        })
        .unwrap_or(Colour::NEUTRAL);
    Embed {
        title: escape_markdown(&format!(
            "{election_name}: {} declared",
            super::plural(u64::from(t.declared), "council", "councils")
        )),
        description: escape_markdown(&control_line.join(" · ")),
        colour,
        fields,
        footer: Some(format!("Source: {}", style.source)),
        timestamp: None,
        image: None,
    }
    .fit()
}

/// Where an election stands, as `/seats` shows it: its seats, or its councils.
pub fn standing_embed(s: &Standing, election_name: &str, style: &Style) -> Embed {
    match s {
        Standing::Seats(t) => super::national::seats_embed(t, election_name, style),
        Standing::Councils(t) => councils_embed(t, election_name, style),
    }
}
