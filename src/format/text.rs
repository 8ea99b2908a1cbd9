//! The console's rendition of an embed: the same title, sentences, table and footer, as
//! plain text for a terminal.

use super::embed::Embed;

/// Removes the Markdown herald itself writes (bold, code fences, backslash escapes and the
/// zero-width spaces that defuse mentions), leaving the text a reader sees in Discord.
pub fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
            }
            '\u{200B}' => {}
            _ => out.push(c),
        }
    }
    out
}

/// Renders an embed for a terminal.
pub fn render(e: &Embed) -> String {
    let title = plain(&e.title);
    let rule_len = 72usize.saturating_sub(title.chars().count() + 4).max(3);
    let mut out = format!("━━ {title} {}\n", "━".repeat(rule_len));
    if !e.description.is_empty() {
        for line in e.description.lines() {
            out.push_str(&plain(line));
            out.push('\n');
        }
    }
    for f in &e.fields {
        out.push('\n');
        out.push_str(&plain(&f.name));
        out.push('\n');
        for line in f.value.lines().filter(|l| !l.starts_with("```")) {
            out.push_str("  ");
            // Inside code blocks nothing is escaped; outside, undo the escaping.
            if f.value.starts_with("```") {
                out.push_str(line);
            } else {
                out.push_str(&plain(line));
            }
            out.push('\n');
        }
    }
    if let Some(footer) = &e.footer {
        out.push('\n');
        out.push_str(&plain(footer));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_undoes_herald_markdown() {
        assert_eq!(
            plain("**Jill Mortimer** (Conservative)"),
            "Jill Mortimer (Conservative)"
        );
        assert_eq!(plain("@\u{200B}everyone \\*\\*x\\*\\*"), "@everyone **x**");
    }
}
