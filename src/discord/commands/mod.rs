//! The slash commands (poise). Each is thin: it reads the board or the store through
//! [`super::replies`], [`super::desk`] or [`super::subscribing`] and carries the answer to
//! Discord, with no mentions allowed. The subscription commands are in [`subscriptions`].

use poise::serenity_prelude as serenity;

use tokio::sync::watch;

use super::embed::{create_embed, no_mentions};
use super::replies::{self, Picture, Presentation, Reply};
use crate::observe::Metrics;
use crate::store::Store;
use crate::watch::{Control, SharedBoard, WatchStatus};

mod subscriptions;
pub use subscriptions::{SubscribeKind, SubscribeMode, subscribe, subscriptions, unsubscribe};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Context<'a> = poise::Context<'a, Data, Error>;

/// What every command can reach.
pub struct Data {
    pub board: SharedBoard,
    pub store: Store,
    pub presentation: Presentation,
    pub status: watch::Receiver<WatchStatus>,
    /// Operators' requests to the watcher (`/retract`).
    pub control: Control,
    pub charts: bool,
    pub metrics: Metrics,
}

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

pub(super) fn choices(list: Vec<replies::Choice>) -> serenity::CreateAutocompleteResponse {
    serenity::CreateAutocompleteResponse::new().set_choices(
        list.into_iter()
            .map(|(name, value)| serenity::AutocompleteChoice::new(name, value))
            .collect(),
    )
}

async fn ac_constituency(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let board = ctx.data().board.read();
    choices(replies::constituency_choices(&board, partial))
}

async fn ac_party(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let board = ctx.data().board.read();
    choices(replies::party_choices(&board, partial))
}

async fn ac_region(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let board = ctx.data().board.read();
    choices(replies::region_choices(&board, partial))
}

/// Runs `f` over the board, then sends what it returns.
async fn from_board(
    ctx: Context<'_>,
    f: impl FnOnce(&crate::core::board::Board, &replies::Presentation) -> Reply,
) -> Result<(), Error> {
    let reply = {
        let board = ctx.data().board.read();
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

pub(super) async fn refuse_unless_manager(ctx: Context<'_>) -> Result<bool, Error> {
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
        let board = ctx.data().board.read();
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

/// The councils declared so far: control and seats by party, with the changes.
#[poise::command(slash_command)]
pub async fn councils(ctx: Context<'_>) -> Result<(), Error> {
    from_board(ctx, super::desk::councils).await
}

/// Every command herald registers.
pub fn all() -> Vec<poise::Command<Data, Error>> {
    vec![
        result_cmd(),
        latest(),
        seats(),
        gains(),
        marginals(),
        projection(),
        councils(),
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
