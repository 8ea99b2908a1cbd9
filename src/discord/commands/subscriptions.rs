//! The subscription commands: `/subscribe` (a channel, a filter of where, whose and what,
//! digests or not, a role to ping), `/unsubscribe` and `/subscriptions`. Each checks what
//! Discord would refuse later (herald's permissions in the channel, a role it may not
//! ping) and says so before anything is stored.

use poise::serenity_prelude as serenity;

use super::super::subscribing;
use super::{Context, Error};
use super::{choices, refuse_unless_manager, send};
use crate::core::filter::Wants;
use crate::discord::replies::Reply;
use crate::format::embed::escape_markdown;
use crate::store::{Mode, Subscription};

/// How subscribed channels receive announcements.
#[derive(Debug, poise::ChoiceParameter)]
pub enum SubscribeMode {
    #[name = "every"]
    Every,
    #[name = "digest"]
    Digest,
}

/// Which announcements a subscription takes.
#[derive(Debug, poise::ChoiceParameter)]
pub enum SubscribeKind {
    #[name = "every declaration"]
    Every,
    #[name = "gains only"]
    Gains,
    #[name = "milestones only"]
    Milestones,
}

async fn ac_filter(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let board = ctx.data().board.read();
    choices(subscribing::filter_choices(&board, partial))
}

async fn ac_party(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let board = ctx.data().board.read();
    choices(crate::discord::replies::party_choices(&board, partial))
}

/// What herald needs in a channel to announce there.
const NEEDED: [(serenity::Permissions, &str); 5] = [
    (serenity::Permissions::VIEW_CHANNEL, "View Channel"),
    (serenity::Permissions::SEND_MESSAGES, "Send Messages"),
    (serenity::Permissions::EMBED_LINKS, "Embed Links"),
    (serenity::Permissions::ATTACH_FILES, "Attach Files"),
    (
        serenity::Permissions::READ_MESSAGE_HISTORY,
        "Read Message History",
    ),
];

/// Whether herald can announce in `channel`: a text or announcement channel of this
/// server, where herald has every permission it needs (judged from the gateway's view of
/// the server; where that is not known yet, the first refused send pauses the channel).
fn can_post_in(ctx: Context<'_>, channel: &serenity::PartialChannel) -> Result<(), String> {
    use serenity::ChannelType as T;
    let mention = format!("<#{}>", channel.id.get());
    if !matches!(channel.kind, T::Text | T::News) {
        let what = match channel.kind {
            T::Category => "a category",
            T::Voice | T::Stage => "a voice channel",
            T::Forum => "a forum",
            _ => "not a text channel",
        };
        return Err(format!(
            "{mention} is {what}: announcements go to a text or announcement channel."
        ));
    }
    let me = ctx.framework().bot_id();
    let Some(guild) = ctx.guild() else {
        return Ok(());
    };
    let Some(target) = guild.channels.get(&channel.id) else {
        return Err(format!(
            "{mention} is not a channel of this server that herald can see."
        ));
    };
    let Some(member) = guild.members.get(&me) else {
        return Ok(());
    };
    let have = guild.user_permissions_in(target, member);
    let missing: Vec<&str> = NEEDED
        .iter()
        .filter(|(p, _)| !have.contains(*p))
        .map(|(_, name)| *name)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "herald cannot announce in {mention}: it lacks {} there. Give herald's role {} in that channel, then subscribe again.",
            missing.join(", "),
            if missing.len() == 1 {
                "that permission"
            } else {
                "those permissions"
            }
        ))
    }
}

