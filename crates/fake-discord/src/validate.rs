//! Discord's limits and error shapes: message bodies, embeds, components, allowed mentions,
//! application commands, autocomplete choices and modals.
//!
//! Form errors are collected as `(path, code, message)` and answered all at once as
//! `400 {"code": 50035, "message": "Invalid Form Body", "errors": {path…: {"_errors": […]}}}`.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::state::{Attachment, Outcome};

/// An error answer: status, Discord's JSON body, and how to classify it.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub body: Value,
    pub outcome: Outcome,
}

impl ApiError {
    /// A rule violation: `{"message": message, "code": code}`.
    pub fn new(status: u16, code: u64, message: &str) -> Self {
        ApiError {
            status,
            body: json!({"message": message, "code": code}),
            outcome: Outcome::Rejected,
        }
    }

    /// The same answer, but caused by a condition the test injected.
    pub fn injected(mut self) -> Self {
        self.outcome = Outcome::Injected;
        self
    }
}

pub fn unauthorized() -> ApiError {
    ApiError::new(401, 0, "401: Unauthorized")
}
pub fn not_found() -> ApiError {
    ApiError::new(404, 0, "404: Not Found")
}
pub fn method_not_allowed() -> ApiError {
    ApiError::new(405, 0, "405: Method Not Allowed")
}
pub fn unknown_channel() -> ApiError {
    ApiError::new(404, 10003, "Unknown Channel")
}
pub fn unknown_message() -> ApiError {
    ApiError::new(404, 10008, "Unknown Message")
}
pub fn unknown_webhook() -> ApiError {
    ApiError::new(404, 10015, "Unknown Webhook")
}
pub fn unknown_command() -> ApiError {
    ApiError::new(404, 10063, "Unknown application command")
}
pub fn unknown_interaction() -> ApiError {
    ApiError::new(404, 10062, "Unknown interaction")
}
pub fn already_acknowledged() -> ApiError {
    ApiError::new(400, 40060, "Interaction has already been acknowledged.")
}
pub fn missing_access() -> ApiError {
    ApiError::new(403, 50001, "Missing Access")
}
pub fn non_text_channel() -> ApiError {
    ApiError::new(400, 50008, "Cannot send messages in a non-text channel")
}
pub fn missing_permissions() -> ApiError {
    ApiError::new(403, 50013, "Missing Permissions")
}
pub fn not_author() -> ApiError {
    ApiError::new(403, 50005, "Cannot edit a message authored by another user")
}
pub fn empty_message() -> ApiError {
    ApiError::new(400, 50006, "Cannot send an empty message")
}
pub fn invalid_json() -> ApiError {
    ApiError::new(400, 50109, "The request body contains invalid JSON.")
}
pub fn too_large() -> ApiError {
    ApiError::new(413, 40005, "Request entity too large")
}
pub fn invalid_webhook_token() -> ApiError {
    ApiError::new(401, 50027, "Invalid Webhook Token")
}

