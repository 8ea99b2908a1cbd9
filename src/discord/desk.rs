//! The election-night desk's questions, answered from the board: `/gains` (seats changing
//! hands so far), `/marginals` (the closest results so far, or the most marginal seats
//! still to declare) and `/projection` (the seats still to declare, by uniform swing).
//! Plain functions of the board, like every other reply.

use super::replies::{Picture, Presentation, Reply};
use crate::core::arithmetic::{Outcome, compute};
use crate::core::board::{Board, Entry, Scope};
use crate::core::model::DeclarationStatus;
use crate::format::embed::{Embed, escape_markdown};
use crate::format::result::headline;
use crate::format::{Style, pct1, thousands};

/// How many seats a list shows.
const LIST: usize = 20;

fn when(e: &Entry, style: &Style) -> String {
    e.declaration
        .declared_at
        .map(|t| t.with_timezone(&style.tz).format("%H:%M").to_string())
        .unwrap_or_else(|| "--:--".into())
}

fn listing(title: String, lines: Vec<String>, empty: &str, style: &Style) -> Reply {
    Reply::embed(
        Embed {
            title,
            description: if lines.is_empty() {
                empty.to_string()
            } else {
                lines.join("\n")
            },
            colour: crate::core::parties::Colour::NEUTRAL,
            fields: vec![],
            footer: Some(format!("Source: {}", style.source)),
            timestamp: None,
            image: None,
        }
        .fit(),
    )
}

/// `/gains [party]`: seats that changed hands so far, newest first; with a party, the
/// seats it gained and lost.
pub fn gains(board: &Board, p: &Presentation, party: Option<&str>) -> Reply {
    let style = p.style(board);
    let party = match party {
        Some(q) => match super::replies::find_party(board, q) {
            Some(id) => Some(id),
            None => {
                return Reply::private(format!("No party matches “{}”.", escape_markdown(q)));
            }
        },
        None => None,
    };
    let current = |id: &crate::core::model::PartyId| board.parties.current(id).clone();
    let mut changed: Vec<&Entry> = board
        .entries()
        .filter(|e| e.declaration.status == DeclarationStatus::Declared)
        .filter(|e| match (&e.figures.outcome, &party) {
            (Outcome::Gain { .. }, None) => true,
            (Outcome::Gain { from }, Some(p)) => {
                current(from) == current(p)
                    || e.figures.winning_party().map(current) == Some(current(p))
            }
            _ => false,
        })
        .collect();
    changed.sort_by_key(|e| std::cmp::Reverse(e.sequence));
    let (won, lost) = match &party {
        Some(p) => changed.iter().fold((0, 0), |(w, l), e| {
            if e.figures.winning_party().map(current) == Some(current(p)) {
                (w + 1, l)
            } else {
                (w, l + 1)
            }
        }),
        None => (changed.len(), 0),
    };
    let tally = board.tally(&Scope::All);
    let title = match &party {
        Some(p) => format!(
            "{}: {won} gained, {lost} lost ({} of {} declared)",
            style.short(p),
            tally.declared,
            tally.total_seats
        ),
        None => format!("Seats changing hands: {won} of {} declared", tally.declared),
    };
    let lines = changed
        .iter()
        .take(LIST)
        .map(|e| {
            let majority = e
                .figures
                .majority
                .map(|m| format!(", majority {}", thousands(m)))
                .unwrap_or_default();
            format!(
                "`{}` **{}**: {}{majority}",
                when(e, &style),
                escape_markdown(&e.figures.constituency.name),
                escape_markdown(&headline(&e.figures, &style))
            )
        })
        .collect();
    listing(title, lines, "No seat has changed hands yet.", &style)
}

/// Which marginals `/marginals` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marginals {
    /// The closest results declared so far.
    Closest,
    /// The seats still to declare with the smallest majorities last time.
    ToDeclare,
}

