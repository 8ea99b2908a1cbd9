//! The fake Discord (the `fake-discord` crate, `crates/fake-discord`) checked against plain serenity 0.12.5 — no
//! herald code, no poise — and against hand-made requests that break Discord's rules.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_discord::{ChannelState, FakeConfig, FakeDiscord, FakeUser, Faults, Limits, Outcome};
use serde_json::{Value, json};
use serenity::all::{
    ChannelId, ClientBuilder, CommandOptionType, Context, CreateAllowedMentions, CreateAttachment,
    CreateAutocompleteResponse, CreateCommand, CreateCommandOption, CreateEmbed,
    CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage, EditMessage,
    EventHandler, GatewayIntents, GuildId, HttpBuilder, Interaction, MessageId, Nonce, Ready,
    ResumedEvent,
};
use serenity::async_trait;

const T: Duration = Duration::from_secs(5);

/// What the plain-serenity handler saw.
#[derive(Default)]
struct Seen {
    ready: usize,
    resumed: usize,
    /// (guild, channels in the cache) per GUILD_CREATE.
    guilds: Vec<(u64, usize)>,
    commands: Vec<String>,
    autocompletes: Vec<String>,
    errors: Vec<String>,
}

struct Handler {
    seen: Arc<Mutex<Seen>>,
    guild: u64,
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, _ready: Ready) {
        self.seen.lock().unwrap().ready += 1;
        let option = CreateCommandOption::new(CommandOptionType::String, "constituency", "A seat")
            .required(true)
            .set_autocomplete(true);
        let command = CreateCommand::new("result")
            .description("Latest result in a seat")
            .add_option(option);
        if let Err(e) = GuildId::new(self.guild)
            .set_commands(&ctx.http, vec![command])
            .await
        {
            self.seen
                .lock()
                .unwrap()
                .errors
                .push(format!("set_commands: {e}"));
        }
    }

    async fn resume(&self, _ctx: Context, _: ResumedEvent) {
        self.seen.lock().unwrap().resumed += 1;
    }

    async fn guild_create(&self, ctx: Context, guild: serenity::all::Guild, _new: Option<bool>) {
        let cached = ctx
            .cache
            .guild(guild.id)
            .map(|g| g.channels.len())
            .unwrap_or(0);
        self.seen
            .lock()
            .unwrap()
            .guilds
            .push((guild.id.get(), cached));
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let result = match interaction {
            Interaction::Command(cmd) => {
                let seat = cmd.data.options[0].value.as_str().unwrap_or("").to_string();
                self.seen.lock().unwrap().commands.push(seat.clone());
                let reply = CreateInteractionResponseMessage::new()
                    .content(format!("Result in {seat}"))
                    .embed(
                        CreateEmbed::new()
                            .title("Hartlepool")
                            .field("Lab", "15,464", true),
                    );
                cmd.create_response(&ctx.http, CreateInteractionResponse::Message(reply))
                    .await
            }
            Interaction::Autocomplete(ac) => {
                let typed = ac
                    .data
                    .autocomplete()
                    .map(|o| o.value.to_string())
                    .unwrap_or_default();
                self.seen.lock().unwrap().autocompletes.push(typed);
                let choices = CreateAutocompleteResponse::new()
                    .add_string_choice("Hartlepool", "hartlepool")
                    .add_string_choice("Hartley", "hartley");
                ac.create_response(&ctx.http, CreateInteractionResponse::Autocomplete(choices))
                    .await
            }
            other => {
                self.seen.lock().unwrap().errors.push(format!("{other:?}"));
                Ok(())
            }
        };
        if let Err(e) = result {
            self.seen
                .lock()
                .unwrap()
                .errors
                .push(format!("response: {e}"));
        }
    }
}

fn http_for(fake: &FakeDiscord) -> serenity::http::Http {
    HttpBuilder::new(fake.token())
        .client(reqwest::Client::builder().no_proxy().build().unwrap())
        .proxy(fake.api_base())
        .ratelimiter_disabled(true)
        .build()
}