/// Collected form errors.
#[derive(Default)]
pub struct Errs(Vec<(String, &'static str, String)>);

/// Joins a path prefix and a key (`"data."` + `"content"`).
pub fn at(prefix: &str, key: impl std::fmt::Display) -> String {
    format!("{prefix}{key}")
}

impl Errs {
    pub fn add(&mut self, path: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.0.push((path.into(), code, message.into()));
    }

    /// `s` must be at most `max` characters.
    pub fn max_len(&mut self, path: impl Into<String>, s: &str, max: usize) {
        if s.chars().count() > max {
            self.add(
                path,
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {max} or fewer in length."),
            );
        }
    }

    /// `s` must be `min..=max` characters.
    pub fn len_between(&mut self, path: impl Into<String>, s: &str, min: usize, max: usize) {
        let n = s.chars().count();
        if n < min || n > max {
            self.add(
                path,
                "BASE_TYPE_BAD_LENGTH",
                format!("Must be between {min} and {max} in length."),
            );
        }
    }

    /// A required string field: present, a string, `min..=max` characters.
    pub fn req_str(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        key: &str,
        min: usize,
        max: usize,
    ) {
        match obj.get(key) {
            None | Some(Value::Null) => self.required(at(prefix, key)),
            Some(Value::String(s)) => self.len_between(at(prefix, key), s, min, max),
            Some(v) => self.not_string(at(prefix, key), v),
        }
    }

    /// An optional string field of at most `max` characters.
    pub fn opt_str(&mut self, obj: &Map<String, Value>, prefix: &str, key: &str, max: usize) {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => self.max_len(at(prefix, key), s, max),
            Some(v) => self.not_string(at(prefix, key), v),
        }
    }

    pub fn required(&mut self, path: impl Into<String>) {
        self.add(path, "BASE_TYPE_REQUIRED", "This field is required");
    }

    fn not_string(&mut self, path: String, v: &Value) {
        self.add(
            path,
            "STRING_TYPE_CONVERT",
            format!("Could not interpret \"{v}\" as string."),
        );
    }

    fn not_object(&mut self, path: String) {
        self.add(
            path,
            "DICT_TYPE_CONVERT",
            "Only dictionaries may be used in a DictType",
        );
    }

    fn not_array(&mut self, path: String) {
        self.add(
            path,
            "LIST_TYPE_CONVERT",
            "Only iterables may be used in a ListType",
        );
    }

    fn choices(&mut self, path: String, allowed: &str) {
        self.add(
            path,
            "BASE_TYPE_CHOICES",
            format!("Value must be one of {allowed}."),
        );
    }

    /// `Ok` if nothing was collected, else the 50035 answer.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut root = Value::Object(Map::new());
        for (path, code, message) in self.0 {
            let mut node = &mut root;
            for key in path.split('.').filter(|k| !k.is_empty()) {
                node = node
                    .as_object_mut()
                    .unwrap()
                    .entry(key.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
            }
            let list = node
                .as_object_mut()
                .unwrap()
                .entry("_errors")
                .or_insert_with(|| Value::Array(Vec::new()));
            list.as_array_mut()
                .unwrap()
                .push(json!({"code": code, "message": message}));
        }
        Err(ApiError {
            status: 400,
            body: json!({"code": 50035, "message": "Invalid Form Body", "errors": root}),
            outcome: Outcome::Rejected,
        })
    }
}

/// Message flags a bot may set when creating a channel message.
pub const CREATE_FLAGS: u64 = 4 | 4096 | 8192 | 32768;
/// Flags an interaction reply or followup may set (suppress embeds, ephemeral, suppress
/// notifications, components v2).
pub const REPLY_FLAGS: u64 = 4 | 64 | 4096 | 32768;
/// Flags an edit may change.
pub const EDIT_FLAGS: u64 = 4 | 32768;

/// What a message body is checked against.
pub struct MsgRules<'a> {
    /// A create (vs an edit, where only fields present are checked).
    pub create: bool,
    pub allowed_flags: u64,
    /// Files uploaded with this request, `id` = the `n` of `files[n]`.
    pub uploads: &'a [Attachment],
    /// Attachments the message already has (edits).
    pub existing: &'a [Attachment],
}

fn is_snowflake(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()),
        Value::Number(n) => n.as_u64().is_some(),
        _ => false,
    }
}

