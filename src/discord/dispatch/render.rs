//! Rendering: the JSON bodies of new messages and of edits, an event's announcement with its
//! chart (drawn once per event and shared by every channel it goes to), the version a
//! correction replaced, and the role a gain pings.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Dispatcher, Png, nonce};
use crate::core::changes::EventKind;
use crate::discord::embed::{embed_json, no_mentions};
use crate::format::announce::announcement;
use crate::format::embed::{Embed, limits, truncate};
use crate::store::{StoreError, StoredEvent};

/// How many recent charts are kept for the channels still to receive them.
const CHART_CACHE: usize = 64;

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

    pub(super) async fn render(
        &self,
        event: &StoredEvent,
    ) -> (crate::format::announce::Announcement, Option<Png>) {
        let chart = match &self.chart {
            Some(f)
                if self.config.charts
                    && event.declaration.status
                        == crate::core::model::DeclarationStatus::Declared =>
            {
                // One drawing per event, shared by every channel it goes to: the first
                // channel draws it, the others wait for that drawing rather than repeat it.
                let key = (event.declaration.id().to_string(), event.version);
                let cell = {
                    let mut cache = Self::lock(&self.charts);
                    match cache.iter().find(|(k, _)| *k == key) {
                        Some((_, cell)) => cell.clone(),
                        None => {
                            if cache.len() >= CHART_CACHE {
                                cache.pop_front();
                            }
                            let cell = Arc::new(tokio::sync::OnceCell::new());
                            cache.push_back((key, cell.clone()));
                            cell
                        }
                    }
                };
                cell.get_or_init(|| async {
                    // Drawing takes milliseconds: off the runtime's core threads.
                    let (f, board, declaration, presentation) = (
                        f.clone(),
                        self.board.clone(),
                        event.declaration.clone(),
                        self.presentation.clone(),
                    );
                    tokio::task::spawn_blocking(move || {
                        f(&board, &declaration, &presentation).map(Arc::new)
                    })
                    .await
                    .ok()
                    .flatten()
                })
                .await
                .clone()
            }
            _ => None,
        };
        let board = self.board.read();
        let style = self.presentation.style(&board);
        let figures = board.compute(&event.declaration);
        let a = announcement(
            event.kind,
            &event.declaration,
            &event.differences,
            &figures,
            None,
            board.race_at(event.seq),
            &style,
        );
        (a, chart)
    }

    pub(super) async fn before(
        &self,
        event: &StoredEvent,
    ) -> Result<Option<StoredEvent>, StoreError> {
        if event.version > 1 {
            self.store
                .event(event.declaration.id().as_str(), event.version - 1)
                .await
        } else {
            Ok(None)
        }
    }

    /// The roles to ping for an event: on a first declaration or call that is a gain, the
    /// roles of the channel's subscriptions that want it (chosen by an admin); else none.
    pub(super) async fn gain_ping(
        &self,
        channel: &str,
        event: &StoredEvent,
    ) -> Result<Vec<String>, StoreError> {
        if !matches!(event.kind, EventKind::Declared | EventKind::Called) {
            return Ok(Vec::new());
        }
        let gain = {
            let board = self.board.read();
            board.compute(&event.declaration).is_gain()
        };
        if !gain {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .channel(channel)
            .await?
            .map(|c| c.roles_for(&event.declaration, gain))
            .unwrap_or_default())
    }
}