async fn until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_serenity_runs_against_the_fake() {
    let config = FakeConfig::new(1, 2);
    let guild = config.guilds[0].id;
    let channel = config.guilds[0].channels[0];
    let fake = FakeDiscord::start(config).await;

    let seen = Arc::new(Mutex::new(Seen::default()));
    let handler = Handler {
        seen: seen.clone(),
        guild,
    };
    let mut client = ClientBuilder::new_with_http(http_for(&fake), GatewayIntents::GUILDS)
        .event_handler(handler)
        .await
        .expect("client");
    let http = client.http.clone();
    tokio::spawn(async move { client.start().await });

    assert!(fake.wait_ready(T).await, "the client never identified");
    assert_eq!(fake.identifies(), 1);
    assert_eq!(fake.intents(), Some(GatewayIntents::GUILDS.bits()));
    assert!(
        until(T, || seen.lock().unwrap().guilds == vec![(guild, 3)]).await,
        "GUILD_CREATE did not reach the cache with its 2 text channels and its category: {:?}",
        seen.lock().unwrap().guilds
    );
    assert!(until(T, || fake.commands(Some(guild)).len() == 1).await);
    let registered = &fake.commands(Some(guild))[0];
    assert_eq!(registered["name"], "result");
    assert_eq!(registered["options"][0]["autocomplete"], true);

    // REST objects serenity must deserialize.
    let me = http.get_current_user().await.expect("users/@me");
    assert_eq!(me.id.get(), fake.config().bot_user_id);
    let app = http
        .get_current_application_info()
        .await
        .expect("oauth2/applications/@me");
    assert_eq!(app.id.get(), fake.config().application_id);
    let bot_gateway = http.get_bot_gateway().await.expect("gateway/bot");
    assert_eq!(bot_gateway.url, fake.gateway_url());

    // A command: arrives as Interaction::Command; its type-4 reply is recorded.
    let voter = FakeUser::new("voter");
    let i = fake
        .command(
            guild,
            channel,
            voter.clone(),
            "result",
            json!([{"name": "constituency", "type": 3, "value": "hartlepool"}]),
        )
        .await;
    let r = fake
        .response(&i, T)
        .await
        .expect("a response to the command");
    assert_eq!(r.kind, 4);
    assert_eq!(r.data["content"], "Result in hartlepool");
    assert!(r.elapsed < Duration::from_secs(3));
    let reply = fake.final_reply(&i, T).await.expect("final reply");
    assert_eq!(reply["content"], "Result in hartlepool");
    assert_eq!(reply["embeds"][0]["fields"][0]["value"], "15,464");
    assert_eq!(reply["followups"], json!([]));
    let original = http
        .get_original_interaction_response(&i.token)
        .await
        .expect("GET @original");
    assert_eq!(original.content, "Result in hartlepool");

    // Autocomplete: arrives as Interaction::Autocomplete; its choices are recorded.
    let a = fake
        .autocomplete(
            guild,
            channel,
            voter,
            "result",
            json!([{"name": "constituency", "type": 3, "value": "hart"}]),
        )
        .await;
    let r = fake.response(&a, T).await.expect("autocomplete answered");
    assert_eq!(r.kind, 8);
    assert_eq!(r.data["choices"][0]["name"], "Hartlepool");
    assert_eq!(r.data["choices"][1]["value"], "hartley");
    assert_eq!(seen.lock().unwrap().autocompletes, vec!["hart"]);

    // Idempotent send: the same nonce with enforce_nonce returns the same message.
    let send = || {
        CreateMessage::new()
            .content("Hartlepool: Labour hold")
            .nonce(Nonce::String("decl-hartlepool-v1".into()))
            .enforce_nonce(true)
            .allowed_mentions(CreateAllowedMentions::new())
    };
    let first = ChannelId::new(channel)
        .send_message(&http, send())
        .await
        .expect("send");
    let again = ChannelId::new(channel)
        .send_message(&http, send())
        .await
        .expect("resend");
    assert_eq!(first.id, again.id);
    assert_eq!(fake.messages(channel).len(), 1);
    let edited = ChannelId::new(channel)
        .edit_message(
            &http,
            first.id,
            EditMessage::new().content("Hartlepool: Labour hold (corrected)"),
        )
        .await
        .expect("edit");
    assert!(edited.edited_timestamp.is_some());
    let stored = &fake.messages(channel)[0];
    assert_eq!(stored.edits, 1);
    assert_eq!(stored.content, "Hartlepool: Labour hold (corrected)");
    assert_eq!(stored.nonce, Some(json!("decl-hartlepool-v1")));
    // allowed_mentions is recorded as last sent: the create had it, the edit did not.
    let create = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .unwrap();
    assert_eq!(
        create.body.unwrap()["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": []})
    );
    assert_eq!(stored.allowed_mentions, None);
    assert!(stored.pinged.is_empty());

    // A chart: a PNG uploaded as a file and shown in the embed.
    let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3];
    let chart = CreateMessage::new()
        .embed(CreateEmbed::new().title("Swing").attachment("chart.png"))
        .add_file(CreateAttachment::bytes(png.clone(), "chart.png"));
    let sent = ChannelId::new(channel)
        .send_message(&http, chart)
        .await
        .expect("chart");
    assert_eq!(sent.attachments[0].filename, "chart.png");
    let url = sent.embeds[0].image.as_ref().unwrap().url.clone();
    assert_eq!(url, sent.attachments[0].url);
    let stored = &fake.messages(channel)[1];
    assert_eq!(stored.attachments[0].size, png.len());
    assert_eq!(
        stored.attachments[0].content_type.as_deref(),
        Some("image/png")
    );
    let fetched = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), png);

    // The gateway drops: the client resumes and still gets interactions, including one sent
    // while it was away.
    fake.drop_gateway().await;
    let during = fake
        .command(
            guild,
            channel,
            FakeUser::new("late"),
            "result",
            json!([{"name": "constituency", "type": 3, "value": "sedgefield"}]),
        )
        .await;
    assert!(until(T, || fake.resumes() == 1).await, "no RESUME");
    assert!(fake.wait_ready(T).await);
    assert!(
        fake.response(&during, T).await.is_some(),
        "replayed interaction not answered"
    );
    let after = fake
        .command(
            guild,
            channel,
            FakeUser::new("after"),
            "result",
            json!([{"name": "constituency", "type": 3, "value": "bolsover"}]),
        )
        .await;
    assert_eq!(
        fake.response(&after, T).await.expect("after resume").kind,
        4
    );
    assert!(until(T, || seen.lock().unwrap().resumed == 1).await);
    assert_eq!(
        fake.identifies(),
        1,
        "the client re-identified instead of resuming"
    );

    let seen = seen.lock().unwrap();
    assert_eq!(seen.ready, 1);
    assert_eq!(seen.commands, vec!["hartlepool", "sedgefield", "bolsover"]);
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    assert!(fake.rejected().is_empty(), "{:#?}", fake.rejected());
}

