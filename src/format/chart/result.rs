//! The result chart of one constituency: its name, the headline ("Con GAIN from Lab") and
//! majority above; a bar per candidate in the party colour with the share over it, a thin
//! bar for the party's share at the baseline and the change in points; the swing sentence
//! below. Beyond the top six, candidates fold into one "Others" bar.

use super::svg::{Font, Svg, Weight, ink_on, shrink_to_fit};
use super::{HEIGHT, WIDTH, needs_outline, theme};
use crate::core::arithmetic::{Change, Figures, Winner};
use crate::core::parties::Colour;
use crate::format::result::{headline, swing_sentence};
use crate::format::{Style, pct1, signed1, thousands};

/// At most this many bars: with more candidates, those after the top six fold into
/// "Others" (a seventh bar).
pub(crate) const MAX_COLUMNS: usize = 7;

const MARGIN: f64 = 40.0;
/// The top of the tallest bar.
const PLOT_TOP: f64 = 232.0;
/// Where the bars stand.
const AXIS: f64 = 430.0;
/// The widest a column gets, so that two or three candidates do not make slabs.
const MAX_COLUMN_WIDTH: f64 = 190.0;

/// One bar of the chart.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Column {
    /// The party's short name, or "Others".
    pub party: String,
    /// The candidate ("" for "Others").
    pub person: String,
    /// How many candidates "Others" holds (0 for a candidate).
    pub folded: usize,
    pub colour: Colour,
    pub share: f64,
    /// The party's share at the baseline, where it stood then.
    pub before: Option<f64>,
    /// The change in points ("+23.0", "new"), where there is a baseline.
    pub change: Option<String>,
    pub elected: bool,
}

/// The bars for `f`: every candidate in order of votes, or the top six (always including
/// the winner) and "Others".
pub(crate) fn columns(f: &Figures, style: &Style) -> Vec<Column> {
    let winner = match f.winner {
        Winner::Elected(i) => Some(i),
        _ => None,
    };
    let n = f.candidates.len();
    let shown: Vec<usize> = if n <= MAX_COLUMNS {
        (0..n).collect()
    } else {
        let mut keep: Vec<usize> = (0..MAX_COLUMNS - 1).collect();
        if let Some(w) = winner.filter(|w| *w >= MAX_COLUMNS - 1 && *w < n) {
            keep.pop();
            keep.push(w);
        }
        keep
    };
    let mut cols: Vec<Column> = shown
        .iter()
        .filter_map(|&i| f.candidates.get(i).map(|c| (i, c)))
        .map(|(i, c)| Column {
            party: style.short(&c.party).to_string(),
            person: c.name.clone(),
            colour: style.parties.colour(&c.party),
            share: c.share,
            before: match c.change {
                Change::Points(p) => Some((c.share - p).max(0.0)),
                _ => None,
            },
            change: match c.change {
                Change::Points(p) => Some(signed1(p)),
                Change::New => Some("new".to_string()),
                Change::NoBaseline => None,
            },
            elected: winner == Some(i),
            folded: 0,
        })
        .collect();
    let folded: Vec<_> = f
        .candidates
        .iter()
        .enumerate()
        .filter(|(i, _)| !shown.contains(i))
        .map(|(_, c)| c)
        .collect();
    if !folded.is_empty() {
        cols.push(Column {
            party: "Others".to_string(),
            person: String::new(),
            colour: theme::OTHERS,
            share: folded.iter().map(|c| c.share).sum(),
            before: None,
            change: None,
            elected: false,
            folded: folded.len(),
        });
    }
    cols
}

