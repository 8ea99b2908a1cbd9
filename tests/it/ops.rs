//! The checks a newsroom runs before polling day, through the real binary: `config check`,
//! `feed check`, `discord invite-url`, and `run` without a token.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};

fn herald(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_herald"));
    c.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    // A clean environment for herald's own variables.
    for (k, _) in std::env::vars() {
        if k.starts_with("HERALD_") || k == "DISCORD_TOKEN" {
            c.env_remove(k);
        }
    }
    c.envs(env.iter().copied());
    c.output().expect("herald runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A token of the shape Discord issues (a made-up one).
const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhJkLm.abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJK";

#[test]
fn the_example_config_passes() {
    let o = herald(
        &["config", "check", "--config", "config/herald.toml"],
        &[("DISCORD_TOKEN", TOKEN)],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.starts_with("config/herald.toml: OK"), "{out}");
    assert!(
        !out.contains(TOKEN) && !err.contains(TOKEN),
        "the token is never printed"
    );
    let o = herald(
        &[
            "config",
            "check",
            "--config",
            "config/herald.toml",
            "--no-discord",
        ],
        &[],
    );
    assert!(o.status.success());
}

#[test]
fn broken_configs_fail_with_the_expected_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[source]\nlocaton = \"feed.json\"\n",
            "c0.toml:2: source.locaton: unknown key",
        ),
        (
            "[source]\nlocation = \"http//example\"\n",
            "source.location: http//example: no such file or folder",
        ),
        (
            "[source]\nlocation = \"https://\"\n",
            "source.location: `https://` is not a URL",
        ),
        (
            "[source]\nlocation = \"config/demo/hartlepool-2021.json\"\n[election]\nbaseline = \"missing.csv\"\n",
            "election.baseline: missing.csv: cannot read",
        ),
        (
            "[source]\nlocation = \"config/demo/hartlepool-2021.json\"\n[discord]\napi_base = \"localhost:80\"\n",
            "discord.api_base",
        ),
        (
            "[source]\nlocation = \"config/demo/hartlepool-2021.json\"\n[display]\ntimezone = \"Europe/Londres\"\n",
            "display.timezone: unknown timezone `Europe/Londres`",
        ),
        (
            "[source]\nlocation = \"config/demo/hartlepool-2021.json\"\ninterval = \"often\"\n",
            "source.interval: `often` is not a duration",
        ),
        (
            "[source]\nlocation = \"config/demo/hartlepool-2021.json\"\n",
            "discord: no token: set DISCORD_TOKEN",
        ),
        (
            "[source]\nlocation = \"config/demo/hartlepool-2021.json\"\n[discord]\ntoken_file = \"/nonexistent/token\"\n",
            "discord.token_file: /nonexistent/token: cannot read",
        ),
        ("[store\npath = 1\n", "invalid table header"),
        ("", "source.location: not set"),
        (
            "[source]\nlocation = \"config/demo/hartlepool-2021.json\"\n[election]\nbaseline = \"config/demo/baseline-ge2019.json\"\nbaseline_format = \"parliament-csv\"\n",
            "election.baseline: config/demo/baseline-ge2019.json",
        ),
        (
            "[source]\nlocation = \"config/demo/hartlepool-2021.json\"\nformat = \"parliament-csv\"\n",
            "source.location: one poll failed",
        ),
        (
            "[source]\nlocation = \"config/demo/hartlepool-2021.json\"\n[discord]\ndigest_after = 0\n",
            ":4: discord.digest_after: `0`: must be",
        ),
    ];
    for (i, (config, expected)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&path, config).unwrap();
        let o = herald(
            &["config", "check", "--config", path.to_str().unwrap()],
            &[],
        );
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{config}");
        assert!(
            err.contains(expected),
            "for {config:?} expected `{expected}`, got: {err}"
        );
    }
    let o = herald(&["config", "check", "--config", "/nonexistent.toml"], &[]);
    assert!(text(&o).1.contains("/nonexistent.toml: cannot read"));
}