/// Checks a message body (create or edit, channel or interaction) under `prefix`.
/// Emptiness (50006), `attachment://` targets and replies need the resulting message or the
/// channel, and are checked by the caller.
pub fn message(body: &Value, rules: &MsgRules, errs: &mut Errs, prefix: &str) {
    let Some(obj) = body.as_object() else {
        errs.not_object(prefix.trim_end_matches('.').to_string());
        return;
    };
    match obj.get("content") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => errs.max_len(at(prefix, "content"), s, 2000),
        Some(v) => errs.not_string(at(prefix, "content"), v),
    }
    match obj.get("embeds") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => embeds(list, errs, &at(prefix, "embeds")),
        Some(_) => errs.not_array(at(prefix, "embeds")),
    }
    if obj.contains_key("embed") {
        errs.add(
            at(prefix, "embed"),
            "UNKNOWN_FIELD",
            "The singular `embed` field was removed in API v10; use `embeds`",
        );
    }
    if let Some(am) = obj.get("allowed_mentions").filter(|v| !v.is_null()) {
        allowed_mentions(am, errs, &at(prefix, "allowed_mentions"));
    }
    match obj.get("nonce") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => errs.max_len(at(prefix, "nonce"), s, 25),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {}
        Some(_) => errs.add(
            at(prefix, "nonce"),
            "BASE_TYPE_INVALID",
            "Nonce must be an integer or a string",
        ),
    }
    for key in ["enforce_nonce", "tts"] {
        if let Some(v) = obj.get(key).filter(|v| !v.is_null() && !v.is_boolean()) {
            errs.add(
                at(prefix, key),
                "BOOLEAN_TYPE_CONVERT",
                format!("Could not interpret \"{v}\" as boolean."),
            );
        }
    }
    if let Some(f) = obj.get("flags").filter(|v| !v.is_null()) {
        match f.as_u64() {
            Some(bits) if bits & !rules.allowed_flags == 0 => {}
            _ => errs.add(
                at(prefix, "flags"),
                "MESSAGE_FLAGS_INVALID",
                format!(
                    "Invalid flags: only {} may be set here",
                    rules.allowed_flags
                ),
            ),
        }
    }
    let v2 = obj.get("flags").and_then(Value::as_u64).unwrap_or(0) & 32768 != 0;
    match obj.get("components") {
        None | Some(Value::Null) => {}
        Some(Value::Array(rows)) if !v2 => components(rows, errs, &at(prefix, "components"), false),
        Some(Value::Array(_)) => {}
        Some(_) => errs.not_array(at(prefix, "components")),
    }
    if let Some(s) = obj.get("sticker_ids").and_then(Value::as_array)
        && s.len() > 3
    {
        errs.max_len_list(at(prefix, "sticker_ids"), 3);
    }
    if let Some(r) = obj.get("message_reference").filter(|v| !v.is_null()) {
        match r.as_object() {
            None => errs.not_object(at(prefix, "message_reference")),
            Some(r) => {
                if r.get("message_id").is_some_and(|m| !is_snowflake(m)) {
                    errs.add(
                        at(prefix, "message_reference.message_id"),
                        "NUMBER_TYPE_COERCE",
                        "Value is not snowflake.",
                    );
                }
            }
        }
    }
    match obj.get("attachments") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (i, a) in list.iter().enumerate() {
                let p = at(prefix, format!("attachments.{i}."));
                let Some(a) = a.as_object() else {
                    errs.not_object(p.trim_end_matches('.').to_string());
                    continue;
                };
                let id = a.get("id").and_then(|v| match v {
                    Value::String(s) => s.parse::<u64>().ok(),
                    v => v.as_u64(),
                });
                let known = id.is_some_and(|id| {
                    rules.uploads.iter().any(|u| u.id == id)
                        || rules.existing.iter().any(|e| e.id == id)
                });
                if !known {
                    errs.add(
                        at(&p, "id"),
                        "ATTACHMENT_NOT_FOUND",
                        "Attachment id must refer to a file uploaded as files[n] or an existing attachment",
                    );
                }
                errs.opt_str(a, &p, "description", 1024);
                errs.opt_str(a, &p, "filename", 1024);
            }
        }
        Some(_) => errs.not_array(at(prefix, "attachments")),
    }
    if rules.uploads.len()
        + if rules.create {
            0
        } else {
            rules.existing.len()
        }
        > 10
    {
        errs.add(
            at(prefix, "files"),
            "BASE_TYPE_MAX_LENGTH",
            "Must be 10 or fewer in length.",
        );
    }
}

impl Errs {
    fn max_len_list(&mut self, path: String, max: usize) {
        self.add(
            path,
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        );
    }
}

fn embeds(list: &[Value], errs: &mut Errs, path: &str) {
    if list.len() > 10 {
        errs.max_len_list(path.to_string(), 10);
    }
    let mut total = 0;
    for (i, e) in list.iter().enumerate() {
        total += embed(e, errs, &format!("{path}.{i}."));
    }
    if total > 6000 {
        errs.add(
            path,
            "MAX_EMBED_SIZE_EXCEEDED",
            "Embed size exceeds maximum size of 6000",
        );
    }
}

fn url_ok(s: &str) -> bool {
    ["http://", "https://", "attachment://"]
        .iter()
        .any(|p| s.starts_with(p) && s.len() > p.len())
}

fn check_url(obj: &Map<String, Value>, prefix: &str, key: &str, errs: &mut Errs, required: bool) {
    match obj.get(key) {
        None | Some(Value::Null) if required => errs.required(at(prefix, key)),
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if url_ok(s) && s.chars().count() <= 2048 => {}
        Some(_) => errs.add(
            at(prefix, key),
            "URL_TYPE_INVALID_URL",
            "Not a well formed URL.",
        ),
    }
}

fn chars(v: Option<&Value>) -> usize {
    v.and_then(Value::as_str).map_or(0, |s| s.chars().count())
}

