//! Presentation as plain functions of computed figures: embeds ([`embed`]), their text
//! rendition for the console ([`text`]), machine-readable JSON ([`json`]) and pictures
//! ([`chart`]). Every sink shows the same words and numbers, built here once.

pub mod allocated;
pub mod announce;
pub mod chart;
pub mod embed;
pub mod json;
pub mod milestone;
pub mod national;
pub mod result;
pub mod text;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::core::model::PartyId;
use crate::core::parties::PartyRegistry;

/// What the formatters need besides the figures.
#[derive(Clone, Copy)]
pub struct Style<'a> {
    pub parties: &'a PartyRegistry,
    /// Timezone for display (Europe/London by default).
    pub tz: Tz,
    /// Where the results came from, named in the footer.
    pub source: &'a str,
    /// How to name the baseline in sentences ("2019").
    pub baseline_label: &'a str,
}

impl Style<'_> {
    /// How to name what `f` is compared with: the source's own previous election where the
    /// figures are against it ("2021 (notional)"), else the configured baseline.
    pub fn since<'b>(&'b self, f: &'b crate::core::arithmetic::Figures) -> &'b str {
        f.since.as_deref().unwrap_or(self.baseline_label)
    }

    pub fn short<'b>(&'b self, p: &'b PartyId) -> &'b str {
        self.parties.short(p)
    }

    pub fn name<'b>(&'b self, p: &'b PartyId) -> &'b str {
        self.parties.name(p)
    }

    /// A time in the display timezone: "7 May 2021, 07:00 BST".
    pub fn time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz)
            .format("%-d %B %Y, %H:%M %Z")
            .to_string()
    }

    /// The time of day alone, in the configured zone ("03:00 GMT").
    pub fn clock(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%H:%M %Z").to_string()
    }
}

/// 15529 → "15,529".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed change to one decimal place: "+23.0", "−9.0" (with a true minus sign).
pub fn signed1(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r > 0.0 {
        format!("+{r:.1}")
    } else if r < 0.0 {
        format!("\u{2212}{:.1}", -r)
    } else {
        "0.0".to_string()
    }
}

/// A signed whole number: "+1", "−2", "0".
/// `n` and the noun, singular for one: "1 seat", "2 seats".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn signed_int(n: i64) -> String {
    match n {
        n if n > 0 => format!("+{n}"),
        n if n < 0 => format!("\u{2212}{}", -n),
        _ => "0".to_string(),
    }
}

/// A percentage to one decimal place: "51.9%".
pub fn pct1(x: f64) -> String {
    format!("{x:.1}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_newsrooms_print_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(15529), "15,529");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(signed1(22.9565), "+23.0");
        assert_eq!(signed1(-8.9891), "\u{2212}9.0");
        assert_eq!(signed1(-0.04), "0.0");
        assert_eq!(signed_int(-3), "\u{2212}3");
        assert_eq!(pct1(51.8792), "51.9%");
    }
}