#[test]
fn feed_check_summarises_the_ge2019_export() {
    let Some(dir) = support::shared_data() else {
        return;
    };
    let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let o = herald(
        &[
            "feed",
            "check",
            "--format",
            "parliament-csv",
            "--source",
            &p("candidate-level-results-general-election-12-12-2019.csv"),
            "--baseline",
            &p("candidate-level-results-general-election-08-06-2017.csv"),
        ],
        &[],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("election: General election 12 December 2019 (`ge-2019-12-12`), 650 seats"),
        "{out}"
    );
    assert!(out.contains("declarations: 650 (650 declared, 0 called, 0 recount, 0 withdrawn)"));
    assert!(out.contains("  23:27 Newcastle Upon Tyne Central: Lab HOLD (majority 12,278)"));
    assert!(out.contains("Chorley: Speaker GAIN from Lab"));
    assert!(out.contains("seats: Con 365, Lab 202, SNP 48, LD 11, DUP 8, SF 7, PC 4, SDLP 2, Green 1, Alliance 1, Speaker 1"));
    assert!(out.trim_end().ends_with("problems: none"));
}

#[test]
fn feed_check_reports_problems_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    // A valid feed with an unknown party and a seat the baseline does not have.
    let mut doc: serde_json::Value = serde_json::from_str(herald::demo::RESULTS_JSON).unwrap();
    doc["declarations"][0]["candidates"][3]["party"] = "Heritage Party of Hartlepool".into();
    let mut other = doc["declarations"][0].clone();
    other["constituency"]["id"] = "E14999999".into();
    other["constituency"]["name"] = "Nowhere".into();
    doc["declarations"].as_array_mut().unwrap().push(other);
    doc["election"]["total_seats"] = 2.into();
    let feed = dir.path().join("feed.json");
    std::fs::write(&feed, doc.to_string()).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let baseline = root.join("config/demo/baseline-ge2019.json");
    let o = herald(
        &[
            "feed",
            "check",
            "--source",
            feed.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
        ],
        &[],
    );
    let (out, err) = text(&o);
    // Problems found: the report, and exit code 2 (a refused feed is 1).
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("3 problem(s) found"), "{err}");
    assert!(
        out.contains("Hartlepool: Con GAIN from Lab (majority 6,940)"),
        "{out}"
    );
    assert!(out.contains("problems: 3"), "{out}");
    // The same as JSON.
    let o = herald(
        &[
            "feed",
            "check",
            "--json",
            "--source",
            feed.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&text(&o).0).expect("JSON");
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["declarations"]["declared"], 2);
    assert_eq!(v["would_announce"][0]["headline"], "Con GAIN from Lab");
    assert_eq!(v["would_announce"][0]["majority"], 6940);
    assert!(
        out.contains(
            "unknown party `Heritage Party of Hartlepool` for Claire Martin in Hartlepool"
        )
    );
    assert!(out.contains("no baseline for E14999999 Nowhere"));

    // Refused feeds: votes above the electorate, and malformed JSON.
    doc["declarations"][0]["electorate"] = 100.into();
    std::fs::write(&feed, doc.to_string()).unwrap();
    let o = herald(&["feed", "check", "--source", feed.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).1.contains("votes cast but the electorate is 100"),
        "{}",
        text(&o).1
    );
    std::fs::write(&feed, "{\"format\": \"herald/1\", \"election\": ").unwrap();
    let o = herald(&["feed", "check", "--source", feed.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("refused (malformed)"), "{}", text(&o).1);
}

#[test]
fn invite_url_has_exactly_the_scopes_and_permissions_herald_needs() {
    let o = herald(
        &[
            "discord",
            "invite-url",
            "--application-id",
            "123456789012345678",
        ],
        &[],
    );
    let (out, _) = text(&o);
    assert_eq!(
        out.trim(),
        "https://discord.com/oauth2/authorize?client_id=123456789012345678&scope=bot%20applications.commands&permissions=117760"
    );
    // 117760 = View Channel + Send Messages + Embed Links + Attach Files + Read Message History.
    assert_eq!(117760u64, 1024 + 2048 + 16384 + 32768 + 65536);
    let o = herald(
        &["discord", "invite-url", "--config", "config/herald.toml"],
        &[],
    );
    assert!(text(&o).1.contains("no application id"));
}

