//! The charts: every one renders to a PNG of the stated size for the demo, for all 650
//! GE2019 seats, for crowded and odd results; golden images (compared with a tolerance)
//! catch layout regressions.
//!
//! Every chart a test renders is also written to `$CARGO_TARGET_TMPDIR/charts/` to be looked
//! at. `HERALD_BLESS=1 cargo test --test it charts::` rewrites the golden images in
//! `tests/golden/` from the current code.

use crate::support;

use std::path::PathBuf;

use herald::core::arithmetic::{Figures, SwingQuote, compute};
use herald::core::model::{
    Candidate, Constituency, ConstituencyId, ConstituencyResult, Nation, PartyId,
};
use herald::core::national::{PartyTally, Tally, tally};
use herald::core::parties::PartyRegistry;
use herald::demo;
use herald::format::Style;
use herald::format::chart::{
    self, HEIGHT, WIDTH, result_chart, result_svg, seats_chart, swing_chart,
};

fn style(parties: &PartyRegistry) -> Style<'_> {
    Style {
        parties,
        tz: chrono_tz::Europe::London,
        source: "test",
        baseline_label: "2019",
    }
}

fn demo_figures(parties: &PartyRegistry) -> Figures {
    let (results, baseline) = demo::load(parties);
    compute(
        &results.declarations[0].result,
        Some(&baseline.declarations[0].result),
        parties,
    )
}

/// Decodes a PNG and checks its size; keeps a copy to look at.
fn decode(png: &[u8], name: &str) -> image::RgbImage {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("charts");
    std::fs::create_dir_all(&dir).expect("chart output folder");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("chart written");
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{name}: PNG does not decode: {e}"))
        .to_rgb8();
    assert_eq!(
        (img.width(), img.height()),
        (WIDTH, HEIGHT),
        "{name}: wrong size"
    );
    img
}

// ---- golden images ----

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.png"))
}

/// How far two images are apart: the mean absolute difference per channel (0–255), and the
/// fraction of pixels where some channel differs by more than [`PIXEL_THRESHOLD`].
#[derive(Debug)]
struct Distance {
    mean: f64,
    differing: f64,
}

/// A channel difference below this is antialiasing noise, not a change of layout.
const PIXEL_THRESHOLD: u8 = 40;
/// A golden matches when the mean difference per channel stays below this…
const MAX_MEAN: f64 = 0.25;
/// …and no more than this fraction of pixels differ (0.02%: 112 pixels, far fewer than one
/// label moved or set 2 px larger changes; the same code renders identically, so only a
/// change of renderer version or platform arithmetic should ever use the tolerance).
const MAX_DIFFERING: f64 = 0.0002;

fn distance(a: &image::RgbImage, b: &image::RgbImage) -> Distance {
    assert_eq!(a.dimensions(), b.dimensions(), "images differ in size");
    let mut sum = 0u64;
    let mut differing = 0u64;
    for (pa, pb) in a.pixels().zip(b.pixels()) {
        let mut worst = 0u8;
        for c in 0..3 {
            let d = pa.0[c].abs_diff(pb.0[c]);
            sum += u64::from(d);
            worst = worst.max(d);
        }
        if worst > PIXEL_THRESHOLD {
            differing += 1;
        }
    }
    let pixels = u64::from(a.width()) * u64::from(a.height());
    Distance {
        mean: sum as f64 / (pixels * 3) as f64,
        differing: differing as f64 / pixels as f64,
    }
}

fn matches(d: &Distance) -> bool {
    d.mean < MAX_MEAN && d.differing < MAX_DIFFERING
}

fn load_golden(name: &str) -> image::RgbImage {
    let path = golden_path(name);
    image::open(&path)
        .unwrap_or_else(|e| {
            panic!(
                "golden {} missing or unreadable ({e}); run HERALD_BLESS=1 cargo test --test it charts::",
                path.display()
            )
        })
        .to_rgb8()
}

/// Compares `png` with the golden image `name`, or writes it there under `HERALD_BLESS=1`.
fn check_golden(png: &[u8], name: &str) {
    let actual = decode(png, name);
    let path = golden_path(name);
    if std::env::var("HERALD_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, png).unwrap();
        eprintln!("blessed {}", path.display());
        return;
    }
    let golden = load_golden(name);
    let d = distance(&actual, &golden);
    assert!(
        matches(&d),
        "{name} differs from {} ({d:?}; limits: mean {MAX_MEAN}, differing {MAX_DIFFERING}); \
         the new rendering is in {}/charts/{name}.png. If the change is intended, run \
         HERALD_BLESS=1 cargo test --test it charts::",
        path.display(),
        env!("CARGO_TARGET_TMPDIR")
    );
}

