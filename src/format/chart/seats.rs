//! The seats chart for `/seats`: every seat as a dot on a hemicycle, in its winner's colour
//! from the largest party on the left, undeclared seats hollow on the right, and the majority
//! line through the top of the arc (a party whose dots cross it has a majority); a legend
//! of seats and change beside it.

use std::f64::consts::PI;
use std::fmt::Write as _;

use super::svg::{Font, Svg, Weight, shrink_to_fit};
use super::{HEIGHT, WIDTH, needs_outline, theme};
use crate::core::national::Tally;
use crate::core::parties::Colour;
use crate::format::national::position_sentence;
use crate::format::{Style, signed_int, thousands};

/// Legend rows, including "Others" and "To declare".
const MAX_ROWS: usize = 9;
/// Above this many seats the hemicycle is drawn as solid sectors rather than dots.
const MAX_DOTS: u64 = 1200;

const MARGIN: f64 = 40.0;
pub(super) const OUTER: f64 = 300.0;
pub(super) const INNER: f64 = 111.0;
pub(super) const CX: f64 = MARGIN + OUTER;
pub(super) const CY: f64 = 512.0;
const LEGEND_X: f64 = 680.0;

/// Seat positions on a hemicycle centred on (`cx`, `cy`) between radii `inner` and
/// `outer`, ordered left to right (by angle), and the dot radius that fills the rows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Hemicycle {
    pub seats: Vec<(f64, f64)>,
    /// The angle of each seat (π on the left, 0 on the right).
    pub angles: Vec<f64>,
    pub dot: f64,
}

impl Hemicycle {
    /// The angle of a radial line with the first `k - 1` seats to its left and seat `k`
    /// (counting from 1) to its right: a party holding `k` seats from the left crosses it.
    pub(crate) fn line_before(&self, k: usize) -> f64 {
        let n = self.angles.len();
        match (k, n) {
            (_, 0) => PI / 2.0,
            (0 | 1, _) => (PI + self.angles[0]) / 2.0,
            (k, n) if k > n => self.angles[n - 1] / 2.0,
            (k, _) => (self.angles[k - 2] + self.angles[k - 1]) / 2.0,
        }
    }
}

pub(crate) fn hemicycle(n: usize, cx: f64, cy: f64, outer: f64, inner: f64) -> Hemicycle {
    if n == 0 || outer <= inner {
        return Hemicycle {
            seats: Vec::new(),
            angles: Vec::new(),
            dot: 0.0,
        };
    }
    // The fewest rows whose capacity, at equal spacing along and across rows, holds n.
    let mut rows = 1usize;
    let (d, radii, caps) = loop {
        let d = (outer - inner) / rows as f64;
        let radii: Vec<f64> = (0..rows).map(|i| inner + d * (i as f64 + 0.5)).collect();
        let caps: Vec<usize> = radii
            .iter()
            .map(|r| (PI * r / d).floor() as usize + 1)
            .collect();
        if caps.iter().sum::<usize>() >= n || rows >= 200 {
            break (d, radii, caps);
        }
        rows += 1;
    };
    // Share the seats among rows in proportion to their capacity (largest remainder).
    let cap_total: usize = caps.iter().sum();
    let exact: Vec<f64> = caps
        .iter()
        .map(|c| n as f64 * *c as f64 / cap_total as f64)
        .collect();
    let mut counts: Vec<usize> = exact
        .iter()
        .zip(&caps)
        .map(|(e, c)| (e.floor() as usize).min(*c))
        .collect();
    let mut order: Vec<usize> = (0..rows).collect();
    order.sort_by(|a, b| {
        let fa = exact[*a] - exact[*a].floor();
        let fb = exact[*b] - exact[*b].floor();
        fb.total_cmp(&fa).then(b.cmp(a))
    });
    let mut left = n.saturating_sub(counts.iter().sum());
    while left > 0 {
        let before = left;
        for &i in &order {
            if left == 0 {
                break;
            }
            if counts[i] < caps[i] {
                counts[i] += 1;
                left -= 1;
            }
        }
        if left == before {
            break; // every row full (only past the row limit)
        }
    }
    let mut seats: Vec<(f64, f64)> = Vec::with_capacity(n);
    for (r, m) in radii.iter().zip(&counts) {
        for j in 0..*m {
            let angle = if *m == 1 {
                PI / 2.0
            } else {
                PI - PI * j as f64 / (*m - 1) as f64
            };
            seats.push((angle, *r));
        }
    }
    // Left to right; at equal angle, inner rows first.
    seats.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.total_cmp(&b.1)));
    Hemicycle {
        angles: seats.iter().map(|(a, _)| *a).collect(),
        seats: seats
            .iter()
            .map(|(a, r)| (cx + r * a.cos(), cy - r * a.sin()))
            .collect(),
        dot: (d * 0.42).min(outer / 11.0),
    }
}

