//! The bot end to end against the strict fake Discord: the real pipeline (rehearsal feed,
//! watcher, store, dispatcher) and the real bot object (serenity + poise), pointed at the
//! fake through `discord.api_base`.

use crate::app::TestApp;
use crate::support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fake_discord::{FakeConfig, FakeDiscord, FakeUser, Faults};
use herald::core::model::*;
use herald::demo;
use herald::discord::dispatch::DispatchConfig;
use serde_json::{Value, json};

/// The demo election's herald against the fake Discord, with helpers for what a member
/// does there.
struct Rig {
    app: TestApp,
    fake: FakeDiscord,
    guild: u64,
    channels: Vec<u64>,
}

const WAIT: Duration = Duration::from_secs(10);

async fn rig() -> Rig {
    rig_with(FakeConfig::new(1, 3), DispatchConfig::default()).await
}

async fn rig_with(fake: FakeConfig, dispatch: DispatchConfig) -> Rig {
    rig_of(fake, dispatch, None).await
}

/// A rig whose election has `seats` seats (the demo's one, Hartlepool, by default), so that
/// a night's milestones can be reached with a few declarations.
async fn rig_of(fake: FakeConfig, dispatch: DispatchConfig, seats: Option<u32>) -> Rig {
    let mut spawn = TestApp::demo().discord(fake).dispatch(dispatch);
    if let Some(n) = seats {
        spawn = spawn.seats(n);
    }
    let app = spawn.start().await;
    let fake = app.discord().clone();
    let guild = fake.config().guilds[0].id;
    let channels = fake.config().guilds[0].channels.clone();
    Rig {
        app,
        fake,
        guild,
        channels,
    }
}

fn hartlepool() -> Declaration {
    let parties = demo::parties();
    demo::load(&parties).0.declarations[0].clone()
}

impl Rig {
    async fn declare(&self, d: &Declaration) {
        self.app.declare(d).await;
    }

    /// `/result SEAT` as `user`.
    async fn result(&self, user: FakeUser, seat: &str) -> Value {
        self.command(
            user,
            "result",
            json!([{"name": "constituency", "type": 3, "value": seat}]),
        )
        .await
    }

    async fn command(&self, user: FakeUser, name: &str, options: Value) -> Value {
        let i = self
            .fake
            .command(self.guild, self.channels[0], user, name, options)
            .await;
        let first = self.fake.response(&i, WAIT).await.expect("the bot answers");
        assert!(
            first.elapsed < Duration::from_secs(3),
            "answered within Discord's 3 s"
        );
        self.fake.final_reply(&i, WAIT).await.expect("a reply")
    }

    async fn subscribe(&self, channel: u64, extra: &[Value]) -> Value {
        let mut options = vec![json!({"name": "channel", "type": 7, "value": channel.to_string()})];
        options.extend(extra.iter().cloned());
        self.command(
            FakeUser::admin("editor"),
            "subscribe",
            Value::Array(options),
        )
        .await
    }

