//! The JSON objects the fake sends, shaped as Discord sends them and as serenity 0.12.5's
//! models require (every non-`Option` field present: e.g. `Guild` needs `roles`, `emojis`,
//! `stickers`, `voice_states`, `presences`, `threads`, `stage_instances`,
//! `guild_scheduled_events`, `joined_at`, `large`, `member_count`, `premium_progress_bar_enabled`;
//! `Role` needs `colors`; `Member` needs `deaf`, `mute` and `flags`; interactions need
//! `attachment_size_limit`, `entitlements`, `locale`, `version`).

use serde_json::{Value, json};

use super::state::{Message, Shared, State};
use super::{ChannelState, perms};
use super::{FakeGuild, FakeUser};

/// A user object.
pub fn user_json(id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": name,
        "discriminator": "0",
        "global_name": if bot { Value::Null } else { json!(name) },
        "avatar": null,
        "bot": bot,
        "system": false,
        "banner": null,
        "accent_color": null,
        "public_flags": 0,
        "flags": 0,
        "avatar_decoration_data": null,
    })
}

/// The bot's own user (`GET /users/@me`, READY's `user`).
pub fn bot_user_json(shared: &Shared) -> Value {
    let mut u = user_json(shared.cfg.bot_user_id, &shared.cfg.bot_name, true);
    u["verified"] = json!(true);
    u["mfa_enabled"] = json!(false);
    u["email"] = Value::Null;
    u["locale"] = json!("en-US");
    u["premium_type"] = json!(0);
    u
}

fn user_named(st: &State, id: u64) -> Value {
    let name = st
        .user_names
        .get(&id)
        .cloned()
        .unwrap_or_else(|| format!("user{id}"));
    user_json(id, &name, false)
}

/// `GET /oauth2/applications/@me` (serenity's `CurrentApplicationInfo`).
pub fn application_json(shared: &Shared) -> Value {
    let owner = shared.cfg.guilds.first().map_or(1, |g| g.owner_id);
    json!({
        "id": shared.cfg.application_id.to_string(),
        "name": shared.cfg.bot_name,
        "icon": null,
        "description": "",
        "summary": "",
        "type": null,
        "bot_public": true,
        "bot_require_code_grant": false,
        "verify_key": "0".repeat(64),
        "flags": 0,
        "owner": user_json(owner, "owner", false),
        "team": null,
        "bot": bot_user_json(shared),
        "approximate_guild_count": shared.cfg.guilds.len(),
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "role_connections_verification_url": null,
        "tags": [],
        "integration_types_config": {"0": {}},
    })
}

/// A role members hold, made by a test ([`super::FakeDiscord::add_role`]).
pub fn member_role_json(id: u64, name: &str, mentionable: bool, position: u16) -> Value {
    let mut r = role_json(id, name, perms::MEMBER, position, None);
    r["mentionable"] = json!(mentionable);
    r
}

fn role_json(id: u64, name: &str, permissions: u64, position: u16, bot: Option<u64>) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions.to_string(),
        "managed": bot.is_some(),
        "mentionable": false,
        "flags": 0,
        "tags": match bot {
            Some(b) => json!({"bot_id": b.to_string()}),
            None => json!({}),
        },
    })
}

/// A guild channel: text (type 0), announcement (type 5) or category (type 4), with the
/// overwrite that denies the
/// bot what its [`ChannelState`] takes away.
pub fn channel_json(st: &State, channel: u64) -> Value {
    let c = &st.channels[&channel];
    let last = st
        .messages
        .get(&channel)
        .and_then(|m| m.last())
        .map(|m| m.id.to_string());
    let denied = match c.state {
        ChannelState::Forbidden => perms::VIEW_CHANNEL,
        ChannelState::NoPermission => perms::SEND_MESSAGES,
        ChannelState::Ok | ChannelState::Missing => 0,
    };
    let overwrites: Vec<Value> = st
        .bot_roles
        .get(&c.guild_id)
        .filter(|_| denied != 0)
        .map(|role| json!({"id": role.to_string(), "type": 0, "allow": "0", "deny": denied.to_string()}))
        .into_iter()
        .collect();
    if c.kind == 4 {
        return json!({
            "id": channel.to_string(),
            "type": 4,
            "guild_id": c.guild_id.to_string(),
            "name": c.name,
            "position": c.position,
            "permission_overwrites": overwrites,
            "nsfw": false,
            "parent_id": null,
            "flags": 0,
        });
    }
    json!({
        "id": channel.to_string(),
        "type": c.kind,
        "guild_id": c.guild_id.to_string(),
        "name": c.name,
        "position": c.position,
        "permission_overwrites": overwrites,
        "topic": null,
        "nsfw": false,
        "last_message_id": last,
        "rate_limit_per_user": 0,
        "parent_id": null,
        "last_pin_timestamp": null,
        "flags": 0,
    })
}

