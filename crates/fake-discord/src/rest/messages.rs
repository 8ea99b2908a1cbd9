//! Channel messages: create (with replies, nonces, uploads), get, list, edit and delete; and
//! the body rules shared with interaction replies (attachments, emptiness, pings).

use std::time::Instant;

use serde_json::{Map, Value};

use super::super::state::{Attachment, Message, snowflake};
use super::super::validate::{self, ApiError, Errs};
use super::super::{ChannelState, mentions};
use super::{Answer, Handler, body_object};

/// Applies a create or edit body to `m`; attachments: on create every upload; on edit the
/// kept ones (all, unless `attachments` lists which) plus the uploads. Metadata entries in
/// `attachments` (id = upload index) can rename a file and describe it.
pub(super) fn apply_body(
    m: &mut Message,
    body: &Map<String, Value>,
    uploads: &[Attachment],
    create: bool,
) {
    if let Some(c) = body.get("content") {
        m.content = c.as_str().unwrap_or("").to_string();
    }
    if let Some(e) = body.get("embeds") {
        m.embeds = e.as_array().cloned().unwrap_or_default();
    }
    if let Some(c) = body.get("components") {
        m.components = c.as_array().cloned().unwrap_or_default();
    }
    if let Some(f) = body.get("flags").and_then(Value::as_u64) {
        if create {
            m.flags |= f;
        } else {
            m.flags = (m.flags & !validate::EDIT_FLAGS) | (f & validate::EDIT_FLAGS);
        }
    }
    if create {
        m.tts = body.get("tts").and_then(Value::as_bool).unwrap_or(false);
        m.nonce = body.get("nonce").filter(|v| !v.is_null()).cloned();
    }
    if let Some(am) = body.get("allowed_mentions") {
        m.allowed_mentions = Some(am.clone()).filter(|v| !v.is_null());
    } else if create || body.contains_key("content") {
        m.allowed_mentions = None;
    }
    let meta: Vec<&Map<String, Value>> = body
        .get("attachments")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let meta_id = |o: &Map<String, Value>| match o.get("id") {
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(v) => v.as_u64(),
        None => None,
    };
    if body.get("attachments").is_some_and(|v| !v.is_null()) {
        m.attachments
            .retain(|a| meta.iter().any(|o| meta_id(o) == Some(a.id)));
    }
    for u in uploads {
        let md = meta.iter().find(|o| meta_id(o) == Some(u.id));
        let mut a = u.clone();
        a.id = snowflake();
        if let Some(name) = md.and_then(|o| o.get("filename")).and_then(Value::as_str) {
            a.filename = name.to_string();
        }
        a.description = md
            .and_then(|o| o.get("description"))
            .and_then(Value::as_str)
            .map(str::to_string);
        m.attachments.push(a);
    }
}

/// The checks that need the whole resulting message: not empty, `attachment://` resolved.
pub(super) fn check_result(m: &Message, prefix: &str) -> Result<(), ApiError> {
    if m.is_empty() {
        return Err(validate::empty_message());
    }
    let names: Vec<String> = m.attachments.iter().map(|a| a.filename.clone()).collect();
    validate::unresolved_attachments(&m.embeds, &names, prefix).finish()
}

pub(super) fn add_pings(m: &mut Message, replied: Option<u64>, author: u64) {
    if m.flags & 64 != 0 {
        return; // ephemeral: notifies nobody
    }
    for p in mentions::pinged(&m.content, m.allowed_mentions.as_ref(), replied, author) {
        if !m.pinged.contains(&p) {
            m.pinged.push(p);
        }
    }
}