/// The result chart of one constituency as an SVG document ([`WIDTH`]×[`HEIGHT`]).
pub fn result_svg(f: &Figures, style: &Style) -> String {
    let (w, h) = (f64::from(WIDTH), f64::from(HEIGHT));
    let mut svg = Svg::new(WIDTH, HEIGHT, theme::PANEL, theme::BORDER);
    let inner = w - 2.0 * MARGIN;

    // The constituency, shrunk to fit before it is cut.
    let (size, name) = shrink_to_fit(&f.constituency.name, 46.0, 30.0, Weight::Bold, inner);
    svg.text(MARGIN, 64.0, &Font::new(size, theme::TEXT).bold(), &name);

    // The headline in the winner's colour, then majority and turnout.
    let pill_colour = f
        .winning_party()
        .map_or(theme::OTHERS, |p| style.parties.colour(p));
    let pill_font = Font::new(28.0, ink_on(pill_colour)).bold();
    let head = pill_font.fit(&capitalised(&headline(f, style)), inner - 32.0);
    let pill_w = pill_font.width(&head) + 32.0;
    let outline = if needs_outline(pill_colour) {
        format!(r#"rx="8" stroke="{}" stroke-width="2""#, theme::OUTLINE)
    } else {
        r#"rx="8""#.to_string()
    };
    svg.rect_with(MARGIN, 84.0, pill_w, 46.0, pill_colour, &outline);
    svg.text(MARGIN + 16.0, 117.0, &pill_font, &head);
    let mut facts = Vec::new();
    if let (Some(m), Some(mp)) = (f.majority, f.majority_pct) {
        facts.push(format!("Majority {} ({})", thousands(m), pct1(mp)));
    }
    if let Some(t) = f.turnout {
        facts.push(format!("Turnout {}", pct1(t.pct)));
    }
    // Majority and turnout beside the headline, a little smaller if need be; if they still
    // do not fit (a wide headline), on a line of their own under it. Never one dropped.
    let line = facts.join("  \u{00B7}  ");
    let facts_x = MARGIN + pill_w + 24.0;
    let (size, _) = shrink_to_fit(&line, 26.0, 1.0, Weight::Regular, w - MARGIN - facts_x);
    let under = size < 21.0;
    if under {
        let font = Font::new(22.0, theme::TEXT);
        svg.text(MARGIN, 162.0, &font, &font.fit(&line, inner / 2.0));
    } else {
        svg.text(facts_x, 117.0, &Font::new(size, theme::TEXT), &line);
    }

    let cols = columns(f, style);
    draw_bars(&mut svg, &cols, style.since(f), w);

    // The swing, or why none is quoted.
    svg.line(
        MARGIN,
        506.0,
        w - MARGIN,
        506.0,
        theme::FAINT,
        r#"stroke-width="1.5""#,
    );
    let caption = Font::new(24.0, theme::TEXT);
    svg.text(
        MARGIN,
        h - 24.0,
        &caption,
        &caption.fit(&swing_sentence(f, style), inner),
    );
    svg.finish()
}

fn draw_bars(svg: &mut Svg, cols: &[Column], since: &str, w: f64) {
    let inner = w - 2.0 * MARGIN;
    if cols.is_empty() {
        let font = Font::new(30.0, theme::MUTED).middle();
        svg.text(
            w / 2.0,
            (PLOT_TOP + AXIS) / 2.0,
            &font,
            "No candidates declared",
        );
        return;
    }
    let with_before = cols.iter().any(|c| c.before.is_some());
    if with_before {
        legend(svg, since, w);
    }

    let n = cols.len() as f64;
    let cw = (inner / n).min(MAX_COLUMN_WIDTH);
    let x0 = MARGIN + (inner - cw * n) / 2.0;
    let bar_w = (cw * 0.54).min(100.0);
    let thin_w = (bar_w * 0.28).max(8.0);
    let gap = 6.0;
    let top = cols
        .iter()
        .flat_map(|c| [c.share, c.before.unwrap_or(0.0)])
        .filter(|v| v.is_finite())
        .fold(1.0_f64, f64::max);
    let scale = (AXIS - PLOT_TOP) / top;
    let height = |v: f64| {
        if v.is_finite() && v > 0.0 {
            (v * scale).clamp(2.0, AXIS - PLOT_TOP)
        } else {
            0.0
        }
    };

    let room = cw - 16.0;
    let names = Names::choose(cols, room);
    for (i, c) in cols.iter().enumerate() {
        let cx = x0 + cw * (i as f64 + 0.5);
        if c.elected {
            svg.rect_with(
                cx - cw / 2.0 + 4.0,
                PLOT_TOP - 70.0,
                cw - 8.0,
                AXIS - PLOT_TOP + 136.0,
                Colour(0x252831),
                r#"rx="10""#,
            );
        }
        let pair_w = if with_before {
            bar_w + gap + thin_w
        } else {
            bar_w
        };
        let bar_x = cx - pair_w / 2.0;
        let bar_h = height(c.share);
        let outline = needs_outline(c.colour);
        let stroke = if outline {
            format!(r#"stroke="{}" stroke-width="2""#, theme::OUTLINE)
        } else {
            String::new()
        };
        svg.rect_with(bar_x, AXIS - bar_h, bar_w, bar_h, c.colour, &stroke);
        let mut label_top = AXIS - bar_h;
        if let Some(before) = c.before {
            let thin_h = height(before);
            let edge = if outline { theme::OUTLINE } else { c.colour };
            svg.rect_with(
                bar_x + bar_w + gap,
                AXIS - thin_h,
                thin_w,
                thin_h,
                c.colour,
                &format!(r#"fill-opacity="0.45" stroke="{edge}" stroke-width="2""#),
            );
            label_top = label_top.min(AXIS - thin_h);
        }

        let share_font = Font::new(26.0, theme::TEXT).bold().middle();
        svg.text(
            cx,
            label_top - 10.0,
            &share_font,
            &share_font.fit(&pct1(c.share), cw - 6.0),
        );
        if let Some(change) = &c.change {
            let font = Font::new(21.0, theme::MUTED).middle();
            svg.text(cx, label_top - 42.0, &font, &font.fit(change, cw - 6.0));
        }

        let party_font = Font::new(24.0, theme::TEXT).bold().middle();
        svg.text(
            cx,
            AXIS + 32.0,
            &party_font,
            &party_font.fit(&c.party, cw - 10.0),
        );
        let mut person_font = Font::new(
            names.size,
            if c.elected { theme::TEXT } else { theme::MUTED },
        )
        .middle();
        let person = if c.folded > 0 {
            person_font.size = 20.0;
            let long = format!("{} candidates", c.folded);
            if person_font.width(&long) <= room {
                long
            } else {
                person_font.fit(&format!("{} more", c.folded), room)
            }
        } else {
            person_font.fit(&names.shown(&c.person), room)
        };
        svg.text(cx, AXIS + 60.0, &person_font, &person);
    }
    svg.line(
        MARGIN,
        AXIS,
        w - MARGIN,
        AXIS,
        theme::FAINT,
        r#"stroke-width="2""#,
    );
}

/// How the candidates are named under the bars: all in full, or all by surname, never a
/// mix, at the largest size (20 px down to 14) at which every name fits; only past that is
/// a name cut.
struct Names {
    full: bool,
    size: f64,
}

impl Names {
    const SIZES: [f64; 4] = [20.0, 18.0, 16.0, 14.0];

    fn surname(name: &str) -> &str {
        let name = name.trim();
        name.rsplit_once(' ').map_or(name, |(_, s)| s)
    }

    fn choose(cols: &[Column], room: f64) -> Names {
        let people: Vec<&str> = cols
            .iter()
            .filter(|c| c.folded == 0)
            .map(|c| c.person.trim())
            .collect();
        let fits = |full: bool, size: f64| {
            people.iter().all(|p| {
                let shown = if full { p } else { Self::surname(p) };
                super::svg::text_width(shown, size, Weight::Regular) <= room
            })
        };
        for full in [true, false] {
            let sizes: &[f64] = if full {
                &Self::SIZES[..2]
            } else {
                &Self::SIZES
            };
            if let Some(size) = sizes.iter().copied().find(|s| fits(full, *s)) {
                return Names { full, size };
            }
        }
        Names {
            full: false,
            size: Self::SIZES[Self::SIZES.len() - 1],
        }
    }

    fn shown(&self, name: &str) -> String {
        if self.full {
            name.trim().to_string()
        } else {
            Self::surname(name).to_string()
        }
    }
}

/// "tie between …" as a label: "Tie between …".
fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What the two bars mean, top right.
fn legend(svg: &mut Svg, since: &str, w: f64) {
    let font = Font::new(20.0, theme::MUTED);
    let before = format!("share in {since}");
    let now = "share now";
    let right = w - MARGIN;
    let before_w = font.width(&before);
    let now_w = font.width(now);
    let y = 164.0;
    // [thin swatch] share in 2019, to the right of [solid swatch] share now.
    let x_before_text = right - before_w;
    let x_thin = x_before_text - 10.0 - 8.0;
    let x_now_text = x_thin - 28.0 - now_w;
    let x_solid = x_now_text - 10.0 - 20.0;
    svg.rect(x_solid, y - 17.0, 20.0, 20.0, theme::MUTED);
    svg.text(x_now_text, y, &font, now);
    svg.rect_with(
        x_thin,
        y - 17.0,
        8.0,
        20.0,
        theme::MUTED,
        &format!(
            r#"fill-opacity="0.45" stroke="{}" stroke-width="1.5""#,
            theme::MUTED
        ),
    );
    svg.text(x_before_text, y, &font, &before);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::arithmetic::compute;
    use crate::demo;

    fn style(parties: &crate::core::parties::PartyRegistry) -> Style<'_> {
        Style {
            parties,
            tz: chrono_tz::Europe::London,
            source: "test",
            baseline_label: "2019",
        }
    }

    #[test]
    fn hartlepool_folds_ten_candidates_into_others() {
        let parties = demo::parties();
        let (results, baseline) = demo::load(&parties);
        let f = compute(
            &results.declarations[0].result,
            Some(&baseline.declarations[0].result),
            &parties,
        );
        let cols = columns(&f, &style(&parties));
        assert_eq!(cols.len(), MAX_COLUMNS);
        assert_eq!(cols[0].party, "Con");
        assert!(cols[0].elected);
        assert_eq!(cols[0].change.as_deref(), Some("+23.0"));
        let before = cols[0].before.unwrap();
        assert!((before - 28.9).abs() < 0.1, "{before}");
        assert_eq!(cols[1].party, "Lab");
        assert_eq!(cols[2].change.as_deref(), Some("new"));
        let others = cols.last().unwrap();
        assert_eq!(others.party, "Others");
        assert_eq!(others.folded, 10);
        let total: f64 = cols.iter().map(|c| c.share).sum();
        assert!((total - 100.0).abs() < 1e-9);
    }

    #[test]
    fn svg_names_the_seat_and_the_headline() {
        let parties = demo::parties();
        let (results, baseline) = demo::load(&parties);
        let f = compute(
            &results.declarations[0].result,
            Some(&baseline.declarations[0].result),
            &parties,
        );
        let svg = result_svg(&f, &style(&parties));
        assert!(svg.contains(">Hartlepool<"));
        assert!(svg.contains(">Con GAIN from Lab<"));
        assert!(svg.contains("Majority 6,940 (23.2%)"));
        assert!(svg.contains("Swing of 16.0 points from Labour to Conservative since 2019."));
        assert!(svg.contains(">Others<"));
        // Majority and turnout both, however wide the headline.
        assert!(svg.contains("Turnout 42.6%"), "{svg}");
    }

    #[test]
    fn names_are_all_full_or_all_surnames_and_shrink_before_they_are_cut() {
        let col = |person: &str| Column {
            party: "X".into(),
            person: person.into(),
            folded: 0,
            colour: Colour(0),
            share: 10.0,
            before: None,
            change: None,
            elected: false,
        };
        let short = [col("Jill Mortimer"), col("Paul Williams")];
        let n = Names::choose(&short, 400.0);
        assert!(n.full && n.size == 20.0);
        // Too narrow for one full name: every name is a surname then, never a mix.
        let long = [
            col("Jill Mortimer"),
            col("Rachel Featherstone"),
            col("Sam Lee"),
        ];
        let room =
            super::super::svg::text_width("Rachel Featherstone", 18.0, Weight::Regular) - 1.0;
        let n = Names::choose(&long, room);
        assert!(!n.full, "surnames for all");
        assert_eq!(n.shown("Sam Lee"), "Lee");
        // A surname too long at 20 px is shown smaller, whole.
        let room = super::super::svg::text_width("Featherstone", 20.0, Weight::Regular) - 1.0;
        let n = Names::choose(&long, room);
        assert!(!n.full && n.size < 20.0);
        assert!(
            super::super::svg::text_width("Featherstone", n.size, Weight::Regular) <= room,
            "not cut"
        );
    }
}
