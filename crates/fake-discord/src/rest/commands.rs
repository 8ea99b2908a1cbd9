//! Application commands: bulk overwrite, create, get, edit and delete, globally and per guild,
//! with Discord's validation, id preservation and the 200-creates-a-day limit.

use std::time::{Duration, Instant};

use axum::http::Method;
use serde_json::{Value, json};

use super::super::state::snowflake;
use super::super::validate::{self, ApiError, Errs};
use super::{Answer, Handler, body_object};

impl Handler<'_> {
    /// 403 `Missing Access` for another application, or a guild the bot is not in.
    pub(super) fn check_app(&self, app: u64, guild: Option<u64>) -> Result<(), ApiError> {
        if app != self.shared.cfg.application_id {
            return Err(validate::missing_access());
        }
        if let Some(g) = guild
            && !self.shared.cfg.guilds.iter().any(|x| x.id == g)
        {
            return Err(validate::missing_access());
        }
        Ok(())
    }

    /// The stored commands, global or of one guild.
    pub(super) fn command_list(&mut self, guild: Option<u64>) -> &mut Vec<Value> {
        match guild {
            None => &mut self.st.global_commands,
            Some(g) => self.st.guild_commands.entry(g).or_default(),
        }
    }

    /// Discord's stored form of a command, keeping `id` if it overwrites one.
    pub(super) fn stored(&self, c: &Value, guild: Option<u64>, id: Option<Value>) -> Value {
        let kind = c["type"].as_u64().unwrap_or(1);
        let or_null = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
        let mut v = json!({
            "id": id.unwrap_or_else(|| json!(snowflake().to_string())),
            "application_id": self.shared.cfg.application_id.to_string(),
            "version": snowflake().to_string(),
            "default_member_permissions": or_null("default_member_permissions"),
            "type": kind,
            "name": c["name"],
            "name_localizations": or_null("name_localizations"),
            "description": c.get("description").cloned().unwrap_or(json!("")),
            "description_localizations": or_null("description_localizations"),
            "contexts": or_null("contexts"),
            "integration_types": c.get("integration_types").cloned().unwrap_or(json!([0])),
            "nsfw": c.get("nsfw").cloned().unwrap_or(json!(false)),
        });
        if let Some(o) = c.get("options").filter(|o| !o.is_null()) {
            v["options"] = o.clone();
        }
        match guild {
            Some(g) => v["guild_id"] = json!(g.to_string()),
            None => v["dm_permission"] = c.get("dm_permission").cloned().unwrap_or(json!(true)),
        }
        v
    }

    /// Counts `n` command creations against Discord's 200 a day per guild (or globally).
    pub(super) fn count_creates(&mut self, guild: Option<u64>, n: usize) -> Result<(), ApiError> {
        let day = Duration::from_secs(86_400);
        let list = self
            .st
            .command_creates
            .entry(guild.unwrap_or(0))
            .or_default();
        list.retain(|t| t.elapsed() < day);
        if list.len() + n > 200 {
            let mut e = ApiError::new(
                429,
                30034,
                "Max number of daily application command creates has been reached (200)",
            );
            e.body["retry_after"] = json!(3600.0);
            e.body["global"] = json!(false);
            return Err(e);
        }
        list.extend(std::iter::repeat_n(Instant::now(), n));
        Ok(())
    }

    /// `GET`, `PUT` (bulk overwrite: ≤ 100 chat-input, 15 user, 15 message commands, unique
    /// names, ids kept for unchanged names) and `POST` (create or overwrite by name) of a list.
    pub(super) fn commands(&mut self, app: u64, guild: Option<u64>) -> Answer {
        self.check_app(app, guild)?;
        match self.method.clone() {
            Method::GET => Ok((200, Some(Value::Array(self.command_list(guild).clone())))),
            Method::PUT => {
                let body = self.body.clone().unwrap_or(Value::Null);
                let mut errs = Errs::default();
                let Some(list) = body.as_array() else {
                    errs.add(
                        "",
                        "LIST_TYPE_CONVERT",
                        "Only iterables may be used in a ListType",
                    );
                    return Err(errs.finish().unwrap_err());
                };
                let mut seen = std::collections::HashSet::new();
                let mut per_type = [0usize; 5];
                for (i, c) in list.iter().enumerate() {
                    validate::command(c, &format!("{i}."), &mut errs);
                    let kind = c["type"].as_u64().unwrap_or(1).min(4) as usize;
                    per_type[kind] += 1;
                    if !seen.insert((c["name"].to_string(), kind)) {
                        errs.add(
                            format!("{i}.name"),
                            "APPLICATION_COMMANDS_DUPLICATE_NAME",
                            "Application command names must be unique",
                        );
                    }
                }
                for (kind, max) in [(1, 100), (2, 15), (3, 15)] {
                    if per_type[kind] > max {
                        errs.add(
                            "",
                            "APPLICATION_COMMANDS_COUNT_EXCEEDED",
                            format!(
                                "Maximum number of type-{kind} application commands reached ({max})"
                            ),
                        );
                    }
                }
                errs.finish()?;
                let old = self.command_list(guild).clone();
                let find = |c: &Value| {
                    old.iter()
                        .find(|o| {
                            o["name"] == c["name"]
                                && o["type"].as_u64() == Some(c["type"].as_u64().unwrap_or(1))
                        })
                        .map(|o| o["id"].clone())
                };
                let new_count = list.iter().filter(|c| find(c).is_none()).count();
                self.count_creates(guild, new_count)?;
                let stored: Vec<Value> = list
                    .iter()
                    .map(|c| self.stored(c, guild, find(c)))
                    .collect();
                *self.command_list(guild) = stored.clone();
                Ok((200, Some(Value::Array(stored))))
            }
            _ => {
                let body = self.body.clone().unwrap_or(Value::Null);
                let mut errs = Errs::default();
                validate::command(&body, "", &mut errs);
                errs.finish()?;
                let kind = body["type"].as_u64().unwrap_or(1);
                let existing = self
                    .command_list(guild)
                    .iter()
                    .position(|o| o["name"] == body["name"] && o["type"].as_u64() == Some(kind));
                match existing {
                    Some(i) => {
                        let id = self.command_list(guild)[i]["id"].clone();
                        let v = self.stored(&body, guild, Some(id));
                        self.command_list(guild)[i] = v.clone();
                        Ok((200, Some(v)))
                    }
                    None => {
                        let max = if kind == 1 { 100 } else { 15 };
                        let count = self
                            .command_list(guild)
                            .iter()
                            .filter(|o| o["type"].as_u64() == Some(kind))
                            .count();
                        if count >= max {
                            return Err(ApiError::new(
                                400,
                                30032,
                                "Maximum number of application commands reached",
                            ));
                        }
                        self.count_creates(guild, 1)?;
                        let v = self.stored(&body, guild, None);
                        self.command_list(guild).push(v.clone());
                        Ok((201, Some(v)))
                    }
                }
            }
        }
    }

    /// `GET`, `PATCH` (merged, then validated as a whole) and `DELETE` of one command.
    pub(super) fn command(&mut self, app: u64, guild: Option<u64>, id: u64) -> Answer {
        self.check_app(app, guild)?;
        let key = json!(id.to_string());
        let pos = self
            .command_list(guild)
            .iter()
            .position(|c| c["id"] == key)
            .ok_or_else(validate::unknown_command)?;
        match self.method.clone() {
            Method::GET => Ok((200, Some(self.command_list(guild)[pos].clone()))),
            Method::DELETE => {
                self.command_list(guild).remove(pos);
                Ok((204, None))
            }
            _ => {
                let mut merged = self.command_list(guild)[pos].clone();
                for (k, v) in body_object(&self.body)? {
                    merged[k] = v;
                }
                let mut errs = Errs::default();
                validate::command(&merged, "", &mut errs);
                errs.finish()?;
                let v = self.stored(&merged, guild, Some(key));
                self.command_list(guild)[pos] = v.clone();
                Ok((200, Some(v)))
            }
        }
    }
}