/// Checks one embed; returns its size in characters (title, description, field names and
/// values, footer text, author name).
fn embed(e: &Value, errs: &mut Errs, p: &str) -> usize {
    let Some(o) = e.as_object() else {
        errs.not_object(p.trim_end_matches('.').to_string());
        return 0;
    };
    errs.opt_str(o, p, "title", 256);
    errs.opt_str(o, p, "description", 4096);
    check_url(o, p, "url", errs, false);
    let mut size = chars(o.get("title")) + chars(o.get("description"));
    if let Some(c) = o.get("color").filter(|v| !v.is_null())
        && c.as_u64().is_none_or(|c| c > 0xFF_FFFF)
    {
        errs.add(
            at(p, "color"),
            "NUMBER_TYPE_MAX",
            "int value should be less than or equal to 16777215.",
        );
    }
    if let Some(t) = o.get("timestamp").and_then(Value::as_str)
        && chrono::DateTime::parse_from_rfc3339(t).is_err()
    {
        errs.add(
            at(p, "timestamp"),
            "DATE_TIME_TYPE_PARSE",
            format!("Could not parse {t}. Should be ISO8601."),
        );
    }
    match o.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Array(fields)) => {
            if fields.len() > 25 {
                errs.max_len_list(at(p, "fields"), 25);
            }
            for (i, f) in fields.iter().enumerate() {
                let fp = format!("{p}fields.{i}.");
                let Some(fo) = f.as_object() else {
                    errs.not_object(fp.trim_end_matches('.').to_string());
                    continue;
                };
                errs.req_str(fo, &fp, "name", 1, 256);
                errs.req_str(fo, &fp, "value", 1, 1024);
                size += chars(fo.get("name")) + chars(fo.get("value"));
            }
        }
        Some(_) => errs.not_array(at(p, "fields")),
    }
    if let Some(f) = o.get("footer").filter(|v| !v.is_null()) {
        match f.as_object() {
            Some(fo) => {
                let fp = at(p, "footer.");
                errs.req_str(fo, &fp, "text", 1, 2048);
                check_url(fo, &fp, "icon_url", errs, false);
                size += chars(fo.get("text"));
            }
            None => errs.not_object(at(p, "footer")),
        }
    }
    if let Some(a) = o.get("author").filter(|v| !v.is_null()) {
        match a.as_object() {
            Some(ao) => {
                let ap = at(p, "author.");
                errs.req_str(ao, &ap, "name", 1, 256);
                check_url(ao, &ap, "url", errs, false);
                check_url(ao, &ap, "icon_url", errs, false);
                size += chars(ao.get("name"));
            }
            None => errs.not_object(at(p, "author")),
        }
    }
    for key in ["image", "thumbnail"] {
        if let Some(m) = o.get(key).filter(|v| !v.is_null()) {
            match m.as_object() {
                Some(mo) => check_url(mo, &at(p, format!("{key}.")), "url", errs, true),
                None => errs.not_object(at(p, key)),
            }
        }
    }
    size
}

/// Every `attachment://NAME` URL in `embeds` whose NAME is not among `names`, with its path.
pub fn unresolved_attachments(embeds: &[Value], names: &[String], prefix: &str) -> Errs {
    let mut errs = Errs::default();
    for (i, e) in embeds.iter().enumerate() {
        let spots = [
            ("image", "url"),
            ("thumbnail", "url"),
            ("author", "icon_url"),
            ("footer", "icon_url"),
        ];
        for (obj, key) in spots {
            if let Some(name) = e[obj][key]
                .as_str()
                .and_then(|u| u.strip_prefix("attachment://"))
                && !names.iter().any(|n| n == name)
            {
                errs.add(
                    format!("{prefix}embeds.{i}.{obj}.{key}"),
                    "UNRESOLVED_ATTACHMENT",
                    format!("attachment://{name} does not match any attachment of the message"),
                );
            }
        }
    }
    errs
}

