//! The councils chart for `/councils`: one bar a party (and no overall control) for the
//! councils it controls, in its colour, with the number and the change in control beside
//! it, largest first; labelled with how many councils have declared.

use super::svg::{Font, Svg, Weight, shrink_to_fit};
use super::{HEIGHT, WIDTH, needs_outline, theme};
use crate::core::allocation::Control;
use crate::core::council::CouncilTally;
use crate::format::allocated::control_short;
use crate::format::{Style, plural, signed_int};

const MARGIN: f64 = 40.0;
/// Bars shown (the rest are folded into the caption).
const BARS: usize = 9;
const LABEL_W: f64 = 150.0;
const FIGURES_W: f64 = 150.0;

/// The councils chart as an SVG document ([`WIDTH`]×[`HEIGHT`]).
pub fn councils_svg(t: &CouncilTally, title: &str, style: &Style) -> String {
    let w = f64::from(WIDTH);
    let mut svg = Svg::new(WIDTH, HEIGHT, theme::PANEL, theme::BORDER);
    let (size, title) = shrink_to_fit(title, 42.0, 28.0, Weight::Bold, w - 2.0 * MARGIN);
    svg.text(MARGIN, 62.0, &Font::new(size, theme::TEXT).bold(), &title);
    svg.text(
        MARGIN,
        104.0,
        &Font::new(22.0, theme::MUTED),
        &format!(
            "Control of the {} declared so far, and the change",
            plural(u64::from(t.declared), "council", "councils")
        ),
    );
    let rows: Vec<&(Control, u32, i64)> = t
        .control
        .iter()
        .filter(|(_, n, _)| *n > 0)
        .take(BARS)
        .collect();
    let most = rows.iter().map(|(_, n, _)| *n).max().unwrap_or(1).max(1);
    let bar_x = MARGIN + LABEL_W;
    let bar_w = w - MARGIN - FIGURES_W - bar_x;
    let row_h = ((f64::from(HEIGHT) - 150.0 - MARGIN) / BARS as f64).min(52.0);
    let label = Font::new(24.0, theme::TEXT).bold();
    let figures = Font::new(24.0, theme::TEXT).bold().end();
    let change = Font::new(20.0, theme::MUTED).end();
    for (i, (control, n, d)) in rows.iter().enumerate() {
        let y = 150.0 + i as f64 * row_h;
        let colour = match control {
            Control::Party(p) => style.parties.colour(p),
            Control::Noc => theme::OTHERS,
        };
        let name = control_short(control, style);
        svg.text(
            MARGIN,
            y + row_h * 0.62,
            &label,
            &label.fit(&name, LABEL_W - 12.0),
        );
        let len = (bar_w * f64::from(*n) / f64::from(most)).max(4.0);
        let extra = if needs_outline(colour) {
            format!(r#"rx="4" stroke="{}" stroke-width="1.5""#, theme::OUTLINE)
        } else {
            r#"rx="4""#.to_string()
        };
        svg.rect_with(bar_x, y + row_h * 0.15, len, row_h * 0.7, colour, &extra);
        svg.text(
            w - MARGIN - 70.0,
            y + row_h * 0.62,
            &figures,
            &n.to_string(),
        );
        svg.text(w - MARGIN, y + row_h * 0.62, &change, &signed_int(*d));
    }
    if rows.is_empty() {
        svg.text(
            w / 2.0,
            f64::from(HEIGHT) / 2.0,
            &Font::new(28.0, theme::MUTED).middle(),
            "No council declared yet",
        );
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::PartyId;

    #[test]
    fn one_bar_a_controller_longest_for_the_most_councils() {
        let parties = crate::demo::parties();
        let style = Style {
            parties: &parties,
            tz: chrono_tz::Europe::London,
            source: "test",
            baseline_label: "2022",
        };
        let t = CouncilTally {
            declared: 6,
            control: vec![
                (Control::Party(PartyId::new("lab")), 3, -1),
                (Control::Noc, 2, 1),
                (Control::Party(PartyId::new("con")), 1, 0),
                (Control::Party(PartyId::new("ld")), 0, -1),
            ],
            seats: Vec::new(),
        };
        let svg = councils_svg(&t, "Local elections", &style);
        let bars: Vec<&str> = svg.split("<rect").skip(3).collect();
        assert_eq!(bars.len(), 3, "a party controlling nothing has no bar");
        let width = |s: &str| -> f64 {
            s.split("width=\"")
                .nth(1)
                .and_then(|w| w.split('"').next())
                .and_then(|w| w.parse().ok())
                .unwrap_or(0.0)
        };
        assert!(width(bars[0]) > width(bars[1]) && width(bars[1]) > width(bars[2]));
        assert!(bars[1].contains(&theme::OTHERS.to_string()), "{}", bars[1]);
        assert!(svg.contains("Control of the 6 councils declared so far"));
    }
}