impl Handler<'_> {
    /// 404 10003 for an unknown channel; the injected [`ChannelState`]s otherwise.
    pub(super) fn channel_access(&self, channel: u64, send: bool) -> Result<(), ApiError> {
        let c = self
            .st
            .channels
            .get(&channel)
            .ok_or_else(validate::unknown_channel)?;
        if !matches!(c.kind, 0 | 5) && send {
            return Err(validate::non_text_channel());
        }
        match c.state {
            ChannelState::Ok => Ok(()),
            ChannelState::Missing => Err(validate::unknown_channel().injected()),
            ChannelState::Forbidden => Err(validate::missing_access().injected()),
            ChannelState::NoPermission if send => Err(validate::missing_permissions().injected()),
            ChannelState::NoPermission => Ok(()),
        }
    }

    /// `GET /channels/{id}/messages`: `limit` 1–100 (default 50), newest first, and at most
    /// one of `before`, `after` (the oldest messages after that id) or `around`. Nonces are
    /// not returned: Discord does not keep them.
    pub(super) fn list_messages(&mut self, c: u64) -> Answer {
        self.channel_access(c, false)?;
        let mut errs = Errs::default();
        let mut limit = 50usize;
        let mut anchor: Option<(&str, u64)> = None;
        for (k, v) in self.query.split('&').filter_map(|kv| kv.split_once('=')) {
            match k {
                "limit" => match v.parse::<usize>() {
                    Ok(n) if (1..=100).contains(&n) => limit = n,
                    _ => errs.add(
                        "limit",
                        "NUMBER_TYPE_MAX",
                        "Int value should be between 1 and 100.",
                    ),
                },
                "before" | "after" | "around" => match v.parse::<u64>() {
                    Ok(id) if anchor.is_none() => anchor = Some((k, id)),
                    Ok(_) => errs.add(
                        k,
                        "BASE_TYPE_INVALID",
                        "Only one of before, after and around may be passed.",
                    ),
                    Err(_) => errs.add(
                        k,
                        "NUMBER_TYPE_COERCE",
                        format!("Value \"{v}\" is not snowflake."),
                    ),
                },
                _ => {}
            }
        }
        errs.finish()?;
        let all: &[Message] = self.st.messages.get(&c).map_or(&[], Vec::as_slice);
        let picked: Vec<&Message> = match anchor {
            None => all.iter().rev().take(limit).collect(),
            Some(("before", id)) => all.iter().rev().filter(|m| m.id < id).take(limit).collect(),
            Some(("after", id)) => {
                let mut v: Vec<&Message> = all.iter().filter(|m| m.id > id).take(limit).collect();
                v.reverse();
                v
            }
            Some((_, id)) => {
                let at = all.partition_point(|m| m.id < id);
                let from = at.saturating_sub(limit / 2);
                let mut v: Vec<&Message> = all.iter().skip(from).take(limit).collect();
                v.reverse();
                v
            }
        };
        let list: Vec<Value> = picked.into_iter().map(|m| self.stored_json(m)).collect();
        Ok((200, Some(Value::Array(list))))
    }

    /// `POST /channels/{id}/messages`: the body rules, replies, `enforce_nonce`, uploads.
    pub(super) fn create_message(&mut self, c: u64) -> Answer {
        self.channel_access(c, true)?;
        if self.body.is_none() && self.uploads.is_empty() {
            return Err(validate::empty_message());
        }
        let body = body_object(&self.body)?;
        let mut errs = Errs::default();
        validate::message(
            &Value::Object(body.clone()),
            &self.rules(true, validate::CREATE_FLAGS, &[]),
            &mut errs,
            "",
        );
        errs.finish()?;
        if body
            .get("sticker_ids")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty())
        {
            return Err(ApiError::new(400, 10060, "Unknown Sticker"));
        }
        // A reply must point at a message in this channel, unless fail_if_not_exists: false.
        let mut reference = body
            .get("message_reference")
            .filter(|v| !v.is_null())
            .cloned();
        let mut replied = None;
        if let Some(r) = &reference {
            let target = r["message_id"]
                .as_str()
                .and_then(|s| s.parse::<u64>().ok())
                .or_else(|| r["message_id"].as_u64());
            let same_channel = r
                .get("channel_id")
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
                .is_none_or(|ch| ch == c.to_string());
            let found = target
                .filter(|_| same_channel)
                .and_then(|t| self.st.find_message(c, t));
            match found {
                Some(m) => replied = Some(m.author_id),
                None if r["fail_if_not_exists"] == false => reference = None,
                None => {
                    let mut errs = Errs::default();
                    errs.add(
                        "message_reference",
                        "REPLIES_UNKNOWN_MESSAGE",
                        "Unknown message",
                    );
                    return Err(errs.finish().unwrap_err());
                }
            }
        }
        // enforce_nonce: the same nonce from the bot in this channel recently → that message.
        let nonce_key = body
            .get("nonce")
            .filter(|_| body.get("enforce_nonce") == Some(&Value::Bool(true)))
            .and_then(|n| match n {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .map(|n| (c, self.bot(), n));
        if let Some(key) = &nonce_key
            && let Some((id, when)) = self.st.nonces.get(key)
            && when.elapsed() < self.shared.cfg.nonce_window
            && let Some(existing) = self.st.find_message(c, *id)
        {
            return Ok((200, Some(self.json(existing))));
        }
        let mut m = Message::new(
            snowflake(),
            c,
            self.bot(),
            String::new(),
            self.shared.since_start(),
        );
        apply_body(&mut m, &body, &self.uploads, true);
        m.message_reference = reference.clone();
        m.kind = if reference.is_some() { 19 } else { 0 };
        check_result(&m, "")?;
        add_pings(&mut m, replied, self.bot());
        if let Some(key) = nonce_key {
            self.st.nonces.insert(key, (m.id, Instant::now()));
        }
        let out = self.json(&m);
        self.st.messages.entry(c).or_default().push(m);
        Ok((200, Some(out)))
    }

    /// `PATCH /channels/{id}/messages/{id}`: only the bot's own messages (else 50005).
    pub(super) fn edit_message(&mut self, c: u64, id: u64) -> Answer {
        self.channel_access(c, false)?;
        let mut m = self
            .st
            .find_message(c, id)
            .cloned()
            .ok_or_else(validate::unknown_message)?;
        if m.author_id != self.bot() {
            return Err(validate::not_author());
        }
        let body = body_object(&self.body)?;
        let mut errs = Errs::default();
        validate::message(
            &Value::Object(body.clone()),
            &self.rules(false, validate::EDIT_FLAGS, &m.attachments),
            &mut errs,
            "",
        );
        errs.finish()?;
        apply_body(&mut m, &body, &self.uploads, false);
        check_result(&m, "")?;
        if body.contains_key("content") {
            let replied = m
                .message_reference
                .as_ref()
                .and_then(|r| r["message_id"].as_str().and_then(|s| s.parse().ok()))
                .and_then(|r| self.st.find_message(c, r))
                .map(|r| r.author_id);
            add_pings(&mut m, replied, self.bot());
        }
        m.edits += 1;
        m.edited_at = Some(self.shared.since_start());
        let out = self.json(&m);
        *self.st.find_message_mut(c, id).unwrap() = m;
        Ok((200, Some(out)))
    }

    /// `DELETE /channels/{id}/messages/{id}`: the bot's own messages (else 50013).
    pub(super) fn delete_message(&mut self, c: u64, id: u64) -> Answer {
        self.channel_access(c, false)?;
        let m = self
            .st
            .find_message(c, id)
            .ok_or_else(validate::unknown_message)?;
        if m.author_id != self.bot() {
            return Err(validate::missing_permissions());
        }
        self.st.messages.get_mut(&c).unwrap().retain(|m| m.id != id);
        Ok((204, None))
    }

    /// `POST /channels/{c}/messages/{m}/crosspost`: publishes a message of an announcement
    /// channel to the channels following it. Only in an announcement channel (50024
    /// otherwise), once per message (40033), and the bot's own messages only (others'
    /// need Manage Messages, which the fake never grants).
    pub(super) fn crosspost(&mut self, c: u64, m: u64) -> Answer {
        self.channel_access(c, true)?;
        if self.st.channels.get(&c).map(|i| i.kind) != Some(5) {
            return Err(ApiError::new(
                400,
                50024,
                "Cannot execute action on this channel type",
            ));
        }
        let me = self.shared.cfg.bot_user_id;
        let msg = self
            .st
            .messages
            .get_mut(&c)
            .and_then(|ms| ms.iter_mut().find(|x| x.id == m))
            .ok_or_else(validate::unknown_message)?;
        if msg.author_id != me {
            return Err(validate::missing_permissions());
        }
        if msg.flags & 1 != 0 {
            return Err(ApiError::new(
                400,
                40033,
                "This message has already been crossposted.",
            ));
        }
        msg.flags |= 1;
        self.st.crossposts.push((c, m));
        let msg = self
            .st
            .find_message(c, m)
            .ok_or_else(validate::unknown_message)?;
        Ok((200, Some(self.stored_json(msg))))
    }
}
