//! Digests: the pending declarations of a channel that is behind (or asked for them) merged
//! into one message, a line per seat, sent and recorded as one.

use chrono::Utc;

use super::{Dispatcher, Next, Sent};
use crate::format::embed::{Embed, escape_markdown};
use crate::format::result::headline;
use crate::format::thousands;
use crate::observe::Metrics;
use crate::store::{OutboxItem, SinkKind, StoreError};

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
            let events = self.store.digest_events(digest_key).await?;
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
        match self.failed(channel, &lead, outcome).await? {
            Sent::Ok(mid) => {
                let n = self.store.finish_digest(digest_key, &mid).await?;
                self.metrics
                    .sent
                    .get_or_create(&Metrics::sink(SinkKind::Discord))
                    .inc_by(n);
                if let Some(t) = first_seen {
                    let lag = (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0;
                    self.metrics.feed_to_post_seconds.observe(lag);
                }
                Ok(Next::Continue)
            }
            Sent::Refused => {
                for r in group {
                    self.store
                        .mark_failed(&r.key, "digest refused by Discord")
                        .await?;
                }
                Ok(Next::Continue)
            }
            _ => Ok(Next::Stop),
        }
    }
}