/// `/marginals`: the closest results so far, or the most marginal seats still to declare.
pub fn marginals(board: &Board, p: &Presentation, which: Marginals) -> Reply {
    let style = p.style(board);
    match which {
        Marginals::Closest => {
            let mut close: Vec<&Entry> = board
                .entries()
                .filter(|e| e.declaration.status == DeclarationStatus::Declared)
                .filter(|e| e.figures.majority_pct.is_some())
                .collect();
            close.sort_by(|a, b| {
                a.figures
                    .majority_pct
                    .partial_cmp(&b.figures.majority_pct)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| {
                        a.figures
                            .constituency
                            .name
                            .cmp(&b.figures.constituency.name)
                    })
            });
            let lines = close
                .iter()
                .take(LIST)
                .map(|e| {
                    format!(
                        "**{}**: {}, majority {} ({})",
                        escape_markdown(&e.figures.constituency.name),
                        escape_markdown(&headline(&e.figures, &style)),
                        thousands(e.figures.majority.unwrap_or(0)),
                        pct1(e.figures.majority_pct.unwrap_or(0.0))
                    )
                })
                .collect();
            listing(
                "The closest results so far".into(),
                lines,
                "No seat has declared yet.",
                &style,
            )
        }
        Marginals::ToDeclare => {
            let mut waiting: Vec<(f64, String)> = board
                .baseline
                .iter()
                .filter(|r| {
                    board
                        .get(&r.constituency.id)
                        .is_none_or(|e| e.declaration.status != DeclarationStatus::Declared)
                })
                .filter_map(|r| {
                    let f = compute(r, None, &board.parties);
                    let pct = f.majority_pct?;
                    let winner = f.winning_party()?;
                    let second = f
                        .runner_up()
                        .map(|c| format!(" over {}", style.short(&c.party)))
                        .unwrap_or_default();
                    Some((
                        pct,
                        format!(
                            "**{}**: {} by {} ({}){second} in {}",
                            escape_markdown(&r.constituency.name),
                            style.short(winner),
                            thousands(f.majority.unwrap_or(0)),
                            pct1(pct),
                            style.baseline_label
                        ),
                    ))
                })
                .collect();
            waiting.sort_by(|a, b| {
                a.0.partial_cmp(&b.0)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.1.cmp(&b.1))
            });
            let lines = waiting.into_iter().take(LIST).map(|(_, l)| l).collect();
            listing(
                "The most marginal seats still to declare".into(),
                lines,
                "No baseline to rank the seats still to declare (or all have declared).",
                &style,
            )
        }
    }
}

/// `/projection`: the seats still to declare projected by uniform swing in each nation,
/// labelled a projection, with what it rests on.
pub fn projection(board: &Board, p: &Presentation) -> Reply {
    let style = p.style(board);
    let tally = board.tally(&Scope::All);
    let Some(pr) = board.projection() else {
        return listing(
            "Projection".into(),
            vec![format!(
                "No projection yet: it needs {} declared seats with a previous result in a nation ({} of {} declared so far).",
                crate::core::projection::MIN_COMPARABLE,
                tally.declared,
                tally.total_seats
            )],
            "",
            &style,
        );
    };
    let name_w = pr
        .parties
        .iter()
        .map(|x| style.short(&x.party).chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut rows = vec![format!(
        "{:<name_w$} {:>8} {:>9}",
        "Party", "Declared", "Projected"
    )];
    for x in pr.parties.iter().filter(|x| x.projected > 0).take(12) {
        rows.push(format!(
            "{:<name_w$} {:>8} {:>9}",
            crate::format::embed::escape_code(style.short(&x.party)),
            x.declared,
            x.projected
        ));
    }
    let leader = pr.parties.first();
    let verdict = match leader {
        Some(l) if l.projected >= pr.majority_line => format!(
            "Projected: {} {} ({} for a majority).",
            style.short(&l.party),
            l.projected,
            pr.majority_line
        ),
        Some(l) => format!(
            "Projected: no majority; {} largest with {} ({} needed).",
            style.short(&l.party),
            l.projected,
            pr.majority_line
        ),
        None => String::new(),
    };
    let rests: Vec<String> = pr
        .rests_on
        .iter()
        .map(|(n, seats)| format!("{n} {seats}"))
        .collect();
    let description = format!(
        "{verdict}\nA projection, not a result: uniform swing in each nation over {} declared seats with a previous result ({}); Northern Ireland held as it was. {} of {} declared; {} seats projected{}.",
        pr.rests_on.iter().map(|(_, s)| s).sum::<u32>(),
        rests.join(", "),
        tally.declared,
        tally.total_seats,
        pr.projected_seats,
        if pr.unprojected > 0 {
            format!(
                ", {} not projected (too few comparable seats in their nation, or no previous result)",
                pr.unprojected
            )
        } else {
            String::new()
        }
    );
    let mut reply = Reply::embed(
        Embed {
            title: format!("Projection: {}", escape_markdown(&board.election.name)),
            description,
            colour: crate::core::parties::Colour::NEUTRAL,
            fields: crate::format::result::table_fields("Seats", &rows),
            footer: Some(format!("Projection · Source: {}", style.source)),
            timestamp: None,
            image: None,
        }
        .fit(),
    );
    reply.picture = Some(Picture::Projection);
    reply
}

/// `/councils`: each local election's councils so far, by control and seats.
pub fn councils(board: &Board, p: &Presentation) -> Reply {
    let style = p.style(board);
    let scopes = board.election_scopes();
    let found: Vec<(Scope, Embed)> = scopes
        .into_iter()
        .filter_map(|s| {
            let e = board.council_tally(&s).map(|t| {
                crate::format::allocated::councils_embed(&t, &board.scope_name(&s), &style)
            })?;
            Some((s, e))
        })
        .take(10)
        .collect();
    let Some((first_scope, first)) = found.first().cloned() else {
        return Reply::private(
            "No council has declared yet (or herald is not following local elections).",
        );
    };
    let mut reply = Reply::embed(first);
    reply
        .embeds
        .extend(found.into_iter().skip(1).map(|(_, e)| e));
    reply.picture = Some(Picture::Councils(first_scope));
    reply
}
