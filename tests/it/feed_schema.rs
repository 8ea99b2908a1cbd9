//! The documented JSON Schema (docs/feed-format.schema.json) and herald's reader agree:
//! the bundled demo and the writer's output validate, and documents the schema refuses,
//! herald refuses too.

use herald::demo;
use herald::sources::formats::herald_json;
use serde_json::Value;

fn schema() -> jsonschema::Validator {
    let text = include_str!("../../docs/feed-format.schema.json");
    let schema: Value = serde_json::from_str(text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

#[test]
fn bundled_demo_and_writer_output_validate() {
    let v = schema();
    for text in [demo::RESULTS_JSON, demo::BASELINE_JSON] {
        let doc: Value = serde_json::from_str(text).unwrap();
        assert!(
            v.is_valid(&doc),
            "{:?}",
            v.iter_errors(&doc)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
    }
    let parties = demo::parties();
    let (results, _) = demo::load(&parties);
    let mut decls = results.declarations.clone();
    decls[0].status = herald::core::model::DeclarationStatus::Called;
    for decls in [results.declarations.clone(), decls] {
        let written =
            serde_json::to_value(herald_json::document(&results.election, &decls)).unwrap();
        assert!(
            v.is_valid(&written),
            "{:?}",
            v.iter_errors(&written)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn documents_the_schema_refuses_are_refused_by_herald() {
    let v = schema();
    let parties = demo::parties();
    let base: Value = serde_json::from_str(demo::RESULTS_JSON).unwrap();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "unknown key",
            Box::new(|d| d["declarations"][0]["colour"] = "red".into()),
        ),
        (
            "bad nation",
            Box::new(|d| d["declarations"][0]["constituency"]["nation"] = "Mercia".into()),
        ),
        (
            "negative votes",
            Box::new(|d| d["declarations"][0]["candidates"][0]["votes"] = (-5).into()),
        ),
        (
            "no format",
            Box::new(|d| {
                d.as_object_mut().unwrap().remove("format");
            }),
        ),
        (
            "zero seats",
            Box::new(|d| d["election"]["total_seats"] = 0.into()),
        ),
        (
            "bad status",
            Box::new(|d| d["declarations"][0]["status"] = "maybe".into()),
        ),
        (
            "missing name",
            Box::new(|d| {
                d["declarations"][0]["candidates"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("name");
            }),
        ),
    ];
    // A notional document's party rows may omit the name: both agree.
    let mut notional = base.clone();
    notional["election"]["notional"] = true.into();
    notional["declarations"][0]["candidates"][0]
        .as_object_mut()
        .unwrap()
        .remove("name");
    assert!(
        v.is_valid(&notional),
        "the schema refuses a notional party row"
    );
    assert!(
        herald_json::load("t.json", &notional.to_string(), &parties).is_ok(),
        "herald refuses a notional party row"
    );
    for (what, mutate) in mutations {
        let mut doc = base.clone();
        mutate(&mut doc);
        assert!(!v.is_valid(&doc), "schema accepts {what}");
        assert!(
            herald_json::load("t.json", &doc.to_string(), &parties).is_err(),
            "herald accepts {what}"
        );
    }
}
