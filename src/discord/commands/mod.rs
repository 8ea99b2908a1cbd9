//! The slash commands (poise). Each is thin: it reads the board or the store through
//! [`super::replies`] and carries the answer to Discord, with no mentions allowed.

use poise::serenity_prelude as serenity;

use super::bot::{Context, Error};
use super::embed::{create_embed, no_mentions};
use super::replies::{self, Picture, Reply};
use crate::store::{Mode, Subscription};

/// Renders a reply's picture off the async runtime's core threads.
async fn picture_bytes(ctx: Context<'_>, picture: &Picture) -> Option<Vec<u8>> {
    let data = ctx.data();
    if !data.charts {
        return None;
    }
    let board = data.board.clone();
    let presentation = data.presentation.clone();
    let picture = picture.clone();
    tokio::task::spawn_blocking(move || super::pictures::render(&board, &picture, &presentation))
        .await
        .ok()
        .flatten()
}

/// Sends a reply: embeds, content, the picture, always with no mentions allowed.
pub async fn send(ctx: Context<'_>, reply: Reply) -> Result<(), Error> {
    let mut out = poise::CreateReply::default()
        .allowed_mentions(no_mentions())
        .ephemeral(reply.ephemeral);
    if let Some(c) = &reply.content {
        out = out.content(c);
    }
    let bytes = match &reply.picture {
        Some(p) => picture_bytes(ctx, p).await,
        None => None,
    };
    for (i, e) in reply.embeds.iter().enumerate() {
        let mut e = e.clone();
        if i == 0 && bytes.is_some() {
            e.image = Some("chart.png".into());
        }
        out = out.embed(create_embed(&e));
    }
    if let Some(b) = bytes {
        out = out.attachment(serenity::CreateAttachment::bytes(b, "chart.png"));
    }
    ctx.send(out).await?;
    Ok(())
}

fn choices(list: Vec<replies::Choice>) -> serenity::CreateAutocompleteResponse {
    serenity::CreateAutocompleteResponse::new().set_choices(
        list.into_iter()
            .map(|(name, value)| serenity::AutocompleteChoice::new(name, value))
            .collect(),
    )
}

async fn ac_constituency(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let board = ctx.data().board.read().unwrap_or_else(|p| p.into_inner());
    choices(replies::constituency_choices(&board, partial))
}

async fn ac_party(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let board = ctx.data().board.read().unwrap_or_else(|p| p.into_inner());
    choices(replies::party_choices(&board, partial))
}

async fn ac_region(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let board = ctx.data().board.read().unwrap_or_else(|p| p.into_inner());
    choices(replies::region_choices(&board, partial))
}

async fn ac_filter(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let board = ctx.data().board.read().unwrap_or_else(|p| p.into_inner());
    choices(replies::filter_choices(&board, partial))
}

/// Runs `f` over the board, then sends what it returns.
async fn from_board(
    ctx: Context<'_>,
    f: impl FnOnce(&crate::core::board::Board, &replies::Presentation) -> Reply,
) -> Result<(), Error> {
    let reply = {
        let board = ctx.data().board.read().unwrap_or_else(|p| p.into_inner());
        f(&board, &ctx.data().presentation)
    };
    send(ctx, reply).await
}

/// A constituency's result: winner, majority, turnout, swing and every candidate.
#[poise::command(slash_command, rename = "result")]
pub async fn result_cmd(
    ctx: Context<'_>,
    #[description = "Constituency (typos are forgiven)"]
    #[autocomplete = "ac_constituency"]
    constituency: String,
) -> Result<(), Error> {
    from_board(ctx, |b, p| replies::result(b, p, &constituency)).await
}

/// The most recent declarations.
#[poise::command(slash_command)]
pub async fn latest(
    ctx: Context<'_>,
    #[description = "How many (1 to 25, default 5)"]
    #[min = 1]
    #[max = 25]
    count: Option<u8>,
) -> Result<(), Error> {
    from_board(ctx, |b, p| {
        replies::latest(b, p, usize::from(count.unwrap_or(5)))
    })
    .await
}