/// One legend row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub label: String,
    pub colour: Colour,
    pub seats: u64,
    pub change: Option<i64>,
}

/// Whether two party colours are hard to tell apart side by side (the "redmean"
/// approximation of perceived distance between sRGB colours).
fn look_alike(a: Colour, b: Colour) -> bool {
    let ((r1, g1, b1), (r2, g2, b2)) = (a.rgb(), b.rgb());
    let mean = (f64::from(r1) + f64::from(r2)) / 2.0;
    let (dr, dg, db) = (
        f64::from(r1) - f64::from(r2),
        f64::from(g1) - f64::from(g2),
        f64::from(b1) - f64::from(b2),
    );
    let d =
        ((2.0 + mean / 256.0) * dr * dr + 4.0 * dg * dg + (2.0 + (255.0 - mean) / 256.0) * db * db)
            .sqrt();
    d < 160.0
}

/// Orders the entries so that no two look-alike colours sit side by side (Sinn Féin, Plaid
/// Cymru and the SDLP are all green; the SNP's yellow and the Liberal Democrats' amber are
/// close): of the orders that keep them apart, the one that moves parties least from
/// largest-first. The two largest keep their places (and the majority line its meaning);
/// where no order keeps every look-alike apart, largest-first stands.
fn apart(list: Vec<Entry>) -> Vec<Entry> {
    const FIXED: usize = 2;
    if list.len() <= FIXED + 1 {
        return list;
    }
    let rest: Vec<usize> = (FIXED..list.len()).collect();
    let mut best: Option<(usize, Vec<usize>)> = None;
    let mut order: Vec<usize> = (0..FIXED).collect();
    let mut used = vec![false; list.len()];
    fn search(
        list: &[Entry],
        rest: &[usize],
        order: &mut Vec<usize>,
        used: &mut [bool],
        moved: usize,
        best: &mut Option<(usize, Vec<usize>)>,
    ) {
        if best.as_ref().is_some_and(|(b, _)| moved >= *b) {
            return;
        }
        if order.len() == list.len() {
            *best = Some((moved, order.clone()));
            return;
        }
        let at = order.len();
        for &i in rest {
            let clash = order
                .last()
                .is_some_and(|&prev| look_alike(list[prev].colour, list[i].colour));
            if used[i] || clash {
                continue;
            }
            used[i] = true;
            order.push(i);
            search(list, rest, order, used, moved + at.abs_diff(i), best);
            order.pop();
            used[i] = false;
        }
    }
    search(&list, &rest, &mut order, &mut used, 0, &mut best);
    match best {
        Some((_, order)) => {
            let mut slots: Vec<Option<Entry>> = list.into_iter().map(Some).collect();
            order.into_iter().filter_map(|i| slots[i].take()).collect()
        }
        None => list,
    }
}

