//! The layers a setting comes from, in order of precedence: the environment, then the file
//! (with the line each value is on), then the key's default. Each value keeps its origin,
//! so that an error says where the bad value came from.

use std::collections::BTreeMap;

use super::ConfigError;
use super::keys::{KEYS, Key};

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `file:line`.
    File { file: String, line: usize },
    /// The environment variable.
    Env(&'static str),
    /// The key's default.
    Default,
}

/// A value as text, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raw {
    pub text: String,
    pub origin: Origin,
}

/// What the file and the environment say, before any value is parsed.
pub struct Layers<'a> {
    file: BTreeMap<&'static str, Raw>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

type Sections = BTreeMap<String, BTreeMap<String, toml::Spanned<toml::Value>>>;

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |t| t.matches('\n').count() + 1)
}

impl<'a> Layers<'a> {
    /// Reads the file's text (`name` in messages): every key must be one herald knows.
    pub fn read(
        name: &str,
        text: &str,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Result<Layers<'a>, ConfigError> {
        let sections: Sections = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            file: name.to_string(),
            reason: e.to_string().trim().replace('\n', " "),
        })?;
        let mut file = BTreeMap::new();
        for (section, values) in sections {
            for (k, v) in values {
                let full = format!("{section}.{k}");
                let line = line_of(text, v.span().start);
                let at = Origin::File {
                    file: name.to_string(),
                    line,
                };
                let Some(key) = KEYS.iter().find(|key| key.name == full) else {
                    let hint = if full == "discord.token" {
                        " (the token never goes in the file: set DISCORD_TOKEN, or discord.token_file)"
                    } else {
                        ""
                    };
                    return Err(ConfigError::at(&at, &full, format!("unknown key{hint}")));
                };
                let text = match v.into_inner() {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    other => {
                        return Err(ConfigError::at(
                            &at,
                            key.name,
                            format!("expected a single value, not {}", other.type_str()),
                        ));
                    }
                };
                file.insert(key.name, Raw { text, origin: at });
            }
        }
        Ok(Layers { file, env })
    }

    /// The value of `key`: the environment's, else the file's, else the default.
    pub fn get(&self, key: &'static Key) -> Option<Raw> {
        if let Some(v) = (self.env)(key.env) {
            return Some(Raw {
                text: v,
                origin: Origin::Env(key.env),
            });
        }
        if let Some(v) = self.file.get(key.name) {
            return Some(v.clone());
        }
        key.default.map(|d| Raw {
            text: d.to_string(),
            origin: Origin::Default,
        })
    }

    /// Looks up the environment directly (the token, which has no key).
    pub fn env(&self, var: &str) -> Option<String> {
        (self.env)(var)
    }
}
