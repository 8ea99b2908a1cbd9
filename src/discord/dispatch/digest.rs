//! Digests: the pending declarations of a channel that is behind (or asked for them) merged
//! into one message, a line per seat, sent and recorded as one. Each seat's line is
//! rendered once for every channel it goes to (kept in a [`crate::sinks::Renders`]): at
//! the peak of a night a thousand channels are sent digests of the same seats.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Dispatcher, Next, Sent};
use crate::format::embed::{Embed, escape_markdown};
use crate::format::result::headline;
use crate::format::thousands;
use crate::sinks::Delivery;
use crate::store::{OutboxItem, StoreError, StoredEvent};

/// How many seats' lines are kept: more than a general election's declarations, so that a
/// channel far behind still finds the lines the first channels rendered.
pub(super) const KEPT: usize = 2048;

/// One seat's line in a digest, and when its event was first seen in the feed.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Line {
    text: String,
    seen_at: DateTime<Utc>,
}

impl Dispatcher {
    /// Sends a digest: the seats of `group` in one message.
    pub(super) async fn send_digest(
        &self,
        channel: &str,
        digest_key: &str,
        group: &[OutboxItem],
    ) -> Result<Next, StoreError> {
        let lines = self.digest_lines(group).await?;
        let first_seen = lines.iter().map(|l| l.seen_at).min();
        let lines: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        let embed = Embed {
            title: format!("{} results", lines.len()),
            description: lines.join("\n"),
            colour: crate::core::parties::Colour::NEUTRAL,
            fields: vec![],
            footer: Some(format!(
                "Source: {} · /result NAME for the full figures",
                self.presentation.source
            )),
            timestamp: None,
            image: None,
        }
        .fit();
        let body = self.message_body(&embed, None, digest_key, None, false);
        let (Some(head), Some(last)) = (group.first(), group.last()) else {
            return Ok(Next::Again);
        };
        let outcome = self.create(channel, head.first_tried_at, &body, &[]).await;
        let mut lead = head.clone();
        lead.digest_key = Some(digest_key.to_string());
        let delivery = match self.judge(channel, &lead, outcome) {
            Sent::Ok(mid) => Delivery::Sent(Some(mid)),
            // A new message never answers "unknown message"; were it to, the digest waits.
            Sent::NoMessage => return Ok(Next::Stop),
            Sent::Not(d) => d,
        };
        let go_on = self
            .outbox
            .settle_digest(self, digest_key, group, first_seen, delivery)
            .await?;
        Ok(if go_on {
            Next::Recorded(last.seq)
        } else {
            Next::Stop
        })
    }

    /// The lines of `group`'s seats, in order: those no channel has rendered yet are read
    /// from the store in one query and rendered, the rest are shared. A seat whose event
    /// the store no longer holds has no line.
    async fn digest_lines(&self, group: &[OutboxItem]) -> Result<Vec<Arc<Line>>, StoreError> {
        let mut lines = self.lines.made(group);
        let missing: Vec<OutboxItem> = group
            .iter()
            .zip(&lines)
            .filter(|(_, l)| l.is_none())
            .map(|(i, _)| i.clone())
            .collect();
        if !missing.is_empty() {
            let events = self.store.events_of(&missing).await?;
            let board = self.board.read();
            for e in &events {
                let id = e.declaration.id().as_str();
                let Some(row) = missing
                    .iter()
                    .find(|i| i.constituency_id == id && i.version == e.version)
                else {
                    continue;
                };
                let line = self.lines.keep(row, self.digest_line(&board, e));
                for (item, slot) in group.iter().zip(lines.iter_mut()) {
                    if slot.is_none() && item.constituency_id == id && item.version == e.version {
                        *slot = Some(line.clone());
                    }
                }
            }
        }
        Ok(lines.into_iter().flatten().collect())
    }

    /// One seat's line: who won, the majority and the swing.
    fn digest_line(&self, board: &crate::core::board::Board, e: &StoredEvent) -> Line {
        let style = self.presentation.style(board);
        let f = board.compute(&e.declaration);
        let majority = f
            .majority
            .map(|m| format!(" · majority {}", thousands(m)))
            .unwrap_or_default();
        let swing = f
            .swing
            .quote()
            .map(|q| {
                format!(
                    " · swing {:.1} {}→{}",
                    q.points,
                    style.short(&q.from),
                    style.short(&q.to)
                )
            })
            .unwrap_or_default();
        Line {
            text: format!(
                "**{}**: {}{majority}{swing}",
                escape_markdown(&f.constituency.name),
                escape_markdown(&headline(&f, &style)),
            ),
            seen_at: e.seen_at,
        }
    }
}
