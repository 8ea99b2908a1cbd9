//! The projection chart for `/projection`: the seats hemicycle with each party's declared
//! seats solid and its projected seats pale beside them, seats not projected hollow, the
//! majority line, and a legend of projected seats with the declared in brackets. Labelled
//! a projection on the picture itself.

use super::seats::{CX, CY, INNER, OUTER, fill_attrs, hemicycle, majority_line};
use super::svg::{Font, Svg, Weight, shrink_to_fit};
use super::{HEIGHT, WIDTH, theme};
use crate::core::projection::Projection;
use crate::format::{Style, thousands};

const MARGIN: f64 = 40.0;
const LEGEND_X: f64 = 680.0;
/// Parties in the legend (the rest are still drawn).
const ROWS: usize = 8;
/// How pale a projected seat is beside a declared one.
const PALE: &str = r#"fill-opacity="0.35""#;

/// The projection chart as an SVG document ([`WIDTH`]×[`HEIGHT`]).
pub fn projection_svg(pr: &Projection, title: &str, style: &Style) -> String {
    let w = f64::from(WIDTH);
    let mut svg = Svg::new(WIDTH, HEIGHT, theme::PANEL, theme::BORDER);
    let (size, title) = shrink_to_fit(title, 42.0, 28.0, Weight::Bold, w - 2.0 * MARGIN);
    svg.text(MARGIN, 62.0, &Font::new(size, theme::TEXT).bold(), &title);
    svg.text(
        MARGIN,
        104.0,
        &Font::new(22.0, theme::MUTED),
        "A projection, not a result: solid declared, pale projected",
    );

    let parties: Vec<_> = pr.parties.iter().filter(|p| p.projected > 0).collect();
    let total = pr
        .total_seats
        .max(parties.iter().map(|p| p.projected).sum());
    let h = hemicycle(total as usize, CX, CY, OUTER, INNER);
    let mut seat = h.seats.iter();
    for p in &parties {
        let colour = style.parties.colour(&p.party);
        let solid = fill_attrs(colour);
        let pale = format!("{solid} {PALE}");
        for i in 0..p.projected {
            if let Some((x, y)) = seat.next() {
                let attrs = if i < p.declared { &solid } else { &pale };
                svg.circle(*x, *y, h.dot, attrs);
            }
        }
    }
    let hollow = format!(
        r#"fill="none" stroke="{}" stroke-width="{:.1}""#,
        theme::FAINT,
        (h.dot * 0.3).clamp(1.0, 3.0)
    );
    for (x, y) in seat {
        svg.circle(*x, *y, h.dot * 0.85, &hollow);
    }
    if total >= 3 {
        majority_line(
            &mut svg,
            h.line_before(pr.majority_line as usize),
            pr.majority_line,
        );
    }

    // The legend: projected seats, the declared in brackets.
    let right = w - MARGIN;
    let head = Font::new(20.0, theme::MUTED).end();
    let mut y = 190.0;
    svg.text(right, y - 34.0, &head, "Projected (declared)");
    let name = Font::new(24.0, theme::TEXT).bold();
    let number = Font::new(24.0, theme::TEXT).bold().end();
    for p in parties.iter().take(ROWS) {
        let colour = style.parties.colour(&p.party);
        svg.rect_with(LEGEND_X, y - 20.0, 22.0, 22.0, colour, r#"rx="4""#);
        let figures = format!(
            "{} ({})",
            thousands(u64::from(p.projected)),
            thousands(u64::from(p.declared))
        );
        let avail = right - number.width(&figures) - 10.0 - (LEGEND_X + 34.0);
        svg.text(
            LEGEND_X + 34.0,
            y,
            &name,
            &name.fit(style.short(&p.party), avail),
        );
        svg.text(right, y, &number, &figures);
        y += 38.0;
    }
    if pr.unprojected > 0 {
        svg.text(
            LEGEND_X,
            y,
            &Font::new(20.0, theme::MUTED),
            &format!("{} not projected", thousands(u64::from(pr.unprojected))),
        );
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Nation, PartyId};
    use crate::core::projection::ProjectedParty;

    #[test]
    fn declared_seats_are_solid_and_projected_seats_pale() {
        let parties = crate::demo::parties();
        let style = Style {
            parties: &parties,
            tz: chrono_tz::Europe::London,
            source: "test",
            baseline_label: "2019",
        };
        let pr = Projection {
            parties: vec![
                ProjectedParty {
                    party: PartyId::new("con"),
                    declared: 4,
                    projected: 7,
                },
                ProjectedParty {
                    party: PartyId::new("lab"),
                    declared: 2,
                    projected: 3,
                },
            ],
            total_seats: 11,
            majority_line: 6,
            rests_on: vec![(Nation::England, 6)],
            projected_seats: 4,
            unprojected: 1,
        };
        let svg = projection_svg(&pr, "Projection", &style);
        let circles: Vec<&str> = svg.split("<circle").skip(1).collect();
        assert_eq!(circles.len(), 11, "one dot a seat");
        let pale = circles.iter().filter(|c| c.contains(PALE)).count();
        let hollow = circles
            .iter()
            .filter(|c| c.contains(r#"fill="none""#))
            .count();
        assert_eq!((pale, hollow), (3 + 1, 1));
        assert!(svg.contains("A projection, not a result"));
        assert!(svg.contains("7 (4)") && svg.contains("3 (2)"), "{svg}");
    }
}
