//! A Discord-shaped embed as plain data, with Discord's limits checked before anything is
//! sent, and Markdown escaping for text that comes from a feed.
//!
//! Every sink renders these: the Discord sink converts them field for field, the console
//! prints them as text ([`super::text`]).

use chrono::{DateTime, Utc};

use crate::core::parties::Colour;

/// Discord's documented embed limits.
pub mod limits {
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FOOTER: usize = 2048;
    pub const AUTHOR: usize = 256;
    /// The sum of title, description, field names and values, footer and author.
    pub const TOTAL: usize = 6000;
    /// Message content.
    pub const CONTENT: usize = 2000;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Embed {
    pub title: String,
    pub description: String,
    pub colour: Colour,
    pub fields: Vec<Field>,
    pub footer: Option<String>,
    pub timestamp: Option<DateTime<Utc>>,
    /// The file name of an attached image, shown as `attachment://NAME`.
    pub image: Option<String>,
}

/// A limit an embed breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("embed {what} is {len} characters; the limit is {limit}")]
    TooLong {
        what: &'static str,
        len: usize,
        limit: usize,
    },
    #[error("embed has {0} fields; the limit is 25")]
    TooManyFields(usize),
    #[error("embed field {0} has an empty name or value")]
    EmptyField(usize),
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

impl Embed {
    /// Characters counted against the 6000 total.
    pub fn total_len(&self) -> usize {
        chars(&self.title)
            + chars(&self.description)
            + self
                .fields
                .iter()
                .map(|f| chars(&f.name) + chars(&f.value))
                .sum::<usize>()
            + self.footer.as_deref().map_or(0, chars)
    }

    /// Checks every limit Discord enforces (serenity checks only the total).
    pub fn validate(&self) -> Result<(), LimitError> {
        let check = |what, s: &str, limit| {
            let len = chars(s);
            if len > limit {
                Err(LimitError::TooLong { what, len, limit })
            } else {
                Ok(())
            }
        };
        check("title", &self.title, limits::TITLE)?;
        check("description", &self.description, limits::DESCRIPTION)?;
        if self.fields.len() > limits::FIELDS {
            return Err(LimitError::TooManyFields(self.fields.len()));
        }
        for (i, f) in self.fields.iter().enumerate() {
            if f.name.trim().is_empty() || f.value.trim().is_empty() {
                return Err(LimitError::EmptyField(i));
            }
            check("field name", &f.name, limits::FIELD_NAME)?;
            check("field value", &f.value, limits::FIELD_VALUE)?;
        }
        if let Some(footer) = &self.footer {
            check("footer", footer, limits::FOOTER)?;
        }
        let total = self.total_len();
        if total > limits::TOTAL {
            return Err(LimitError::TooLong {
                what: "total",
                len: total,
                limit: limits::TOTAL,
            });
        }
        Ok(())
    }

    /// Trims the embed until it satisfies every limit: long texts are cut with an ellipsis,
    /// fields beyond 25 are dropped, then fields are dropped from the end until the total
    /// fits. A result is never rejected by Discord for its size.
    pub fn fit(mut self) -> Embed {
        self.title = truncate(&self.title, limits::TITLE);
        self.description = truncate(&self.description, limits::DESCRIPTION);
        self.fields
            .retain(|f| !f.name.trim().is_empty() && !f.value.trim().is_empty());
        self.fields.truncate(limits::FIELDS);
        for f in &mut self.fields {
            f.name = truncate(&f.name, limits::FIELD_NAME);
            f.value = truncate_block(&f.value, limits::FIELD_VALUE);
        }
        self.footer = self.footer.map(|f| truncate(&f, limits::FOOTER));
        while self.total_len() > limits::TOTAL && !self.fields.is_empty() {
            self.fields.pop();
        }
        if self.total_len() > limits::TOTAL {
            let room = limits::TOTAL - (self.total_len() - chars(&self.description));
            self.description = truncate(&self.description, room);
        }
        self
    }
}

/// Cuts `s` to at most `max` characters, ending with "…" when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Like [`truncate`], but keeps whole lines and closes a code block it cut open.
pub fn truncate_block(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_string();
    }
    let fenced = s.starts_with("```");
    let tail = if fenced { "…\n```" } else { "…" };
    let budget = max.saturating_sub(chars(tail) + 1);
    let mut out = String::new();
    for line in s.lines() {
        if chars(&out) + chars(line) + 1 > budget {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    if out.is_empty() {
        return truncate(s, max);
    }
    out.push_str(tail);
    out
}

/// Escapes Discord Markdown so that text from a feed shows literally: `**x**` stays
/// `**x**`, and `@everyone` cannot be read as a mention even where mentions were allowed.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '#' | '[' | ']' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200B}"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Makes text safe inside a code block: no backtick can close the fence.
pub fn escape_code(s: &str) -> String {
    s.replace('`', "ˋ").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embed() -> Embed {
        Embed {
            title: "t".into(),
            description: "d".into(),
            colour: Colour(0),
            fields: vec![],
            footer: None,
            timestamp: None,
            image: None,
        }
    }

    #[test]
    fn validate_catches_each_limit() {
        let mut e = embed();
        e.title = "x".repeat(257);
        assert!(matches!(
            e.validate(),
            Err(LimitError::TooLong { what: "title", .. })
        ));
        let mut e = embed();
        e.fields = (0..26)
            .map(|i| Field {
                name: i.to_string(),
                value: "v".into(),
                inline: false,
            })
            .collect();
        assert_eq!(e.validate(), Err(LimitError::TooManyFields(26)));
        let mut e = embed();
        e.fields = vec![Field {
            name: "n".into(),
            value: "v".repeat(1025),
            inline: false,
        }];
        assert!(matches!(
            e.validate(),
            Err(LimitError::TooLong {
                what: "field value",
                ..
            })
        ));
        let mut e = embed();
        e.fields = vec![Field {
            name: "n".into(),
            value: " ".into(),
            inline: false,
        }];
        assert_eq!(e.validate(), Err(LimitError::EmptyField(0)));
        let mut e = embed();
        e.description = "d".repeat(4000);
        e.fields = (0..3)
            .map(|i| Field {
                name: i.to_string(),
                value: "v".repeat(1000),
                inline: false,
            })
            .collect();
        assert!(matches!(
            e.validate(),
            Err(LimitError::TooLong { what: "total", .. })
        ));
    }

    #[test]
    fn fit_always_validates() {
        let mut e = embed();
        e.title = "é".repeat(400);
        e.description = "d".repeat(5000);
        e.footer = Some("f".repeat(3000));
        e.fields = (0..40)
            .map(|i| Field {
                name: format!("{i}{}", "n".repeat(300)),
                value: format!("```\n{}\n```", "line\n".repeat(400)),
                inline: true,
            })
            .collect();
        let fitted = e.fit();
        assert_eq!(fitted.validate(), Ok(()));
        assert!(fitted.title.ends_with('…'));
        assert!(
            fitted
                .fields
                .iter()
                .all(|f| !f.value.contains("```") || f.value.ends_with("```"))
        );
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(
            escape_markdown("@everyone **x**"),
            "@\u{200B}everyone \\*\\*x\\*\\*"
        );
        assert_eq!(escape_markdown("O'Hara"), "O'Hara");
        assert_eq!(escape_code("a`b\nc"), "aˋb c");
    }
}