#[test]
fn run_without_a_token_says_so_in_one_line() {
    let o = herald(&["run", "--config", "config/herald.toml"], &[]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("no Discord token")
            && lines[0].contains("herald demo")
            && lines[0].contains("herald watch")
    );
}

#[test]
fn the_docker_build_uses_the_readme_build_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docker = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let command = "cargo build --release --locked";
    assert!(
        docker.matches(command).count() >= 1,
        "the Dockerfile builds with `{command}`"
    );
    assert!(readme.contains(command), "the README gives `{command}`");
    assert!(docker.contains("HEALTHCHECK") && docker.contains("/healthz"));
    assert!(docker.contains("VOLUME [\"/data\"]"));
    assert!(
        !docker.contains("DISCORD_TOKEN="),
        "no token is baked into the image"
    );
}

/// docs/configuration.md lists exactly the keys herald reads, each with its own variable
/// and herald's own default: nothing documented that does not exist, nothing unlisted.
#[test]
fn the_configuration_reference_matches_the_keys_herald_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let mut documented = Vec::new();
    let mut section = String::new();
    for line in docs.lines() {
        if let Some(rest) = line.strip_prefix("## `[") {
            section = rest.split(']').next().unwrap_or("").to_string();
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || !cells[1].starts_with('`') || section.is_empty() {
            continue;
        }
        let key = cells[1].trim_matches('`');
        let env = cells[3].split('`').nth(1).unwrap_or("").to_string();
        documented.push((format!("{section}.{key}"), env, cells[2].to_string()));
    }
    let keys = herald::config::keys::KEYS;
    for k in keys {
        let Some((_, env, default)) = documented.iter().find(|(n, _, _)| n == k.name) else {
            panic!("{} is not in docs/configuration.md", k.name);
        };
        assert_eq!(env, k.env, "{}: the documented variable", k.name);
        if let Some(d) = k.default {
            assert!(
                default.contains(d),
                "{}: documented default {default:?}, herald's {d:?}",
                k.name
            );
        }
    }
    for (name, _, _) in &documented {
        assert!(
            keys.iter().any(|k| k.name == name),
            "docs/configuration.md lists {name}, which herald does not read"
        );
    }
    assert!(docs.contains("`DISCORD_TOKEN`"));
}