/// The state of the parties: seats, change, the majority line, vote share.
#[poise::command(slash_command)]
pub async fn seats(ctx: Context<'_>) -> Result<(), Error> {
    from_board(ctx, replies::seats).await
}

/// The national swing and the biggest swings so far.
#[poise::command(slash_command)]
pub async fn swing(ctx: Context<'_>) -> Result<(), Error> {
    from_board(ctx, replies::swing).await
}

/// One party: seats, gains and losses.
#[poise::command(slash_command)]
pub async fn party(
    ctx: Context<'_>,
    #[description = "Party"]
    #[autocomplete = "ac_party"]
    party: String,
) -> Result<(), Error> {
    from_board(ctx, |b, p| replies::party(b, p, &party)).await
}

/// The tally within a region or nation.
#[poise::command(slash_command)]
pub async fn region(
    ctx: Context<'_>,
    #[description = "Region or nation"]
    #[autocomplete = "ac_region"]
    region: String,
) -> Result<(), Error> {
    from_board(ctx, |b, p| replies::region(b, p, &region)).await
}

/// How subscribed channels receive announcements.
#[derive(Debug, poise::ChoiceParameter)]
pub enum SubscribeMode {
    #[name = "every"]
    Every,
    #[name = "digest"]
    Digest,
}

/// Whether the member invoking may manage the server (checked again at run time: server
/// admins can override the default permissions of a command).
fn can_manage(ctx: Context<'_>) -> bool {
    match ctx {
        poise::Context::Application(a) => a
            .interaction
            .member
            .as_ref()
            .and_then(|m| m.permissions)
            .is_some_and(|p| p.manage_guild() || p.administrator()),
        poise::Context::Prefix(_) => false,
    }
}

async fn refuse_unless_manager(ctx: Context<'_>) -> Result<bool, Error> {
    if can_manage(ctx) {
        return Ok(true);
    }
    send(
        ctx,
        Reply::private(
            "You need the Manage Server permission to change this server's subscriptions.",
        ),
    )
    .await?;
    Ok(false)
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

/// Subscribe a channel to announcements.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn subscribe(
    ctx: Context<'_>,
    #[description = "The channel that receives announcements"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
    #[description = "all, a region or nation, a party, or constituencies separated by ; or ,"]
    #[autocomplete = "ac_filter"]
    filter: Option<String>,
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
    let channel = channel.id;
    let parsed = {
        let board = ctx.data().board.read().unwrap_or_else(|p| p.into_inner());
        replies::parse_filter(&board, filter.as_deref().unwrap_or("all"))
            .map(|f| (replies::describe_filter(&board, &f), f))
    };
    let (described, filter) = match parsed {
        Ok(x) => x,
        Err(e) => return send(ctx, Reply::private(e)).await,
    };
    let mode = match mode {
        Some(SubscribeMode::Digest) => Mode::Digest,
        _ => Mode::Every,
    };
    let sub = Subscription {
        channel_id: channel.get().to_string(),
        guild_id: guild.get().to_string(),
        filter,
        mode,
        paused_reason: None,
        mention_role,
    };
    ctx.data()
        .store
        .subscribe(&sub, Some(&ctx.author().id.get().to_string()))
        .await?;
    send(
        ctx,
        Reply::private(format!(
            "<#{}> will receive {} ({}){}.",
            channel.get(),
            crate::format::embed::escape_markdown(&described),
            if mode == Mode::Digest {
                "as digests"
            } else {
                "one message each"
            },
            match &mention {
                Some(role) => format!(
                    ", pinging {} when a seat changes hands",
                    crate::format::embed::escape_markdown(&role.name)
                ),
                None => String::new(),
            }
        )),
    )
    .await
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

/// Stop announcements in a channel.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn unsubscribe(
    ctx: Context<'_>,
    #[description = "The channel to stop"]
    #[channel_types("Text", "News")]
    channel: serenity::ChannelId,
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
        .unsubscribe(&guild.get().to_string(), &channel.get().to_string())
        .await?;
    let text = if gone {
        format!("<#{}> will receive no more announcements.", channel.get())
    } else {
        format!("<#{}> was not subscribed.", channel.get())
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
        let board = ctx.data().board.read().unwrap_or_else(|p| p.into_inner());
        replies::subscriptions(&board, &subs)
    };
    send(ctx, reply).await
}

