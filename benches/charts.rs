//! What a chart costs to draw: the demo's result chart (target: well under 20 ms), and the
//! seats chart for the whole of GE2019 when the shared data is there.
//!
//! `cargo bench --bench charts`

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use herald::core::arithmetic::{Figures, compute};
use herald::core::national::tally;
use herald::demo;
use herald::format::Style;
use herald::format::chart::{result_chart, result_svg, seats_chart, swing_chart};
use herald::sources::{Format, load_files};

fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("HERALD_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    dir.join("README.md").is_file().then_some(dir)
}

fn charts(c: &mut Criterion) {
    let parties = demo::parties();
    let style = Style {
        parties: &parties,
        tz: chrono_tz::Europe::London,
        source: "bench",
        baseline_label: "2019",
    };
    let (results, baseline) = demo::load(&parties);
    let f = compute(
        &results.declarations[0].result,
        Some(&baseline.declarations[0].result),
        &parties,
    );
    // The first call loads the fonts; measure the steady state.
    result_chart(&f, &style).expect("renders");

    c.bench_function("result_chart/demo", |b| {
        b.iter(|| result_chart(black_box(&f), &style).expect("renders"))
    });
    c.bench_function("result_svg/demo", |b| {
        b.iter(|| result_svg(black_box(&f), &style))
    });
    c.bench_function("swing_chart/demo", |b| {
        b.iter(|| swing_chart(black_box(f.swing.quote()), "Hartlepool", &style).expect("renders"))
    });

    let Some(dir) = shared_data() else {
        eprintln!(
            "SKIPPED: seats_chart/ge2019: shared data folder not found (set HERALD_SHARED_DATA)"
        );
        return;
    };
    let now = load_files(
        Format::ParliamentCsv,
        &dir.join("candidate-level-results-general-election-12-12-2019.csv"),
        None,
        None,
        &parties,
    )
    .expect("2019 export loads");
    let before = load_files(
        Format::ParliamentCsv,
        &dir.join("candidate-level-results-general-election-08-06-2017.csv"),
        None,
        None,
        &parties,
    )
    .expect("2017 export loads")
    .into_baseline();
    let figures: Vec<Figures> = now
        .declarations
        .iter()
        .map(|d| compute(&d.result, before.get(d.id()), &parties))
        .collect();
    let t = tally(&figures, 650, &parties);
    let style = Style {
        baseline_label: "2017",
        ..style
    };
    c.bench_function("seats_chart/ge2019", |b| {
        b.iter(|| seats_chart(black_box(&t), "General election 2019", &style).expect("renders"))
    });
}

criterion_group!(benches, charts);
criterion_main!(benches);
