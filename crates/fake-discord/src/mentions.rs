//! Who a message would ping, under Discord's rules.
//!
//! Content is parsed for `@everyone`, `@here`, `<@id>`, `<@!id>` and `<@&id>` (not inside code
//! spans or blocks, not after a backslash). Without `allowed_mentions` everything parsed pings;
//! with it, only what `parse` (`users`, `roles`, `everyone`) or the explicit `users`/`roles`
//! lists allow. A reply pings the replied-to author unless `allowed_mentions` is present
//! without `replied_user: true`. Embeds never ping; nobody is pinged by their own message.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

static USER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<@!?(\d+)>").unwrap());
static ROLE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<@&(\d+)>").unwrap());

/// `content` without code blocks and inline code spans.
fn strip_code(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let fence = &rest[start..start + ticks];
        let after = &rest[start + ticks..];
        match after.find(fence) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn ids(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The pings of one create or edit: `@everyone`, `@here`, `user:ID`, `role:ID`, `reply:ID`.
pub fn pinged(
    content: &str,
    allowed: Option<&Value>,
    replied_author: Option<u64>,
    author: u64,
) -> Vec<String> {
    let text = strip_code(content);
    let parse: Option<Vec<String>> = allowed.map(|a| ids(a.get("parse")));
    let allows = |kind: &str| parse.as_ref().is_none_or(|p| p.iter().any(|x| x == kind));
    let allowed_users = ids(allowed.and_then(|a| a.get("users")));
    let allowed_roles = ids(allowed.and_then(|a| a.get("roles")));
    let mut out = Vec::new();
    for word in ["@everyone", "@here"] {
        let escaped = text
            .match_indices(word)
            .all(|(i, _)| text[..i].ends_with('\\'));
        if !escaped && allows("everyone") {
            out.push(word.to_string());
        }
    }
    for c in USER.captures_iter(&text) {
        let id = &c[1];
        if id == author.to_string() {
            continue;
        }
        if allows("users") || allowed_users.iter().any(|u| u == id) {
            out.push(format!("user:{id}"));
        }
    }
    for c in ROLE.captures_iter(&text) {
        let id = &c[1];
        if allows("roles") || allowed_roles.iter().any(|r| r == id) {
            out.push(format!("role:{id}"));
        }
    }
    if let Some(target) = replied_author.filter(|t| *t != author) {
        let wanted = match allowed {
            None => true,
            Some(a) => a.get("replied_user").and_then(Value::as_bool) == Some(true),
        };
        if wanted {
            out.push(format!("reply:{target}"));
        }
    }
    out.dedup();
    out
}