/// The parties with seats, largest first (look-alike colours kept apart), folded into
/// "Others" beyond what the legend holds.
pub(crate) fn entries(t: &Tally, style: &Style) -> Vec<Entry> {
    let with_seats: Vec<_> = t.parties.iter().filter(|p| p.seats > 0).collect();
    let rows = MAX_ROWS - usize::from(t.to_declare > 0);
    let fold = with_seats.len() > rows;
    let shown = if fold { rows - 1 } else { with_seats.len() };
    let out: Vec<Entry> = with_seats[..shown]
        .iter()
        .map(|p| Entry {
            label: style.short(&p.party).to_string(),
            colour: style.parties.colour(&p.party),
            seats: u64::from(p.seats),
            change: Some(p.seat_change),
        })
        .collect();
    let mut out = apart(out);
    if fold {
        let rest = &with_seats[shown..];
        out.push(Entry {
            label: "Others".to_string(),
            colour: theme::OTHERS,
            seats: rest.iter().map(|p| u64::from(p.seats)).sum(),
            change: Some(rest.iter().map(|p| p.seat_change).sum()),
        });
    }
    // Changes mean something only against a baseline.
    let compared = t
        .parties
        .iter()
        .any(|p| p.share_change.is_some() || p.seat_change != 0);
    if !compared {
        for e in &mut out {
            e.change = None;
        }
    }
    out
}

/// The seats chart as an SVG document ([`WIDTH`]×[`HEIGHT`]).
pub fn seats_svg(t: &Tally, title: &str, style: &Style) -> String {
    let w = f64::from(WIDTH);
    let inner_w = w - 2.0 * MARGIN;
    let mut svg = Svg::new(WIDTH, HEIGHT, theme::PANEL, theme::BORDER);

    let (size, title) = shrink_to_fit(title, 42.0, 28.0, Weight::Bold, inner_w);
    svg.text(MARGIN, 62.0, &Font::new(size, theme::TEXT).bold(), &title);
    let (size, sub) = shrink_to_fit(
        &position_sentence(t, style),
        24.0,
        19.0,
        Weight::Regular,
        inner_w,
    );
    svg.text(MARGIN, 104.0, &Font::new(size, theme::TEXT), &sub);

    let entries = entries(t, style);
    let won: u64 = entries.iter().map(|e| e.seats).sum();
    let seats = u64::from(t.total_seats).max(won);
    let undeclared = seats - won;

    let majority = t.majority_line as usize;
    let line_angle = if seats == 0 {
        None
    } else if seats <= MAX_DOTS {
        let h = hemicycle(seats as usize, CX, CY, OUTER, INNER);
        dots(&mut svg, &entries, &h);
        Some(h.line_before(majority))
    } else {
        sectors(&mut svg, &entries, seats);
        Some(PI - PI * (majority as f64 - 0.5).max(0.0) / seats as f64)
    };

    match line_angle {
        // One or two seats (a by-election) need no majority line.
        Some(_) if seats < 3 => {}
        None => {
            let font = Font::new(28.0, theme::MUTED).middle();
            svg.text(CX, CY - 120.0, &font, "No seats to show");
        }
        Some(a) => majority_line(&mut svg, a, t.majority_line),
    }
    // How far the count has got, in the hollow of the arc.
    let big = Font::new(44.0, theme::TEXT).bold().middle();
    svg.text(
        CX,
        CY - 42.0,
        &big,
        &big.fit(&thousands(u64::from(t.declared)), 2.0 * INNER - 30.0),
    );
    let small = Font::new(20.0, theme::MUTED).middle();
    svg.text(
        CX,
        CY - 12.0,
        &small,
        &small.fit(
            &format!("of {} declared", thousands(u64::from(t.total_seats))),
            2.0 * INNER - 20.0,
        ),
    );

    legend(&mut svg, &entries, undeclared, w);
    svg.finish()
}

/// The majority line across the arc at angle `a`, labelled: a party whose seats cross it
/// has a majority.
pub(super) fn majority_line(svg: &mut Svg, a: f64, line: u32) {
    let (cos, sin) = (a.cos(), a.sin());
    let (r0, r1) = (INNER - 12.0, OUTER + 14.0);
    svg.line(
        CX + r0 * cos,
        CY - r0 * sin,
        CX + r1 * cos,
        CY - r1 * sin,
        theme::TEXT,
        r#"stroke-width="3" stroke-dasharray="8 6""#,
    );
    svg.text(
        CX + (OUTER + 22.0) * cos,
        CY - (OUTER + 22.0) * sin,
        &Font::new(20.0, theme::TEXT).middle(),
        &format!("{} for a majority", thousands(u64::from(line))),
    );
}