    /// Waits until `channel` holds `n` messages (or fails after a while).
    async fn messages(&self, channel: u64, n: usize) -> Vec<fake_discord::Message> {
        let deadline = Instant::now() + WAIT;
        loop {
            let m = self.fake.messages(channel);
            if m.len() >= n {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages in {channel}, have {}: {m:?}",
                m.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn assert_clean(&self) {
        let rejected = self.fake.rejected();
        assert!(
            rejected.is_empty(),
            "the fake refused requests real Discord would refuse: {rejected:#?}"
        );
        for c in &self.channels {
            for m in self.fake.messages(*c) {
                assert!(
                    m.pinged.is_empty(),
                    "message {} would ping {:?}",
                    m.id,
                    m.pinged
                );
            }
        }
    }

    async fn stop(self) {
        self.app.stop().await;
    }
}

/// Whether a reply's embed shows the attached chart (`attachment://chart.png` as sent, or
/// the attachment's URL once Discord has resolved it).
fn has_chart(reply: &Value) -> bool {
    reply["embeds"][0]["image"]["url"]
        .as_str()
        .is_some_and(|u| u == "attachment://chart.png" || u.ends_with("/chart.png"))
}

fn reply_text(v: &Value) -> String {
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribed_channel_gets_the_announcement_and_the_correction() {
    let rig = rig().await;
    let ch = rig.channels[1];
    let r = rig.subscribe(ch, &[]).await;
    assert_eq!(
        r["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "the confirmation is ephemeral"
    );
    assert!(
        reply_text(&r).contains("will receive every declaration"),
        "{r}"
    );

    let d = hartlepool();
    rig.declare(&d).await;
    let msgs = rig.messages(ch, 1).await;
    let m = &msgs[0];
    let embed = &m.embeds[0];
    assert_eq!(embed["title"], "Hartlepool: Con GAIN from Lab");
    let desc = embed["description"].as_str().unwrap();
    assert!(
        desc.contains(
            "**Jill Mortimer** (Conservative) is elected with 15,529 votes, 51.9% of the vote."
        ),
        "{desc}"
    );
    assert!(desc.contains("Majority 6,940 (23.2%)."));
    assert!(desc.contains("Swing of 16.0 points from Labour to Conservative since 2019."));
    assert_eq!(embed["color"], 0x0087DC, "in the winner's colour");
    assert!(
        embed["fields"][0]["value"]
            .as_str()
            .unwrap()
            .contains("Paul Williams")
    );
    assert!(
        m.nonce
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|n| n.len() <= 25)
    );
    assert_eq!(m.allowed_mentions.as_ref().unwrap()["parse"], json!([]));
    // The result chart is attached and shown in the embed.
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].filename, "chart.png");
    assert_eq!(embed["image"]["url"], "attachment://chart.png");
    let png = image::load_from_memory(&m.attachments[0].data).expect("the chart is a PNG");
    assert_eq!(
        (png.width(), png.height()),
        (herald::format::chart::WIDTH, herald::format::chart::HEIGHT)
    );

    // A correction edits the announcement and posts a note replying to it.
    let mut fix = d.clone();
    fix.revision = 2;
    fix.result.candidates[1].votes += 1000;
    fix.result.valid_votes = fix.result.valid_votes.map(|v| v + 1000);
    rig.declare(&fix).await;
    let msgs = rig.messages(ch, 2).await;
    let original = &msgs[0];
    assert_eq!(original.edits, 1, "the original is edited");
    assert!(
        original.embeds[0]["description"]
            .as_str()
            .unwrap()
            .contains("Majority 5,940")
    );
    let note = &msgs[1];
    assert_eq!(
        note.message_reference.as_ref().unwrap()["message_id"],
        json!(original.id.to_string())
    );
    assert!(
        note.content
            .contains("Correction to Hartlepool (revision 2)"),
        "{}",
        note.content
    );
    assert!(
        note.content.contains("8,589 → 9,589 votes"),
        "{}",
        note.content
    );
    assert!(
        note.content.contains("majority 6,940 → 5,940"),
        "{}",
        note.content
    );

    // The store holds the posted message ids.
    let outbox = rig
        .app
        .pipeline
        .store
        .outbox(herald::store::SinkKind::Discord)
        .await
        .unwrap();
    assert_eq!(outbox.len(), 2);
    assert_eq!(
        outbox[0].message_id.as_deref(),
        Some(original.id.to_string().as_str())
    );
    rig.assert_clean();
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_announced_at_once_and_the_result_edits_it() {
    let rig = rig().await;
    let ch = rig.channels[1];
    rig.subscribe(
        ch,
        &[json!({"name": "filter", "type": 3, "value": "North East"})],
    )
    .await;
    let full = hartlepool();
    let mut call = full.clone();
    call.status = DeclarationStatus::Called;
    call.declared_at = None;
    call.result.valid_votes = None;
    for c in &mut call.result.candidates {
        c.votes = 0;
    }
    rig.declare(&call).await;
    let msgs = rig.messages(ch, 1).await;
    assert_eq!(
        msgs[0].embeds[0]["title"],
        "Hartlepool: Con GAIN from Lab, figures to follow"
    );
    rig.declare(&full).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let m = rig.fake.messages(ch);
        if m[0].edits >= 1 {
            assert_eq!(
                m.len(),
                1,
                "the result edits the call rather than posting again"
            );
            assert_eq!(m[0].embeds[0]["title"], "Hartlepool: Con GAIN from Lab");
            break;
        }
        assert!(Instant::now() < deadline, "the call was not completed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rig.assert_clean();
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_and_autocomplete_answer_quickly_and_forgive_typos() {
    let rig = rig().await;
    rig.declare(&hartlepool()).await;
    let deadline = Instant::now() + WAIT;
    while rig.app.pipeline.progress().0 < 1 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let member = FakeUser::new("reader");
    let i = rig
        .fake
        .autocomplete(
            rig.guild,
            rig.channels[0],
            member.clone(),
            "result",
            json!([{"name": "constituency", "type": 3, "value": "hart"}]),
        )
        .await;
    let r = rig
        .fake
        .response(&i, WAIT)
        .await
        .expect("autocomplete answered");
    assert_eq!(r.kind, 8);
    assert!(
        r.elapsed < Duration::from_millis(1500),
        "autocomplete answered in {:?}",
        r.elapsed
    );
    let choices = r.data["choices"].as_array().unwrap();
    assert!(choices.len() <= 25);
    assert!(
        choices.iter().any(|c| c["name"] == "Hartlepool"),
        "{choices:?}"
    );

    let reply = rig.result(member.clone(), "hartlepol").await;
    assert_eq!(
        reply["embeds"][0]["title"], "Hartlepool: Con GAIN from Lab",
        "{reply}"
    );
    assert_eq!(
        reply["flags"].as_u64().unwrap_or(0) & 64,
        0,
        "a result is public"
    );
    assert!(has_chart(&reply), "/result carries its chart");

    let reply = rig.result(member.clone(), "Atlantis").await;
    assert_eq!(
        reply["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "an unknown name is answered privately"
    );
    assert!(reply_text(&reply).contains("No constituency matches"));

    // A candidate's name finds their seat, by /result and by its autocomplete.
    let reply = rig.result(member.clone(), "jill mortimer").await;
    assert_eq!(reply["embeds"][0]["title"], "Hartlepool: Con GAIN from Lab");
    let i = rig
        .fake
        .autocomplete(
            rig.guild,
            rig.channels[0],
            member.clone(),
            "result",
            json!([{"name": "constituency", "type": 3, "value": "mortim"}]),
        )
        .await;
    let r = rig
        .fake
        .response(&i, WAIT)
        .await
        .expect("autocomplete answered");
    let choices = r.data["choices"].as_array().unwrap();
    assert!(
        choices
            .iter()
            .any(|c| c["name"] == "Jill Mortimer — Hartlepool" && c["value"] == "Hartlepool"),
        "{choices:?}"
    );

    // The desk's questions.
    let reply = rig.command(member.clone(), "gains", json!([])).await;
    assert!(
        reply_text(&reply).contains("Hartlepool**: Con GAIN from Lab, majority 6,940"),
        "{reply}"
    );
    let reply = rig
        .command(
            member.clone(),
            "gains",
            json!([{"name": "party", "type": 3, "value": "lab"}]),
        )
        .await;
    assert!(
        reply_text(&reply).contains("Lab: 0 gained, 1 lost"),
        "{reply}"
    );
    let reply = rig.command(member.clone(), "marginals", json!([])).await;
    assert!(
        reply_text(&reply).contains("The closest results so far"),
        "{reply}"
    );
    assert!(reply_text(&reply).contains("Hartlepool"), "{reply}");
    // One seat is far from enough to project: said so, within Discord's 3 s.
    let reply = rig.command(member.clone(), "projection", json!([])).await;
    assert!(reply_text(&reply).contains("No projection yet"), "{reply}");

    // The other commands everyone can use.
    let reply = rig.command(member.clone(), "seats", json!([])).await;
    assert!(
        reply["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .contains("1 of 1 declared"),
        "{reply}"
    );
    assert!(has_chart(&reply), "/seats carries the seats chart");
    let reply = rig
        .command(
            member.clone(),
            "latest",
            json!([{"name": "count", "type": 4, "value": 3}]),
        )
        .await;
    assert!(reply_text(&reply).contains("Hartlepool"));
    let reply = rig.command(member.clone(), "swing", json!([])).await;
    assert!(reply_text(&reply).contains("16.0 points Lab → Con"));
    assert!(has_chart(&reply), "/swing carries the swingometer");
    let reply = rig
        .command(
            member.clone(),
            "party",
            json!([{"name": "party", "type": 3, "value": "lab"}]),
        )
        .await;
    assert!(reply_text(&reply).contains("Losses"));
    let reply = rig
        .command(
            member.clone(),
            "region",
            json!([{"name": "region", "type": 3, "value": "North East"}]),
        )
        .await;
    assert!(
        reply["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("North East")
    );
    let reply = rig.command(member, "about", json!([])).await;
    assert!(reply_text(&reply).contains("Declared so far: 1 of 1"));
    rig.assert_clean();
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_server_managers_change_subscriptions() {
    let rig = rig().await;
    let deadline = Instant::now() + WAIT;
    let subscribe = loop {
        if let Some(c) = rig
            .fake
            .commands(Some(rig.guild))
            .into_iter()
            .find(|c| c["name"] == "subscribe")
        {
            break c;
        }
        assert!(Instant::now() < deadline, "commands were not registered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        subscribe["default_member_permissions"], "32",
        "Manage Server by default"
    );
    let reply = rig
        .command(
            FakeUser::new("reader"),
            "subscribe",
            json!([{"name": "channel", "type": 7, "value": rig.channels[1].to_string()}]),
        )
        .await;
    assert_eq!(reply["flags"].as_u64().unwrap_or(0) & 64, 64);
    assert!(reply_text(&reply).contains("Manage Server"), "{reply}");
    assert!(
        rig.app
            .pipeline
            .store
            .channel(&rig.channels[1].to_string())
            .await
            .unwrap()
            .is_none()
    );

    let r = rig
        .subscribe(
            rig.channels[1],
            &[json!({"name": "mode", "type": 4, "value": 1})],
        )
        .await;
    assert!(reply_text(&r).contains("as digests"));
    let listed = rig
        .command(FakeUser::admin("editor"), "subscriptions", json!([]))
        .await;
    assert!(reply_text(&listed).contains(&format!("<#{}>", rig.channels[1])));
    let r = rig
        .command(
            FakeUser::admin("editor"),
            "unsubscribe",
            json!([{"name": "channel", "type": 7, "value": rig.channels[1].to_string()}]),
        )
        .await;
    assert!(reply_text(&r).contains("no more announcements"));
    assert!(
        rig.app
            .pipeline
            .store
            .channel(&rig.channels[1].to_string())
            .await
            .unwrap()
            .is_none()
    );
    rig.assert_clean();
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_candidate_name_pings_nobody_and_shows_literally() {
    let rig = rig().await;
    let ch = rig.channels[2];
    rig.subscribe(ch, &[]).await;
    let mut d = hartlepool();
    d.result.candidates[2].name = "@everyone **x**".into();
    d.result.candidates[0].name = "<@&1234> [link](https://example.com)".into();
    rig.declare(&d).await;
    let msgs = rig.messages(ch, 1).await;
    let desc = msgs[0].embeds[0]["description"].as_str().unwrap();
    assert!(
        desc.contains("\\<@\u{200B}&1234\\> \\[link\\]\\(https://example.com\\)"),
        "markdown is escaped and the mention defused: {desc}"
    );
    let table = msgs[0].embeds[0]["fields"][0]["value"].as_str().unwrap();
    assert!(
        table.contains("@everyone **x**"),
        "inside the code block the name shows as it is: {table}"
    );
    let reply = rig.result(FakeUser::new("reader"), "Hartlepool").await;
    assert!(reply_text(&reply).contains("everyone"));
    rig.assert_clean();
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_gateway_drops_the_bot_resumes_and_announcements_continue() {
    let rig = rig().await;
    let ch = rig.channels[1];
    rig.subscribe(ch, &[]).await;
    rig.fake.drop_gateway().await;
    let deadline = Instant::now() + WAIT;
    while rig.fake.resumes() < 1 {
        assert!(Instant::now() < deadline, "the bot did not resume");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rig.declare(&hartlepool()).await;
    let msgs = rig.messages(ch, 1).await;
    assert_eq!(msgs[0].embeds[0]["title"], "Hartlepool: Con GAIN from Lab");
    // Commands still arrive over the resumed session.
    let reply = rig
        .command(FakeUser::new("reader"), "seats", json!([]))
        .await;
    assert!(reply["embeds"][0]["title"].as_str().is_some());
    assert_eq!(rig.fake.identifies(), 1, "resumed, not re-identified");
    rig.assert_clean();
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_report_the_pipeline() {
    let rig = rig().await;
    let gateway = rig.app.pipeline.bot.as_ref().map(|b| b.health.clone());
    let (addr, _task) = herald::observe::server::spawn(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        rig.app.pipeline.metrics.clone(),
        rig.app.pipeline.status.clone(),
        rig.app.pipeline.store.clone(),
        gateway,
    )
    .await
    .unwrap();
    let get = |path: &'static str| async move {
        let r = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let deadline = Instant::now() + WAIT;
    loop {
        let (code, body) = get("/healthz").await;
        if code == 200 {
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["source"]["reachable"], true);
            assert_eq!(v["gateway"]["connected"], true);
            assert_eq!(v["store"]["writable"], true);
            break;
        }
        assert!(Instant::now() < deadline, "never healthy: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    rig.subscribe(rig.channels[1], &[]).await;
    rig.declare(&hartlepool()).await;
    rig.messages(rig.channels[1], 1).await;
    // The fake holds the message a moment before herald has read the reply and counted it.
    let series = [
        "herald_declarations_seen_total{kind=\"declared\"} 1",
        "herald_announcements_queued_total{sink=\"discord\"} 1",
        "herald_announcements_sent_total{sink=\"discord\"} 1",
        "herald_feed_to_post_seconds_count 1",
        "herald_poll_seconds_count",
        "herald_outbox_depth",
    ];
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, metrics) = get("/metrics").await;
        let missing: Vec<&str> = series
            .iter()
            .copied()
            .filter(|s| !metrics.contains(s))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "missing {missing:?} in:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The feed goes away: the source is no longer reachable and health says so.
    let Rig { fake, app, .. } = rig;
    let TestApp { pipeline, feed, .. } = app;
    feed.stop().await;
    let deadline = Instant::now() + WAIT;
    loop {
        let (code, body) = get("/healthz").await;
        if code == 503 {
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["source"]["reachable"], false);
            assert!(
                v["source"]["last_error"]
                    .as_str()
                    .unwrap()
                    .contains("feed.json")
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still healthy without a source: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, metrics) = get("/metrics").await;
    assert!(
        metrics.contains("herald_feed_errors_total{cause=\"connect\"}"),
        "{metrics}"
    );
    pipeline.stop().await;
    drop(fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retraction_edits_the_announcement_and_says_so() {
    let rig = rig().await;
    let ch = rig.channels[1];
    rig.subscribe(ch, &[]).await;
    let d = hartlepool();
    rig.declare(&d).await;
    rig.messages(ch, 1).await;
    let url = format!("http://{}/declarations/{}", rig.app.feed.addr, d.id());
    let r = reqwest::Client::new().delete(url).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let msgs = rig.messages(ch, 2).await;
    assert_eq!(msgs[0].edits, 1);
    assert_eq!(
        msgs[0].embeds[0]["title"],
        "Hartlepool: declaration withdrawn"
    );
    assert!(
        msgs[1]
            .content
            .starts_with("Retraction: the declaration for Hartlepool has been withdrawn"),
        "{}",
        msgs[1].content
    );
    assert_eq!(
        msgs[1].message_reference.as_ref().unwrap()["message_id"],
        json!(msgs[0].id.to_string())
    );
    // /result no longer shows the withdrawn figures, and says the declaration was withdrawn.
    let reply = rig.result(FakeUser::new("reader"), "Hartlepool").await;
    assert_eq!(
        reply["embeds"][0]["title"],
        "Hartlepool: declaration withdrawn"
    );
    rig.assert_clean();
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn herald_discord_register_registers_every_command_in_a_guild() {
    let fake = FakeDiscord::start(FakeConfig::new(1, 1)).await;
    let guild = fake.config().guilds[0].id;
    let app = fake.config().application_id;
    let fake2 = fake.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["discord", "register", "--guild", &guild.to_string()])
            .env("DISCORD_TOKEN", fake2.token())
            .env("HERALD_DISCORD_API_BASE", fake2.api_base())
            .env("HERALD_DISCORD_APPLICATION_ID", app.to_string())
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("registered 15 commands in guild {guild}"))
    );
    let mut names: Vec<String> = fake
        .commands(Some(guild))
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "about",
            "councils",
            "gains",
            "latest",
            "marginals",
            "party",
            "projection",
            "region",
            "result",
            "retract",
            "seats",
            "subscribe",
            "subscriptions",
            "swing",
            "unsubscribe"
        ]
    );
    assert!(fake.rejected().is_empty(), "{:#?}", fake.rejected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_discord_refuses_is_paused_once_and_shown_while_others_carry_on() {
    use fake_discord::ChannelState;
    let rig = rig().await;
    let (gone, fine) = (rig.channels[1], rig.channels[2]);
    rig.subscribe(gone, &[]).await;
    rig.subscribe(fine, &[]).await;
    rig.fake.set_channel_state(gone, ChannelState::Forbidden);
    rig.declare(&hartlepool()).await;
    // The other channel still gets its announcement.
    rig.messages(fine, 1).await;
    // Paused, and its rows given up (the store does one, then the other).
    let deadline = Instant::now() + WAIT;
    let sub = loop {
        let s = rig
            .app
            .pipeline
            .store
            .channel(&gone.to_string())
            .await
            .unwrap()
            .unwrap();
        let outbox = rig
            .app
            .pipeline
            .store
            .outbox(herald::store::SinkKind::Discord)
            .await
            .unwrap();
        let rows: Vec<_> = outbox
            .iter()
            .filter(|i| i.target == gone.to_string())
            .collect();
        let all_failed = !rows.is_empty()
            && rows
                .iter()
                .all(|i| i.state == herald::store::OutboxState::Failed);
        if s.paused_reason().is_some() && all_failed {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the refused channel was not paused, or its rows not given up: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        sub.paused_reason().unwrap_or_default().contains("403"),
        "the reason names Discord's answer"
    );
    // The admin is told where the subscription was made, once, pinging nobody.
    let told = rig.messages(rig.channels[0], 1).await;
    let notes: Vec<_> = told
        .iter()
        .filter(|m| m.content.contains("stopped announcing"))
        .collect();
    assert_eq!(notes.len(), 1, "{told:?}");
    assert!(
        notes[0].content.contains(&format!("<#{gone}>")),
        "{}",
        notes[0].content
    );
    assert!(notes[0].pinged.is_empty());
    let listed = rig
        .command(FakeUser::admin("editor"), "subscriptions", json!([]))
        .await;
    assert!(reply_text(&listed).contains("paused"), "{listed}");
    // Nothing is retried against a paused channel: one refused request, not a storm.
    let tries = rig
        .fake
        .requests()
        .iter()
        .filter(|r| r.path == format!("/api/v10/channels/{gone}/messages"))
        .count();
    assert_eq!(tries, 1);
    // Subscribing again (after fixing the permissions) resumes it.
    rig.fake.set_channel_state(gone, ChannelState::Ok);
    rig.subscribe(gone, &[]).await;
    assert!(
        rig.app
            .pipeline
            .store
            .channel(&gone.to_string())
            .await
            .unwrap()
            .unwrap()
            .paused_reason()
            .is_none()
    );
    rig.stop().await;
}

/// Discord creates the message but the reply is lost (a 502 after the create), every time,
/// and has forgotten the nonce by the time herald tries again: herald finds its message in
/// the channel's history, records it, and does not post it twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_reply_was_lost_is_found_in_the_channel_not_posted_again() {
    let mut fake = FakeConfig::new(1, 3);
    fake.faults = Faults {
        server_error_after_create: 1.0,
        ..Faults::default()
    };
    fake.nonce_window = Duration::ZERO;
    let rig = rig_with(
        fake,
        DispatchConfig {
            nonce_trust: Duration::ZERO,
            ..DispatchConfig::default()
        },
    )
    .await;
    let ch = rig.channels[1];
    rig.subscribe(ch, &[]).await;
    rig.declare(&hartlepool()).await;
    let deadline = Instant::now() + WAIT;
    let row = loop {
        let outbox = rig
            .app
            .pipeline
            .store
            .outbox(herald::store::SinkKind::Discord)
            .await
            .unwrap();
        if let Some(r) = outbox
            .into_iter()
            .find(|i| i.target == ch.to_string() && i.state == herald::store::OutboxState::Sent)
        {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "the announcement was never recorded as sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let msgs = rig.fake.messages(ch);
    assert_eq!(msgs.len(), 1, "posted once");
    assert_eq!(row.message_id, Some(msgs[0].id.to_string()));
    assert!(row.attempts >= 2, "the first reply was lost: tried again");
    let looked = rig
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == format!("/api/v10/channels/{ch}/messages"))
        .count();
    assert!(
        looked >= 1,
        "herald looked in the channel before sending again"
    );
    rig.assert_clean();
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_refuses_channels_herald_cannot_post_in_and_a_category_is_paused() {
    use fake_discord::ChannelState;
    let rig = rig().await;
    let category = rig.fake.config().guilds[0].categories[0];
    // A category holds no messages: refused, saying why.
    let r = rig.subscribe(category, &[]).await;
    assert!(reply_text(&r).contains("is a category"), "{r}");
    // A channel id herald does not know (deleted, or another server's): refused.
    let unknown = fake_discord::snowflake();
    let r = rig.subscribe(unknown, &[]).await;
    assert!(
        reply_text(&r).contains("is not a channel of this server that herald can see"),
        "{r}"
    );
    // A channel where herald may not send: refused, naming the permission.
    let closed = rig.channels[2];
    // (The CHANNEL_UPDATE that says so reaches herald on the gateway before the command.)
    rig.fake
        .set_channel_state(closed, ChannelState::NoPermission);
    let r = rig.subscribe(closed, &[]).await;
    assert!(reply_text(&r).contains("lacks Send Messages"), "{r}");
    for c in [category, closed] {
        assert!(
            rig.app
                .pipeline
                .store
                .channel(&c.to_string())
                .await
                .unwrap()
                .is_none(),
            "nothing subscribed"
        );
    }
    // A category subscribed all the same (a store written by an older herald) is paused
    // after Discord's first 400 50008, not retried, while other channels carry on.
    let guild = rig.guild.to_string();
    support::subscribe_to_everything(&rig.app.pipeline.store, &category.to_string(), &guild).await;
    let fine = rig.channels[1];
    rig.subscribe(fine, &[]).await;
    rig.declare(&hartlepool()).await;
    rig.messages(fine, 1).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let s = rig
            .app
            .pipeline
            .store
            .channel(&category.to_string())
            .await
            .unwrap()
            .unwrap();
        if let Some(reason) = s.paused_reason() {
            assert!(reason.contains("50008"), "{reason}");
            break;
        }
        assert!(Instant::now() < deadline, "the category was not paused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let tries = rig
        .fake
        .requests()
        .iter()
        .filter(|r| r.path == format!("/api/v10/channels/{category}/messages"))
        .count();
    assert_eq!(tries, 1, "one refused request, not a storm");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_retracts_a_declaration_and_the_feed_does_not_undo_it() {
    let rig = rig().await;
    let ch = rig.channels[1];
    rig.subscribe(ch, &[]).await;
    rig.declare(&hartlepool()).await;
    rig.messages(ch, 1).await;
    // Only server managers may.
    let r = rig
        .command(
            FakeUser::new("reader"),
            "retract",
            json!([{"name": "constituency", "type": 3, "value": "hartlepool"}]),
        )
        .await;
    assert!(reply_text(&r).contains("Manage Server"), "{r}");
    let r = rig
        .command(
            FakeUser::admin("editor"),
            "retract",
            json!([{"name": "constituency", "type": 3, "value": "hartlepol"}]),
        )
        .await;
    assert!(reply_text(&r).contains("is withdrawn"), "{r}");
    let msgs = rig.messages(ch, 2).await;
    assert_eq!(
        msgs[0].embeds[0]["title"],
        "Hartlepool: declaration withdrawn"
    );
    assert!(
        msgs[1].content.starts_with("Retraction:"),
        "{}",
        msgs[1].content
    );
    // The feed still lists the declaration: the withdrawal stands, nothing is re-announced.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rig.fake.messages(ch).len(), 2);
    let reply = rig.result(FakeUser::new("reader"), "Hartlepool").await;
    assert_eq!(
        reply["embeds"][0]["title"],
        "Hartlepool: declaration withdrawn"
    );
    // Withdrawing it again says there is nothing to withdraw.
    let r = rig
        .command(
            FakeUser::admin("editor"),
            "retract",
            json!([{"name": "constituency", "type": 3, "value": "Hartlepool"}]),
        )
        .await;
    assert!(reply_text(&r).contains("nothing to withdraw"), "{r}");
    rig.assert_clean();
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_an_admin_chose_is_pinged_on_gains_and_nobody_else_ever() {
    let rig = rig().await;
    let results = rig.fake.add_role(rig.guild, "Results night", true);
    let quiet = rig.fake.add_role(rig.guild, "Quiet", false);
    let ch = rig.channels[1];
    let mention = |role: u64| json!({"name": "mention", "type": 8, "value": role.to_string()});
    // Refused, saying why: a role members may not mention, and @everyone.
    let r = rig.subscribe(ch, &[mention(quiet)]).await;
    assert!(reply_text(&r).contains("does not allow @mentions"), "{r}");
    let r = rig.subscribe(ch, &[mention(rig.guild)]).await;
    assert!(reply_text(&r).contains("never pings @everyone"), "{r}");
    assert!(
        rig.app
            .pipeline
            .store
            .channel(&ch.to_string())
            .await
            .unwrap()
            .is_none()
    );
    let r = rig.subscribe(ch, &[mention(results)]).await;
    assert!(
        reply_text(&r).contains("pinging Results night when a seat changes hands"),
        "{r}"
    );

    // Hartlepool changes hands: the role is pinged, and only it.
    rig.declare(&hartlepool()).await;
    let m = rig.messages(ch, 1).await;
    assert!(
        m[0].content.starts_with(&format!("<@&{results}>")),
        "{:?}",
        m[0].content
    );
    assert_eq!(m[0].pinged, [format!("role:{results}")]);
    assert_eq!(
        m[0].allowed_mentions,
        Some(json!({"parse": [], "roles": [results.to_string()]}))
    );
    // A seat with nothing to compare with (no gain) pings nobody.
    let mut other = hartlepool();
    other.result.constituency.id = ConstituencyId::new("E99999999");
    other.result.constituency.name = "Elsewhere".into();
    rig.declare(&other).await;
    let m = rig.messages(ch, 2).await;
    assert!(m[1].pinged.is_empty(), "{:?}", m[1].pinged);
    assert!(!m[1].content.contains("<@&"), "{:?}", m[1].content);
    assert!(rig.fake.rejected().is_empty(), "{:#?}", rig.fake.rejected());
    rig.stop().await;
}

/// A seat of the rig's election other than Hartlepool, won by the same party (no previous
/// result, so never a gain).
fn another_seat(id: &str, name: &str) -> Declaration {
    let mut d = hartlepool();
    d.result.constituency.id = ConstituencyId::new(id);
    d.result.constituency.name = name.into();
    d
}

/// Waits until `f` holds (or fails after a while).
async fn until(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_holds_several_subscriptions_and_gets_each_announcement_once() {
    let rig = rig_of(FakeConfig::new(1, 3), DispatchConfig::default(), Some(3)).await;
    let role = rig.fake.add_role(rig.guild, "Results night", true);
    let ch = rig.channels[1];
    let kind = |k: u64| json!({"name": "kind", "type": 4, "value": k});
    // Gains only, pinging a role; milestones only; every declaration in Hartlepool.
    let r = rig
        .subscribe(
            ch,
            &[
                kind(1),
                json!({"name": "mention", "type": 8, "value": role.to_string()}),
            ],
        )
        .await;
    assert!(reply_text(&r).contains("gains everywhere"), "{r}");
    assert!(reply_text(&r).contains("Subscription `1`"), "{r}");
    let r = rig.subscribe(ch, &[kind(2)]).await;
    assert!(reply_text(&r).contains("milestones only"), "{r}");
    assert!(reply_text(&r).contains("one of 2 in that channel"), "{r}");
    let r = rig
        .subscribe(
            ch,
            &[json!({"name": "filter", "type": 3, "value": "hartlepool"})],
        )
        .await;
    assert!(reply_text(&r).contains("declarations in Hartlepool"), "{r}");
    // Milestones and a role together make no sense: refused, nothing stored.
    let r = rig
        .subscribe(
            ch,
            &[
                kind(2),
                json!({"name": "mention", "type": 8, "value": role.to_string()}),
            ],
        )
        .await;
    assert!(reply_text(&r).contains("pings nobody"), "{r}");
    // An unknown party is refused with the closest names.
    let r = rig
        .subscribe(ch, &[json!({"name": "party", "type": 3, "value": "Labr"})])
        .await;
    assert!(
        r["content"]
            .as_str()
            .unwrap_or("")
            .starts_with("No party is called “Labr”. The closest: Labour (Lab)"),
        "{r}"
    );

    // Hartlepool is a gain and in Hartlepool: one announcement, pinging the role (the
    // gains subscription's), then the first-declaration milestone.
    rig.declare(&hartlepool()).await;
    let m = rig.messages(ch, 2).await;
    assert!(
        m[0].embeds[0]["title"]
            .as_str()
            .unwrap_or("")
            .starts_with("Hartlepool")
    );
    assert_eq!(m[0].pinged, [format!("role:{role}")]);
    assert!(support::is_milestone(&m[1]), "{:?}", m[1].embeds);
    // Elsewhere is neither a gain nor in Hartlepool: not announced here; but it gives the
    // Conservatives 2 of 3 seats, a majority, which the milestones subscription takes.
    rig.declare(&another_seat("E99999998", "Elsewhere")).await;
    let m = rig.messages(ch, 3).await;
    assert_eq!(m[2].embeds[0]["title"], "Conservative has a majority");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        rig.fake.messages(ch).len(),
        3,
        "nothing else reached the channel"
    );

    let listed = rig
        .command(FakeUser::admin("editor"), "subscriptions", json!([]))
        .await;
    let text = reply_text(&listed);
    for n in [
        "`1` gains everywhere",
        "`2` milestones only",
        "`3` declarations in Hartlepool",
    ] {
        assert!(text.contains(n), "{n}: {text}");
    }
    let r = rig
        .command(
            FakeUser::admin("editor"),
            "unsubscribe",
            json!([
                {"name": "channel", "type": 7, "value": ch.to_string()},
                {"name": "number", "type": 4, "value": 2}
            ]),
        )
        .await;
    assert!(reply_text(&r).contains("Subscription `2`"), "{r}");
    let left = rig
        .app
        .pipeline
        .store
        .channel(&ch.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        left.subscriptions.iter().map(|s| s.id).collect::<Vec<_>>(),
        [1, 3]
    );
    // (The role's ping is the one expected: nothing else would ping, nothing was refused.)
    assert!(rig.fake.rejected().is_empty(), "{:#?}", rig.fake.rejected());
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_channel_publishes_milestones_only_and_a_corrected_milestone_is_edited() {
    let rig = rig_of(FakeConfig::new(1, 3), DispatchConfig::default(), Some(3)).await;
    let news = rig
        .fake
        .add_announcement_channel(rig.guild, "election-news");
    let r = rig.subscribe(news, &[]).await;
    assert!(reply_text(&r).contains("announcement channel"), "{r}");
    rig.declare(&hartlepool()).await;
    rig.declare(&another_seat("E99999998", "Elsewhere")).await;
    // Hartlepool, the first declaration, Elsewhere, the majority.
    rig.messages(news, 4).await;
    until("both milestones published", || {
        rig.fake.crossposts().len() == 2
    })
    .await;
    let msgs = rig.fake.messages(news);
    for (c, id) in rig.fake.crossposts() {
        assert_eq!(c, news);
        let m = msgs
            .iter()
            .find(|m| m.id == id)
            .expect("a published message");
        assert!(
            support::is_milestone(m),
            "a seat was published: {:?}",
            m.embeds
        );
    }

    // The operator withdraws Elsewhere: the majority no longer stands. Its post is edited
    // and a note says why.
    let r = rig
        .command(
            FakeUser::admin("editor"),
            "retract",
            json!([{"name": "constituency", "type": 3, "value": "Elsewhere"}]),
        )
        .await;
    assert!(reply_text(&r).contains("is withdrawn"), "{r}");
    until("the majority's post edited", || {
        rig.fake.messages(news).iter().any(|m| {
            m.embeds.first().and_then(|e| e["title"].as_str())
                == Some("~~Conservative has a majority~~ — no longer stands")
        })
    })
    .await;
    until("a note under it", || {
        rig.fake.messages(news).iter().any(|m| {
            m.content
                .starts_with("Correction: “Conservative has a majority” no longer stands: ")
        })
    })
    .await;
    // Reached again with another seat: posted (and published) again.
    rig.declare(&another_seat("E99999997", "Thirdtown")).await;
    until("the majority posted again", || {
        rig.fake
            .messages(news)
            .iter()
            .filter(|m| {
                m.embeds.first().and_then(|e| e["title"].as_str())
                    == Some("Conservative has a majority")
            })
            .count()
            == 1
            && rig.fake.crossposts().len() == 3
    })
    .await;
    rig.assert_clean();
    rig.stop().await;
}
