//! Commands that work from files (or the bundled demo) without a feed or Discord:
//! `demo`, `result`, `seats` and `compute`.

use std::io::Write;

use chrono_tz::Tz;

use super::{ChartArgs, CliError, ComputeArgs, DataArgs, ResultArgs, SeatsArgs};
use crate::core::board::{Board, Scope};
use crate::core::finder::Lookup;
use crate::core::model::{Baseline, Declaration};
use crate::core::parties::PartyRegistry;
use crate::demo;
use crate::format::result::{Declared, result_embed};
use crate::format::{Style, json, national, text};
use crate::sources::{self, Loaded};

/// Everything a command needs to answer from: the board and how to present it.
struct Session {
    board: Board,
    /// Declarations in the order they were declared.
    declarations: Vec<Declaration>,
    source: String,
    baseline_label: String,
    tz: Tz,
}

impl Session {
    fn style(&self) -> Style<'_> {
        Style {
            parties: &self.board.parties,
            tz: self.tz,
            source: &self.source,
            baseline_label: &self.baseline_label,
        }
    }
}

pub(super) fn parse_tz(tz: &str) -> Result<Tz, CliError> {
    tz.parse::<Tz>().map_err(|_| {
        CliError::new(format!(
            "unknown timezone `{tz}` (expected an IANA name such as Europe/London)"
        ))
    })
}

/// How the baseline is named in sentences: its year ("since 2019"), marked when it is a
/// notional result on other boundaries ("since 2019 (notional)").
pub(super) fn baseline_label(b: &Baseline) -> String {
    b.election.as_ref().map_or_else(
        || "the previous election".to_string(),
        |e| {
            let year = e.date.format("%Y").to_string();
            if e.id.ends_with("-notional") {
                format!("{year} (notional)")
            } else {
                year
            }
        },
    )
}

/// Orders declarations as they were declared (those without a time last, in file order).
fn in_declaration_order(mut decls: Vec<Declaration>) -> Vec<Declaration> {
    decls.sort_by_key(|d| (d.declared_at.is_none(), d.declared_at));
    decls
}

fn session(
    results: Loaded,
    baseline: Baseline,
    parties: PartyRegistry,
    source: String,
    tz: Tz,
) -> Session {
    let baseline_label = baseline_label(&baseline);
    let mut board = Board::new(results.election, parties, baseline);
    let declarations = in_declaration_order(results.declarations);
    for d in &declarations {
        board.apply(d.clone());
    }
    Session {
        board,
        declarations,
        source,
        baseline_label,
        tz,
    }
}

fn demo_session(tz: Tz) -> Session {
    let parties = demo::parties();
    let (results, baseline) = demo::load(&parties);
    session(
        results,
        baseline.into_baseline(),
        parties,
        demo::SOURCE.to_string(),
        tz,
    )
}

fn data_session(a: &DataArgs) -> Result<Session, CliError> {
    let tz = parse_tz(&a.tz)?;
    let Some(results_path) = &a.results else {
        if a.compare.baseline.is_some() || a.constituencies.is_some() {
            return Err(CliError::new(
                "--baseline and --constituencies need --results",
            ));
        }
        return Ok(demo_session(tz));
    };
    let format = super::inputs::format_for(a.format, &results_path.display().to_string())?;
    let (parties, baseline) = a.compare.load_now(format)?;
    let results = sources::load_files(
        format,
        results_path,
        a.constituencies.as_deref(),
        a.compare.election.as_deref(),
        &parties,
    )?;
    let source = results_path.file_name().map_or_else(
        || results_path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut s = session(results, baseline, parties, source, tz);
    s.board
        .set_aliases(super::inputs::load_aliases(a.compare.aliases.as_deref())?);
    Ok(s)
}

pub(super) fn out(s: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(s.as_bytes()).and_then(|_| stdout.flush()) {
        // A closed pipe (`herald compute | head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(CliError::from),
    }
}

fn declared<'a>(s: &'a Session, d: &Declaration) -> Option<Declared<'a>> {
    s.board.get(d.id()).map(|e| Declared {
        figures: &e.figures,
        declared_at: e.declaration.declared_at,
        revision: e.declaration.revision,
        status: e.declaration.status,
    })
}