/// A guild member object.
pub fn member_json(
    user: Value,
    roles: Vec<String>,
    permissions: Option<u64>,
    joined: &str,
) -> Value {
    let mut m = json!({
        "user": user,
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": roles,
        "joined_at": joined,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
        "unusual_dm_activity_until": null,
    });
    if let Some(p) = permissions {
        m["permissions"] = json!(p.to_string());
    }
    m
}

/// The complete guild object of `GUILD_CREATE`, with the bot and the owner as members.
pub fn guild_json(shared: &Shared, st: &State, g: &FakeGuild) -> Value {
    let joined = shared.timestamp(std::time::Duration::ZERO);
    let bot_role = st.bot_roles[&g.id];
    let members = vec![
        member_json(
            payloads_bot(shared),
            vec![bot_role.to_string()],
            None,
            &joined,
        ),
        member_json(user_named(st, g.owner_id), vec![], None, &joined),
    ];
    let channels: Vec<Value> = g
        .channels
        .iter()
        .chain(&g.categories)
        .filter(|c| st.channels[*c].state != ChannelState::Missing)
        .map(|c| channel_json(st, *c))
        .collect();
    let mut v = json!({
        "id": g.id.to_string(),
        "name": g.name,
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": g.owner_id.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "roles": [
            role_json(g.id, "@everyone", perms::MEMBER, 0, None),
            role_json(bot_role, &shared.cfg.bot_name, perms::BOT, 1, Some(shared.cfg.bot_user_id)),
        ],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": g.channels.first().map(|c| c.to_string()),
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
    });
    let rest = json!({
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "incidents_data": null,
        "joined_at": joined,
        "large": false,
        "unavailable": false,
        "member_count": members.len(),
        "voice_states": [],
        "members": members,
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "lazy": true,
        "application_command_counts": {},
        "embedded_activities": [],
        "version": 0,
    });
    v.as_object_mut()
        .unwrap()
        .extend(rest.as_object().unwrap().clone());
    v
}

fn payloads_bot(shared: &Shared) -> Value {
    user_json(shared.cfg.bot_user_id, &shared.cfg.bot_name, true)
}

/// READY's `d`.
pub fn ready_json(shared: &Shared, session_id: &str, shard: [u32; 2], guilds: &[u64]) -> Value {
    json!({
        "v": 10,
        "user": bot_user_json(shared),
        "guilds": guilds.iter().map(|g| json!({"id": g.to_string(), "unavailable": true})).collect::<Vec<_>>(),
        "session_id": session_id,
        "resume_gateway_url": shared.ws_url,
        "shard": shard,
        "application": {"id": shared.cfg.application_id.to_string(), "flags": 0},
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["london"],
        "user_settings": {},
        "session_type": "normal",
        "auth_session_id_hash": "",
    })
}

fn attachment_url(shared: &Shared, channel: u64, id: u64, filename: &str) -> String {
    format!("{}/attachments/{channel}/{id}/{filename}", shared.api_base)
}