#[test]
fn a_store_left_by_another_election_is_refused_until_reset() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("herald.db");
    let store_s = store.to_str().unwrap();
    let console = tmp.path().join("console.txt");
    let demo = "config/demo/hartlepool-2021.json";
    // Another election: the same seat in a by-election of another year.
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo).unwrap()).unwrap();
    other["election"]["id"] = "by-2031-05-01-hartlepool".into();
    other["election"]["name"] = "Hartlepool by-election 2031".into();
    other["election"]["date"] = "2031-05-01".into();
    let other_file = tmp.path().join("other.json");
    std::fs::write(&other_file, other.to_string()).unwrap();
    let watch = |source: &str| {
        herald(
            &[
                "watch",
                "--source",
                source,
                "--store",
                store_s,
                "--console-out",
                console.to_str().unwrap(),
                "--interval",
                "50ms",
                "--exit-when-complete",
            ],
            &[],
        )
    };
    let o = watch(demo);
    assert!(o.status.success(), "{}", text(&o).1);
    // The store holds Hartlepool 2021: a feed for another election is refused, naming both
    // and the way out, and `--exit-when-complete` fails instead of waiting for ever.
    let o = watch(other_file.to_str().unwrap());
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("the feed is Hartlepool by-election 2031 (by-2031-05-01-hartlepool), but the store holds Hartlepool by-election 2021 (by-2021-05-06-hartlepool)"),
        "{err}"
    );
    assert!(err.contains("herald store reset"), "{err}");
    let o = herald(&["store", "info", "--store", store_s], &[]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    for line in [
        "election: Hartlepool by-election 2021 (by-2021-05-06-hartlepool), polling day 6 May 2021, 1 seats",
        "declarations: 1 seats, 1 events (1 declared)",
        "announcements to console: 1 sent",
        "channels: 0 subscribed, 0 paused",
        "not in use",
    ] {
        assert!(out.contains(line), "{line:?} in:\n{out}");
    }
    // Without --yes, reset only says what it would do.
    let o = herald(&["store", "reset", "--store", store_s], &[]);
    assert!(o.status.success());
    assert!(text(&o).0.contains("Run again with --yes"));
    let o = watch(other_file.to_str().unwrap());
    assert!(!o.status.success(), "still refused");
    let o = herald(&["store", "reset", "--store", store_s, "--yes"], &[]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(
        text(&o)
            .0
            .contains("1 events and their announcements removed")
    );
    let o = watch(other_file.to_str().unwrap());
    assert!(o.status.success(), "{}", text(&o).1);
    let o = herald(&["store", "info", "--store", store_s], &[]);
    assert!(text(&o).0.contains("election: Hartlepool by-election 2031"));
}

/// The commands listed in the README's table are exactly those `herald --help` offers.
#[test]
fn the_readme_lists_every_command_and_no_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("### Commands"))
        .take_while(|l| !l.starts_with("In Discord"))
        .filter(|l| l.starts_with("| `herald"))
        .collect();
    let commands = |args: &[&str]| -> Vec<String> {
        let (out, _) = text(&herald(args, &[]));
        out.lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .filter(|c| c != "help")
            .collect()
    };
    let mut offered = Vec::new();
    for c in commands(&["--help"]) {
        let subs = commands(&[c.as_str(), "--help"]);
        if subs.is_empty() {
            offered.push(c);
        } else {
            offered.extend(subs.into_iter().map(|s| format!("{c} {s}")));
        }
    }
    assert!(offered.len() > 10, "{offered:?}");
    for c in &offered {
        let named = format!("`herald {c}");
        assert!(
            table
                .iter()
                .any(|row| row.contains(&named) || row.contains(&format!("`herald {c}`"))),
            "`herald {c}` is missing from the README's table"
        );
    }
    for row in &table {
        for listed in row.split("`herald ").skip(1) {
            let words: Vec<&str> = listed.split(['`', ' ']).take(2).collect();
            let known = offered.iter().any(|c| {
                c == words[0]
                    || words
                        .get(1)
                        .is_some_and(|w| *c == format!("{} {w}", words[0]))
            });
            assert!(
                known,
                "the README lists `herald {listed}`, which herald does not have"
            );
        }
    }
}

/// Every metric herald serves is in the README's table, and the table names no other.
#[test]
fn the_readme_lists_every_metric_and_no_other() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let served = herald::observe::Metrics::default().encode();
    let mut names: Vec<String> = served
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (name, kind) = (w.next()?, w.next()?);
            Some(if kind == "counter" {
                format!("{name}_total")
            } else {
                name.to_string()
            })
        })
        .collect();
    names.sort();
    assert!(names.len() > 15, "{names:?}");
    let table = readme
        .lines()
        .skip_while(|l| !l.starts_with("| metric |"))
        .take_while(|l| l.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n");
    for n in &names {
        // `_sent_total` style abbreviations in a row stand for herald_announcements_sent_total.
        let short = n
            .rsplit_once("announcements")
            .map(|(_, rest)| rest.to_string());
        assert!(
            table.contains(&format!("`{n}"))
                || short.is_some_and(|s| table.contains(&format!("`{s}`"))),
            "{n} is served but not in the README's metrics table"
        );
    }
    for listed in table.split('`').skip(1).step_by(2) {
        let base = listed.split('{').next().unwrap_or(listed);
        if base.starts_with("herald_") || base.starts_with("process_") {
            assert!(
                names.iter().any(|n| n == base),
                "the README lists {base}, which herald does not serve"
            );
        }
    }
}
