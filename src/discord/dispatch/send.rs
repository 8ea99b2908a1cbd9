//! One outbox row's announcement: a declaration posted (pinging the channel's role for a
//! gain), a completed result edited into the seat's message, a correction or retraction
//! edited and answered with a note; and a milestone posted on its own.

use chrono::Utc;

use super::{Dispatcher, Next, Sent};
use crate::core::changes::EventKind;
use crate::discord::rest::File;
use crate::format::announce::announcement;
use crate::format::milestone;
use crate::store::{OutboxItem, OutboxState, SinkKind, StoreError};

impl Dispatcher {
    /// A milestone's announcement (one outbox row): an odd version is the milestone reached,
    /// posted on its own (no chart, no mention) and published from an announcement
    /// channel; an even one is its undoing by a correction, edited into the post before
    /// and answered with a note.
    async fn send_milestone(
        &self,
        channel: &str,
        item: &OutboxItem,
        key: &str,
    ) -> Result<Next, StoreError> {
        let Some(stored) = self.store.milestone(key).await? else {
            self.store
                .mark_failed(&item.key, "milestone missing from the store")
                .await?;
            return Ok(Next::Continue);
        };
        if !self.store.claim(&item.key).await? {
            return Ok(Next::Continue);
        }
        let reached = item.version % 2 == 1;
        let (embed, note) = {
            let board = self.board.read();
            let style = self.presentation.style(&board);
            let m = &stored.milestone;
            if reached {
                (
                    milestone::milestone_embed(m, &board.election.name, &style),
                    None,
                )
            } else {
                let why = stored.why.as_deref().unwrap_or("a correction undid it");
                (
                    milestone::undone_embed(m, why, &style),
                    Some(milestone::undone_note(m, why, &style)),
                )
            }
        };
        let sent = match note {
            None => self.post(channel, item, &embed, None, None, &[]).await?,
            Some(note) => {
                let before = self
                    .store
                    .posted_at(
                        SinkKind::Discord,
                        channel,
                        &item.constituency_id,
                        item.version - 1,
                    )
                    .await?;
                let mut reply_to = None;
                if let Some(mid) = before {
                    let outcome = self
                        .edit(channel, &mid, &self.edit_body(&embed, false), &[])
                        .await;
                    match self.failed(channel, item, outcome).await? {
                        Sent::Ok(_) => reply_to = Some(mid),
                        Sent::NoMessage => {}
                        Sent::Stop => return Ok(Next::Stop),
                        Sent::Refused => return Ok(Next::Continue),
                    }
                }
                match reply_to {
                    Some(mid) => self.post_note(channel, item, &note, Some(&mid)).await?,
                    // The post is gone (or never made): the correction stands alone.
                    None => {
                        self.post(channel, item, &embed, Some(&note), None, &[])
                            .await?
                    }
                }
            }
        };
        match sent {
            Sent::Ok(mid) => {
                self.delivered(item, &mid).await?;
                if reached
                    && self
                        .store
                        .channel(channel)
                        .await?
                        .is_some_and(|c| c.publish())
                {
                    self.publish(channel, &mid).await;
                }
                Ok(Next::Continue)
            }
            Sent::Stop => Ok(Next::Stop),
            Sent::NoMessage | Sent::Refused => Ok(Next::Continue),
        }
    }

    /// Sends one announcement (one outbox row).
    pub(super) async fn send_one(
        &self,
        channel: &str,
        item: &OutboxItem,
    ) -> Result<Next, StoreError> {
        if let Some(key) = crate::store::milestones::key_of(&item.constituency_id) {
            return self.send_milestone(channel, item, key).await;
        }
        let Some(event) = self
            .store
            .event(&item.constituency_id, item.version)
            .await?
        else {
            self.store
                .mark_failed(&item.key, "event missing from the store")
                .await?;
            return Ok(Next::Continue);
        };
        if !self.store.claim(&item.key).await? {
            return Ok(Next::Continue);
        }
        let (mut a, chart) = self.render(&event).await;
        if event.kind == EventKind::Corrected {
            // The correction note compares with the version it replaced.
            if let Some(prev) = self.before(&event).await? {
                let board = self.board.read();
                let style = self.presentation.style(&board);
                let now = board.compute(&event.declaration);
                let then = board.compute(&prev.declaration);
                a = announcement(
                    event.kind,
                    &event.declaration,
                    &event.differences,
                    &now,
                    Some(&then),
                    board.race_at(event.seq),
                    &style,
                );
            }
        }
        let files: Vec<File> = chart
            .iter()
            .map(|b| File {
                name: "chart.png".into(),
                bytes: b.to_vec(),
            })
            .collect();
        let with_chart = !files.is_empty();
        let original = match event.kind {
            EventKind::Completed | EventKind::Corrected | EventKind::Retracted => {
                self.store
                    .original_post(SinkKind::Discord, channel, &item.constituency_id)
                    .await?
            }
            _ => None,
        };

        let sent = match (event.kind, original) {
            // The seat's own message: edit it in place.
            (EventKind::Completed, Some((mid, OutboxState::Sent))) => {
                let outcome = self
                    .edit(channel, &mid, &self.edit_body(&a.embed, with_chart), &files)
                    .await;
                match self.failed(channel, item, outcome).await? {
                    Sent::Ok(_) => Sent::Ok(mid),
                    Sent::NoMessage => {
                        self.post(channel, item, &a.embed, a.note.as_deref(), None, &files)
                            .await?
                    }
                    other => other,
                }
            }
            (EventKind::Corrected | EventKind::Retracted, Some((mid, state))) => {
                let mut reply_to = Some(mid.clone());
                if state == OutboxState::Sent {
                    let outcome = self
                        .edit(channel, &mid, &self.edit_body(&a.embed, with_chart), &files)
                        .await;
                    match self.failed(channel, item, outcome).await? {
                        Sent::Ok(_) => {}
                        Sent::NoMessage => reply_to = None,
                        Sent::Stop => return Ok(Next::Stop),
                        Sent::Refused => return Ok(Next::Continue),
                    }
                }
                // The short note replying to the original (with the result itself when
                // the original was a digest, or is gone).
                let note = a.note.clone().unwrap_or_default();
                if state == OutboxState::Sent && reply_to.is_some() {
                    self.post_note(channel, item, &note, reply_to.as_deref())
                        .await?
                } else {
                    self.post(
                        channel,
                        item,
                        &a.embed,
                        Some(&note),
                        reply_to.as_deref(),
                        &files,
                    )
                    .await?
                }
            }
            _ => {
                // A gain pings the roles the channel's admins chose, and nobody else.
                let roles = self.gain_ping(channel, &event).await?;
                let pings: Vec<String> = roles.iter().map(|r| format!("<@&{r}>")).collect();
                let content = match (pings.is_empty(), a.note.as_deref()) {
                    (false, Some(n)) => Some(format!("{} {n}", pings.join(" "))),
                    (false, None) => Some(pings.join(" ")),
                    (true, n) => n.map(String::from),
                };
                self.post_pinging(channel, item, &a.embed, content.as_deref(), &roles, &files)
                    .await?
            }
        };
        match sent {
            Sent::Ok(mid) => {
                self.delivered(item, &mid).await?;
                let lag = (Utc::now() - event.seen_at).num_milliseconds().max(0) as f64 / 1000.0;
                self.metrics.feed_to_post_seconds.observe(lag);
                Ok(Next::Continue)
            }
            Sent::Stop => Ok(Next::Stop),
            Sent::NoMessage | Sent::Refused => Ok(Next::Continue),
        }
    }
}