/// A message object, as Discord answers and serenity's `Message` deserializes: embeds get
/// `type: rich`, and `attachment://NAME` URLs become the attachment's URL.
pub fn message_json(shared: &Shared, st: &State, m: &Message, guild: Option<u64>) -> Value {
    let url_of = |name: &str| {
        m.attachments
            .iter()
            .find(|a| a.filename == name)
            .map(|a| attachment_url(shared, m.channel_id, a.id, &a.filename))
    };
    let embeds: Vec<Value> = m
        .embeds
        .iter()
        .map(|e| {
            let mut e = e.clone();
            if e.get("type").is_none() {
                e["type"] = json!("rich");
            }
            for (obj, key) in [
                ("image", "url"),
                ("thumbnail", "url"),
                ("author", "icon_url"),
                ("footer", "icon_url"),
            ] {
                let resolved = e[obj][key]
                    .as_str()
                    .and_then(|u| u.strip_prefix("attachment://"))
                    .and_then(url_of);
                if let Some(u) = resolved {
                    e[obj][key] = json!(u);
                    let proxy = if key == "url" {
                        "proxy_url"
                    } else {
                        "proxy_icon_url"
                    };
                    e[obj][proxy] = json!(u);
                }
            }
            e
        })
        .collect();
    let attachments: Vec<Value> = m
        .attachments
        .iter()
        .map(|a| {
            let url = attachment_url(shared, m.channel_id, a.id, &a.filename);
            json!({
                "id": a.id.to_string(),
                "filename": a.filename,
                "description": a.description,
                "content_type": a.content_type,
                "size": a.size,
                "url": url,
                "proxy_url": url,
                "ephemeral": m.flags & 64 != 0,
            })
        })
        .collect();
    let mentions: Vec<Value> = m
        .pinged
        .iter()
        .filter_map(|p| p.strip_prefix("user:").or_else(|| p.strip_prefix("reply:")))
        .filter_map(|id| id.parse().ok())
        .map(|id| user_named(st, id))
        .collect();
    let mention_roles: Vec<Value> = m
        .pinged
        .iter()
        .filter_map(|p| p.strip_prefix("role:"))
        .map(|id| json!(id))
        .collect();
    let author = if m.author_id == shared.cfg.bot_user_id {
        payloads_bot(shared)
    } else {
        user_named(st, m.author_id)
    };
    let referenced = m
        .message_reference
        .as_ref()
        .and_then(|r| r["message_id"].as_str().and_then(|s| s.parse().ok()))
        .and_then(|id| st.find_message(m.channel_id, id))
        .map(|r| message_json(shared, st, r, guild));
    let mut v = json!({
        "id": m.id.to_string(),
        "channel_id": m.channel_id.to_string(),
        "author": author,
        "content": m.content,
        "timestamp": shared.timestamp(m.created_at),
        "edited_timestamp": m.edited_at.map(|t| shared.timestamp(t)),
        "tts": m.tts,
        "mention_everyone": m.pinged.iter().any(|p| p == "@everyone" || p == "@here"),
        "mentions": mentions,
        "mention_roles": mention_roles,
        "mention_channels": [],
        "attachments": attachments,
        "embeds": embeds,
        "reactions": [],
        "pinned": false,
        "type": m.kind,
        "flags": m.flags,
        "components": m.components,
    });
    if let Some(n) = &m.nonce {
        v["nonce"] = n.clone();
    }
    if let Some(r) = &m.message_reference {
        let mut r = r.clone();
        if r.get("channel_id").is_none() {
            r["channel_id"] = json!(m.channel_id.to_string());
        }
        if let Some(g) = guild {
            r["guild_id"] = json!(g.to_string());
        }
        r.as_object_mut().unwrap().remove("fail_if_not_exists");
        v["message_reference"] = r;
        v["referenced_message"] = referenced.unwrap_or(Value::Null);
    }
    if m.webhook {
        v["application_id"] = json!(shared.cfg.application_id.to_string());
        v["webhook_id"] = json!(shared.cfg.application_id.to_string());
    }
    v
}

/// An `INTERACTION_CREATE` payload (`kind` 2 command, 3 component, 4 autocomplete).
#[allow(clippy::too_many_arguments)]
pub fn interaction_json(
    shared: &Shared,
    st: &State,
    id: u64,
    token: &str,
    kind: u8,
    guild: u64,
    channel: u64,
    user: &FakeUser,
    data: Value,
    message: Option<&Value>,
) -> Value {
    let joined = shared.timestamp(std::time::Duration::ZERO);
    let mut partial_channel = channel_json(st, channel);
    partial_channel["permissions"] = json!(user.permissions.to_string());
    let mut v = json!({
        "id": id.to_string(),
        "application_id": shared.cfg.application_id.to_string(),
        "type": kind,
        "data": data,
        "guild": {"id": guild.to_string(), "locale": "en-US", "features": []},
        "guild_id": guild.to_string(),
        "channel": partial_channel,
        "channel_id": channel.to_string(),
        "member": member_json(
            user_json(user.id, &user.name, false),
            vec![],
            Some(user.permissions),
            &joined,
        ),
        "token": token,
        "version": 1,
        "app_permissions": perms::BOT.to_string(),
        "locale": "en-GB",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild.to_string()},
        "context": 0,
        "attachment_size_limit": shared.cfg.attachment_size_limit,
    });
    if let Some(m) = message {
        v["message"] = m.clone();
    }
    v
}

