//! SVG building blocks shared by the charts: XML escaping, text measured against the
//! embedded fonts (so that long names are cut with an ellipsis before they overflow), and
//! colour contrast (so that a label is readable on whatever party colour it sits on).

use std::fmt::Write as _;

use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;

use super::fonts;
use crate::core::parties::Colour;

/// Escapes text for an SVG text node or attribute value, and drops characters XML 1.0
/// does not allow (control characters), which would otherwise make the document invalid.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Whitespace controls read as a space; other controls are not XML characters.
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The widths of one embedded face, in ems.
pub(crate) struct Metrics {
    face: Option<(skrifa::charmap::Charmap<'static>, GlyphMetrics<'static>)>,
}

impl Metrics {
    pub(crate) fn new(font: &skrifa::FontRef<'static>) -> Metrics {
        Metrics {
            face: Some((
                font.charmap(),
                font.glyph_metrics(Size::new(1.0), LocationRef::default()),
            )),
        }
    }

    /// Metrics of a face that failed to parse: every character 0.6 em wide, none covered.
    pub(crate) fn empty() -> Metrics {
        Metrics { face: None }
    }

    /// Whether the face has a glyph for `c`.
    pub(crate) fn covers(&self, c: char) -> bool {
        self.face
            .as_ref()
            .is_some_and(|(charmap, _)| charmap.map(c).is_some())
    }

    fn advance(&self, c: char) -> f32 {
        self.face
            .as_ref()
            .and_then(|(charmap, glyphs)| glyphs.advance_width(charmap.map(c).unwrap_or_default()))
            .unwrap_or(0.6)
    }
}

/// The two weights the charts use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// The width of `s` set at `size` px (advance widths, without kerning, which only
/// narrows text: a slight overestimate that errs towards fitting).
pub fn text_width(s: &str, size: f64, weight: Weight) -> f64 {
    let m = fonts().metrics(weight);
    let ems: f32 = s
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| m.advance(c))
        .sum();
    f64::from(ems) * size
}

/// `s` as it fits in `max` px: whole, or cut at a character with "…" appended.
pub fn fit(s: &str, size: f64, weight: Weight, max: f64) -> String {
    let s = s.trim();
    if text_width(s, size, weight) <= max {
        return s.to_string();
    }
    let ellipsis = text_width("\u{2026}", size, weight);
    let m = fonts().metrics(weight);
    let mut out = String::new();
    let mut width = 0.0;
    for c in s.chars() {
        let w = f64::from(m.advance(c)) * size;
        if width + w + ellipsis > max {
            break;
        }
        width += w;
        out.push(c);
    }
    let mut out = out.trim_end().to_string();
    out.push('\u{2026}');
    out
}

/// The largest size from `size` down to `min` at which `s` fits in `max` px, and the text
/// at that size (cut with an ellipsis if it does not fit even at `min`).
pub fn shrink_to_fit(s: &str, size: f64, min: f64, weight: Weight, max: f64) -> (f64, String) {
    let w = text_width(s.trim(), size, weight);
    if w <= max || w <= 0.0 {
        return (size, s.trim().to_string());
    }
    let scaled = (size * max / w).floor();
    if scaled >= min {
        return (scaled, s.trim().to_string());
    }
    (min, fit(s, min, weight, max))
}

