//! Pictures of the results, as plain functions of computed figures: the result chart of one
//! constituency ([`result_chart`]), the seats hemicycle for `/seats` ([`seats_chart`]), the
//! projection's hemicycle for `/projection` ([`projection_chart`]), the councils' bars for
//! `/councils` ([`councils_chart`]) and the swingometer for `/swing` ([`swing_chart`]).
//!
//! This module owns the charts' look (sizes, panel colours, fonts) and their rendering. Each
//! chart is built as an SVG document (the `*_svg` functions, useful for tests and
//! debugging) and rasterised to PNG by resvg/tiny-skia, in pure Rust: no system fonts or
//! libraries are used at run time. The typeface, DejaVu Sans (regular and bold), is embedded
//! in the binary (`assets/fonts/`, licence in `assets/fonts/LICENSE-DejaVu.txt`) and loaded
//! into one font database for the life of the process.
//!
//! Every chart carries its own opaque dark panel, so it reads the same on Discord's light and
//! dark themes; party colours come from the registry, and a label on a bar is set in black
//! or white, whichever contrasts more with the bar. All text from a feed is XML-escaped and
//! cut to fit with an ellipsis; odd inputs (no votes, one candidate, forty candidates, no
//! baseline) draw a picture rather than fail.

mod councils;
mod projection;
mod result;
mod seats;
mod svg;
mod swing;

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

pub use councils::councils_svg;
pub use projection::projection_svg;
pub use result::result_svg;
pub use seats::seats_svg;
pub use swing::swing_svg;

use self::svg::{Metrics, Weight};
use super::Style;
use crate::core::arithmetic::{Figures, SwingQuote};
use crate::core::national::Tally;
use crate::core::parties::Colour;

/// Width of every chart in pixels. Charts are drawn at twice the size Discord shows an
/// embed image at (about 500×280 CSS pixels), so that they stay crisp on high-density
/// screens and when opened full size.
pub const WIDTH: u32 = 1000;
/// Height of every chart in pixels (see [`WIDTH`]): 1000×560, close to 16:9.
pub const HEIGHT: u32 = 560;

/// The family name of the embedded typeface.
pub const FONT_FAMILY: &str = "DejaVu Sans";

const REGULAR_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The generated SVG did not parse (a defect in the chart code, not in the data).
    #[error("chart: the generated SVG is invalid: {0}")]
    Svg(#[from] usvg::Error),
    /// The canvas could not be allocated.
    #[error("chart: could not allocate a {width}x{height} canvas")]
    Canvas { width: u32, height: u32 },
    /// PNG encoding failed.
    #[error("chart: PNG encoding failed: {0}")]
    Png(String),
}

/// The chart palette: a dark panel with light text, the same on both Discord themes.
pub(crate) mod theme {
    use crate::core::parties::Colour;

    /// The panel every chart is drawn on.
    pub const PANEL: Colour = Colour(0x1A1C22);
    /// Its edge, which sets the panel off from Discord's dark background.
    pub const BORDER: Colour = Colour(0x3A3F4B);
    /// Headings and figures.
    pub const TEXT: Colour = Colour(0xF2F3F5);
    /// Secondary text: names, notes, changes.
    pub const MUTED: Colour = Colour(0xAEB4BD);
    /// Axis lines, outlines of undeclared seats.
    pub const FAINT: Colour = Colour(0x5C6370);
    /// Parties folded into "Others".
    pub const OTHERS: Colour = Colour(0x6B717B);
    /// Drawn around a party colour too dark to stand out on the panel.
    pub const OUTLINE: Colour = Colour(0xC9CED6);
}

/// The embedded fonts: a database for usvg and metrics for measuring text, built once.
pub(crate) struct Fonts {
    db: Arc<usvg::fontdb::Database>,
    regular: Metrics,
    bold: Metrics,
}

impl Fonts {
    pub(crate) fn metrics(&self, weight: Weight) -> &Metrics {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }
}

/// The process-wide font set.
pub(crate) fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(REGULAR_TTF.to_vec());
        db.load_font_data(BOLD_TTF.to_vec());
        db.set_sans_serif_family(FONT_FAMILY);
        // The fonts are part of the binary and checked by the tests: a parse failure here
        // can only be a build defect, and then text is measured with a fallback width.
        let metrics = |data: &'static [u8]| match skrifa::FontRef::new(data) {
            Ok(font) => Metrics::new(&font),
            Err(_) => Metrics::empty(),
        };
        Fonts {
            db: Arc::new(db),
            regular: metrics(REGULAR_TTF),
            bold: metrics(BOLD_TTF),
        }
    })
}

/// The characters of `text` that the embedded fonts have no glyph for (in either weight).
pub fn missing_glyphs(text: &str) -> Vec<char> {
    let f = fonts();
    let mut missing: Vec<char> = text
        .chars()
        .filter(|c| !c.is_control())
        .filter(|c| !(f.regular.covers(*c) && f.bold.covers(*c)))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    missing
}

