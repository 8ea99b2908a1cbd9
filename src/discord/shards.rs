//! Which Discord gateway shards this process runs: a range out of the bot's shard count,
//! `discord.shards = "0-3"` with `discord.shard_count = 16` (by default every shard of the
//! count). Several processes sharing one store each run their own range (docs/postgres.md);
//! the store refuses a shard two processes claim.

/// A range of shards, `first..=last`, out of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shards {
    pub first: u32,
    pub last: u32,
    pub count: u32,
}

impl Default for Shards {
    /// The one shard of a bot that runs one.
    fn default() -> Shards {
        Shards {
            first: 0,
            last: 0,
            count: 1,
        }
    }
}

impl Shards {
    /// `range` (`"3"` or `"0-3"`; None: every shard) out of `count` shards.
    pub fn parse(range: Option<&str>, count: u32) -> Result<Shards, String> {
        if count == 0 {
            return Err("`0`: a bot runs at least one shard".into());
        }
        let Some(text) = range else {
            return Ok(Shards {
                first: 0,
                last: count - 1,
                count,
            });
        };
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{text}`: expected a shard (\"3\") or a range (\"0-3\")"))
        };
        let (first, last) = match text.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(text)?;
                (n, n)
            }
        };
        if first > last {
            return Err(format!("`{text}`: the range runs backwards"));
        }
        if last >= count {
            return Err(format!(
                "`{text}`: shards are numbered 0 to {} (discord.shard_count = {count})",
                count - 1
            ));
        }
        Ok(Shards { first, last, count })
    }

    /// The shards run, by number.
    pub fn ids(&self) -> Vec<u32> {
        (self.first..=self.last).collect()
    }

    /// How many shards are run.
    pub fn len(&self) -> u32 {
        self.last - self.first + 1
    }

    /// Never: a range holds at least one shard.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether these are all the bot's shards.
    pub fn all(&self) -> bool {
        self.len() == self.count
    }

    /// This process's part of a budget the bot has as a whole (Discord's global rate
    /// limit): in proportion to its shards, so that processes running every shard between
    /// them never exceed it together. At least 1.
    pub fn share(&self, per_bot: u32) -> u32 {
        (u64::from(per_bot) * u64::from(self.len()) / u64::from(self.count)).max(1) as u32
    }
}

impl std::fmt::Display for Shards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "{} of {}", self.first, self.count)
        } else {
            write!(f, "{}-{} of {}", self.first, self.last, self.count)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_read_and_checked_against_the_count() {
        assert_eq!(
            Shards::parse(Some("0-3"), 16),
            Ok(Shards {
                first: 0,
                last: 3,
                count: 16
            })
        );
        assert_eq!(Shards::parse(Some(" 5 "), 16).map(|s| s.ids()), Ok(vec![5]));
        assert_eq!(Shards::parse(None, 3).map(|s| s.ids()), Ok(vec![0, 1, 2]));
        for bad in ["3-1", "0-16", "x", "1-", "-2"] {
            assert!(Shards::parse(Some(bad), 16).is_err(), "{bad}");
        }
        assert!(Shards::parse(None, 0).is_err());
    }

    #[test]
    fn processes_running_every_shard_between_them_share_the_bot_s_budget() {
        let thirds = [(0, 5), (6, 10), (11, 15)].map(|(first, last)| Shards {
            first,
            last,
            count: 16,
        });
        let total: u32 = thirds.iter().map(|s| s.share(45)).sum();
        assert!(total <= 45, "{total}");
        assert!(total >= 43, "not much wasted: {total}");
        assert_eq!(Shards::default().share(45), 45);
        assert_eq!(
            Shards {
                first: 0,
                last: 0,
                count: 100
            }
            .share(45),
            1
        );
    }
}