pub(super) fn fill_attrs(colour: Colour) -> String {
    if needs_outline(colour) {
        format!(
            r#"fill="{colour}" stroke="{}" stroke-width="1.5""#,
            theme::OUTLINE
        )
    } else {
        format!(r#"fill="{colour}""#)
    }
}

fn dots(svg: &mut Svg, entries: &[Entry], h: &Hemicycle) {
    let mut colours = entries
        .iter()
        .flat_map(|e| std::iter::repeat_n(e.colour, e.seats as usize));
    let hollow = format!(
        r#"fill="none" stroke="{}" stroke-width="{:.1}""#,
        theme::FAINT,
        (h.dot * 0.3).clamp(1.0, 3.0)
    );
    for (x, y) in &h.seats {
        match colours.next() {
            Some(c) => svg.circle(*x, *y, h.dot, &fill_attrs(c)),
            None => svg.circle(*x, *y, h.dot * 0.85, &hollow),
        }
    }
}

/// An annular sector between angles `a0` > `a1` (radians, π on the left).
fn sector(cx: f64, cy: f64, r0: f64, r1: f64, a0: f64, a1: f64) -> String {
    let p = |r: f64, a: f64| (cx + r * a.cos(), cy - r * a.sin());
    let (x0, y0) = p(r1, a0);
    let (x1, y1) = p(r1, a1);
    let (x2, y2) = p(r0, a1);
    let (x3, y3) = p(r0, a0);
    let mut d = String::new();
    let _ = write!(
        d,
        "M{x0:.1},{y0:.1} A{r1:.1},{r1:.1} 0 0 1 {x1:.1},{y1:.1} L{x2:.1},{y2:.1} A{r0:.1},{r0:.1} 0 0 0 {x3:.1},{y3:.1} Z"
    );
    d
}

fn sectors(svg: &mut Svg, entries: &[Entry], seats: u64) {
    let mut at = PI;
    let per_seat = PI / seats as f64;
    for e in entries {
        let to = at - per_seat * e.seats as f64;
        svg.path(
            &sector(CX, CY, INNER + 8.0, OUTER, at, to),
            &fill_attrs(e.colour),
        );
        at = to;
    }
    if at > 1e-9 {
        svg.path(
            &sector(CX, CY, INNER + 8.0, OUTER, at, 0.0),
            &format!(r#"fill="none" stroke="{}" stroke-width="3""#, theme::FAINT),
        );
    }
}

fn legend(svg: &mut Svg, entries: &[Entry], undeclared: u64, w: f64) {
    let right = w - MARGIN;
    let change_w = 62.0;
    let seats_right = right - change_w;
    let name_x = LEGEND_X + 34.0;
    let row_h = 38.0;
    let rows = entries.len() + usize::from(undeclared > 0);
    let mut y = 190.0 + ((MAX_ROWS - rows.min(MAX_ROWS)) as f64 * row_h / 2.0).min(80.0);
    let name_font = Font::new(24.0, theme::TEXT).bold();
    let seats_font = Font::new(24.0, theme::TEXT).bold().end();
    let change_font = Font::new(20.0, theme::MUTED).end();

    // Column heads.
    let head = Font::new(20.0, theme::MUTED).end();
    svg.text(seats_right, y - 34.0, &head, "Seats");
    if entries.iter().any(|e| e.change.is_some()) {
        svg.text(right, y - 34.0, &head, "+/\u{2212}");
    }
    for e in entries {
        svg.rect_with(
            LEGEND_X,
            y - 20.0,
            22.0,
            22.0,
            e.colour,
            &if needs_outline(e.colour) {
                format!(r#"rx="4" stroke="{}" stroke-width="1.5""#, theme::OUTLINE)
            } else {
                r#"rx="4""#.to_string()
            },
        );
        let seats = thousands(e.seats);
        let avail = seats_right - seats_font.width(&seats) - 10.0 - name_x;
        svg.text(name_x, y, &name_font, &name_font.fit(&e.label, avail));
        svg.text(seats_right, y, &seats_font, &seats);
        if let Some(c) = e.change {
            svg.text(right, y, &change_font, &signed_int(c));
        }
        y += row_h;
    }
    if undeclared > 0 {
        svg.circle(
            LEGEND_X + 11.0,
            y - 9.0,
            9.0,
            &format!(
                r#"fill="none" stroke="{}" stroke-width="2.5""#,
                theme::FAINT
            ),
        );
        let seats = thousands(undeclared);
        let font = Font::new(22.0, theme::MUTED);
        let label = "To declare";
        // This row has no change: its number may run into that column if it must.
        let number_right =
            if name_x + font.width(label) + 10.0 + seats_font.width(&seats) <= seats_right {
                seats_right
            } else {
                right
            };
        let avail = number_right - seats_font.width(&seats) - 10.0 - name_x;
        svg.text(name_x, y, &font, &font.fit(label, avail));
        svg.text(
            number_right,
            y,
            &Font::new(24.0, theme::MUTED).bold().end(),
            &seats,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hemicycle_places_every_seat_left_to_right() {
        for n in [1, 2, 3, 5, 7, 50, 100, 650, 1200] {
            let h = hemicycle(n, 0.0, 0.0, 300.0, 111.0);
            assert_eq!(h.seats.len(), n, "{n}");
            assert!(h.dot > 0.0);
            // Angles run from π (left) to 0 (right).
            let angles: Vec<f64> = h.seats.iter().map(|(x, y)| (-y).atan2(*x)).collect();
            assert!(
                angles.windows(2).all(|w| w[0] >= w[1] - 1e-9),
                "{n}: seats out of order"
            );
            // No two dots overlap.
            if n <= 650 {
                for (i, a) in h.seats.iter().enumerate() {
                    for b in &h.seats[i + 1..] {
                        let dist = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
                        assert!(dist >= 2.0 * h.dot - 1e-6, "{n}: overlap");
                    }
                }
            }
        }
        assert!(hemicycle(0, 0.0, 0.0, 300.0, 111.0).seats.is_empty());
        // One seat sits at the top of the arc.
        let one = hemicycle(1, 0.0, 0.0, 300.0, 111.0);
        assert!(one.seats[0].0.abs() < 1e-9 && one.seats[0].1 < 0.0);
    }

    #[test]
    fn look_alike_colours_are_kept_apart() {
        let e = |label: &str, colour: u32, seats: u64| Entry {
            label: label.into(),
            colour: Colour(colour),
            seats,
            change: None,
        };
        // GE2019's order by size: the three Northern Irish and Welsh greens in a row.
        let list = vec![
            e("Con", 0x0087DC, 365),
            e("Lab", 0xE4003B, 202),
            e("SNP", 0xFDF38E, 48),
            e("LD", 0xFAA61A, 11),
            e("DUP", 0xD46A4C, 8),
            e("SF", 0x3A9E6F, 7),
            e("PC", 0x3F8428, 4),
            e("SDLP", 0x2AA82C, 2),
        ];
        assert!(look_alike(list[5].colour, list[6].colour));
        let out = apart(list.clone());
        assert_eq!(out.len(), list.len());
        assert_eq!(
            (out[0].label.as_str(), out[1].label.as_str()),
            ("Con", "Lab")
        );
        for pair in out.windows(2) {
            assert!(
                !look_alike(pair[0].colour, pair[1].colour),
                "{} beside {}",
                pair[0].label,
                pair[1].label
            );
        }
    }

    #[test]
    fn a_majority_crosses_the_majority_line() {
        for n in [1, 2, 5, 17, 650, 1200] {
            let h = hemicycle(n, 0.0, 0.0, 300.0, 111.0);
            let k = n / 2 + 1;
            let a = h.line_before(k);
            // The first k − 1 seats lie left of the line, the k-th right of it.
            assert!(h.angles[..k - 1].iter().all(|x| *x >= a), "{n}");
            assert!(h.angles[k - 1] <= a, "{n}");
        }
        // With 650 seats the line stands near the top of the arc.
        let a = hemicycle(650, 0.0, 0.0, 300.0, 111.0).line_before(326);
        assert!((a - PI / 2.0).abs() < 0.05, "{a}");
    }
}