// ---- the demo ----

#[test]
fn demo_result_chart_matches_its_golden_image() {
    let parties = demo::parties();
    let f = demo_figures(&parties);
    let png = result_chart(&f, &style(&parties)).expect("renders");
    check_golden(&png, "result-demo");
}

#[test]
fn demo_result_svg_carries_the_story() {
    let parties = demo::parties();
    let svg = result_svg(&demo_figures(&parties), &style(&parties));
    for text in [
        ">Hartlepool<",
        ">Con GAIN from Lab<",
        "Majority 6,940 (23.2%)",
        "Turnout 42.6%",
        "Swing of 16.0 points from Labour to Conservative since 2019.",
        ">Others<",
        ">10 more<",
        ">51.9%<",
        ">+23.0<",
        ">new<",
    ] {
        assert!(svg.contains(text), "result chart lacks {text}");
    }
}

#[test]
fn demo_seats_and_swing_charts_render() {
    let parties = demo::parties();
    let f = demo_figures(&parties);
    let t = tally([&f], 1, &parties);
    let png = seats_chart(&t, "Hartlepool by-election 2021", &style(&parties)).expect("seats");
    decode(&png, "seats-demo");
    let png = swing_chart(f.swing.quote(), "Hartlepool", &style(&parties)).expect("swing");
    check_golden(&png, "swing-demo");
    let png = swing_chart(None, "General election", &style(&parties)).expect("no swing");
    decode(&png, "swing-none");
}

/// A night part-way through: 420 of 650 declared, eleven parties with seats.
fn partial_tally() -> Tally {
    let row = |party: &str, seats: u32, seat_change: i64, share: f64| PartyTally {
        party: PartyId::new(party),
        seats,
        seat_change,
        gains: seat_change.max(0) as u32,
        losses: (-seat_change).max(0) as u32,
        votes: (share * 1000.0) as u64,
        share,
        share_change: Some(0.0),
    };
    Tally {
        total_seats: 650,
        declared: 420,
        to_declare: 230,
        majority_line: 326,
        parties: vec![
            row("con", 231, 30, 43.0),
            row("lab", 140, -28, 32.0),
            row("snp", 30, 5, 4.0),
            row("ld", 7, -1, 11.0),
            row("dup", 4, -2, 0.8),
            row("sf", 3, 0, 0.6),
            row("pc", 2, 0, 0.5),
            row("sdlp", 1, 1, 0.4),
            row("green", 1, 0, 2.7),
            row("alliance", 1, 1, 0.4),
        ],
        total_votes: 20_000_000,
        majority_party: None,
        leader: Some(PartyId::new("con")),
        swing: Some(SwingQuote {
            from: PartyId::new("lab"),
            to: PartyId::new("con"),
            points: 4.6,
        }),
    }
}

#[test]
fn seats_chart_matches_its_golden_image() {
    let parties = demo::parties();
    let t = partial_tally();
    let png = seats_chart(&t, "General election 2019", &style(&parties)).expect("renders");
    check_golden(&png, "seats-partial");
}

// ---- the golden comparison itself ----

#[test]
fn the_golden_comparison_catches_a_regression_but_not_noise() {
    let parties = demo::parties();
    let f = demo_figures(&parties);
    let result = decode(
        &result_chart(&f, &style(&parties)).unwrap(),
        "golden-check-result",
    );
    let seats = load_golden("seats-partial");
    // A different chart altogether.
    assert!(!matches(&distance(&result, &seats)));
    // The same chart with its content moved 4 pixels to the right (a layout shift).
    let mut shifted = result.clone();
    for y in 0..HEIGHT {
        for x in (4..WIDTH).rev() {
            let p = *result.get_pixel(x - 4, y);
            shifted.put_pixel(x, y, p);
        }
    }
    let d = distance(&result, &shifted);
    assert!(!matches(&d), "a 4-pixel shift went unnoticed: {d:?}");
    // A label drawn a little differently: one bar's share in another place.
    let mut moved = result.clone();
    for y in 190..225 {
        for x in 40..140 {
            let p = *result.get_pixel(x, y + 14);
            moved.put_pixel(x, y, p);
        }
    }
    assert!(
        !matches(&distance(&result, &moved)),
        "a moved label went unnoticed"
    );
    // Noise: every channel off by a little, as antialiasing differences are.
    let mut noisy = result.clone();
    for (i, p) in noisy.pixels_mut().enumerate() {
        if i % 7 == 0 {
            p.0[0] = p.0[0].saturating_add(3);
        }
    }
    let d = distance(&result, &noisy);
    assert!(matches(&d), "noise should pass: {d:?}");
}

