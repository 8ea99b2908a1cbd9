//! The configuration's tests: defaults, layers and origins, booleans, tokens.

use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn defaults_apply_to_an_empty_file() {
    let c = Config::parse(None, "", &no_env).unwrap();
    assert_eq!(c.interval, Duration::from_secs(2));
    assert_eq!(c.store, "herald.db");
    assert_eq!(c.timezone, chrono_tz::Europe::London);
    assert_eq!(c.global_rate_per_second, 45);
    assert_eq!(c.register, Registration::Off);
    assert!(c.token.is_none());
}

/// A token of the shape Discord issues (the id part is `123456789012345678` in base64).
const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhJkLm.abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJK";

#[test]
fn environment_overrides_the_file() {
    let env = |k: &str| match k {
        "HERALD_STORE" => Some("/data/h.db".to_string()),
        "DISCORD_TOKEN" => Some(format!(" {TOKEN} \n")),
        "HERALD_DISCORD_API_BASE" => Some("http://127.0.0.1:9".to_string()),
        _ => None,
    };
    let c = Config::parse(None, "[store]\npath = \"x.db\"\n", &env).unwrap();
    assert_eq!(c.store, "/data/h.db");
    assert_eq!(c.token.as_ref().map(|t| t.expose()), Some(TOKEN));
    assert_eq!(format!("{:?}", c.token), "Some(Secret([redacted]))");
    assert_eq!(c.api_base.as_deref(), Some("http://127.0.0.1:9"));
}

#[test]
fn errors_name_the_key_and_where_the_value_came_from() {
    let e = |text: &str| Config::parse(None, text, &no_env).unwrap_err().to_string();
    assert_eq!(
        e("[source]\nlocaton = \"x\"\n"),
        "configuration:2: source.locaton: unknown key"
    );
    assert!(e("[discord]\ntoken = \"x\"\n").contains("never goes in the file"));
    assert!(
        e("\n[source]\ninterval = \"soon\"\n")
            .starts_with("configuration:3: source.interval: `soon` is not a duration")
    );
    assert!(
        e("[source]\nlocation = \"http://\"\n")
            .starts_with("configuration:2: source.location: `http://` is not a URL")
    );
    assert!(
        e("[discord]\napi_base = \"ftp://x\"\n").contains("discord.api_base: `ftp://x` must be")
    );
    assert!(e("[display]\ntimezone = \"Mars\"\n").contains("display.timezone: unknown timezone"));
    assert!(
        e("[discord]\nregister_commands = \"sometimes\"\n").contains("discord.register_commands")
    );
    assert!(
        e("[discord]\nglobal_rate_per_second = 500\n").contains("discord.global_rate_per_second")
    );
    // Nothing is quietly changed: a digest threshold of 0 is refused, not made 1.
    assert!(e("[discord]\ndigest_after = 0\n").contains("discord.digest_after: `0`: must be"));
    assert!(e("[console]\nenabled = [1]\n").contains("expected a single value"));
    // A bad value from the environment names the variable, not the file's key.
    let env = |k: &str| (k == "HERALD_SOURCE_INTERVAL").then(|| "soon".to_string());
    let err = Config::parse(None, "[source]\ninterval = \"5s\"\n", &env)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("HERALD_SOURCE_INTERVAL: source.interval: `soon` is not a duration"),
        "{err}"
    );
}

#[test]
fn booleans_accept_what_people_type_or_refuse() {
    for (typed, want) in [
        ("yes", true),
        ("YES", true),
        ("1", true),
        ("on", true),
        ("no", false),
        ("0", false),
        ("false", false),
    ] {
        let env = |k: &str| (k == "HERALD_CONSOLE").then(|| typed.to_string());
        assert_eq!(
            Config::parse(None, "", &env).unwrap().console,
            want,
            "{typed}"
        );
    }
    let env = |k: &str| (k == "HERALD_CONSOLE").then(|| "sometimes".to_string());
    let err = Config::parse(None, "", &env).unwrap_err().to_string();
    assert!(
        err.starts_with("HERALD_CONSOLE: console.enabled: `sometimes` is not yes or no"),
        "{err}"
    );
    let c = Config::parse(None, "[discord]\ncharts = false\n", &no_env).unwrap();
    assert!(!c.charts);
}