pub fn result(a: &ResultArgs) -> Result<(), CliError> {
    let s = data_session(&a.data)?;
    let style = s.style();
    let found = find_one(&s.board, &a.name)?;
    match s.board.get(&found.id) {
        Some(e) => {
            let view = Declared {
                figures: &e.figures,
                declared_at: e.declaration.declared_at,
                revision: e.declaration.revision,
                status: e.declaration.status,
            };
            if a.json {
                out(&format!("{}\n", json::constituency(&view)))
            } else {
                out(&text::render(&result_embed(&view, &style)))
            }
        }
        None => out(&format!("{} has not declared yet.\n", found.name)),
    }
}

pub fn seats(a: &SeatsArgs) -> Result<(), CliError> {
    let s = data_session(&a.data)?;
    let tally = s.board.tally(&Scope::All);
    if a.json {
        out(&format!("{}\n", json::nation(&tally)))
    } else {
        out(&text::render(&crate::format::allocated::standing_embed(
            &s.board.standing(&Scope::All),
            &s.board.election.name,
            &s.style(),
        )))
    }
}

pub fn compute(a: &ComputeArgs) -> Result<(), CliError> {
    let format = super::inputs::format_for(a.format, &a.results.display().to_string())?;
    // PA's results carry each seat's previous election; every other format needs one given.
    if a.compare.baseline.is_none() && format != crate::sources::Format::PaXml {
        return Err(CliError::new(
            "compute needs --baseline: the previous election to compare with",
        ));
    }
    let data = DataArgs {
        results: Some(a.results.clone()),
        format: Some(format),
        constituencies: a.constituencies.clone(),
        compare: a.compare.clone(),
        tz: a.tz.clone(),
    };
    let s = data_session(&data)?;
    let style = s.style();
    let mut buf = String::new();
    for d in &s.declarations {
        if let Some(view) = declared(&s, d) {
            if a.json {
                buf.push_str(&json::constituency(&view).to_string());
                buf.push('\n');
            } else {
                buf.push_str(&text::render(&result_embed(&view, &style)));
                buf.push('\n');
            }
        }
    }
    let tally = s.board.tally(&Scope::All);
    if a.json {
        buf.push_str(&json::nation(&tally).to_string());
        buf.push('\n');
    } else {
        buf.push_str(&text::render(&national::seats_embed(
            &tally,
            &s.board.election.name,
            &style,
        )));
    }
    out(&buf)
}

/// Finds one constituency, or explains why not.
fn find_one(board: &Board, name: &str) -> Result<crate::core::finder::Match, CliError> {
    match board.find(name) {
        Lookup::Found(m) => Ok(m),
        Lookup::Ambiguous(ms) => {
            let names: Vec<_> = ms.iter().map(|m| m.name.as_str()).collect();
            Err(CliError::new(format!(
                "`{name}` could be: {}",
                names.join(", ")
            )))
        }
        Lookup::NotFound(ms) if ms.is_empty() => {
            Err(CliError::new(format!("no constituency matches `{name}`")))
        }
        Lookup::NotFound(ms) => {
            let names: Vec<_> = ms.iter().map(|m| m.name.as_str()).collect();
            Err(CliError::new(format!(
                "no constituency matches `{name}`; did you mean: {}?",
                names.join(", ")
            )))
        }
    }
}

/// Draws the result chart of one seat, the seats chart, or the swingometer.
pub fn chart_png(board: &Board, style: &Style, what: &ChartArgs) -> Result<Vec<u8>, CliError> {
    use crate::format::chart;
    let png = if what.seats {
        chart::seats_chart(&board.tally(&Scope::All), &board.election.name, style)
    } else if what.swing {
        let t = board.tally(&Scope::All);
        chart::swing_chart(
            t.swing.as_ref(),
            &format!("{}: national swing", board.election.name),
            style,
        )
    } else {
        let name = what.name.as_deref().unwrap_or_default();
        let m = find_one(board, name)?;
        let Some(e) = board.get(&m.id) else {
            return Err(CliError::new(format!(
                "{} has not declared yet: there is no result to draw",
                m.name
            )));
        };
        chart::result_chart(&e.figures, style)
    };
    png.map_err(|e| CliError::new(format!("cannot draw the chart: {e}")))
}

pub fn chart(a: &ChartArgs) -> Result<(), CliError> {
    let s = data_session(&a.data)?;
    let png = chart_png(&s.board, &s.style(), a)?;
    std::fs::write(&a.out, png).map_err(|e| CliError::new(format!("{}: {e}", a.out.display())))?;
    out(&format!("wrote {}\n", a.out.display()))
}