// ---- crowded and odd results ----

fn seat(name: &str) -> Constituency {
    Constituency {
        id: ConstituencyId::new("X00000001"),
        name: name.to_string(),
        region: "Wales".into(),
        nation: Nation::Wales,
        election: None,
    }
}

fn result(name: &str, cands: &[(String, &str, u64)]) -> ConstituencyResult {
    ConstituencyResult {
        constituency: seat(name),
        electorate: Some(80_000),
        valid_votes: None,
        rejected: Some(100),
        candidates: cands
            .iter()
            .map(|(n, p, v)| Candidate {
                name: n.clone(),
                party: PartyId::new(*p),
                votes: *v,
                elected: false,
            })
            .collect(),
    }
}

const PARTIES: [&str; 8] = ["con", "lab", "ld", "pc", "green", "reform", "ind", "ukip"];

#[test]
fn a_sixteen_candidate_result_renders_with_others_folded() {
    let parties = demo::parties();
    let cands: Vec<(String, &str, u64)> = (0..16)
        .map(|i| {
            (
                format!("Candidate Number {i}"),
                PARTIES[i % PARTIES.len()],
                20_000 / (i as u64 + 1),
            )
        })
        .collect();
    let before: Vec<(String, &str, u64)> = (0..8)
        .map(|i| (format!("Earlier {i}"), PARTIES[i], 1000 * (8 - i as u64)))
        .collect();
    let f = compute(
        &result("Ynys Môn", &cands),
        Some(&result("Ynys Môn", &before)),
        &parties,
    );
    let svg = result_svg(&f, &style(&parties));
    assert!(svg.contains(">Ynys Môn<"));
    assert!(svg.contains(">10 more<"));
    decode(&result_chart(&f, &style(&parties)).unwrap(), "result-16");
}

#[test]
fn forty_candidates_with_absurd_accented_names_render() {
    let parties = demo::parties();
    let long = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch Ó Sé-Ní Chonaill \
                Żółć Ŵŷŵ Çà Þórðarson-Ægisdóttir the Third of Ynys Môn";
    let cands: Vec<(String, &str, u64)> = (0..40)
        .map(|i| {
            (
                format!("{i} {long}"),
                if i % 3 == 0 {
                    "A Party Nobody Has Heard Of With A Very Long Name Indeed & <Co>"
                } else {
                    PARTIES[i % PARTIES.len()]
                },
                1_000 + (i as u64 * 37) % 400,
            )
        })
        .collect();
    let name = format!("{long} & <Ynys> \"Môn\" 'East'");
    let f = compute(&result(&name, &cands), None, &parties);
    let svg = result_svg(&f, &style(&parties));
    assert!(
        !svg.contains("<Co>") && !svg.contains("<Ynys>"),
        "feed text escaped"
    );
    assert!(svg.contains("\u{2026}"), "long names cut with an ellipsis");
    decode(&result_chart(&f, &style(&parties)).unwrap(), "result-40");
}