/// Withdraw a seat's declaration (announced as withdrawn; for a result the feed got wrong).
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn retract(
    ctx: Context<'_>,
    #[description = "The constituency whose declaration to withdraw"]
    #[autocomplete = "ac_constituency"]
    constituency: String,
) -> Result<(), Error> {
    if !refuse_unless_manager(ctx).await? {
        return Ok(());
    }
    let found = {
        let board = ctx.data().board.read().unwrap_or_else(|p| p.into_inner());
        replies::find_one(&board, &constituency)
    };
    let (id, name) = match found {
        Ok(x) => x,
        Err(reply) => return send(ctx, reply).await,
    };
    // Recording and announcing may take longer than Discord's three seconds.
    ctx.defer_ephemeral().await?;
    let by = format!("{} ({})", ctx.author().name, ctx.author().id.get());
    let text = match ctx.data().control.retract(id, by).await {
        Ok(_) => format!(
            "The declaration of {} is withdrawn and the retraction announced. It stands until the feed sends that seat again with a new revision or other figures.",
            crate::format::embed::escape_markdown(&name)
        ),
        Err(why) => format!(
            "{}: {}",
            crate::format::embed::escape_markdown(&name),
            crate::format::embed::escape_markdown(&why)
        ),
    };
    send(ctx, Reply::private(text)).await
}

/// What herald is following and how it is doing.
#[poise::command(slash_command)]
pub async fn about(ctx: Context<'_>) -> Result<(), Error> {
    let status = ctx.data().status.borrow().clone();
    let about = replies::About {
        version: env!("CARGO_PKG_VERSION"),
        source: status.source.clone(),
        last_poll: status.last_success,
        last_error: status.last_error.clone(),
    };
    from_board(ctx, |b, p| replies::about(b, p, &about)).await
}

/// Seats changing hands so far; with a party, the seats it gained and lost.
#[poise::command(slash_command)]
pub async fn gains(
    ctx: Context<'_>,
    #[description = "Only this party's gains and losses"]
    #[autocomplete = "ac_party"]
    party: Option<String>,
) -> Result<(), Error> {
    from_board(ctx, |b, p| super::desk::gains(b, p, party.as_deref())).await
}

/// Which marginals `/marginals` lists.
#[derive(Clone, Copy, Debug, poise::ChoiceParameter)]
pub enum MarginalsChoice {
    #[name = "closest results so far"]
    Closest,
    #[name = "most marginal seats still to declare"]
    ToDeclare,
}

/// The closest results so far, or the most marginal seats still to declare.
#[poise::command(slash_command)]
pub async fn marginals(
    ctx: Context<'_>,
    #[description = "Closest so far (default), or still to declare"] which: Option<MarginalsChoice>,
) -> Result<(), Error> {
    let which = match which {
        Some(MarginalsChoice::ToDeclare) => super::desk::Marginals::ToDeclare,
        _ => super::desk::Marginals::Closest,
    };
    from_board(ctx, |b, p| super::desk::marginals(b, p, which)).await
}

/// The seats still to declare, projected by uniform swing in each nation (a projection,
/// not a result).
#[poise::command(slash_command)]
pub async fn projection(ctx: Context<'_>) -> Result<(), Error> {
    from_board(ctx, super::desk::projection).await
}

/// Every command herald registers.
pub fn all() -> Vec<poise::Command<super::bot::Data, Error>> {
    vec![
        result_cmd(),
        latest(),
        seats(),
        gains(),
        marginals(),
        projection(),
        swing(),
        party(),
        region(),
        subscribe(),
        unsubscribe(),
        subscriptions(),
        retract(),
        about(),
    ]
}