fn allowed_mentions(v: &Value, errs: &mut Errs, p: &str) {
    let Some(o) = v.as_object() else {
        errs.not_object(p.to_string());
        return;
    };
    let parse: Vec<&str> = match o.get("parse") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(_) => {
            errs.not_array(format!("{p}.parse"));
            Vec::new()
        }
    };
    for (i, x) in parse.iter().enumerate() {
        if !["users", "roles", "everyone"].contains(x) {
            errs.choices(format!("{p}.parse.{i}"), "('roles', 'users', 'everyone')");
        }
    }
    for key in ["users", "roles"] {
        match o.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                if a.len() > 100 {
                    errs.max_len_list(format!("{p}.{key}"), 100);
                }
                if a.iter().any(|x| !is_snowflake(x)) {
                    errs.add(
                        format!("{p}.{key}"),
                        "NUMBER_TYPE_COERCE",
                        "Value is not snowflake.",
                    );
                }
                if !a.is_empty() && parse.contains(&key) {
                    errs.add(
                        p,
                        "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                        format!("parse:[\"{key}\"] and {key}: [ids...] are mutually exclusive."),
                    );
                }
            }
            Some(_) => errs.not_array(format!("{p}.{key}")),
        }
    }
}

/// Message components (action rows of buttons and selects), or a modal's text inputs.
fn components(rows: &[Value], errs: &mut Errs, p: &str, modal: bool) {
    if rows.len() > 5 {
        errs.max_len_list(p.to_string(), 5);
    }
    let mut ids = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let rp = format!("{p}.{i}.");
        if row["type"] == 18 && modal {
            continue; // label component (newer modals): accepted as is
        }
        if row["type"] != 1 {
            errs.add(
                at(&rp, "type"),
                "COMPONENT_LAYOUT_INVALID",
                "Top-level components must be action rows (type 1)",
            );
            continue;
        }
        let Some(children) = row["components"].as_array() else {
            errs.required(at(&rp, "components"));
            continue;
        };
        let max = if modal { 1 } else { 5 };
        if children.is_empty() || children.len() > max {
            errs.add(
                at(&rp, "components"),
                "BASE_TYPE_BAD_LENGTH",
                format!("Must be between 1 and {max} in length."),
            );
        }
        let is_select = |c: &Value| matches!(c["type"].as_u64(), Some(3 | 5..=8));
        if children.len() > 1 && children.iter().any(is_select) {
            errs.add(
                at(&rp, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "A select menu must be alone in its action row",
            );
        }
        for (j, c) in children.iter().enumerate() {
            let cp = format!("{rp}components.{j}.");
            let Some(co) = c.as_object() else {
                errs.not_object(cp.trim_end_matches('.').to_string());
                continue;
            };
            if let Some(id) = co.get("custom_id").and_then(Value::as_str)
                && !ids.insert(id.to_string())
            {
                errs.add(
                    at(&cp, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                );
            }
            match (co.get("type").and_then(Value::as_u64), modal) {
                (Some(2), false) => {
                    let style = co.get("style").and_then(Value::as_u64).unwrap_or(0);
                    if !(1..=6).contains(&style) {
                        errs.choices(at(&cp, "style"), "(1, 2, 3, 4, 5, 6)");
                    }
                    errs.opt_str(co, &cp, "label", 80);
                    if style == 5 {
                        check_url(co, &cp, "url", errs, true);
                        if co.contains_key("custom_id") {
                            errs.add(
                                at(&cp, "custom_id"),
                                "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                                "A link button cannot have a custom id",
                            );
                        }
                    } else if style != 6 {
                        errs.req_str(co, &cp, "custom_id", 1, 100);
                        if co.contains_key("url") {
                            errs.add(
                                at(&cp, "url"),
                                "BUTTON_COMPONENT_URL_NOT_ALLOWED",
                                "Only link buttons can have a url",
                            );
                        }
                    }
                    if !co.contains_key("label") && !co.contains_key("emoji") && style != 6 {
                        errs.add(
                            &cp[..cp.len() - 1],
                            "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
                            "A button needs a label or an emoji",
                        );
                    }
                }
                (Some(3 | 5..=8), false) => {
                    errs.req_str(co, &cp, "custom_id", 1, 100);
                    errs.opt_str(co, &cp, "placeholder", 150);
                    if co.get("type").and_then(Value::as_u64) == Some(3) {
                        match co.get("options").and_then(Value::as_array) {
                            Some(opts) if (1..=25).contains(&opts.len()) => {
                                for (k, o) in opts.iter().enumerate() {
                                    let op = format!("{cp}options.{k}.");
                                    if let Some(oo) = o.as_object() {
                                        errs.req_str(oo, &op, "label", 1, 100);
                                        errs.req_str(oo, &op, "value", 1, 100);
                                        errs.opt_str(oo, &op, "description", 100);
                                    }
                                }
                            }
                            _ => errs.add(
                                at(&cp, "options"),
                                "BASE_TYPE_BAD_LENGTH",
                                "Must be between 1 and 25 in length.",
                            ),
                        }
                    }
                }
                (Some(4), true) => {
                    errs.req_str(co, &cp, "custom_id", 1, 100);
                    errs.req_str(co, &cp, "label", 1, 45);
                    let style = co.get("style").and_then(Value::as_u64).unwrap_or(0);
                    if !(1..=2).contains(&style) {
                        errs.choices(at(&cp, "style"), "(1, 2)");
                    }
                    errs.opt_str(co, &cp, "value", 4000);
                    errs.opt_str(co, &cp, "placeholder", 100);
                    for (key, lo) in [("min_length", 0), ("max_length", 1)] {
                        if let Some(n) = co.get(key).and_then(Value::as_u64)
                            && (n < lo || n > 4000)
                        {
                            errs.add(
                                at(&cp, key),
                                "NUMBER_TYPE_MAX",
                                "int value should be less than or equal to 4000.",
                            );
                        }
                    }
                }
                _ => errs.add(
                    at(&cp, "type"),
                    "COMPONENT_TYPE_INVALID",
                    if modal {
                        "Modals take text inputs (type 4)"
                    } else {
                        "Messages take buttons (2) and select menus (3, 5-8)"
                    },
                ),
            }
        }
    }
}

/// An autocomplete result (callback type 8): `choices` ≤ 25, names 1–100 characters, values
/// of the focused option's type (strings ≤ 100 characters).
pub fn autocomplete_result(data: &Value, focused_type: u64, errs: &mut Errs) {
    let Some(choices) = data.get("choices").and_then(Value::as_array) else {
        errs.required("data.choices");
        return;
    };
    if choices.len() > 25 {
        errs.max_len_list("data.choices".into(), 25);
    }
    for (i, c) in choices.iter().enumerate() {
        let p = format!("data.choices.{i}.");
        let Some(o) = c.as_object() else {
            errs.not_object(p.trim_end_matches('.').to_string());
            continue;
        };
        errs.req_str(o, &p, "name", 1, 100);
        match (o.get("value"), focused_type) {
            (Some(Value::String(s)), 3) => errs.len_between(at(&p, "value"), s, 1, 100),
            (Some(Value::Number(n)), 4) if n.is_i64() => {}
            (Some(Value::Number(_)), 10) => {}
            (None | Some(Value::Null), _) => errs.required(at(&p, "value")),
            (Some(v), t) => errs.add(
                at(&p, "value"),
                "APPLICATION_COMMAND_OPTION_CHOICE_VALUE_TYPE",
                format!("Choice value {v} does not match option type {t}"),
            ),
        }
    }
}

/// A modal (callback type 9): custom_id, title and 1–5 rows of text inputs.
pub fn modal(data: &Value, errs: &mut Errs) {
    let Some(o) = data.as_object() else {
        errs.required("data");
        return;
    };
    errs.req_str(o, "data.", "custom_id", 1, 100);
    errs.req_str(o, "data.", "title", 1, 45);
    match o.get("components").and_then(Value::as_array) {
        Some(rows) if !rows.is_empty() => components(rows, errs, "data.components", true),
        _ => errs.add(
            "data.components",
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 5 in length.",
        ),
    }
}

/// The locales Discord accepts in `*_localizations`.
const LOCALES: &[&str] = &[
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th",
    "zh-CN", "ja", "zh-TW", "ko",
];

/// Discord's chat-input name rule.
static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$").unwrap());

/// A chat-input command or option name: the pattern, and lowercase where a letter has case.
pub fn valid_name(s: &str) -> bool {
    NAME.is_match(s) && s.to_lowercase() == s
}

fn name_field(o: &Map<String, Value>, p: &str, errs: &mut Errs, chat_input: bool) -> usize {
    match o.get("name") {
        Some(Value::String(s)) => {
            if chat_input && !valid_name(s) {
                errs.add(
                    at(p, "name"),
                    "APPLICATION_COMMAND_INVALID_NAME",
                    format!("Command name is invalid: {s:?} must match ^[-_\\p{{L}}\\p{{N}}\\p{{sc=Deva}}\\p{{sc=Thai}}]{{1,32}}$ and be lowercase"),
                );
            } else if !chat_input {
                errs.len_between(at(p, "name"), s, 1, 32);
            }
            s.chars().count()
        }
        _ => {
            errs.required(at(p, "name"));
            0
        }
    }
}

fn localizations(o: &Map<String, Value>, p: &str, key: &str, errs: &mut Errs, max: usize) {
    match o.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (loc, v) in m {
                if !LOCALES.contains(&loc.as_str()) {
                    errs.add(
                        format!("{p}{key}.{loc}"),
                        "LOCALE_INVALID",
                        format!("Invalid locale {loc:?}"),
                    );
                }
                match v.as_str() {
                    Some(s) => errs.len_between(format!("{p}{key}.{loc}"), s, 1, max),
                    None => errs.required(format!("{p}{key}.{loc}")),
                }
            }
        }
        Some(_) => errs.not_object(at(p, key)),
    }
}