/// Subscribe a channel to announcements (a channel may hold several subscriptions).
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
#[allow(clippy::too_many_arguments)]
pub async fn subscribe(
    ctx: Context<'_>,
    #[description = "The channel that receives announcements"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
    #[description = "all, a region or nation, a party, or constituencies separated by ; or ,"]
    #[autocomplete = "ac_filter"]
    filter: Option<String>,
    #[description = "Only seats this party contests"]
    #[autocomplete = "ac_party"]
    party: Option<String>,
    #[description = "Every declaration (default), gains only, or milestones only"] kind: Option<
        SubscribeKind,
    >,
    #[description = "every declaration (default), or digests"] mode: Option<SubscribeMode>,
    #[description = "A role to ping when a seat changes hands (it must allow @mentions)"]
    mention: Option<serenity::Role>,
) -> Result<(), Error> {
    if !refuse_unless_manager(ctx).await? {
        return Ok(());
    }
    let Some(guild) = ctx.guild_id() else {
        return send(ctx, Reply::private("Subscriptions belong to a server.")).await;
    };
    if let Err(why) = can_post_in(ctx, &channel) {
        return send(ctx, Reply::private(why)).await;
    }
    let mention_role = match &mention {
        None => None,
        Some(role) => match pingable(guild, role) {
            Ok(()) => Some(role.id.get().to_string()),
            Err(why) => return send(ctx, Reply::private(why)).await,
        },
    };
    let wants = kind.map(|k| match k {
        SubscribeKind::Every => Wants::Every,
        SubscribeKind::Gains => Wants::Gains,
        SubscribeKind::Milestones => Wants::Milestones,
    });
    let parsed = {
        let board = ctx.data().board.read();
        subscribing::build_filter(&board, filter.as_deref(), party.as_deref(), wants)
            .map(|f| (subscribing::describe_filter(&board, &f), f))
    };
    let (described, filter) = match parsed {
        Ok(x) => x,
        Err(e) => return send(ctx, Reply::private(e)).await,
    };
    if mention_role.is_some() && filter.wants == Wants::Milestones {
        return send(
            ctx,
            Reply::private("A role is pinged when a seat changes hands; a subscription to milestones only pings nobody. Leave `mention` out, or choose another kind."),
        )
        .await;
    }
    let mode = match mode {
        Some(SubscribeMode::Digest) => Mode::Digest,
        _ => Mode::Every,
    };
    let publish = channel.kind == serenity::ChannelType::News;
    let sub = Subscription {
        id: 0,
        channel_id: channel.id.get().to_string(),
        guild_id: guild.get().to_string(),
        filter,
        mode,
        paused_reason: None,
        mention_role,
        created_in: Some(ctx.channel_id().get().to_string()),
        publish,
    };
    let done = ctx
        .data()
        .store
        .subscribe(&sub, Some(&ctx.author().id.get().to_string()))
        .await?;
    let mut text = format!(
        "<#{}> will receive {} ({}){}. Subscription `{}`{}.",
        channel.id.get(),
        escape_markdown(&described),
        if mode == Mode::Digest {
            "as digests"
        } else {
            "one message each"
        },
        match &mention {
            Some(role) => format!(
                ", pinging {} when a seat changes hands",
                escape_markdown(&role.name)
            ),
            None => String::new(),
        },
        done.id,
        match (done.replaced, done.in_channel) {
            (true, _) => ", updated".to_string(),
            (false, 1) => String::new(),
            (false, n) =>
                format!(", one of {n} in that channel (it receives each announcement once)"),
        }
    );
    if publish {
        text.push_str(" It is an announcement channel: milestones are published to the servers that follow it (Discord allows about ten a channel an hour), never every seat.");
    }
    send(ctx, Reply::private(text)).await
}

/// Whether herald may ping `role` for a subscription: never @everyone, never a role an
/// integration manages, and only a role members may mention.
fn pingable(guild: serenity::GuildId, role: &serenity::Role) -> Result<(), String> {
    let name = crate::format::embed::escape_markdown(&role.name);
    if role.id.get() == guild.get() {
        return Err("herald never pings @everyone: choose a role people opt into.".into());
    }
    if role.managed {
        return Err(format!(
            "{name} belongs to a bot or an integration: choose a role people opt into."
        ));
    }
    if !role.mentionable {
        return Err(format!(
            "{name} does not allow @mentions: turn on “Allow anyone to @mention this role” in Server Settings → Roles, or choose another role."
        ));
    }
    Ok(())
}

/// Stop announcements in a channel: one subscription (its number), or all of them.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn unsubscribe(
    ctx: Context<'_>,
    #[description = "The channel to stop"]
    #[channel_types("Text", "News")]
    channel: serenity::ChannelId,
    #[description = "Only this subscription (its number in /subscriptions); all when left out"]
    #[min = 1]
    number: Option<i64>,
) -> Result<(), Error> {
    if !refuse_unless_manager(ctx).await? {
        return Ok(());
    }
    let Some(guild) = ctx.guild_id() else {
        return send(ctx, Reply::private("Subscriptions belong to a server.")).await;
    };
    let gone = ctx
        .data()
        .store
        .unsubscribe(&guild.get().to_string(), &channel.get().to_string(), number)
        .await?;
    let text = match (gone, number) {
        (0, None) => format!("<#{}> was not subscribed.", channel.get()),
        (0, Some(n)) => format!(
            "<#{}> has no subscription `{n}`: /subscriptions lists them.",
            channel.get()
        ),
        (_, Some(n)) => format!("Subscription `{n}` of <#{}> removed.", channel.get()),
        (_, None) => format!("<#{}> will receive no more announcements.", channel.get()),
    };
    send(ctx, Reply::private(text)).await
}

/// This server's subscribed channels.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn subscriptions(ctx: Context<'_>) -> Result<(), Error> {
    if !refuse_unless_manager(ctx).await? {
        return Ok(());
    }
    let Some(guild) = ctx.guild_id() else {
        return send(ctx, Reply::private("Subscriptions belong to a server.")).await;
    };
    let subs = ctx
        .data()
        .store
        .subscriptions(&guild.get().to_string())
        .await?;
    let reply = {
        let board = ctx.data().board.read();
        subscribing::subscriptions(&board, &subs)
    };
    send(ctx, reply).await
}