/// Rasterises an SVG document built by this module to PNG bytes, at its own size.
pub fn render_png(svg: &str) -> Result<Vec<u8>, ChartError> {
    let options = usvg::Options {
        font_family: FONT_FAMILY.to_string(),
        fontdb: fonts().db.clone(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options)?;
    let size = tree.size().to_int_size();
    let (width, height) = (size.width(), size.height());
    let mut pixmap =
        tiny_skia::Pixmap::new(width, height).ok_or(ChartError::Canvas { width, height })?;
    resvg::render(
        &tree,
        tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    encode_opaque_png(&pixmap)
}

/// Encodes a pixmap as an RGB PNG: a third smaller than RGBA, and every chart has an
/// opaque panel. (Premultiplied colour without its alpha is the picture over black, so a
/// stray transparent pixel comes out black rather than garbled.)
fn encode_opaque_png(pixmap: &tiny_skia::Pixmap) -> Result<Vec<u8>, ChartError> {
    let mut rgb = Vec::with_capacity(pixmap.data().len() / 4 * 3);
    for px in pixmap.data().chunks_exact(4) {
        rgb.extend_from_slice(&px[..3]);
    }
    let mut out = Vec::with_capacity(rgb.len() / 4);
    {
        let mut encoder = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder
            .write_header()
            .map_err(|e| ChartError::Png(e.to_string()))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| ChartError::Png(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| ChartError::Png(e.to_string()))?;
    }
    Ok(out)
}

/// The result chart of one constituency, as PNG bytes ([`WIDTH`]×[`HEIGHT`]): a bar per
/// candidate in the party colour with the share on it, a thin bar for the party's share
/// at the baseline and the change in points, the headline ("Con GAIN from Lab"), majority
/// and swing. Beyond the top six, candidates fold into "Others".
pub fn result_chart(figures: &Figures, style: &Style) -> Result<Vec<u8>, ChartError> {
    render_png(&result_svg(figures, style))
}

/// The seats chart for `/seats`, as PNG bytes ([`WIDTH`]×[`HEIGHT`]): a hemicycle of every
/// seat in its winner's colour (undeclared seats hollow) against the majority line, with a
/// legend of seats and change. `title` names the election.
pub fn seats_chart(tally: &Tally, title: &str, style: &Style) -> Result<Vec<u8>, ChartError> {
    render_png(&seats_svg(tally, title, style))
}

/// The councils chart for `/councils`, as PNG bytes ([`WIDTH`]×[`HEIGHT`]).
pub fn councils_chart(
    tally: &crate::core::council::CouncilTally,
    title: &str,
    style: &Style,
) -> Result<Vec<u8>, ChartError> {
    render_png(&councils_svg(tally, title, style))
}

/// The projection chart for `/projection`, as PNG bytes ([`WIDTH`]×[`HEIGHT`]).
pub fn projection_chart(
    projection: &crate::core::projection::Projection,
    title: &str,
    style: &Style,
) -> Result<Vec<u8>, ChartError> {
    render_png(&projection_svg(projection, title, style))
}

/// The swingometer for `/swing`, as PNG bytes ([`WIDTH`]×[`HEIGHT`]): the two-party swing
/// on a dial between the two parties' colours. With no quote it draws a labelled "no swing
/// yet" dial.
pub fn swing_chart(
    quote: Option<&SwingQuote>,
    title: &str,
    style: &Style,
) -> Result<Vec<u8>, ChartError> {
    render_png(&swing_svg(quote, title, style))
}

/// Whether a party colour is too close to the panel to stand out without an outline
/// (TUV's navy, for one).
pub(crate) fn needs_outline(c: Colour) -> bool {
    svg::contrast(c, theme::PANEL) < 1.8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fonts_cover_welsh_and_gaelic_names() {
        assert_eq!(missing_glyphs("Ynys Môn"), Vec::<char>::new());
        assert_eq!(
            missing_glyphs("Ŵŷŵ Ceredigion Bro Morgannwg Na h-Eileanan an Iar Ó Néill"),
            Vec::<char>::new()
        );
        assert_eq!(
            missing_glyphs("\u{2026}\u{2212}\u{25B2}\u{25BC}"),
            Vec::<char>::new()
        );
        assert_eq!(missing_glyphs("選"), vec!['選']);
    }

    #[test]
    fn text_panel_and_muted_colours_keep_contrast() {
        assert!(svg::contrast(theme::TEXT, theme::PANEL) >= 7.0);
        assert!(svg::contrast(theme::MUTED, theme::PANEL) >= 4.5);
        // The panel's edge shows against Discord's dark background (#313338).
        assert!(svg::contrast(theme::BORDER, Colour(0x313338)) > 1.1);
    }

    #[test]
    fn renders_a_minimal_document() {
        let mut s = svg::Svg::new(40, 20, theme::PANEL, theme::BORDER);
        s.text(2.0, 15.0, &svg::Font::new(12.0, theme::TEXT), "Môn <&>");
        let png = render_png(&s.finish()).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
