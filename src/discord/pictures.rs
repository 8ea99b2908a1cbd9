//! The pictures that go with replies and announcements, rendered from the board. The
//! figures are copied out of the board first, so that rendering (milliseconds) never holds
//! the board's lock; callers run these on blocking threads, off the async runtime's core.

use crate::core::board::Scope;
use crate::core::model::Declaration;
use crate::core::parties::PartyRegistry;
use crate::discord::replies::{Picture, Presentation};
use crate::format::{Style, chart};
use crate::watch::SharedBoard;

fn style<'a>(parties: &'a PartyRegistry, p: &'a Presentation) -> Style<'a> {
    Style {
        parties,
        tz: p.tz,
        source: &p.source,
        baseline_label: &p.baseline_label,
    }
}

fn logged(r: Result<Vec<u8>, chart::ChartError>) -> Option<Vec<u8>> {
    r.map_err(|e| tracing::warn!("chart not drawn: {e}")).ok()
}

/// Renders a reply's picture as PNG bytes (None when there is nothing to draw).
pub fn render(
    board: &SharedBoard,
    picture: &Picture,
    presentation: &Presentation,
) -> Option<Vec<u8>> {
    let b = board.read();
    let parties = b.parties.clone();
    match picture {
        Picture::Result(id) => {
            let figures = b.get(id)?.figures.clone();
            drop(b);
            logged(chart::result_chart(
                &figures,
                &style(&parties, presentation),
            ))
        }
        Picture::Seats(scope) => {
            let tally = b.tally(scope);
            let title = b.scope_name(scope);
            drop(b);
            logged(chart::seats_chart(
                &tally,
                &title,
                &style(&parties, presentation),
            ))
        }
        Picture::Councils(scope) => {
            let tally = b.council_tally(scope)?;
            let title = b.scope_name(scope);
            drop(b);
            logged(chart::councils_chart(
                &tally,
                &title,
                &style(&parties, presentation),
            ))
        }
        Picture::Projection => {
            let projection = b.projection()?;
            let title = format!("Projection: {}", b.election.name);
            drop(b);
            logged(chart::projection_chart(
                &projection,
                &title,
                &style(&parties, presentation),
            ))
        }
        Picture::Swing => {
            let tally = b.tally(&Scope::All);
            let title = format!("{}: national swing", b.election.name);
            drop(b);
            logged(chart::swing_chart(
                tally.swing.as_ref(),
                &title,
                &style(&parties, presentation),
            ))
        }
    }
}

/// Renders the result chart of a declaration, for announcements.
pub fn announcement_chart(
    board: &SharedBoard,
    declaration: &Declaration,
    presentation: &Presentation,
) -> Option<Vec<u8>> {
    let b = board.read();
    let figures = b.compute(declaration);
    let parties = b.parties.clone();
    drop(b);
    logged(chart::result_chart(
        &figures,
        &style(&parties, presentation),
    ))
}
