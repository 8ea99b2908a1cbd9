//! The announcement of one constituency: the embed every sink shows for a declaration and
//! for `/result`, and the sentences it is made of.

use chrono::{DateTime, Utc};

use super::embed::{Embed, Field, escape_code, escape_markdown, truncate};
use super::{Style, pct1, signed1, thousands};
use crate::core::arithmetic::{Change, Figures, NoSwing, Outcome, Swing, Winner};
use crate::core::model::DeclarationStatus;
use crate::core::parties::Colour;

/// A declaration's figures with when and how it was declared.
#[derive(Clone, Copy)]
pub struct Declared<'a> {
    pub figures: &'a Figures,
    pub declared_at: Option<DateTime<Utc>>,
    pub revision: u32,
    pub status: DeclarationStatus,
}

/// "Con GAIN from Lab", "Lab HOLD", "Con WIN" (no baseline), or the state of a tie.
pub fn headline(f: &Figures, style: &Style) -> String {
    if let Some(s) = f.seats.as_deref() {
        return super::allocated::headline(s, style);
    }
    // A multi-member ward: the parties of those elected, "Lab 2 elected".
    if !f.also_elected.is_empty() {
        let mut by_party: Vec<(String, u32)> = Vec::new();
        for c in elected(f) {
            let p = style.short(&c.party).to_string();
            match by_party.iter_mut().find(|(q, _)| *q == p) {
                Some((_, n)) => *n += 1,
                None => by_party.push((p, 1)),
            }
        }
        let parts: Vec<String> = by_party.iter().map(|(p, n)| format!("{p} {n}")).collect();
        return format!("{} elected", parts.join(", "));
    }
    let winner = f.winning_party().map(|p| style.short(p).to_string());
    match (&f.outcome, winner) {
        (Outcome::Gain { from }, Some(w)) => format!(
            "{w} GAIN from {}{}",
            if f.notional { "notional " } else { "" },
            style.short(from)
        ),
        (Outcome::Hold, Some(w)) => format!("{w} HOLD"),
        (Outcome::NoComparison, Some(w)) => format!("{w} WIN"),
        _ => match &f.winner {
            Winner::Tie(level) => {
                let names: Vec<String> = level
                    .iter()
                    .filter_map(|i| f.candidates.get(*i))
                    .map(|c| style.short(&c.party).to_string())
                    .collect();
                format!(
                    "tie between {}, awaiting the drawing of lots",
                    names.join(" and ")
                )
            }
            _ => "no result".to_string(),
        },
    }
}

/// Everyone elected: the winner, and in a multi-member ward the others, most votes first.
pub fn elected(f: &Figures) -> Vec<&crate::core::arithmetic::CandidateFigures> {
    f.winning_candidate()
        .into_iter()
        .chain(f.also_elected.iter().filter_map(|i| f.candidates.get(*i)))
        .collect()
}

/// The embed's title: "Hartlepool: Con GAIN from Lab".
pub fn title(d: &Declared, style: &Style) -> String {
    let f = d.figures;
    let head = headline(f, style);
    let name = &f.constituency.name;
    match d.status {
        DeclarationStatus::Called => format!("{name}: {head}, figures to follow"),
        DeclarationStatus::Recount => format!("{name}: recount under way"),
        DeclarationStatus::Withdrawn => format!("{name}: declaration withdrawn"),
        DeclarationStatus::Declared => format!("{name}: {head}"),
    }
}

/// The swing sentence, or why no swing is quoted.
pub fn swing_sentence(f: &Figures, style: &Style) -> String {
    let since = style.since(f);
    match &f.swing {
        Swing::Quoted(q) => format!(
            "Swing of {:.1} points from {} to {} since {since}.",
            q.points,
            style.name(&q.from),
            style.name(&q.to)
        ),
        Swing::NotQuoted(why) => match why {
            NoSwing::NoBaseline => {
                "No swing quoted: there is no previous result to compare with.".to_string()
            }
            NoSwing::NoPair => {
                "No swing quoted: there is no winner and runner-up to compare.".to_string()
            }
            NoSwing::NotStoodBefore(p) => {
                format!(
                    "No swing quoted: {} did not stand here in {since}.",
                    describe_party(f, p, style)
                )
            }
            NoSwing::NotStandingNow(p) => {
                format!(
                    "No swing quoted: {} did not stand here this time.",
                    describe_party(f, p, style)
                )
            }
        },
    }
}

