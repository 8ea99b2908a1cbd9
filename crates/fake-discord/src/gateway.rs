//! The gateway: websocket sessions with HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats,
//! RESUME with replay, and dispatches with sequence numbers.
//!
//! Close codes sent: 4001 unknown opcode, 4002 decode error (also binary frames: the fake
//! takes text only), 4003 not authenticated, 4004 authentication failed, 4005 already
//! authenticated, 4009 no heartbeat for `2 × interval + 1 s`, 4010 invalid shard, 4013 missing
//! intents, 4014 privileged intents (GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use super::payloads;
use super::state::{Shared, State};

/// Intents Discord refuses unless enabled for the application (they are not, here).
pub const PRIVILEGED_INTENTS: u64 = (1 << 1) | (1 << 8) | (1 << 15);

/// Whether a session survives a close with `code` (Discord: not after 4004, 4009–4014).
pub fn resumable(code: u16) -> bool {
    !matches!(code, 4004 | 4009..=4014)
}

/// What a connection task is told to do.
pub enum ConnCmd {
    Send(String),
    Close(u16, String),
    /// Drop the socket without a close frame.
    Drop,
}

/// The live socket of a session.
pub struct Conn {
    pub id: u64,
    pub tx: UnboundedSender<ConnCmd>,
}

/// A gateway session: what RESUME continues.
pub struct Session {
    pub shard: [u32; 2],
    pub seq: u64,
    /// Every dispatch (but RESUMED) as sent: (seq, frame).
    pub log: Vec<(u64, String)>,
    pub conn: Option<Conn>,
    pub created: Instant,
}

impl Session {
    fn dispatch(&mut self, t: &str, d: Value) {
        self.seq += 1;
        let frame = json!({"op": 0, "t": t, "s": self.seq, "d": d}).to_string();
        self.log.push((self.seq, frame.clone()));
        if let Some(c) = &self.conn {
            let _ = c.tx.send(ConnCmd::Send(frame));
        }
    }
}

/// The gateway half of the state.
#[derive(Default)]
pub struct GatewayState {
    pub sessions: HashMap<String, Session>,
    pub identifies: usize,
    pub resumes: usize,
    pub heartbeats: usize,
    pub last_intents: Option<u64>,
    pub closes: Vec<(u16, String)>,
    next_conn: u64,
}

impl GatewayState {
    /// Some session has been sent READY or RESUMED and is connected.
    pub fn ready_and_live(&self) -> bool {
        self.sessions.values().any(|s| s.conn.is_some())
    }

    pub fn drop_live(&mut self) {
        for s in self.sessions.values_mut() {
            if let Some(c) = s.conn.take() {
                let _ = c.tx.send(ConnCmd::Drop);
            }
        }
    }

    pub fn close_live(&mut self, code: u16, reason: &str) {
        for s in self.sessions.values_mut() {
            if let Some(c) = s.conn.take() {
                let _ = c.tx.send(ConnCmd::Close(code, reason.into()));
                self.closes.push((code, reason.into()));
            }
        }
        if !resumable(code) {
            self.sessions.clear();
        }
    }

    /// Dispatches to the newest session of the shard that owns `guild`, connected or not
    /// (a disconnected session gets it on RESUME). Returns false if there is none.
    pub fn dispatch_to_guild(&mut self, guild: u64, t: &str, d: Value) -> bool {
        let session = self
            .sessions
            .values_mut()
            .filter(|s| (guild >> 22) % u64::from(s.shard[1]) == u64::from(s.shard[0]))
            .max_by_key(|s| (s.conn.is_some(), s.created));
        match session {
            Some(s) => {
                s.dispatch(t, d);
                true
            }
            None => false,
        }
    }
}

/// Accepts gateway connections forever.
pub async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(shared.clone(), stream));
    }
}

enum Action {
    Nothing,
    Beat,
    Close(u16, &'static str),
}

struct ConnCtx {
    id: u64,
    session: Option<String>,
    tx: UnboundedSender<ConnCmd>,
}

async fn connection(shared: Arc<Shared>, stream: tokio::net::TcpStream) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = unbounded_channel();
    let id = {
        let mut st = shared.lock();
        st.gw.next_conn += 1;
        st.gw.next_conn
    };
    let mut ctx = ConnCtx {
        id,
        session: None,
        tx,
    };
    let interval = shared.cfg.heartbeat_interval_ms;
    let hello = json!({"op": 10, "d": {"heartbeat_interval": interval}, "s": null, "t": null});
    if sink.send(Ws::Text(hello.to_string())).await.is_err() {
        return;
    }
    let grace = Duration::from_millis(interval * 2 + 1000);
    let mut last_beat = Instant::now();
    loop {
        let deadline = tokio::time::Instant::from_std(last_beat + grace);
        let close = tokio::select! {
            msg = source.next() => match msg {
                Some(Ok(Ws::Text(text))) => {
                    let action = handle(&shared, &mut shared.lock(), &mut ctx, &text);
                    match action {
                        Action::Nothing => None,
                        Action::Beat => {
                            last_beat = Instant::now();
                            None
                        }
                        Action::Close(code, reason) => Some((code, reason.to_string())),
                    }
                }
                Some(Ok(Ws::Binary(_))) => Some((4002, "Error while decoding payload.".into())),
                Some(Ok(Ws::Ping(_) | Ws::Pong(_) | Ws::Frame(_))) => None,
                Some(Ok(Ws::Close(_)) | Err(_)) | None => break,
            },
            cmd = rx.recv() => match cmd {
                Some(ConnCmd::Send(text)) => {
                    if sink.send(Ws::Text(text)).await.is_err() {
                        break;
                    }
                    None
                }
                Some(ConnCmd::Close(code, reason)) => {
                    let frame = CloseFrame { code: code.into(), reason: reason.into() };
                    let _ = sink.send(Ws::Close(Some(frame))).await;
                    break;
                }
                Some(ConnCmd::Drop) | None => break,
            },
            _ = tokio::time::sleep_until(deadline) => Some((4009, "Session timed out.".into())),
        };
        if let Some((code, reason)) = close {
            {
                let mut st = shared.lock();
                st.gw.closes.push((code, reason.clone()));
                if let Some(id) = ctx.session.as_ref().filter(|_| !resumable(code)) {
                    st.gw.sessions.remove(id);
                }
            }
            let frame = CloseFrame {
                code: code.into(),
                reason: reason.into(),
            };
            let _ = sink.send(Ws::Close(Some(frame))).await;
            break;
        }
    }
    let mut st = shared.lock();
    for s in st.gw.sessions.values_mut() {
        if s.conn.as_ref().is_some_and(|c| c.id == ctx.id) {
            s.conn = None;
        }
    }
}

