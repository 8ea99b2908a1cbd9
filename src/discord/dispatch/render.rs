//! Rendering: the JSON bodies of new messages and of edits; an event's or a milestone's
//! announcement with its chart, rendered once per event for every channel it goes to (the
//! dispatcher is Discord's [`Sink`]); the version a correction replaced; and the roles a
//! gain pings.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{Dispatcher, Png, nonce};
use crate::core::changes::EventKind;
use crate::discord::embed::{embed_json, no_mentions};
use crate::format::announce::{Announcement, announcement};
use crate::format::embed::{Embed, limits, truncate};
use crate::format::milestone;
use crate::sinks::Sink;
use crate::store::{Channel, OutboxItem, SinkKind, StoreError, StoredEvent};

impl Dispatcher {
    pub(super) fn message_body(
        &self,
        embed: &Embed,
        content: Option<&str>,
        nonce_key: &str,
        reply_to: Option<&str>,
        with_chart: bool,
    ) -> Value {
        let mut e = embed.clone();
        if with_chart {
            e.image = Some("chart.png".into());
        }
        let mut body = json!({
            "embeds": [embed_json(&e)],
            "allowed_mentions": no_mentions(),
            "nonce": nonce(nonce_key),
            "enforce_nonce": true,
        });
        if let Some(c) = content {
            body["content"] = json!(truncate(c, limits::CONTENT));
        }
        if let Some(m) = reply_to {
            body["message_reference"] = json!({"message_id": m, "fail_if_not_exists": false});
        }
        if with_chart {
            body["attachments"] = json!([{"id": 0, "filename": "chart.png"}]);
        }
        body
    }

    pub(super) fn edit_body(&self, embed: &Embed, with_chart: bool) -> Value {
        let mut e = embed.clone();
        if with_chart {
            e.image = Some("chart.png".into());
        }
        let mut body = json!({
            "embeds": [embed_json(&e)],
            "allowed_mentions": no_mentions(),
        });
        body["attachments"] = if with_chart {
            json!([{"id": 0, "filename": "chart.png"}])
        } else {
            json!([])
        };
        body
    }

    /// The version a correction replaced.
    async fn before(&self, event: &StoredEvent) -> Result<Option<StoredEvent>, StoreError> {
        if event.version > 1 {
            self.store
                .event(event.declaration.id().as_str(), event.version - 1)
                .await
        } else {
            Ok(None)
        }
    }

    /// The roles to ping for an event: on a first declaration or call that is a `gain`,
    /// the roles of `channel`'s subscriptions that want it (chosen by an admin); else none.
    pub(super) fn gain_ping(channel: &Channel, event: &StoredEvent, gain: bool) -> Vec<String> {
        if !gain || !matches!(event.kind, EventKind::Declared | EventKind::Called) {
            return Vec::new();
        }
        channel.roles_for(&event.declaration, gain)
    }

    /// The chart of a declared result, where charts are on (drawing takes milliseconds:
    /// off the runtime's core threads).
    async fn chart(&self, event: &StoredEvent) -> Option<Png> {
        let f = self.chart.as_ref()?;
        if !self.config.charts
            || event.declaration.status != crate::core::model::DeclarationStatus::Declared
        {
            return None;
        }
        let (f, board, declaration, presentation) = (
            f.clone(),
            self.board.clone(),
            event.declaration.clone(),
            self.presentation.clone(),
        );
        tokio::task::spawn_blocking(move || f(&board, &declaration, &presentation).map(Png::from))
            .await
            .ok()
            .flatten()
    }

    /// An event's announcement: against the version it replaced, for a correction.
    async fn announce(&self, event: StoredEvent) -> Result<Announced, StoreError> {
        let before = match event.kind {
            EventKind::Corrected => self.before(&event).await?,
            _ => None,
        };
        let chart = self.chart(&event).await;
        let board = self.board.read();
        let style = self.presentation.style(&board);
        let figures = board.compute(&event.declaration);
        let then = before.map(|b| board.compute(&b.declaration));
        let announcement = announcement(
            event.kind,
            &event.declaration,
            &event.differences,
            &figures,
            then.as_ref(),
            board.race_at(event.seq),
            &style,
        );
        Ok(Announced::Event {
            gain: figures.is_gain(),
            announcement,
            chart,
            event: Box::new(event),
        })
    }

    /// A milestone's announcement: an odd version is the milestone reached, an even one its
    /// undoing by a correction.
    async fn milestone(&self, key: &str, version: u32) -> Result<Option<Announced>, StoreError> {
        let Some(stored) = self.store.milestone(key).await? else {
            return Ok(None);
        };
        let board = self.board.read();
        let style = self.presentation.style(&board);
        let m = &stored.milestone;
        let reached = version % 2 == 1;
        let (embed, note) = if reached {
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
        };
        Ok(Some(Announced::Milestone {
            reached,
            embed,
            note,
        }))
    }
}

/// An outbox row's announcement as Discord shows it, rendered once per event for every
/// channel it goes to.
pub enum Announced {
    Event {
        event: Box<StoredEvent>,
        announcement: Announcement,
        /// The result chart, where there is one.
        chart: Option<Png>,
        /// Whether the result is a gain (which pings the roles channels chose).
        gain: bool,
    },
    Milestone {
        /// Reached (posted), or undone by a correction (edited and answered with `note`).
        reached: bool,
        embed: Embed,
        note: Option<String>,
    },
}

impl Sink for Dispatcher {
    const KIND: SinkKind = SinkKind::Discord;
    type Rendered = Announced;

    async fn render(&self, row: &OutboxItem) -> Result<Option<Announced>, StoreError> {
        if let Some(key) = crate::store::milestones::key_of(&row.constituency_id) {
            return self.milestone(key, row.version).await;
        }
        match self.store.event(&row.constituency_id, row.version).await? {
            Some(event) => Ok(Some(self.announce(event).await?)),
            None => Ok(None),
        }
    }

    fn seen_at(rendered: &Announced) -> Option<DateTime<Utc>> {
        match rendered {
            Announced::Event { event, .. } => Some(event.seen_at),
            Announced::Milestone { .. } => None,
        }
    }

    /// A channel Discord refuses is paused (logged and shown in `/subscriptions`), and the
    /// admin who subscribed it told, once.
    async fn paused(&self, channel: &str, why: &str) -> Result<(), StoreError> {
        if self.store.pause(channel, why).await? {
            tracing::warn!(channel, "subscription paused: {why}");
            self.tell_paused(channel, why).await;
        }
        Ok(())
    }
}
