//! The sinks the outbox serves, by kind: each kind's name in the outbox, the key of one of
//! its announcements, and the set of kinds an event is queued for.

/// A kind of sink. An outbox row belongs to one, stored as its [`name`](SinkKind::name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SinkKind {
    /// The terminal or a file: one target, every event.
    Console,
    /// Discord channels: one target a subscribed channel.
    Discord,
}

impl SinkKind {
    pub const ALL: [SinkKind; 2] = [SinkKind::Console, SinkKind::Discord];

    /// The sink's name in the outbox and in metrics.
    pub fn name(self) -> &'static str {
        match self {
            SinkKind::Console => "console",
            SinkKind::Discord => "discord",
        }
    }

    /// The target of a sink with only one (the console).
    pub const ONLY_TARGET: &'static str = "-";

    /// The idempotency key of one version of an announcement for one target:
    /// `console:E14000733:1`, `discord:CHANNEL:E14000733:1`. It is also where nonces and
    /// the console's journal come from, so it never changes for a stored row.
    pub fn key(self, target: &str, announced: &str, version: u32) -> String {
        match self {
            SinkKind::Console => format!("console:{announced}:{version}"),
            SinkKind::Discord => format!("discord:{target}:{announced}:{version}"),
        }
    }
}

impl std::fmt::Display for SinkKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The kinds of sink events are queued for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sinks {
    console: bool,
    discord: bool,
}

impl Sinks {
    /// No sink: events are recorded and announced nowhere.
    pub const NONE: Sinks = Sinks {
        console: false,
        discord: false,
    };

    pub fn of(kinds: &[SinkKind]) -> Sinks {
        kinds.iter().fold(Sinks::NONE, |s, &k| s.with(k, true))
    }

    /// These sinks, with `kind` included or not.
    pub fn with(mut self, kind: SinkKind, on: bool) -> Sinks {
        match kind {
            SinkKind::Console => self.console = on,
            SinkKind::Discord => self.discord = on,
        }
        self
    }

    pub fn has(self, kind: SinkKind) -> bool {
        match kind {
            SinkKind::Console => self.console,
            SinkKind::Discord => self.discord,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_stored_shape() {
        assert_eq!(
            SinkKind::Console.key(SinkKind::ONLY_TARGET, "E14000733", 2),
            "console:E14000733:2"
        );
        assert_eq!(
            SinkKind::Discord.key("42", "E14000733", 1),
            "discord:42:E14000733:1"
        );
    }

    #[test]
    fn a_set_holds_what_it_was_given() {
        let s = Sinks::of(&[SinkKind::Discord]);
        assert!(s.has(SinkKind::Discord) && !s.has(SinkKind::Console));
        assert!(!Sinks::NONE.has(SinkKind::Console));
        assert!(s.with(SinkKind::Console, true).has(SinkKind::Console));
    }
}
