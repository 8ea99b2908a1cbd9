//! The pictures that go with replies and announcements, rendered from the board.

use crate::core::model::Declaration;
use crate::discord::replies::{Picture, Presentation};
use crate::watch::SharedBoard;

/// Renders a reply's picture as PNG bytes (None when there is nothing to draw).
pub fn render(
    _board: &SharedBoard,
    _picture: &Picture,
    _presentation: &Presentation,
) -> Option<Vec<u8>> {
    None
}

/// Renders the result chart of a declaration, for announcements.
pub fn announcement_chart(
    _board: &SharedBoard,
    _declaration: &Declaration,
    _presentation: &Presentation,
) -> Option<Vec<u8>> {
    None
}
