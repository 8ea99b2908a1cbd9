//! The swingometer for `/swing`: a dial from the party the swing is measured from (left,
//! in its colour) to the party it is measured to (right), with the needle at the two-party
//! swing and the figure beneath. Without a quote the dial is grey and says so.

use std::f64::consts::PI;

use super::svg::{Font, Svg, Weight, shrink_to_fit};
use super::{HEIGHT, WIDTH, needs_outline, theme};
use crate::core::arithmetic::SwingQuote;
use crate::core::parties::Colour;
use crate::format::Style;

const MARGIN: f64 = 40.0;
const CX: f64 = 500.0;
const CY: f64 = 452.0;
const OUTER: f64 = 280.0;
const INNER: f64 = 212.0;

/// The dial's reach either side of 0 for a swing of `points`, and its labelled step.
pub(crate) fn scale(points: f64) -> (f64, f64) {
    let p = if points.is_finite() {
        points.abs()
    } else {
        0.0
    };
    [(10.0, 2.0), (20.0, 5.0), (30.0, 10.0), (50.0, 10.0)]
        .into_iter()
        .find(|(reach, _)| p <= reach * 0.9)
        .unwrap_or((100.0, 25.0))
}

/// The angle of `v` on a dial reaching ±`reach`: π at −reach (left), 0 at +reach (right).
fn angle(v: f64, reach: f64) -> f64 {
    PI / 2.0 - (v / reach).clamp(-1.0, 1.0) * PI / 2.0
}

fn point(r: f64, a: f64) -> (f64, f64) {
    (CX + r * a.cos(), CY - r * a.sin())
}

/// The band of the dial between angles `a0` > `a1`.
fn band(a0: f64, a1: f64) -> String {
    let (x0, y0) = point(OUTER, a0);
    let (x1, y1) = point(OUTER, a1);
    let (x2, y2) = point(INNER, a1);
    let (x3, y3) = point(INNER, a0);
    format!(
        "M{x0:.1},{y0:.1} A{OUTER},{OUTER} 0 0 1 {x1:.1},{y1:.1} L{x2:.1},{y2:.1} A{INNER},{INNER} 0 0 0 {x3:.1},{y3:.1} Z"
    )
}

