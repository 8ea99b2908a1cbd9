//! The state of the parties: the embed for `/seats` and the demo's closing summary.

use super::embed::{Embed, escape_code, escape_markdown, truncate};
use super::result::table_fields;
use super::{Style, pct1, signed_int, signed1, thousands};
use crate::core::national::{Race, Tally};
use crate::core::parties::Colour;

/// "Majority for Conservative: 365 of 650 seats (326 needed)." or who leads, and what is
/// left. (A party's name reads as singular or plural depending on the party, so the
/// sentences are built around it, not on a verb that agrees with it.)
pub fn position_sentence(t: &Tally, style: &Style) -> String {
    let mut s = match (&t.majority_party, &t.leader) {
        (Some(p), _) => {
            let seats = t.party(p).map_or(0, |r| r.seats);
            format!(
                "Majority for {}: {} of {} ({} needed).",
                style.name(p),
                seats,
                super::plural(u64::from(t.total_seats), "seat", "seats"),
                t.majority_line
            )
        }
        (None, Some(p)) => {
            let seats = t.party(p).map_or(0, |r| r.seats);
            format!(
                "Largest party: {}, with {}; {} needed for a majority.",
                style.name(p),
                super::plural(u64::from(seats), "seat", "seats"),
                t.majority_line
            )
        }
        (None, None) if t.declared == 0 => format!(
            "No seats declared yet; {} needed for a majority.",
            t.majority_line
        ),
        (None, None) => format!(
            "No party leads outright; {} needed for a majority.",
            t.majority_line
        ),
    };
    if t.to_declare > 0 {
        s.push_str(&format!(" {} to declare.", t.to_declare));
    }
    s
}

/// The race line on every announcement: "112 of 650 declared · Con 60 (+5) · Lab 41 (−5) ·
/// 326 for a majority", or who has reached the majority line.
pub fn race_line(r: &Race, style: &Style) -> String {
    let mut parts = vec![format!("{} of {} declared", r.declared, r.total_seats)];
    for (party, seats, change) in &r.leaders {
        parts.push(if *change == 0 {
            format!("{} {seats}", style.short(party))
        } else {
            format!("{} {seats} ({})", style.short(party), signed_int(*change))
        });
    }
    parts.push(match &r.majority_party {
        Some(p) => format!(
            "majority for {} ({} needed)",
            style.short(p),
            r.majority_line
        ),
        None => format!("{} for a majority", r.majority_line),
    });
    parts.join(" · ")
}

/// The national swing sentence.
pub fn national_swing_sentence(t: &Tally, style: &Style) -> Option<String> {
    t.swing.as_ref().map(|q| {
        format!(
            "National swing of {:.1} points from {} to {} since {}, over the seats declared.",
            q.points,
            style.name(&q.from),
            style.name(&q.to),
            style.baseline_label
        )
    })
}

/// The tally table: party, seats, change, vote share, change in share.
pub fn tally_table(t: &Tally, style: &Style) -> Vec<String> {
    let mut rows = vec![format!(
        "{:<12} {:>5} {:>6} {:>6} {:>6}",
        "Party", "Seats", "Change", "Share", "Change"
    )];
    for p in &t.parties {
        rows.push(format!(
            "{:<12} {:>5} {:>6} {:>6} {:>6}",
            truncate(&escape_code(style.short(&p.party)), 12),
            p.seats,
            signed_int(p.seat_change),
            pct1(p.share),
            p.share_change.map(signed1).unwrap_or_default()
        ));
    }
    rows
}

/// The `/seats` embed.
pub fn seats_embed(t: &Tally, election_name: &str, style: &Style) -> Embed {
    let colour = t
        .majority_party
        .as_ref()
        .or(t.leader.as_ref())
        .map_or(Colour::NEUTRAL, |p| style.parties.colour(p));
    let mut description = vec![position_sentence(t, style)];
    if let Some(s) = national_swing_sentence(t, style) {
        description.push(s);
    }
    description.push(format!("{} valid votes counted.", thousands(t.total_votes)));
    // Parties with neither seats nor a visible share crowd the table: fold them.
    let mut shown = t.clone();
    let others: Vec<_> = shown
        .parties
        .iter()
        .filter(|p| p.seats == 0 && p.seat_change == 0 && p.share < 1.0)
        .cloned()
        .collect();
    if others.len() > 1 {
        shown
            .parties
            .retain(|p| !(p.seats == 0 && p.seat_change == 0 && p.share < 1.0));
    }
    let mut rows = tally_table(&shown, style);
    if others.len() > 1 {
        let votes: u64 = others.iter().map(|p| p.votes).sum();
        rows.push(format!(
            "{:<12} {:>5} {:>6} {:>6} {:>6}",
            "Others",
            0,
            "",
            pct1(crate::core::arithmetic::pct(votes, t.total_votes)),
            ""
        ));
    }
    Embed {
        title: truncate(
            &format!(
                "{}: {} of {} declared",
                escape_markdown(election_name),
                t.declared,
                t.total_seats
            ),
            super::embed::limits::TITLE,
        ),
        description: description.join("\n"),
        colour,
        fields: table_fields("State of the parties", &rows),
        footer: Some(format!("Source: {}", style.source)),
        timestamp: None,
        image: None,
    }
    .fit()
}
