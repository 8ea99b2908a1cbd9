//! Interactions: the first callback (with its deadline and type rules), followups, and the
//! `@original` and followup messages behind the interaction token.

use std::time::Instant;

use axum::http::Method;
use serde_json::{Value, json};

use super::super::state::{InteractionState, Message, Original, Recorded, snowflake};
use super::super::validate::{self, ApiError, Errs};
use super::messages::{add_pings, apply_body, check_result};
use super::{Answer, Handler, body_object};

/// Which message an interaction webhook route refers to.
enum Target {
    Own,
    Followup(usize),
    Channel(u64),
}

impl Handler<'_> {
    /// `POST /interactions/{id}/{token}/callback`: only the first, only within the deadline,
    /// only a type the interaction allows (command 4/5/9, component 4–7/9, autocomplete 8).
    pub(super) fn callback(&mut self, id: u64, token: &str) -> Answer {
        let deadline = self.shared.cfg.interaction_deadline;
        let it = self
            .st
            .interactions
            .get(&id)
            .filter(|i| i.token == token)
            .ok_or_else(validate::unknown_interaction)?;
        if it.callback.is_some() {
            return Err(validate::already_acknowledged());
        }
        let elapsed = it.dispatched_at.elapsed();
        if elapsed > deadline {
            return Err(validate::unknown_interaction());
        }
        let (kind, channel, focused) = (it.kind, it.channel_id, it.focused_type);
        let component_msg = match it.original {
            Some(Original::Channel(m)) => Some(m),
            _ => None,
        };
        let body = body_object(&self.body)?;
        let mut errs = Errs::default();
        let Some(cb) = body.get("type").and_then(Value::as_u64) else {
            errs.required("type");
            return Err(errs.finish().unwrap_err());
        };
        let allowed: &[u64] = match kind {
            2 => &[4, 5, 9],
            3 => &[4, 5, 6, 7, 9],
            4 => &[8],
            5 => &[4, 5, 6, 7],
            _ => &[1],
        };
        if !allowed.contains(&cb) {
            errs.add(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                format!("Callback type {cb} is not valid for an interaction of type {kind}; use one of {allowed:?}"),
            );
            return Err(errs.finish().unwrap_err());
        }
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        let at = self.shared.since_start();
        let mut original = None;
        match cb {
            4 => {
                if !data.is_object() {
                    errs.required("data");
                    return Err(errs.finish().unwrap_err());
                }
                validate::message(
                    &data,
                    &self.rules(true, validate::REPLY_FLAGS, &[]),
                    &mut errs,
                    "data.",
                );
                errs.finish()?;
                let mut m = Message::new(snowflake(), channel, self.bot(), String::new(), at);
                m.kind = if kind == 2 { 20 } else { 0 };
                m.webhook = true;
                apply_body(&mut m, data.as_object().unwrap(), &self.uploads, true);
                m.nonce = None;
                check_result(&m, "data.")?;
                add_pings(&mut m, None, self.bot());
                original = Some(Original::Own(Box::new(m)));
            }
            5 => {
                let flags = data.get("flags").and_then(Value::as_u64).unwrap_or(0);
                if flags & !64 != 0 {
                    errs.add(
                        "data.flags",
                        "MESSAGE_FLAGS_INVALID",
                        "A deferred response may only set EPHEMERAL (64)",
                    );
                    return Err(errs.finish().unwrap_err());
                }
                let mut m = Message::new(snowflake(), channel, self.bot(), String::new(), at);
                m.kind = if kind == 2 { 20 } else { 0 };
                m.flags = 128 | flags;
                m.loading = true;
                m.webhook = true;
                original = Some(Original::Own(Box::new(m)));
            }
            7 => {
                let target = component_msg.ok_or_else(validate::unknown_message)?;
                let mut m = self
                    .st
                    .find_message(channel, target)
                    .cloned()
                    .ok_or_else(validate::unknown_message)?;
                if !data.is_object() {
                    errs.required("data");
                    return Err(errs.finish().unwrap_err());
                }
                validate::message(
                    &data,
                    &self.rules(false, validate::EDIT_FLAGS, &m.attachments),
                    &mut errs,
                    "data.",
                );
                errs.finish()?;
                apply_body(&mut m, data.as_object().unwrap(), &self.uploads, false);
                check_result(&m, "data.")?;
                if data.get("content").is_some() {
                    add_pings(&mut m, None, self.bot());
                }
                m.edits += 1;
                m.edited_at = Some(at);
                *self.st.find_message_mut(channel, target).unwrap() = m;
            }
            8 => {
                validate::autocomplete_result(&data, focused.unwrap_or(3), &mut errs);
                errs.finish()?;
            }
            9 => {
                validate::modal(&data, &mut errs);
                errs.finish()?;
            }
            _ => {}
        }
        let it = self.st.interactions.get_mut(&id).unwrap();
        it.callback = Some(Recorded {
            kind: cb as u8,
            data,
            elapsed,
            files: self.uploads.clone(),
        });
        if let Some(o) = original {
            it.original = Some(o);
        }
        it.last_change = Instant::now();
        if self.query.split('&').any(|kv| kv == "with_response=true") {
            let it = &self.st.interactions[&id];
            let msg = match &it.original {
                Some(Original::Own(m)) => Some(self.json(m)),
                _ => None,
            };
            return Ok((
                200,
                Some(json!({
                    "interaction": {"id": id.to_string(), "type": kind},
                    "resource": {"type": cb, "message": msg},
                })),
            ));
        }
        Ok((204, None))
    }

    /// The interaction behind a webhook token.
    pub(super) fn by_token(&self, app: u64, token: &str) -> Result<u64, ApiError> {
        if app != self.shared.cfg.application_id {
            return Err(validate::unknown_webhook());
        }
        let id = *self
            .st
            .by_token
            .get(token)
            .ok_or_else(validate::unknown_webhook)?;
        if self.st.interactions[&id].dispatched_at.elapsed() > self.shared.cfg.token_lifetime {
            return Err(validate::invalid_webhook_token());
        }
        Ok(id)
    }

    /// `POST /webhooks/{app}/{token}`: needs an earlier message callback; after a deferral the
    /// first followup becomes the deferred reply, as on Discord.
    pub(super) fn followup(&mut self, app: u64, token: &str) -> Answer {
        let id = self.by_token(app, token)?;
        let it = &self.st.interactions[&id];
        if !it
            .callback
            .as_ref()
            .is_some_and(|c| (4..=7).contains(&c.kind))
        {
            return Err(validate::unknown_webhook());
        }
        let channel = it.channel_id;
        let body = body_object(&self.body)?;
        let mut errs = Errs::default();
        validate::message(
            &Value::Object(body.clone()),
            &self.rules(true, validate::REPLY_FLAGS, &[]),
            &mut errs,
            "",
        );
        errs.finish()?;
        let at = self.shared.since_start();
        // After a deferral, the first followup becomes the "thinking" message.
        let deferred = matches!(&it.original, Some(Original::Own(m)) if m.loading);
        let mut m = match (&it.original, deferred) {
            (Some(Original::Own(m)), true) => (**m).clone(),
            _ => {
                let mut m = Message::new(snowflake(), channel, self.bot(), String::new(), at);
                m.webhook = true;
                m
            }
        };
        let ephemeral_from_defer = m.flags & 64;
        apply_body(&mut m, &body, &self.uploads, true);
        m.nonce = None;
        if deferred {
            m.flags = (m.flags & !128 & !64) | ephemeral_from_defer;
            m.loading = false;
        }
        check_result(&m, "")?;
        add_pings(&mut m, None, self.bot());
        let out = self.json(&m);
        let it = self.st.interactions.get_mut(&id).unwrap();
        if deferred {
            it.original = Some(Original::Own(Box::new(m)));
        } else {
            it.followups.push(m);
        }
        it.last_change = Instant::now();
        Ok((200, Some(out)))
    }

    /// Resolves `@original` or a message id under an interaction token.
    fn target(&self, it: &InteractionState, message: Option<u64>) -> Result<Target, ApiError> {
        let cb = it.callback.as_ref().map(|c| c.kind);
        match (message, &it.original) {
            (None, Some(Original::Own(_))) => Ok(Target::Own),
            (None, Some(Original::Channel(m))) if matches!(cb, Some(6 | 7)) => {
                Ok(Target::Channel(*m))
            }
            (Some(id), Some(Original::Own(m))) if m.id == id => Ok(Target::Own),
            (Some(id), _) => it
                .followups
                .iter()
                .position(|f| f.id == id)
                .map(Target::Followup)
                .ok_or_else(validate::unknown_message),
            _ => Err(validate::unknown_message()),
        }
    }

    /// The message a [`Target`] names, as stored.
    fn target_message(&self, id: u64, t: &Target) -> Option<&Message> {
        let it = &self.st.interactions[&id];
        match t {
            Target::Own => match &it.original {
                Some(Original::Own(m)) => Some(&**m),
                _ => None,
            },
            Target::Followup(i) => it.followups.get(*i),
            Target::Channel(m) => self.st.find_message(it.channel_id, *m),
        }
    }

    /// The message a [`Target`] names, for replacing.
    fn target_mut(&mut self, id: u64, t: &Target) -> &mut Message {
        let channel = self.st.interactions[&id].channel_id;
        match t {
            Target::Channel(m) => self.st.find_message_mut(channel, *m).unwrap(),
            Target::Own => match &mut self.st.interactions.get_mut(&id).unwrap().original {
                Some(Original::Own(m)) => m,
                _ => unreachable!(),
            },
            Target::Followup(i) => &mut self.st.interactions.get_mut(&id).unwrap().followups[*i],
        }
    }

    /// `GET`, `PATCH` and `DELETE` of `@original` or a followup.
    pub(super) fn webhook_message(
        &mut self,
        app: u64,
        token: &str,
        message: Option<u64>,
    ) -> Answer {
        let id = self.by_token(app, token)?;
        let target = self.target(&self.st.interactions[&id], message)?;
        let current = self
            .target_message(id, &target)
            .cloned()
            .ok_or_else(validate::unknown_message)?;
        match self.method.clone() {
            Method::GET => Ok((200, Some(self.json(&current)))),
            Method::DELETE => {
                let it = self.st.interactions.get_mut(&id).unwrap();
                match target {
                    Target::Own => it.original = Some(Original::Deleted),
                    Target::Followup(i) => {
                        it.followups.remove(i);
                    }
                    Target::Channel(m) => {
                        let ch = it.channel_id;
                        self.st.messages.get_mut(&ch).unwrap().retain(|x| x.id != m);
                    }
                }
                self.st.interactions.get_mut(&id).unwrap().last_change = Instant::now();
                Ok((204, None))
            }
            _ => {
                let body = body_object(&self.body)?;
                let mut errs = Errs::default();
                validate::message(
                    &Value::Object(body.clone()),
                    &self.rules(false, validate::EDIT_FLAGS, &current.attachments),
                    &mut errs,
                    "",
                );
                errs.finish()?;
                let mut m = current;
                let was_loading = m.loading;
                apply_body(&mut m, &body, &self.uploads, false);
                if was_loading {
                    m.loading = false;
                    m.flags &= !128;
                }
                check_result(&m, "")?;
                if body.contains_key("content") {
                    add_pings(&mut m, None, self.bot());
                }
                if !was_loading {
                    m.edits += 1;
                    m.edited_at = Some(self.shared.since_start());
                }
                let out = self.json(&m);
                *self.target_mut(id, &target) = m;
                self.st.interactions.get_mut(&id).unwrap().last_change = Instant::now();
                Ok((200, Some(out)))
            }
        }
    }
}