fn band_attrs(colour: Colour) -> String {
    if needs_outline(colour) {
        format!(
            r#"fill="{colour}" stroke="{}" stroke-width="2""#,
            theme::OUTLINE
        )
    } else {
        format!(r#"fill="{colour}""#)
    }
}

/// The swingometer as an SVG document ([`WIDTH`]×[`HEIGHT`]).
pub fn swing_svg(quote: Option<&SwingQuote>, title: &str, style: &Style) -> String {
    let w = f64::from(WIDTH);
    let inner_w = w - 2.0 * MARGIN;
    let mut svg = Svg::new(WIDTH, HEIGHT, theme::PANEL, theme::BORDER);
    let (size, title) = shrink_to_fit(title, 42.0, 28.0, Weight::Bold, inner_w);
    svg.text(MARGIN, 62.0, &Font::new(size, theme::TEXT).bold(), &title);

    // A swing towards `from` (negative points) is shown as what it is: a swing the other way.
    let quote = quote.filter(|q| q.points.is_finite());
    let (reach, step) = scale(quote.map_or(0.0, |q| q.points));
    let sentence = match quote {
        Some(q) => {
            let (from, to) = if q.points < 0.0 {
                (&q.to, &q.from)
            } else {
                (&q.from, &q.to)
            };
            format!(
                "Swing of {:.1} points from {} to {} since {}.",
                q.points.abs(),
                style.name(from),
                style.name(to),
                style.baseline_label
            )
        }
        None => "No swing quoted yet: it needs declared seats with a previous result.".to_string(),
    };
    let (size, sentence) = shrink_to_fit(&sentence, 24.0, 19.0, Weight::Regular, inner_w);
    svg.text(MARGIN, 104.0, &Font::new(size, theme::TEXT), &sentence);

    let (left, right) = match quote {
        Some(q) => (style.parties.colour(&q.from), style.parties.colour(&q.to)),
        None => (theme::FAINT, theme::FAINT),
    };
    svg.path(&band(PI, PI / 2.0), &band_attrs(left));
    svg.path(&band(PI / 2.0, 0.0), &band_attrs(right));

    // Ticks, labelled every `step` points either side of 0.
    let minor = step / 2.0;
    let count = (reach / minor).round() as i64;
    let tick_font = Font::new(20.0, theme::MUTED).middle();
    for i in -count..=count {
        let v = i as f64 * minor;
        let a = angle(v, reach);
        let major = i % 2 == 0;
        let (x0, y0) = point(OUTER + 4.0, a);
        let (x1, y1) = point(OUTER + if major { 16.0 } else { 10.0 }, a);
        svg.line(
            x0,
            y0,
            x1,
            y1,
            if major { theme::MUTED } else { theme::FAINT },
            r#"stroke-width="2""#,
        );
        if major {
            let (x, y) = point(OUTER + 34.0, a);
            svg.text(x, y + 7.0, &tick_font, &format!("{}", v.abs()));
        }
    }

    // Which way is which, under each end of the dial.
    let end_font = Font::new(26.0, theme::TEXT).bold();
    let label_y = CY + 40.0;
    // From the end of the dial to short of the reading in the middle, less the arrow.
    let max_label = OUTER - 110.0 - end_font.width("\u{25C0} ");
    if let Some(q) = quote {
        let from = end_font.fit(style.short(&q.from), max_label);
        let to = end_font.fit(style.short(&q.to), max_label);
        svg.text(CX - OUTER, label_y, &end_font, &format!("\u{25C0} {from}"));
        svg.text(
            CX + OUTER,
            label_y,
            &end_font.end(),
            &format!("{to} \u{25B6}"),
        );
    }

    // The needle and its reading.
    match quote {
        Some(q) => {
            let a = angle(q.points, reach);
            let (tx, ty) = point(OUTER + 2.0, a);
            let (bx, by) = (9.0 * (a + PI / 2.0).cos(), -9.0 * (a + PI / 2.0).sin());
            svg.path(
                &format!(
                    "M{tx:.1},{ty:.1} L{:.1},{:.1} L{:.1},{:.1} Z",
                    CX + bx,
                    CY + by,
                    CX - bx,
                    CY - by
                ),
                &format!(
                    r#"fill="{}" stroke="{}" stroke-width="2" stroke-linejoin="round""#,
                    theme::TEXT,
                    theme::PANEL
                ),
            );
            svg.circle(
                CX,
                CY,
                16.0,
                &format!(
                    r#"fill="{}" stroke="{}" stroke-width="3""#,
                    theme::TEXT,
                    theme::PANEL
                ),
            );
            let big = Font::new(46.0, theme::TEXT).bold().middle();
            svg.text(CX, CY + 58.0, &big, &format!("{:.1}", q.points.abs()));
            let unit = Font::new(20.0, theme::MUTED).middle();
            svg.text(CX, CY + 88.0, &unit, "point swing");
        }
        None => {
            svg.circle(CX, CY, 16.0, &format!(r#"fill="{}""#, theme::FAINT));
            let big = Font::new(36.0, theme::MUTED).bold().middle();
            svg.text(CX, CY + 62.0, &big, "No swing yet");
        }
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dial_reaches_past_the_swing() {
        assert_eq!(scale(0.0), (10.0, 2.0));
        assert_eq!(scale(4.6), (10.0, 2.0));
        assert_eq!(scale(-16.0), (20.0, 5.0));
        assert_eq!(scale(19.0), (30.0, 10.0));
        assert_eq!(scale(44.0), (50.0, 10.0));
        assert_eq!(scale(80.0), (100.0, 25.0));
        assert_eq!(scale(f64::NAN), (10.0, 2.0));
        assert!((angle(0.0, 20.0) - PI / 2.0).abs() < 1e-12);
        assert!((angle(20.0, 20.0)).abs() < 1e-12);
        assert!((angle(-500.0, 20.0) - PI).abs() < 1e-12);
    }
}