/// Checks one application command under `p` (`"0."` in a bulk overwrite, `""` alone).
pub fn command(v: &Value, p: &str, errs: &mut Errs) {
    let Some(o) = v.as_object() else {
        errs.not_object(p.trim_end_matches('.').to_string());
        return;
    };
    let kind = o.get("type").and_then(Value::as_u64).unwrap_or(1);
    if !(1..=4).contains(&kind) {
        errs.choices(at(p, "type"), "(1, 2, 3, 4)");
    }
    let chat = kind == 1;
    let mut size = name_field(o, p, errs, chat);
    localizations(o, p, "name_localizations", errs, 32);
    let description = o.get("description").and_then(Value::as_str).unwrap_or("");
    if chat {
        errs.req_str(o, p, "description", 1, 100);
        localizations(o, p, "description_localizations", errs, 100);
    } else if !description.is_empty() {
        errs.add(
            at(p, "description"),
            "BASE_TYPE_MAX_LENGTH",
            "Must be 0 or fewer in length.",
        );
    }
    size += description.chars().count();
    match o.get("default_member_permissions") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {}
        Some(Value::String(s)) => errs.add(
            at(p, "default_member_permissions"),
            "NUMBER_TYPE_COERCE",
            format!("Value \"{s}\" is not int."),
        ),
        Some(v) => errs.not_string(at(p, "default_member_permissions"), v),
    }
    for (key, max) in [("contexts", 2), ("integration_types", 1)] {
        match o.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for (i, x) in a.iter().enumerate() {
                    if x.as_u64().is_none_or(|x| x > max) {
                        errs.choices(
                            format!("{p}{key}.{i}"),
                            if max == 2 { "(0, 1, 2)" } else { "(0, 1)" },
                        );
                    }
                }
            }
            Some(_) => errs.not_array(at(p, key)),
        }
    }
    match o.get("options") {
        None | Some(Value::Null) => {}
        Some(Value::Array(opts)) if chat => {
            size += options(opts, &at(p, "options"), errs, Level::Top);
        }
        Some(Value::Array(opts)) if opts.is_empty() => {}
        Some(Value::Array(_)) => errs.add(
            at(p, "options"),
            "APPLICATION_COMMAND_OPTIONS_NOT_ALLOWED",
            "Only chat input commands can have options",
        ),
        Some(_) => errs.not_array(at(p, "options")),
    }
    if size > 4000 {
        errs.add(
            p.trim_end_matches('.'),
            "APPLICATION_COMMAND_TOO_LARGE",
            "Command exceeds maximum size (4000)",
        );
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Top,
    InGroup,
    InSubcommand,
}