fn describe_party(f: &Figures, p: &crate::core::model::PartyId, style: &Style) -> String {
    if p.is_independent() {
        if let Some(c) = f.candidates.iter().find(|c| &c.party == p) {
            return format!("the independent {}", c.name);
        }
        return "the independent candidate".to_string();
    }
    style.name(p).to_string()
}

/// The lines above the candidate table: winner, majority, turnout, swing.
pub fn summary_lines(f: &Figures, style: &Style, markdown: bool) -> Vec<String> {
    let esc = |s: &str| {
        if markdown {
            escape_markdown(s)
        } else {
            s.to_string()
        }
    };
    let bold = |s: String| if markdown { format!("**{s}**") } else { s };
    let mut lines = Vec::new();
    if !f.also_elected.is_empty() {
        let who: Vec<String> = elected(f)
            .iter()
            .map(|c| {
                format!(
                    "{} ({}) {}",
                    bold(esc(&c.name)),
                    esc(style.short(&c.party)),
                    thousands(c.votes)
                )
            })
            .collect();
        lines.push(format!("{} elected: {}.", who.len(), who.join("; ")));
    } else if let Some(w) = f.winning_candidate() {
        lines.push(format!(
            "{} ({}) is elected with {} votes, {} of the vote.",
            bold(esc(&w.name)),
            esc(style.name(&w.party)),
            thousands(w.votes),
            pct1(w.share)
        ));
    }
    if !f.sitting_defeated.is_empty() {
        let who: Vec<String> = f
            .sitting_defeated
            .iter()
            .map(|(name, party)| format!("{} ({})", bold(esc(name)), esc(style.short(party))))
            .collect();
        lines.push(format!(
            "{} defeated: {}.",
            if who.len() == 1 {
                "Sitting MP"
            } else {
                "Sitting MPs"
            },
            who.join(", ")
        ));
    }
    if let (Some(m), Some(mp)) = (f.majority, f.majority_pct) {
        lines.push(if f.also_elected.is_empty() {
            format!("Majority {} ({}).", thousands(m), pct1(mp))
        } else {
            format!(
                "Majority {} ({}): the last elected over the best loser.",
                thousands(m),
                pct1(mp)
            )
        });
    }
    if let Some(t) = f.turnout {
        let change = f
            .turnout_change
            .map(|c| format!(", {} points on {}", signed1(c), style.since(f)))
            .unwrap_or_default();
        lines.push(format!(
            "Turnout {}{change} ({}).",
            pct1(t.pct),
            t.basis.describe()
        ));
    }
    lines.push(swing_sentence(f, style));
    lines
}

fn change_cell(c: Change) -> String {
    match c {
        Change::Points(p) => signed1(p),
        Change::New => "new".to_string(),
        Change::NoBaseline => String::new(),
    }
}

/// The candidate table, one line per candidate, in a fixed-width layout.
pub fn candidate_table(f: &Figures, style: &Style) -> Vec<String> {
    const NAME: usize = 24;
    const PARTY: usize = 9;
    let mut rows = vec![format!(
        " {:<w$} {:<PARTY$} {:>7} {:>6} {:>6}",
        "Candidate",
        "Party",
        "Votes",
        "Share",
        "Change",
        w = NAME - 1
    )];
    for c in &f.candidates {
        let mark = if matches!(f.winner, Winner::Elected(_)) && elected(f).contains(&c) {
            "*"
        } else {
            " "
        };
        let name = truncate(&escape_code(&c.name), NAME - 1);
        let party = truncate(&escape_code(style.short(&c.party)), PARTY);
        rows.push(format!(
            "{mark}{name:<w$} {party:<PARTY$} {:>7} {:>6} {:>6}",
            thousands(c.votes),
            pct1(c.share),
            change_cell(c.change),
            w = NAME - 1
        ));
    }
    rows
}

