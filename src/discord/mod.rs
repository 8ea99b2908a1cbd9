//! Discord: the bot that answers slash commands, and the dispatcher that posts
//! announcements. Both sit at the output edge, reading the board and the store.
//!
//! * [`bot`]: the gateway client (serenity + poise), intents `GUILDS` only, on the
//!   [`shards`] this process runs.
//! * [`commands`]: the slash commands, thin over [`replies`], [`desk`] and
//!   [`subscribing`] (plain functions of the board).
//! * [`dispatch`]: the outbox worker that posts, edits and digests announcements within
//!   Discord's rate limits, over [`rest`].
//! * [`embed`]: herald's embeds in serenity's shape, and the empty allowed-mentions.
//! * [`pictures`]: charts for replies and announcements.

pub mod bot;
pub mod commands;
pub mod desk;
pub mod dispatch;
pub mod embed;
pub mod health;
pub mod pictures;
pub mod replies;
pub mod rest;
pub mod shards;
pub mod subscribing;