#[test]
fn every_key_has_its_own_variable_and_a_file_value_reaches_the_config() {
    let vars: std::collections::BTreeSet<&str> = keys::KEYS.iter().map(|k| k.env).collect();
    assert_eq!(vars.len(), keys::KEYS.len(), "one variable per key");
    // The six keys that had no variable before: each overrides the file.
    let env = |k: &str| match k {
        "HERALD_SOURCE_CONSTITUENCIES" => Some("c.csv".to_string()),
        "HERALD_BASELINE_CONSTITUENCIES" => Some("b.csv".to_string()),
        "HERALD_DISCORD_GLOBAL_RATE_PER_SECOND" => Some("30".to_string()),
        "HERALD_DISCORD_DIGEST_AFTER" => Some("9".to_string()),
        "HERALD_DISCORD_CHARTS" => Some("no".to_string()),
        "HERALD_CONSOLE_OUTPUT" => Some("out.txt".to_string()),
        _ => None,
    };
    let c = Config::parse(None, "", &env).unwrap();
    assert_eq!(c.constituencies.as_deref(), Some(Path::new("c.csv")));
    assert_eq!(
        c.baseline_constituencies.as_deref(),
        Some(Path::new("b.csv"))
    );
    assert_eq!(c.global_rate_per_second, 30);
    assert_eq!(c.digest_after, 9);
    assert!(!c.charts);
    assert_eq!(c.console_output.as_deref(), Some(Path::new("out.txt")));
}

#[test]
fn reads_a_token_file_and_refuses_an_endless_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let with = |path: &Path| {
        Config::parse(
            None,
            &format!("[discord]\ntoken_file = {:?}\n", path.display().to_string()),
            &no_env,
        )
    };
    std::fs::write(&file, format!(" {TOKEN} \n")).unwrap();
    let c = with(&file).unwrap();
    assert_eq!(c.token.unwrap().expose(), TOKEN);

    std::fs::write(&file, "\n").unwrap();
    assert!(with(&file).unwrap_err().to_string().ends_with("is empty"));
    std::fs::write(&file, vec![b'x'; 5000]).unwrap();
    assert!(
        with(&file)
            .unwrap_err()
            .to_string()
            .contains("not a secret file")
    );
    // A FIFO would block the read until something wrote to it: refused at once.
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let e = with(&fifo).unwrap_err().to_string();
        assert!(e.contains("is not a regular file"), "{e}");
    }
    // Refused after reading 4 kB, not read until memory runs out.
    if Path::new("/dev/zero").exists() {
        let e = with(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(
            e.starts_with("discord.token_file: /dev/zero is not a regular file"),
            "{e}"
        );
    }
}

#[test]
fn tokens_must_have_the_shape_of_a_bot_token() {
    assert!(check_token_shape(TOKEN).is_ok());
    for (bad, says) in [
        ("", "is empty"),
        ("abc.def.ghi", "first part is not a user id"),
        ("abc.def", "is not a bot token"),
        ("MTIzNDU2Nzg5MDEyMzQ1Njc4.Gh", "is not a bot token"),
        ("MTIzNDU2Nzg5MDEyMzQ1Njc4.GhJkLm.short", "too short"),
        ("MTIz NDU2.GhJkLm.abcdefghijklmnopqrstuvwxyz", "spaces"),
    ] {
        let e = check_token_shape(bad).unwrap_err();
        assert!(e.contains(says), "{bad:?}: {e}");
        assert!(
            bad.is_empty() || !e.contains(bad),
            "the token is not echoed: {e}"
        );
    }
    // From the environment: trimmed, and a token of spaces is refused naming the variable.
    let env = |k: &str| (k == "DISCORD_TOKEN").then(|| "   ".to_string());
    let e = Config::parse(None, "", &env).unwrap_err().to_string();
    assert!(
        e.starts_with("DISCORD_TOKEN: the bot token: it is empty"),
        "{e}"
    );
}