/// Packs table lines into code-block fields of at most 1024 characters each.
pub fn table_fields(title: &str, rows: &[String]) -> Vec<Field> {
    let mut chunks: Vec<Vec<&String>> = vec![Vec::new()];
    let mut len = 8; // the fences
    for row in rows {
        let add = row.chars().count() + 1;
        if len + add > super::embed::limits::FIELD_VALUE
            && !chunks.last().is_some_and(|c| c.is_empty())
        {
            chunks.push(Vec::new());
            len = 8;
        }
        len += add;
        if let Some(last) = chunks.last_mut() {
            last.push(row);
        }
    }
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, lines)| Field {
            name: if n == 1 {
                title.to_string()
            } else {
                format!("{title} ({}/{n})", i + 1)
            },
            value: format!(
                "```\n{}\n```",
                lines
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            inline: false,
        })
        .collect()
}

/// Parties that stood in the baseline but not now: "Ind (Joe Bousfield) 2.2% · SL 1.2%".
pub fn departed_line(f: &Figures, style: &Style, markdown: bool) -> Option<String> {
    if f.departed.is_empty() {
        return None;
    }
    let esc = |s: &str| {
        if markdown {
            escape_markdown(s)
        } else {
            s.to_string()
        }
    };
    Some(
        f.departed
            .iter()
            .map(|d| match &d.candidate {
                Some(name) => format!(
                    "{} ({}) {}",
                    esc(style.short(&d.party)),
                    esc(name),
                    pct1(d.share_before)
                ),
                None => format!("{} {}", esc(style.short(&d.party)), pct1(d.share_before)),
            })
            .collect::<Vec<_>>()
            .join(" · "),
    )
}

/// The footer: the election (where several are side by side), when declared, which
/// revision, and the source.
pub fn footer(d: &Declared, style: &Style) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &d.figures.election {
        parts.push(e.clone());
    }
    if let Some(t) = d.declared_at {
        parts.push(format!("Declared {}", style.time(t)));
    }
    if d.revision > 1 {
        parts.push(format!("revision {}", d.revision));
    }
    parts.push(format!("Source: {}", style.source));
    parts.join(" · ")
}

/// What a withdrawn declaration's embed says, whatever the contest.
pub const WITHDRAWN: &str =
    "The source has withdrawn this declaration; figures shown earlier no longer stand.";

/// The embed for a declaration: the same for announcements and `/result`.
pub fn result_embed(d: &Declared, style: &Style) -> Embed {
    let f = d.figures;
    if let Some(s) = f.seats.as_deref() {
        return super::allocated::embed(d, s, style);
    }
    let colour = f
        .winning_party()
        .map_or(Colour::NEUTRAL, |p| style.parties.colour(p));
    let mut fields = Vec::new();
    let description = match d.status {
        DeclarationStatus::Declared => {
            fields.extend(table_fields("Candidates", &candidate_table(f, style)));
            if let Some(line) = departed_line(f, style, true) {
                fields.push(Field {
                    name: format!("Stood in {}, not this time", style.since(f)),
                    value: line,
                    inline: false,
                });
            }
            summary_lines(f, style, true).join("\n")
        }
        DeclarationStatus::Called => match f.winning_candidate() {
            Some(w) => format!(
                "{} ({}) is elected. The figures will follow.",
                format_args!("**{}**", escape_markdown(&w.name)),
                escape_markdown(style.name(&w.party))
            ),
            None => "The winner has been called. The figures will follow.".to_string(),
        },
        DeclarationStatus::Recount => {
            "A recount is under way; the seat is not yet declared.".to_string()
        }
        DeclarationStatus::Withdrawn => WITHDRAWN.to_string(),
    };
    Embed {
        title: escape_markdown(&title(d, style)),
        description,
        colour,
        fields,
        footer: Some(footer(d, style)),
        timestamp: d.declared_at,
        image: None,
    }
    .fit()
}