#[test]
fn odd_results_render_without_panicking() {
    let parties = demo::parties();
    let s = style(&parties);
    let c = |n: &str, p: &'static str, v: u64| (n.to_string(), p, v);
    let cases: Vec<(&str, Figures)> = vec![
        (
            "one-candidate",
            compute(
                &result("Unopposed", &[c("Solo", "con", 100)]),
                None,
                &parties,
            ),
        ),
        (
            "no-candidates",
            compute(&result("Empty", &[]), None, &parties),
        ),
        (
            "zero-votes",
            compute(
                &result("Nobody voted", &[c("A", "con", 0), c("B", "lab", 0)]),
                Some(&result("Nobody voted", &[c("A", "con", 0)])),
                &parties,
            ),
        ),
        (
            "tie",
            compute(
                &result("Tied", &[c("A", "con", 500), c("B", "lab", 500)]),
                Some(&result("Tied", &[c("A", "lab", 900), c("B", "con", 100)])),
                &parties,
            ),
        ),
        (
            "collapse",
            compute(
                &result("Collapse", &[c("A", "ld", 900), c("B", "con", 100)]),
                Some(&result("Collapse", &[c("A", "con", 990), c("B", "ld", 10)])),
                &parties,
            ),
        ),
        (
            "control-characters",
            compute(
                &result(
                    "Bad\u{0}\u{7}Feed\u{1b}[31m",
                    &[c("Nul\u{0}Name", "con\u{0}", 10)],
                ),
                None,
                &parties,
            ),
        ),
    ];
    for (name, f) in &cases {
        let png = result_chart(f, &s).unwrap_or_else(|e| panic!("{name}: {e}"));
        decode(&png, &format!("result-{name}"));
    }

    // Tallies with nothing declared, odd totals and more seats declared than exist.
    let t0 = tally(std::iter::empty::<&Figures>(), 650, &parties);
    decode(&seats_chart(&t0, "Nothing yet", &s).unwrap(), "seats-empty");
    let none = tally(std::iter::empty::<&Figures>(), 0, &parties);
    decode(&seats_chart(&none, "No seats", &s).unwrap(), "seats-zero");
    let many: Vec<Figures> = cases.iter().map(|(_, f)| f.clone()).collect();
    let over = tally(&many, 2, &parties);
    decode(&seats_chart(&over, "Overfull", &s).unwrap(), "seats-over");
    let huge = tally(&many, 5000, &parties);
    decode(&seats_chart(&huge, "Huge", &s).unwrap(), "seats-huge");

    // Swings of every size and sign, and unknown parties.
    for (i, points) in [0.0, -3.2, 12.5, 27.0, 48.0, 99.0, 250.0, f64::NAN]
        .into_iter()
        .enumerate()
    {
        let q = SwingQuote {
            from: PartyId::new("snp"),
            to: PartyId::new("A Party Nobody Has Heard Of <&>"),
            points,
        };
        decode(
            &swing_chart(Some(&q), "Swing", &s).unwrap(),
            &format!("swing-{i}"),
        );
    }
}

#[test]
fn embedded_fonts_cover_accented_names() {
    assert!(chart::missing_glyphs("Ynys Môn").is_empty());
    assert!(chart::missing_glyphs("Ceredigion Ŵŷ Ó Néill Żółć Þórðarson").is_empty());
}

// ---- GE2019 ----

fn ge2019_figures(parties: &PartyRegistry) -> Option<Vec<Figures>> {
    let dir = support::shared_data()?;
    let (now, before) = support::ge2019(&dir);
    Some(
        now.declarations
            .iter()
            .map(|d| compute(&d.result, before.get(d.id()), parties))
            .collect(),
    )
}

#[test]
fn every_ge2019_seat_renders_a_result_chart() {
    let parties = demo::parties();
    let Some(figures) = ge2019_figures(&parties) else {
        return;
    };
    assert_eq!(figures.len(), 650);
    let s = Style {
        baseline_label: "2017",
        ..style(&parties)
    };
    // Every name the charts will set has a glyph in the embedded fonts.
    for f in &figures {
        let mut text = f.constituency.name.clone();
        for c in &f.candidates {
            text.push_str(&c.name);
            text.push_str(s.short(&c.party));
        }
        let missing = chart::missing_glyphs(&text);
        assert!(missing.is_empty(), "{}: {missing:?}", f.constituency.name);
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let chunk = figures.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for part in figures.chunks(chunk) {
            scope.spawn(move || {
                for f in part {
                    let png = result_chart(f, &s)
                        .unwrap_or_else(|e| panic!("{}: {e}", f.constituency.name));
                    let img = image::load_from_memory(&png)
                        .unwrap_or_else(|e| panic!("{}: {e}", f.constituency.name));
                    assert_eq!((img.width(), img.height()), (WIDTH, HEIGHT));
                }
            });
        }
    });
    let mon = figures
        .iter()
        .find(|f| f.constituency.name == "Ynys Môn")
        .expect("Ynys Môn is in GE2019");
    decode(&result_chart(mon, &s).unwrap(), "result-ynys-mon");
}

#[test]
fn ge2019_seats_and_swing_charts_render() {
    let parties = demo::parties();
    let Some(figures) = ge2019_figures(&parties) else {
        return;
    };
    let s = Style {
        baseline_label: "2017",
        ..style(&parties)
    };
    let t = tally(&figures, 650, &parties);
    assert_eq!(t.declared, 650);
    let png = seats_chart(&t, "General election 2019", &s).unwrap();
    check_golden(&png, "seats-ge2019");
    let png = swing_chart(t.swing.as_ref(), "General election 2019", &s).unwrap();
    decode(&png, "swing-ge2019");
    // Part-way through the night: the first 400 seats in file order.
    let t = tally(&figures[..400], 650, &parties);
    decode(
        &seats_chart(&t, "General election 2019", &s).unwrap(),
        "seats-ge2019-partial",
    );
}
