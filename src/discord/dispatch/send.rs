//! One outbox row's announcement: a declaration posted (pinging the channel's role for a
//! gain), a completed result edited into the seat's message, a correction or retraction
//! edited and answered with a note; and a milestone posted on its own. The row goes
//! through [`crate::sinks::Outbox`]: rendered once for every channel, claimed, delivered
//! here, then recorded and counted there.

use super::{Announced, Dispatcher, Next, Sent};
use crate::core::changes::EventKind;
use crate::discord::rest::File;
use crate::format::embed::Embed;
use crate::sinks::{Delivery, Sink};
use crate::store::{Channel, OutboxItem, OutboxState, SinkKind, StoreError, StoredEvent};

impl Dispatcher {
    /// Sends one announcement (one outbox row) to `channel`, subscribed as `subscribed`.
    pub(super) async fn send_one(
        &self,
        channel: &str,
        subscribed: &Channel,
        item: &OutboxItem,
    ) -> Result<Next, StoreError> {
        let Some(rendered) = self.outbox.claim(self, &self.renders, item).await? else {
            return Ok(Next::Again);
        };
        let (delivery, publish) = match &*rendered {
            Announced::Event {
                event,
                announcement,
                chart,
                gain,
            } => {
                let files: Vec<File> = chart
                    .iter()
                    .map(|b| File {
                        name: "chart.png".into(),
                        bytes: b.clone(),
                    })
                    .collect();
                let d = self
                    .deliver_event(subscribed, item, event, announcement, &files, *gain)
                    .await?;
                (d, false)
            }
            Announced::Milestone {
                reached,
                embed,
                note,
            } => {
                let d = self
                    .deliver_milestone(channel, item, embed, note.as_deref())
                    .await?;
                (d, *reached)
            }
        };
        let published = match (&delivery, publish) {
            (Delivery::Sent(Some(mid)), true) => Some(mid.clone()),
            _ => None,
        };
        let go_on = self
            .outbox
            .settle(self, item, Self::seen_at(&rendered), delivery)
            .await?;
        // A milestone reached is published from an announcement channel once recorded.
        if let Some(mid) = published
            && subscribed.publish()
        {
            self.publish(channel, &mid).await;
        }
        Ok(if go_on {
            Next::Recorded(item.seq)
        } else {
            Next::Stop
        })
    }

    /// A milestone's announcement: reached (no note), posted on its own (no chart, no
    /// mention); undone by a correction (with a note), edited into the post before and
    /// answered with the note.
    async fn deliver_milestone(
        &self,
        channel: &str,
        item: &OutboxItem,
        embed: &Embed,
        note: Option<&str>,
    ) -> Result<Delivery, StoreError> {
        let Some(note) = note else {
            return Ok(self
                .post(channel, item, embed, None, None, &[])
                .await
                .delivery());
        };
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
                .edit(channel, &mid, &self.edit_body(embed, false), &[])
                .await;
            match self.judge(channel, item, outcome) {
                Sent::Ok(_) => reply_to = Some(mid),
                Sent::NoMessage => {}
                Sent::Not(d) => return Ok(d),
            }
        }
        let sent = match reply_to {
            Some(mid) => self.post_note(channel, item, note, Some(&mid)).await,
            // The post is gone (or never made): the correction stands alone.
            None => self.post(channel, item, embed, Some(note), None, &[]).await,
        };
        Ok(sent.delivery())
    }

    /// An event's announcement in one channel (`subscribed`).
    async fn deliver_event(
        &self,
        subscribed: &Channel,
        item: &OutboxItem,
        event: &StoredEvent,
        a: &crate::format::announce::Announcement,
        files: &[File],
        gain: bool,
    ) -> Result<Delivery, StoreError> {
        let channel = subscribed.id.as_str();
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
                    .edit(channel, &mid, &self.edit_body(&a.embed, with_chart), files)
                    .await;
                match self.judge(channel, item, outcome) {
                    Sent::Ok(_) => Sent::Ok(mid),
                    Sent::NoMessage => {
                        self.post(channel, item, &a.embed, a.note.as_deref(), None, files)
                            .await
                    }
                    other => other,
                }
            }
            (EventKind::Corrected | EventKind::Retracted, Some((mid, state))) => {
                let mut reply_to = Some(mid.clone());
                if state == OutboxState::Sent {
                    let outcome = self
                        .edit(channel, &mid, &self.edit_body(&a.embed, with_chart), files)
                        .await;
                    match self.judge(channel, item, outcome) {
                        Sent::Ok(_) => {}
                        Sent::NoMessage => reply_to = None,
                        Sent::Not(d) => return Ok(d),
                    }
                }
                // The short note replying to the original (with the result itself when
                // the original was a digest, or is gone).
                let note = a.note.clone().unwrap_or_default();
                if state == OutboxState::Sent && reply_to.is_some() {
                    self.post_note(channel, item, &note, reply_to.as_deref())
                        .await
                } else {
                    self.post(
                        channel,
                        item,
                        &a.embed,
                        Some(&note),
                        reply_to.as_deref(),
                        files,
                    )
                    .await
                }
            }
            _ => {
                // A gain pings the roles the channel's admins chose, and nobody else.
                let roles = Self::gain_ping(subscribed, event, gain);
                let pings: Vec<String> = roles.iter().map(|r| format!("<@&{r}>")).collect();
                let content = match (pings.is_empty(), a.note.as_deref()) {
                    (false, Some(n)) => Some(format!("{} {n}", pings.join(" "))),
                    (false, None) => Some(pings.join(" ")),
                    (true, n) => n.map(String::from),
                };
                self.post_pinging(channel, item, &a.embed, content.as_deref(), &roles, files)
                    .await
            }
        };
        Ok(sent.delivery())
    }
}

impl Sent {
    /// The delivery a final answer means. A message to edit that is gone is handled where
    /// an edit is made; a new message never answers so, and were it to, the row is retried.
    fn delivery(self) -> Delivery {
        match self {
            Sent::Ok(mid) => Delivery::Sent(Some(mid)),
            Sent::NoMessage => Delivery::Wait("Discord answered Unknown Message".into()),
            Sent::Not(d) => d,
        }
    }
}