fn token_ok(shared: &Shared, d: &Value) -> bool {
    let t = d["token"].as_str().unwrap_or("");
    t.strip_prefix("Bot ").unwrap_or(t) == shared.token()
}

fn handle(shared: &Shared, st: &mut State, ctx: &mut ConnCtx, text: &str) -> Action {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return Action::Close(4002, "Error while decoding payload.");
    };
    let d = &v["d"];
    match v["op"].as_u64() {
        Some(1) => {
            st.gw.heartbeats += 1;
            let ack = json!({"op": 11, "d": null, "s": null, "t": null}).to_string();
            let _ = ctx.tx.send(ConnCmd::Send(ack));
            Action::Beat
        }
        Some(2) => identify(shared, st, ctx, d),
        Some(6) => resume(shared, st, ctx, d),
        Some(3 | 4 | 8 | 31) if ctx.session.is_some() => Action::Nothing,
        Some(3 | 4 | 8 | 31) => Action::Close(4003, "Not authenticated."),
        _ => Action::Close(4001, "Unknown opcode."),
    }
}

fn identify(shared: &Shared, st: &mut State, ctx: &mut ConnCtx, d: &Value) -> Action {
    if ctx.session.is_some() {
        return Action::Close(4005, "Already authenticated.");
    }
    if !token_ok(shared, d) {
        return Action::Close(4004, "Authentication failed.");
    }
    let Some(intents) = d["intents"].as_u64() else {
        return Action::Close(4013, "Invalid intent(s).");
    };
    if intents & PRIVILEGED_INTENTS != 0 {
        return Action::Close(4014, "Disallowed intent(s).");
    }
    let shard = match d.get("shard") {
        None | Some(Value::Null) => [0, 1],
        Some(s) => [
            s[0].as_u64().unwrap_or(u64::MAX) as u32,
            s[1].as_u64().unwrap_or(0) as u32,
        ],
    };
    if shard[1] == 0 || shard[0] >= shard[1] {
        return Action::Close(4010, "Invalid shard.");
    }
    let session_id = format!("{:016x}{:016x}", st.rng.next_u64(), st.rng.next_u64());
    st.gw.sessions.retain(|_, s| s.shard != shard);
    st.gw.identifies += 1;
    st.gw.last_intents = Some(intents);
    let guilds: Vec<u64> = shared
        .cfg
        .guilds
        .iter()
        .map(|g| g.id)
        .filter(|g| (g >> 22) % u64::from(shard[1]) == u64::from(shard[0]))
        .collect();
    let ready = payloads::ready_json(shared, &session_id, shard, &guilds);
    let creates: Vec<Value> = shared
        .cfg
        .guilds
        .iter()
        .filter(|g| guilds.contains(&g.id))
        .map(|g| payloads::guild_json(shared, st, g))
        .collect();
    let mut session = Session {
        shard,
        seq: 0,
        log: Vec::new(),
        conn: Some(Conn {
            id: ctx.id,
            tx: ctx.tx.clone(),
        }),
        created: Instant::now(),
    };
    session.dispatch("READY", ready);
    for g in creates {
        session.dispatch("GUILD_CREATE", g);
    }
    st.gw.sessions.insert(session_id.clone(), session);
    ctx.session = Some(session_id);
    Action::Nothing
}

fn resume(shared: &Shared, st: &mut State, ctx: &mut ConnCtx, d: &Value) -> Action {
    if ctx.session.is_some() {
        return Action::Close(4005, "Already authenticated.");
    }
    if !token_ok(shared, d) {
        return Action::Close(4004, "Authentication failed.");
    }
    let id = d["session_id"].as_str().unwrap_or("");
    let seq = d["seq"].as_u64().unwrap_or(0);
    let invalid = json!({"op": 9, "d": false, "s": null, "t": null}).to_string();
    let Some(s) = st.gw.sessions.get_mut(id).filter(|s| seq <= s.seq) else {
        let _ = ctx.tx.send(ConnCmd::Send(invalid));
        return Action::Nothing;
    };
    if let Some(old) = s.conn.take() {
        let _ = old.tx.send(ConnCmd::Drop);
    }
    for (n, frame) in &s.log {
        if *n > seq {
            let _ = ctx.tx.send(ConnCmd::Send(frame.clone()));
        }
    }
    s.seq += 1;
    let resumed = json!({"op": 0, "t": "RESUMED", "s": s.seq, "d": {"_trace": ["fake-discord"]}});
    let _ = ctx.tx.send(ConnCmd::Send(resumed.to_string()));
    s.conn = Some(Conn {
        id: ctx.id,
        tx: ctx.tx.clone(),
    });
    st.gw.resumes += 1;
    ctx.session = Some(id.to_string());
    Action::Nothing
}