/// A finite number for an SVG attribute (NaN and infinities become 0).
pub fn num(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// WCAG relative luminance of a colour.
pub fn luminance(c: Colour) -> f64 {
    let (r, g, b) = c.rgb();
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG contrast ratio between two colours (1 to 21).
pub fn contrast(a: Colour, b: Colour) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// Near-black or white, whichever reads better on `background`.
pub fn ink_on(background: Colour) -> Colour {
    const DARK: Colour = Colour(0x111214);
    const LIGHT: Colour = Colour(0xFFFFFF);
    if contrast(DARK, background) >= contrast(LIGHT, background) {
        DARK
    } else {
        LIGHT
    }
}

/// Where a text's `x` sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// How a piece of text is set.
#[derive(Clone, Copy, Debug)]
pub struct Font {
    pub size: f64,
    pub weight: Weight,
    pub anchor: Anchor,
    pub fill: Colour,
}

impl Font {
    pub fn new(size: f64, fill: Colour) -> Font {
        Font {
            size,
            weight: Weight::Regular,
            anchor: Anchor::Start,
            fill,
        }
    }

    pub fn bold(self) -> Font {
        Font {
            weight: Weight::Bold,
            ..self
        }
    }

    pub fn middle(self) -> Font {
        Font {
            anchor: Anchor::Middle,
            ..self
        }
    }

    pub fn end(self) -> Font {
        Font {
            anchor: Anchor::End,
            ..self
        }
    }

    /// `s` cut to `max` px in this font.
    pub fn fit(&self, s: &str, max: f64) -> String {
        fit(s, self.size, self.weight, max)
    }

    pub fn width(&self, s: &str) -> f64 {
        text_width(s, self.size, self.weight)
    }
}

/// An SVG document under construction, `width`×`height` px on an opaque background.
pub struct Svg {
    buf: String,
}

impl Svg {
    pub fn new(width: u32, height: u32, background: Colour, border: Colour) -> Svg {
        let mut buf = String::with_capacity(16 * 1024);
        let _ = write!(
            buf,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{family}">"#,
            family = super::FONT_FAMILY
        );
        let mut svg = Svg { buf };
        svg.rect(0.0, 0.0, f64::from(width), f64::from(height), background);
        svg.raw(&format!(
            r#"<rect x="2" y="2" width="{}" height="{}" rx="10" fill="none" stroke="{border}" stroke-width="4"/>"#,
            width.saturating_sub(4),
            height.saturating_sub(4)
        ));
        svg
    }

    /// Appends markup as it is (built by this module, never from feed text).
    pub fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Colour) {
        let _ = write!(
            self.buf,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
            num(x),
            num(y),
            num(w).max(0.0),
            num(h).max(0.0)
        );
    }

    /// A rectangle with extra attributes (`rx`, `stroke`, `opacity`, …).
    pub fn rect_with(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Colour, extra: &str) {
        let _ = write!(
            self.buf,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" {extra}/>"#,
            num(x),
            num(y),
            num(w).max(0.0),
            num(h).max(0.0)
        );
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: Colour, extra: &str) {
        let _ = write!(
            self.buf,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{stroke}" {extra}/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, attrs: &str) {
        let _ = write!(
            self.buf,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{:.2}" {attrs}/>"#,
            num(cx),
            num(cy),
            num(r).max(0.0)
        );
    }

    pub fn path(&mut self, d: &str, attrs: &str) {
        let _ = write!(self.buf, r#"<path d="{d}" {attrs}/>"#);
    }

    /// Text with its baseline at `y`; `content` is escaped here.
    pub fn text(&mut self, x: f64, y: f64, font: &Font, content: &str) {
        if content.is_empty() {
            return;
        }
        let anchor = match font.anchor {
            Anchor::Start => "",
            Anchor::Middle => r#" text-anchor="middle""#,
            Anchor::End => r#" text-anchor="end""#,
        };
        let weight = match font.weight {
            Weight::Regular => "",
            Weight::Bold => r#" font-weight="bold""#,
        };
        let _ = write!(
            self.buf,
            r#"<text x="{:.1}" y="{:.1}" font-size="{:.1}" fill="{}"{anchor}{weight}>{}</text>"#,
            num(x),
            num(y),
            num(font.size),
            font.fill,
            escape(content)
        );
    }

    pub fn finish(mut self) -> String {
        self.buf.push_str("</svg>");
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_controls() {
        assert_eq!(
            escape(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &apos;Jerry&apos;&lt;/b&gt;"
        );
        assert_eq!(escape("a\u{0}b\u{7}c\td"), "abc d");
        assert_eq!(escape("Ynys Môn"), "Ynys Môn");
    }

    #[test]
    fn measures_and_fits_text() {
        let w = text_width("Hartlepool", 20.0, Weight::Regular);
        assert!(w > 80.0 && w < 140.0, "{w}");
        assert!(text_width("M", 20.0, Weight::Bold) > text_width("M", 20.0, Weight::Regular));
        assert_eq!(
            fit("Hartlepool", 20.0, Weight::Regular, 500.0),
            "Hartlepool"
        );
        let cut = fit("Hartlepool", 20.0, Weight::Regular, 60.0);
        assert!(
            cut.ends_with('\u{2026}') && cut.chars().count() < 10,
            "{cut}"
        );
        assert!(text_width(&cut, 20.0, Weight::Regular) <= 60.0);
        // Nothing fits: just the ellipsis, never a panic.
        assert_eq!(fit("Hartlepool", 20.0, Weight::Regular, 1.0), "\u{2026}");
        let (size, text) = shrink_to_fit("Hartlepool", 40.0, 20.0, Weight::Bold, 150.0);
        assert!(
            (20.0..40.0).contains(&size) && text == "Hartlepool",
            "{size} {text}"
        );
    }

    #[test]
    fn picks_readable_ink() {
        // Labour red and Conservative blue take white; SNP yellow and Lib Dem orange black.
        assert_eq!(ink_on(Colour(0xE4003B)), Colour(0xFFFFFF));
        assert_eq!(ink_on(Colour(0x0C3A6A)), Colour(0xFFFFFF));
        assert_eq!(ink_on(Colour(0xE8C600)), Colour(0x111214));
        assert_eq!(ink_on(Colour(0xFAA61A)), Colour(0x111214));
        assert!((contrast(Colour(0), Colour(0xFFFFFF)) - 21.0).abs() < 1e-9);
    }
}