/// Whether any option (at any depth) is marked `"focused": true`.
pub fn has_focused(options: &Value) -> bool {
    options.as_array().is_some_and(|a| {
        a.iter()
            .any(|o| o["focused"] == true || has_focused(&o["options"]))
    })
}

/// Marks the last leaf option focused.
pub fn focus_last(options: &mut Value) {
    if let Some(last) = options.as_array_mut().and_then(|a| a.last_mut()) {
        if matches!(last["type"].as_u64(), Some(1 | 2)) {
            focus_last(&mut last["options"]);
        } else {
            last["focused"] = json!(true);
        }
    }
}

/// Discord sends a focused option's partial input as a string, and `options: []` on
/// sub-commands without options; normalizes `options` that way. Returns the focused type.
pub fn normalize_options(options: &mut Value) -> Option<u64> {
    let mut focused = None;
    if let Some(list) = options.as_array_mut() {
        for o in list {
            if matches!(o["type"].as_u64(), Some(1 | 2)) {
                if o.get("options").is_none() {
                    o["options"] = json!([]);
                }
                focused = focused.or(normalize_options(&mut o["options"]));
            } else if o["focused"] == true {
                if !o["value"].is_string() {
                    let s = match &o["value"] {
                        Value::Null => String::new(),
                        v => v.to_string(),
                    };
                    o["value"] = json!(s);
                }
                focused = o["type"].as_u64();
            }
        }
    }
    focused
}

/// Checks that `given` options could come from Discord for the registered `command`.
pub fn check_options_against(
    command: &Value,
    given: &Value,
    autocomplete: bool,
) -> Result<(), String> {
    fn walk(defs: &[Value], given: &[Value], autocomplete: bool) -> Result<(), String> {
        for g in given {
            let name = g["name"].as_str().ok_or("option without a name")?;
            let def = defs.iter().find(|d| d["name"] == name).ok_or_else(|| {
                let known: Vec<&str> = defs.iter().filter_map(|d| d["name"].as_str()).collect();
                format!("unknown option {name:?} (registered: {known:?})")
            })?;
            if g["type"] != def["type"] {
                return Err(format!(
                    "option {name:?} has type {} but is registered with type {}",
                    g["type"], def["type"]
                ));
            }
            if matches!(def["type"].as_u64(), Some(1 | 2)) {
                let sub_defs = def["options"].as_array().cloned().unwrap_or_default();
                let sub = g["options"].as_array().cloned().unwrap_or_default();
                walk(&sub_defs, &sub, autocomplete)?;
            } else if g["focused"] == true {
                if !autocomplete {
                    return Err(format!("option {name:?} is focused outside autocomplete"));
                }
                if def["autocomplete"] != true {
                    return Err(format!(
                        "option {name:?} is not registered with autocomplete"
                    ));
                }
            } else {
                let v = &g["value"];
                let ok = match def["type"].as_u64() {
                    Some(3) => v.is_string(),
                    Some(4) => v.is_i64(),
                    Some(5) => v.is_boolean(),
                    Some(10) => v.is_number(),
                    _ => v.as_str().is_some_and(|s| s.parse::<u64>().is_ok()),
                };
                if !ok {
                    return Err(format!(
                        "option {name:?} of type {} cannot have the value {v}",
                        def["type"]
                    ));
                }
            }
        }
        if !autocomplete {
            for d in defs {
                if d["required"] == true && !given.iter().any(|g| g["name"] == d["name"]) {
                    return Err(format!("required option {} is missing", d["name"]));
                }
            }
        }
        let subs = given
            .iter()
            .filter(|g| matches!(g["type"].as_u64(), Some(1 | 2)))
            .count();
        let sub_defs = defs
            .iter()
            .any(|d| matches!(d["type"].as_u64(), Some(1 | 2)));
        if sub_defs && subs != 1 {
            return Err("exactly one sub-command must be given".into());
        }
        Ok(())
    }
    let defs = command["options"].as_array().cloned().unwrap_or_default();
    let given = given.as_array().ok_or("options must be an array")?;
    walk(&defs, given, autocomplete)
}

/// Whether `components` (action rows) contain a button with `custom_id`.
pub fn has_button(components: &[Value], custom_id: &str) -> bool {
    components.iter().any(|row| {
        row["components"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == 2 && c["custom_id"] == custom_id)
        })
    })
}