/// Checks an option list; returns its size in characters (names, descriptions, choices).
fn options(opts: &[Value], p: &str, errs: &mut Errs, level: Level) -> usize {
    if opts.len() > 25 {
        errs.max_len_list(p.to_string(), 25);
    }
    let mut size = 0;
    let mut names = HashSet::new();
    let kinds: Vec<u64> = opts
        .iter()
        .map(|o| o["type"].as_u64().unwrap_or(0))
        .collect();
    let subs = kinds.iter().filter(|k| matches!(k, 1 | 2)).count();
    if subs > 0 && subs < kinds.len() {
        errs.add(
            p,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all other types",
        );
    }
    let mut seen_optional = false;
    for (i, opt) in opts.iter().enumerate() {
        let op = format!("{p}.{i}.");
        let Some(o) = opt.as_object() else {
            errs.not_object(op.trim_end_matches('.').to_string());
            continue;
        };
        let kind = kinds[i];
        if !(1..=11).contains(&kind) {
            errs.choices(at(&op, "type"), "(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)");
        }
        let placement_ok = match level {
            Level::Top => true,
            Level::InGroup => kind == 1,
            Level::InSubcommand => !matches!(kind, 1 | 2),
        };
        if !placement_ok {
            errs.add(
                at(&op, "type"),
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-commands nest only inside groups, and groups only at the top level",
            );
        }
        size += name_field(o, &op, errs, true);
        if let Some(n) = o.get("name").and_then(Value::as_str)
            && !names.insert(n.to_string())
        {
            errs.add(
                at(&op, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            );
        }
        errs.req_str(o, &op, "description", 1, 100);
        size += chars(o.get("description"));
        localizations(o, &op, "name_localizations", errs, 32);
        localizations(o, &op, "description_localizations", errs, 100);
        let required = o.get("required").and_then(Value::as_bool).unwrap_or(false);
        if !matches!(kind, 1 | 2) {
            if required && seen_optional {
                errs.add(
                    at(&op, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                );
            }
            seen_optional |= !required;
        }
        let choices = o.get("choices").and_then(Value::as_array);
        let autocomplete = o.get("autocomplete").and_then(Value::as_bool) == Some(true);
        let valued = matches!(kind, 3 | 4 | 10);
        if let Some(ch) = choices {
            if !ch.is_empty() && !valued {
                errs.add(
                    at(&op, "choices"),
                    "APPLICATION_COMMAND_OPTION_CHOICES_NOT_ALLOWED",
                    "Only string, integer and number options can have choices",
                );
            }
            if ch.len() > 25 {
                errs.max_len_list(at(&op, "choices"), 25);
            }
            if autocomplete && !ch.is_empty() {
                errs.add(
                    at(&op, "autocomplete"),
                    "APPLICATION_COMMAND_AUTOCOMPLETE_CHOICES_EXCLUSIVE",
                    "Autocomplete and choices are mutually exclusive",
                );
            }
            for (j, c) in ch.iter().enumerate() {
                let cp = format!("{op}choices.{j}.");
                let Some(co) = c.as_object() else {
                    errs.not_object(cp.trim_end_matches('.').to_string());
                    continue;
                };
                errs.req_str(co, &cp, "name", 1, 100);
                localizations(co, &cp, "name_localizations", errs, 100);
                size += chars(co.get("name"));
                match (co.get("value"), kind) {
                    (Some(Value::String(s)), 3) => {
                        errs.len_between(at(&cp, "value"), s, 1, 100);
                        size += s.chars().count();
                    }
                    (Some(Value::Number(n)), 4) if n.is_i64() => size += n.to_string().len(),
                    (Some(Value::Number(n)), 10) => size += n.to_string().len(),
                    _ => errs.add(
                        at(&cp, "value"),
                        "APPLICATION_COMMAND_OPTION_CHOICE_VALUE_TYPE",
                        "Choice value must match the option's type",
                    ),
                }
            }
        }
        if autocomplete && !valued {
            errs.add(
                at(&op, "autocomplete"),
                "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                "Only string, integer and number options can autocomplete",
            );
        }
        for (key, lo) in [("min_length", 0), ("max_length", 1)] {
            if let Some(n) = o.get(key).filter(|v| !v.is_null())
                && (kind != 3 || n.as_u64().is_none_or(|n| n < lo || n > 6000))
            {
                errs.add(
                    at(&op, key),
                    "NUMBER_TYPE_MAX",
                    format!("{key} applies to string options and must be {lo}..=6000"),
                );
            }
        }
        for key in ["min_value", "max_value"] {
            if o.get(key).is_some_and(|v| !v.is_null()) && !matches!(kind, 4 | 10) {
                errs.add(
                    at(&op, key),
                    "APPLICATION_COMMAND_OPTION_VALUE_INVALID",
                    format!("{key} applies to integer and number options"),
                );
            }
        }
        match (o.get("options").and_then(Value::as_array), kind) {
            (Some(sub), 1) => size += options(sub, &at(&op, "options"), errs, Level::InSubcommand),
            (Some(sub), 2) => size += options(sub, &at(&op, "options"), errs, Level::InGroup),
            (Some(sub), _) if !sub.is_empty() => errs.add(
                at(&op, "options"),
                "APPLICATION_COMMAND_OPTIONS_NOT_ALLOWED",
                "Only sub-commands and groups have options",
            ),
            _ => {}
        }
    }
    size
}
