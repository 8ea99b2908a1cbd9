//! Digests: the pending declarations of a channel that is behind (or asked for them) merged
//! into one message, a line per seat, sent and recorded as one.

use super::{Dispatcher, Next, Sent};
use crate::format::embed::{Embed, escape_markdown};
use crate::format::result::headline;
use crate::format::thousands;
use crate::sinks::Delivery;
use crate::store::{OutboxItem, StoreError};

impl Dispatcher {
    /// Sends a digest: the seats of `group` in one message.
    pub(super) async fn send_digest(
        &self,
        channel: &str,
        digest_key: &str,
        group: &[OutboxItem],
    ) -> Result<Next, StoreError> {
        let mut lines = Vec::new();
        let mut first_seen = None;
        {
            let events = self.store.events_of(group).await?;
            let board = self.board.read();
            let style = self.presentation.style(&board);
            for e in &events {
                first_seen = first_seen.min(Some(e.seen_at)).or(Some(e.seen_at));
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
                lines.push(format!(
                    "**{}**: {}{majority}{swing}",
                    escape_markdown(&f.constituency.name),
                    escape_markdown(&headline(&f, &style)),
                ));
            }
        }
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
        let Some(head) = group.first() else {
            return Ok(Next::Continue);
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
        Ok(if go_on { Next::Continue } else { Next::Stop })
    }
}
