//! herald's embeds in serenity's shape, and the one allowed-mentions value herald ever
//! sends: nobody.

use poise::serenity_prelude as serenity;

use crate::format::embed::Embed;

/// Allows no mentions at all: `{"parse":[],"users":[],"roles":[]}`. Set on every message,
/// edit, interaction response and followup, so that nothing a feed or a user sends can
/// ping `@everyone`, a role or a user.
pub fn no_mentions() -> serenity::CreateAllowedMentions {
    serenity::CreateAllowedMentions::new()
        .everyone(false)
        .all_users(false)
        .all_roles(false)
        .empty_users()
        .empty_roles()
        .replied_user(false)
}

/// Converts an embed (already checked against Discord's limits by the formatter).
pub fn create_embed(e: &Embed) -> serenity::CreateEmbed {
    let mut out = serenity::CreateEmbed::new()
        .title(&e.title)
        .colour(e.colour.0)
        .fields(
            e.fields
                .iter()
                .map(|f| (f.name.clone(), f.value.clone(), f.inline)),
        );
    if !e.description.is_empty() {
        out = out.description(&e.description);
    }
    if let Some(footer) = &e.footer {
        out = out.footer(serenity::CreateEmbedFooter::new(footer));
    }
    if let Some(t) = e.timestamp {
        out = out.timestamp(
            serenity::Timestamp::from_unix_timestamp(t.timestamp())
                .unwrap_or_else(|_| serenity::Timestamp::now()),
        );
    }
    if let Some(name) = &e.image {
        out = out.attachment(name);
    }
    out
}

/// The embed as the JSON Discord receives.
pub fn embed_json(e: &Embed) -> serde_json::Value {
    serde_json::to_value(create_embed(e)).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::parties::Colour;
    use crate::format::embed::Field;

    #[test]
    fn allowed_mentions_allow_nobody() {
        let v = serde_json::to_value(no_mentions()).unwrap();
        assert_eq!(v["parse"], serde_json::json!([]));
        assert_eq!(v["users"], serde_json::json!([]));
        assert_eq!(v["roles"], serde_json::json!([]));
    }

    #[test]
    fn embeds_keep_every_part() {
        let e = Embed {
            title: "Hartlepool: Con GAIN from Lab".into(),
            description: "d".into(),
            colour: Colour(0x0087DC),
            fields: vec![Field {
                name: "n".into(),
                value: "v".into(),
                inline: false,
            }],
            footer: Some("f".into()),
            timestamp: chrono::DateTime::from_timestamp(1_620_367_200, 0),
            image: Some("chart.png".into()),
        };
        let v = embed_json(&e);
        assert_eq!(v["title"], "Hartlepool: Con GAIN from Lab");
        assert_eq!(v["color"], 0x0087DC);
        assert_eq!(v["fields"][0]["value"], "v");
        assert_eq!(v["footer"]["text"], "f");
        assert_eq!(v["image"]["url"], "attachment://chart.png");
        assert!(
            v["timestamp"]
                .as_str()
                .unwrap()
                .starts_with("2021-05-07T06:00:00")
        );
    }
}