/// A raw client for breaking rules on purpose.
struct Raw {
    fake: FakeDiscord,
    client: reqwest::Client,
}

impl Raw {
    fn new(fake: &FakeDiscord) -> Self {
        Raw {
            fake: fake.clone(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let url = format!("{}/api/v10{path}", self.fake.api_base());
        let mut req = self.client.request(method.parse().unwrap(), url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
            headers,
        )
    }

    /// An authorized request.
    async fn bot(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let auth = format!("Bot {}", self.fake.token());
        let (s, v, _) = self.call(method, path, Some(&auth), body).await;
        (s, v)
    }
}

/// The first error code at `path` (dot-separated) in a 50035 body.
fn form_error(v: &Value, path: &str) -> String {
    assert_eq!(v["code"], 50035, "not a form error: {v}");
    let mut node = &v["errors"];
    for key in path.split('.').filter(|k| !k.is_empty()) {
        node = &node[key];
    }
    node["_errors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error at {path}: {v}"))
        .to_string()
}

#[tokio::test]
async fn every_rule_is_enforced_with_discords_error_shapes() {
    let mut config = FakeConfig::new(1, 1);
    config.limits = Limits::off();
    let guild = config.guilds[0].id;
    let channel = config.guilds[0].channels[0];
    let app = config.application_id;
    let fake = FakeDiscord::start(config).await;
    let raw = Raw::new(&fake);
    let msgs = format!("/channels/{channel}/messages");
    let mut expected_rejections = 0;
    let mut rejected = |n: usize| {
        expected_rejections += n;
        assert_eq!(
            fake.rejected().len(),
            expected_rejections,
            "{:#?}",
            fake.rejected()
        );
    };

    // Authorization.
    let (s, v, _) = raw
        .call("POST", &msgs, None, Some(json!({"content": "x"})))
        .await;
    assert_eq!(
        (s, v.clone()),
        (401, json!({"message": "401: Unauthorized", "code": 0}))
    );
    let (s, _, _) = raw
        .call(
            "POST",
            &msgs,
            Some("Bot wrong"),
            Some(json!({"content": "x"})),
        )
        .await;
    assert_eq!(s, 401);
    let (s, _, _) = raw
        .call(
            "POST",
            &msgs,
            Some(fake.token().as_str()),
            Some(json!({"content": "x"})),
        )
        .await;
    assert_eq!(s, 401, "a token without the Bot prefix is refused");
    rejected(3);

    // Unknown routes and channels.
    let (s, v) = raw.bot("GET", "/nowhere", None).await;
    assert_eq!(
        (s, v),
        (404, json!({"message": "404: Not Found", "code": 0}))
    );
    let (s, v) = raw
        .bot(
            "POST",
            "/channels/1234/messages",
            Some(json!({"content": "x"})),
        )
        .await;
    assert_eq!((s, v["code"].clone()), (404, json!(10003)));
    rejected(2);

    // Message bodies.
    let fields: Vec<Value> = (0..26)
        .map(|i| json!({"name": format!("f{i}"), "value": "v"}))
        .collect();
    let (s, v) = raw
        .bot(
            "POST",
            &msgs,
            Some(json!({"embeds": [{"title": "t", "fields": fields}]})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(form_error(&v, "embeds.0.fields"), "BASE_TYPE_MAX_LENGTH");
    let (_, v) = raw
        .bot(
            "POST",
            &msgs,
            Some(json!({"embeds": [{"title": "x".repeat(257)}]})),
        )
        .await;
    assert_eq!(form_error(&v, "embeds.0.title"), "BASE_TYPE_MAX_LENGTH");
    let (_, v) = raw
        .bot(
            "POST",
            &msgs,
            Some(json!({"embeds": [{"fields": [{"name": "", "value": "v"}]}]})),
        )
        .await;
    assert_eq!(
        form_error(&v, "embeds.0.fields.0.name"),
        "BASE_TYPE_BAD_LENGTH"
    );
    let big = json!({"title": "t", "description": "d".repeat(4000)});
    let (_, v) = raw
        .bot("POST", &msgs, Some(json!({"embeds": [big.clone(), big]})))
        .await;
    assert_eq!(form_error(&v, "embeds"), "MAX_EMBED_SIZE_EXCEEDED");
    let (_, v) = raw
        .bot("POST", &msgs, Some(json!({"content": "x".repeat(2001)})))
        .await;
    assert_eq!(form_error(&v, "content"), "BASE_TYPE_MAX_LENGTH");
    let (_, v) = raw
        .bot(
            "POST",
            &msgs,
            Some(json!({"content": "x", "nonce": "n".repeat(26)})),
        )
        .await;
    assert_eq!(form_error(&v, "nonce"), "BASE_TYPE_MAX_LENGTH");
    let (s, v) = raw.bot("POST", &msgs, Some(json!({"content": "  "}))).await;
    assert_eq!((s, v["code"].clone()), (400, json!(50006)));
    let reply = json!({"content": "x", "message_reference": {"message_id": "1234"}});
    let (_, v) = raw.bot("POST", &msgs, Some(reply)).await;
    assert_eq!(
        form_error(&v, "message_reference"),
        "REPLIES_UNKNOWN_MESSAGE"
    );
    let dangling =
        json!({"embeds": [{"title": "t", "image": {"url": "attachment://missing.png"}}]});
    let (_, v) = raw.bot("POST", &msgs, Some(dangling)).await;
    assert_eq!(
        form_error(&v, "embeds.0.image.url"),
        "UNRESOLVED_ATTACHMENT"
    );
    rejected(9);

    // A reply to a missing message is fine with fail_if_not_exists: false.
    let lenient = json!({"content": "x", "allowed_mentions": {"parse": []},
        "message_reference": {"message_id": "1234", "fail_if_not_exists": false}});
    assert_eq!(raw.bot("POST", &msgs, Some(lenient)).await.0, 200);

    // Mentions: @everyone pings without allowed_mentions, not with parse: [].
    let (s, _) = raw
        .bot("POST", &msgs, Some(json!({"content": "@everyone **x**"})))
        .await;
    assert_eq!(s, 200);
    let (s, _) = raw
        .bot(
            "POST",
            &msgs,
            Some(json!({"content": "@everyone **x**", "allowed_mentions": {"parse": []}})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = raw.bot("POST", &msgs, Some(json!({"content": "`@everyone` <@&5>", "allowed_mentions": {"parse": ["everyone"]}}))).await;
    assert_eq!(s, 200);
    let pinged: Vec<Vec<String>> = fake
        .messages(channel)
        .iter()
        .map(|m| m.pinged.clone())
        .collect();
    assert_eq!(
        pinged,
        vec![vec![], vec!["@everyone".to_string()], vec![], vec![]]
    );

    // Editing a user's message; replying to it pings its author unless told not to.
    let someone = FakeUser::new("someone");
    let theirs = fake.user_message(channel, &someone, "hello");
    let (s, v) = raw
        .bot(
            "PATCH",
            &format!("{msgs}/{theirs}"),
            Some(json!({"content": "mine now"})),
        )
        .await;
    assert_eq!((s, v["code"].clone()), (403, json!(50005)));
    let (s, v) = raw
        .bot(
            "PATCH",
            &format!("{msgs}/999"),
            Some(json!({"content": "?"})),
        )
        .await;
    assert_eq!((s, v["code"].clone()), (404, json!(10008)));
    rejected(2);
    let (s, _) = raw
        .bot(
            "POST",
            &msgs,
            Some(json!({"content": "hi", "message_reference": {"message_id": theirs.to_string()}})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        fake.messages(channel).last().unwrap().pinged,
        vec![format!("reply:{}", someone.id)]
    );

    // Injected channel states answer like Discord but are not counted as rejections.
    fake.set_channel_state(channel, ChannelState::Forbidden);
    let (s, v) = raw.bot("POST", &msgs, Some(json!({"content": "x"}))).await;
    assert_eq!(
        (s, v),
        (403, json!({"message": "Missing Access", "code": 50001}))
    );
    fake.set_channel_state(channel, ChannelState::Missing);
    let (s, v) = raw.bot("POST", &msgs, Some(json!({"content": "x"}))).await;
    assert_eq!(
        (s, v),
        (404, json!({"message": "Unknown Channel", "code": 10003}))
    );
    fake.set_channel_state(channel, ChannelState::Ok);
    rejected(0);

    // Commands.
    let cmds = format!("/applications/{app}/guilds/{guild}/commands");
    for bad in ["Result", "has space", ""] {
        let (s, v) = raw
            .bot(
                "PUT",
                &cmds,
                Some(json!([{"name": bad, "description": "d"}])),
            )
            .await;
        assert_eq!(s, 400, "{bad:?}");
        let code = form_error(&v, "0.name");
        assert!(
            code == "APPLICATION_COMMAND_INVALID_NAME" || code == "BASE_TYPE_REQUIRED",
            "{v}"
        );
    }
    let opt = |name: &str, required: bool| json!({"type": 3, "name": name, "description": "d", "required": required});
    let (_, v) = raw.bot("PUT", &cmds, Some(json!([{"name": "r", "description": "d", "options": [opt("a", false), opt("b", true)]}]))).await;
    assert_eq!(
        form_error(&v, "0.options.1.required"),
        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"
    );
    let both = json!({"type": 3, "name": "a", "description": "d", "autocomplete": true, "choices": [{"name": "x", "value": "x"}]});
    let (_, v) = raw
        .bot(
            "PUT",
            &cmds,
            Some(json!([{"name": "r", "description": "d", "options": [both]}])),
        )
        .await;
    assert_eq!(
        form_error(&v, "0.options.0.autocomplete"),
        "APPLICATION_COMMAND_AUTOCOMPLETE_CHOICES_EXCLUSIVE"
    );
    let (_, v) = raw
        .bot(
            "PUT",
            &cmds,
            Some(json!([{"name": "r", "description": ""}])),
        )
        .await;
    assert_eq!(form_error(&v, "0.description"), "BASE_TYPE_BAD_LENGTH");
    let (_, v) = raw
        .bot(
            "PUT",
            &cmds,
            Some(json!([{"name": "r", "description": "d", "default_member_permissions": 32}])),
        )
        .await;
    assert_eq!(
        form_error(&v, "0.default_member_permissions"),
        "STRING_TYPE_CONVERT"
    );
    rejected(7);
    let good = json!([{"name": "result", "description": "A result", "default_member_permissions": "32",
        "options": [{"type": 3, "name": "constituency", "description": "Seat", "required": true, "autocomplete": true}]}]);
    let (s, v) = raw.bot("PUT", &cmds, Some(good.clone())).await;
    assert_eq!(s, 200);
    let id = v[0]["id"].clone();
    let (_, v) = raw.bot("PUT", &cmds, Some(good)).await;
    assert_eq!(
        v[0]["id"], id,
        "a bulk overwrite keeps the ids of unchanged names"
    );

    // Interactions: a second callback, a late callback, wrong types, bad choices.
    let user = FakeUser::admin("admin");
    let cmd = |v: &str| json!([{"name": "constituency", "type": 3, "value": v}]);
    let i = fake
        .command(guild, channel, user.clone(), "result", cmd("hartlepool"))
        .await;
    let cb = format!("/interactions/{}/{}/callback", i.id, i.token);
    let (s, _) = raw
        .bot(
            "POST",
            &cb,
            Some(json!({"type": 8, "data": {"choices": []}})),
        )
        .await;
    assert_eq!(s, 400, "autocomplete results answer only autocompletes");
    let (s, _) = raw
        .bot(
            "POST",
            &cb,
            Some(json!({"type": 4, "data": {"content": "x", "flags": 2}})),
        )
        .await;
    assert_eq!(s, 400, "flag 2 is not settable");
    let (s, _) = raw
        .bot(
            "POST",
            &cb,
            Some(json!({"type": 4, "data": {"content": "ok", "allowed_mentions": {"parse": []}}})),
        )
        .await;
    assert_eq!(s, 204);
    let (s, v) = raw
        .bot(
            "POST",
            &cb,
            Some(json!({"type": 4, "data": {"content": "again"}})),
        )
        .await;
    assert_eq!(
        (s, v),
        (
            400,
            json!({"message": "Interaction has already been acknowledged.", "code": 40060})
        )
    );
    let (s, v) = raw
        .bot(
            "POST",
            &format!("/interactions/{}/nottoken/callback", i.id),
            Some(json!({"type": 5})),
        )
        .await;
    assert_eq!((s, v["code"].clone()), (404, json!(10062)));
    rejected(4);
    let unanswered = fake
        .command(guild, channel, user.clone(), "result", cmd("x"))
        .await;
    let hook = format!("/webhooks/{app}/{}/messages/@original", unanswered.token);
    let (s, v) = raw.bot("PATCH", &hook, Some(json!({"content": "x"}))).await;
    assert_eq!(
        (s, v["code"].clone()),
        (404, json!(10008)),
        "no @original without a callback"
    );
    let (s, v) = raw
        .bot(
            "POST",
            &format!("/webhooks/{app}/{}", unanswered.token),
            Some(json!({"content": "x"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].clone()),
        (404, json!(10015)),
        "no followup without a callback"
    );
    rejected(2);
    {
        // A callback after the deadline (here 100 ms) finds the interaction gone.
        let mut config = FakeConfig::new(1, 1);
        config.interaction_deadline = Duration::from_millis(100);
        let (g, c) = (config.guilds[0].id, config.guilds[0].channels[0]);
        let quick = FakeDiscord::start(config).await;
        let quick_raw = Raw::new(&quick);
        let good = json!([{"name": "result", "description": "d", "options": [{"type": 3, "name": "constituency", "description": "d"}]}]);
        let path = format!(
            "/applications/{}/guilds/{g}/commands",
            quick.config().application_id
        );
        assert_eq!(quick_raw.bot("PUT", &path, Some(good)).await.0, 200);
        let late = quick
            .command(g, c, FakeUser::new("u"), "result", cmd("x"))
            .await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let cb = format!("/interactions/{}/{}/callback", late.id, late.token);
        let (s, v) = quick_raw.bot("POST", &cb, Some(json!({"type": 5}))).await;
        assert_eq!(
            (s, v),
            (
                404,
                json!({"message": "Unknown interaction", "code": 10062})
            )
        );
        assert_eq!(quick.rejected().len(), 1);
        assert!(quick.response(&late, Duration::ZERO).await.is_none());
    }
    let ac = fake
        .autocomplete(guild, channel, user.clone(), "result", cmd("har"))
        .await;
    let choices: Vec<Value> = (0..26)
        .map(|n| json!({"name": format!("c{n}"), "value": format!("c{n}")}))
        .collect();
    let (_, v) = raw
        .bot(
            "POST",
            &format!("/interactions/{}/{}/callback", ac.id, ac.token),
            Some(json!({"type": 8, "data": {"choices": choices}})),
        )
        .await;
    assert_eq!(form_error(&v, "data.choices"), "BASE_TYPE_MAX_LENGTH");
    rejected(1);

    // Deferred: the edit of @original becomes the reply; followups are kept apart.
    let d = fake
        .command(guild, channel, user, "result", cmd("sedgefield"))
        .await;
    let (s, _) = raw
        .bot(
            "POST",
            &format!("/interactions/{}/{}/callback", d.id, d.token),
            Some(json!({"type": 5, "data": {"flags": 64}})),
        )
        .await;
    assert_eq!(s, 204);
    let hook = format!("/webhooks/{app}/{}", d.token);
    let (s, _) = raw
        .bot(
            "PATCH",
            &format!("{hook}/messages/@original"),
            Some(json!({"content": "Sedgefield: Lab hold <@1>"})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = raw
        .bot(
            "POST",
            &hook,
            Some(json!({"content": "More", "allowed_mentions": {"parse": []}})),
        )
        .await;
    assert_eq!(s, 200);
    let reply = fake.final_reply(&d, T).await.unwrap();
    assert_eq!(reply["content"], "Sedgefield: Lab hold <@1>");
    assert_eq!(reply["flags"], 64);
    assert_eq!(reply["followups"][0]["content"], "More");
    let (original, _) = fake.interaction_messages(&d);
    assert!(
        original.unwrap().pinged.is_empty(),
        "ephemeral replies ping nobody"
    );

    assert_eq!(fake.rejected().len(), expected_rejections);
    assert!(
        fake.rejected()
            .iter()
            .all(|r| (400..500).contains(&r.status) && r.outcome == Outcome::Rejected)
    );
}

#[tokio::test]
async fn rate_limits_and_faults() {
    let config = FakeConfig::new(1, 2);
    let channel = config.guilds[0].channels[0];
    let other = config.guilds[0].channels[1];
    let fake = FakeDiscord::start(config).await;
    let raw = Raw::new(&fake);
    let auth = format!("Bot {}", fake.token());
    let body = || Some(json!({"content": "x", "allowed_mentions": {"parse": []}}));

    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..10 {
        let (s, v, h) = raw
            .call(
                "POST",
                &format!("/channels/{channel}/messages"),
                Some(&auth),
                body(),
            )
            .await;
        statuses.push(s);
        assert_eq!(h["x-ratelimit-limit"], "5");
        assert!(h.contains_key("x-ratelimit-bucket") && h.contains_key("x-ratelimit-reset-after"));
        if s == 429 && limited.is_none() {
            limited = Some((v, h));
        }
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
    let (v, h) = limited.unwrap();
    assert_eq!(v["message"], "You are being rate limited.");
    assert_eq!(v["global"], false);
    let retry = v["retry_after"].as_f64().unwrap();
    assert!(retry > 0.0 && retry <= 5.0, "{retry}");
    assert_eq!(h["x-ratelimit-scope"], "user");
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert!(h.contains_key("retry-after") && h.contains_key("x-ratelimit-reset"));
    // Another channel has its own bucket, with its own hash.
    let (s, _, h2) = raw
        .call(
            "POST",
            &format!("/channels/{other}/messages"),
            Some(&auth),
            body(),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(h2["x-ratelimit-remaining"], "4");
    assert_ne!(h2["x-ratelimit-bucket"], h["x-ratelimit-bucket"]);
    assert_eq!(fake.rate_limited(), (0, 5));
    assert_eq!(fake.messages(channel).len(), 5);
    assert!(fake.rejected().is_empty());

    // The global limit (here 5/s) across routes, before any route bucket.
    let mut config = FakeConfig::new(1, 1);
    config.limits.global_per_second = 5;
    let fake = FakeDiscord::start(config).await;
    let raw = Raw::new(&fake);
    let auth = format!("Bot {}", fake.token());
    let mut global = 0;
    for _ in 0..8 {
        let (s, v, h) = raw.call("GET", "/users/@me", Some(&auth), None).await;
        if s == 429 {
            assert_eq!(v["global"], true);
            assert_eq!(h["x-ratelimit-global"], "true");
            assert_eq!(h["x-ratelimit-scope"], "global");
            global += 1;
        }
    }
    assert_eq!(global, 3);
    assert_eq!(fake.rate_limited(), (3, 0));

    // Faults: 5xx without and after creating, and injected 429s.
    let mut config = FakeConfig::new(1, 1);
    config.limits = Limits::off();
    config.faults = Faults {
        server_error: 0.3,
        rate_limit: 0.3,
        seed: 7,
        ..Faults::default()
    };
    let channel = config.guilds[0].channels[0];
    let fake = FakeDiscord::start(config).await;
    let raw = Raw::new(&fake);
    let auth = format!("Bot {}", fake.token());
    let mut ok = 0;
    for _ in 0..40 {
        let (s, v, h) = raw
            .call(
                "POST",
                &format!("/channels/{channel}/messages"),
                Some(&auth),
                body(),
            )
            .await;
        match s {
            200 => ok += 1,
            500 | 502 => assert!(v.is_string()),
            429 => assert!(["shared", "user"].contains(&h["x-ratelimit-scope"].to_str().unwrap())),
            other => panic!("unexpected {other}"),
        }
    }
    let (five, four) = fake.faults_served();
    assert!(five > 0 && four > 0 && ok > 0, "{five} {four} {ok}");
    assert_eq!(five + four + ok, 40);
    assert_eq!(fake.messages(channel).len(), ok);
    assert!(fake.rejected().is_empty());

    let mut config = FakeConfig::new(1, 1);
    config.faults = Faults {
        server_error_after_create: 1.0,
        ..Faults::default()
    };
    let channel = config.guilds[0].channels[0];
    let fake = FakeDiscord::start(config).await;
    let raw = Raw::new(&fake);
    let (s, _) = raw
        .bot("POST", &format!("/channels/{channel}/messages"), body())
        .await;
    assert!(s == 500 || s == 502);
    assert_eq!(
        fake.messages(channel).len(),
        1,
        "the message was created before the 5xx"
    );
    let ids: Vec<MessageId> = fake
        .messages(channel)
        .iter()
        .map(|m| MessageId::new(m.id))
        .collect();
    assert_eq!(ids.len(), 1);
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a raw gateway connection and reads HELLO.
async fn gateway(fake: &FakeDiscord) -> Socket {
    let url = format!("{}/?v=10&encoding=json", fake.gateway_url());
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["op"], 10);
    assert!(hello["d"]["heartbeat_interval"].as_u64().unwrap() > 0);
    ws
}

async fn send(ws: &mut Socket, v: Value) {
    use futures::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(v.to_string()))
        .await
        .unwrap();
}

async fn next_json(ws: &mut Socket) -> Value {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message as Ws;
    loop {
        match tokio::time::timeout(T, ws.next())
            .await
            .expect("gateway silent")
        {
            Some(Ok(Ws::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Ws::Close(Some(f)))) => return json!({"close": u16::from(f.code)}),
            Some(Ok(_)) => continue,
            other => return json!({"ended": format!("{other:?}")}),
        }
    }
}

fn identify(token: &str, intents: u64) -> Value {
    json!({"op": 2, "d": {"token": token, "intents": intents, "shard": [0, 1],
        "properties": {"os": "linux", "browser": "t", "device": "t"}}})
}

#[tokio::test]
async fn gateway_rules_and_components() {
    let mut config = FakeConfig::new(1, 1);
    config.heartbeat_interval_ms = 100;
    let guild = config.guilds[0].id;
    let channel = config.guilds[0].channels[0];
    let fake = FakeDiscord::start(config).await;

    // Wrong token, privileged intents, ops before IDENTIFY, unknown sessions.
    let mut ws = gateway(&fake).await;
    send(&mut ws, identify("nope", 1)).await;
    assert_eq!(next_json(&mut ws).await["close"], 4004);
    let mut ws = gateway(&fake).await;
    send(&mut ws, identify(&fake.token(), 1 | (1 << 15))).await;
    assert_eq!(next_json(&mut ws).await["close"], 4014);
    let mut ws = gateway(&fake).await;
    send(&mut ws, json!({"op": 3, "d": {}})).await;
    assert_eq!(next_json(&mut ws).await["close"], 4003);
    let mut ws = gateway(&fake).await;
    send(
        &mut ws,
        json!({"op": 6, "d": {"token": fake.token(), "session_id": "x", "seq": 1}}),
    )
    .await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"op": 9, "d": false, "s": null, "t": null})
    );
    assert_eq!(fake.identifies(), 0);

    // A good IDENTIFY: READY (s 1) then GUILD_CREATE (s 2); heartbeats are acknowledged.
    let mut ws = gateway(&fake).await;
    send(&mut ws, identify(&format!("Bot {}", fake.token()), 1)).await;
    let ready = next_json(&mut ws).await;
    assert_eq!(
        (ready["t"].clone(), ready["s"].clone()),
        (json!("READY"), json!(1))
    );
    assert_eq!(ready["d"]["guilds"][0]["unavailable"], true);
    let create = next_json(&mut ws).await;
    assert_eq!(
        (create["t"].clone(), create["s"].clone()),
        (json!("GUILD_CREATE"), json!(2))
    );
    let g: serenity::all::Guild = serde_json::from_value(create["d"].clone()).expect("a Guild");
    // One text channel and one category.
    assert_eq!(g.channels.len(), 2);
    assert_eq!(
        g.channels
            .values()
            .filter(|c| c.kind == serenity::all::ChannelType::Category)
            .count(),
        1
    );
    assert_eq!(g.roles.len(), 2);
    assert!(
        g.members
            .contains_key(&serenity::all::UserId::new(fake.config().bot_user_id))
    );
    send(&mut ws, json!({"op": 1, "d": 2})).await;
    assert_eq!(next_json(&mut ws).await["op"], 11);
    assert!(fake.wait_ready(T).await);
    // Silence past 2 × interval + 1 s: the fake closes with 4009.
    let started = Instant::now();
    assert_eq!(next_json(&mut ws).await["close"], 4009);
    assert!(started.elapsed() >= Duration::from_millis(1000));
    assert!(fake.gateway_closes().iter().any(|(c, _)| *c == 4009));

    // Components: a link button may not have a custom id; a button press updates the message.
    let raw = Raw::new(&fake);
    let msgs = format!("/channels/{channel}/messages");
    let link = json!({"type": 2, "style": 5, "label": "Map", "url": "https://example.org", "custom_id": "x"});
    let (_, v) = raw
        .bot(
            "POST",
            &msgs,
            Some(json!({"content": "x", "components": [{"type": 1, "components": [link]}]})),
        )
        .await;
    assert_eq!(
        form_error(&v, "components.0.components.0.custom_id"),
        "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED"
    );
    let button = json!({"type": 2, "style": 1, "label": "Refresh", "custom_id": "refresh"});
    let (s, v) = raw
        .bot(
            "POST",
            &msgs,
            Some(json!({"content": "v1", "components": [{"type": 1, "components": [button]}]})),
        )
        .await;
    assert_eq!(s, 200);
    let mid: u64 = v["id"].as_str().unwrap().parse().unwrap();
    let press = fake
        .button(guild, channel, FakeUser::new("clicker"), mid, "refresh")
        .await;
    assert!(!press.delivered, "no session is live any more");
    let cb = format!("/interactions/{}/{}/callback", press.id, press.token);
    let (s, _) = raw
        .bot(
            "POST",
            &cb,
            Some(json!({"type": 7, "data": {"content": "v2"}})),
        )
        .await;
    assert_eq!(s, 204);
    let m = &fake.messages(channel)[0];
    assert_eq!((m.content.as_str(), m.edits), ("v2", 1));
    assert_eq!(fake.final_reply(&press, T).await.unwrap()["content"], "v2");
    assert_eq!(fake.rejected().len(), 1);
}

/// Reading a channel back: newest first, `after` gives the oldest messages after an id,
/// `before` the newest before it, only one anchor at a time, and no nonces (Discord does not
/// keep them; only the reply to the create carries one).
#[tokio::test]
async fn message_history_pages_and_forgets_nonces() {
    let mut config = FakeConfig::new(1, 1);
    config.limits = Limits::off();
    let channel = config.guilds[0].channels[0];
    let fake = FakeDiscord::start(config).await;
    let raw = Raw::new(&fake);
    let msgs = format!("/channels/{channel}/messages");
    let mut ids = Vec::new();
    for i in 0..5 {
        let (s, v) = raw
            .bot(
                "POST",
                &msgs,
                Some(json!({"content": format!("m{i}"), "nonce": format!("n{i}"), "enforce_nonce": true})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            v["nonce"],
            format!("n{i}"),
            "the create's reply echoes the nonce"
        );
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let contents = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, v) = raw.bot("GET", &format!("{msgs}?limit=2"), None).await;
    assert_eq!(s, 200);
    assert_eq!(contents(&v), ["m4", "m3"]);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|m| m.get("nonce").is_none())
    );
    let (_, v) = raw
        .bot("GET", &format!("{msgs}?after={}&limit=2", ids[1]), None)
        .await;
    assert_eq!(
        contents(&v),
        ["m3", "m2"],
        "the oldest two after m1, newest first"
    );
    let (_, v) = raw
        .bot("GET", &format!("{msgs}?before={}", ids[2]), None)
        .await;
    assert_eq!(contents(&v), ["m1", "m0"]);
    let (_, v) = raw.bot("GET", &format!("{msgs}/{}", ids[0]), None).await;
    assert_eq!(v["content"], "m0");
    assert!(v.get("nonce").is_none());
    let (s, v) = raw
        .bot(
            "GET",
            &format!("{msgs}?after={}&before={}", ids[0], ids[4]),
            None,
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = raw.bot("GET", &format!("{msgs}?limit=101"), None).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(form_error(&v, "limit"), "NUMBER_TYPE_MAX");
}
