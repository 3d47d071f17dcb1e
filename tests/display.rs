//! The CLI library's public enums print as a user would write them: a value enum as the
//! argument it comes from (so that what is printed parses back), a command as typed.

use balance_doctor::batch::{Outcome, RecordFormat, RecordOrigin, StdinFormat};
use balance_doctor::cli::{Args, Color, FailOn, Format, SchemaArg, SummaryFormat, TestFormat};
use balance_doctor::discover::Input;
use balance_doctor::input::{Appended, AsOfOrigin, Line};
use balance_doctor::render::{OutputSchema, Palette};
use balance_doctor::rules::{ChoiceOrigin, RULES_ENV};
use clap::{CommandFactory, Parser, ValueEnum};

/// Every variant prints as its command-line value, which parses back to it.
fn round_trips<T: ValueEnum + std::fmt::Display + PartialEq + std::fmt::Debug>() -> Vec<String> {
    T::value_variants()
        .iter()
        .map(|variant| {
            let shown = variant.to_string();
            assert_eq!(T::from_str(&shown, false).as_ref(), Ok(variant), "{shown}");
            shown
        })
        .collect()
}

#[test]
fn value_enums_print_as_the_argument_they_come_from() {
    assert_eq!(
        round_trips::<Format>(),
        ["human", "json", "jsonl", "markdown"]
    );
    assert_eq!(round_trips::<StdinFormat>(), ["auto", "jsonl", "bundle"]);
    assert_eq!(round_trips::<FailOn>(), ["error", "warning", "info"]);
    assert_eq!(round_trips::<Color>(), ["auto", "always", "never"]);
    assert_eq!(
        round_trips::<SummaryFormat>(),
        ["human", "json", "markdown"]
    );
    assert_eq!(round_trips::<TestFormat>(), ["human", "json", "junit"]);
    let schemas = round_trips::<SchemaArg>();
    assert!(schemas.contains(&"test-report".to_owned()), "{schemas:?}");
    // Padding applies, as for the engine's enums.
    assert_eq!(format!("[{:>6}]", Format::Json), "[  json]");
}

#[test]
fn commands_print_as_typed() {
    let cases: [(&[&str], &str); 7] = [
        (&["diagnose", "fixtures/several-causes"], "diagnose"),
        (&["rules", "check", "rules/default.yaml"], "rules check"),
        (&["rules", "list"], "rules list"),
        (&["rules", "show"], "rules show"),
        (&["rules", "test"], "rules test"),
        (&["generate", "--count", "1"], "generate"),
        (&["schema", "bundle"], "schema"),
    ];
    let definition = Args::command();
    for (arguments, expected) in cases {
        let args = Args::try_parse_from(
            std::iter::once("balance-doctor").chain(arguments.iter().copied()),
        )
        .unwrap();
        assert_eq!(args.command.to_string(), expected);
        // What is printed names a real command.
        let mut command = &definition;
        for word in expected.split(' ') {
            command = command
                .find_subcommand(word)
                .unwrap_or_else(|| panic!("{expected}"));
        }
    }
    for (arguments, expected) in [
        (&["completions", "bash"][..], "completions"),
        (&["man"], "man"),
    ] {
        let args = Args::try_parse_from(
            std::iter::once("balance-doctor").chain(arguments.iter().copied()),
        )
        .unwrap();
        assert_eq!(args.command.to_string(), expected);
    }
}

#[test]
fn output_schemas_print_as_the_schema_command_names_them() {
    for kind in [
        OutputSchema::Diagnosis,
        OutputSchema::Record,
        OutputSchema::Summary,
        OutputSchema::TestReport,
    ] {
        let shown = kind.to_string();
        assert!(SchemaArg::from_str(&shown, false).is_ok(), "{shown}");
    }
}

#[test]
fn as_of_origins_print_as_the_output_names_them() {
    for origin in [AsOfOrigin::Flag, AsOfOrigin::Bundle, AsOfOrigin::Clock] {
        assert_eq!(
            serde_json::to_value(origin).unwrap(),
            serde_json::Value::from(origin.to_string())
        );
    }
}

#[test]
fn the_other_enums_say_what_they_hold() {
    assert_eq!(RecordFormat::Jsonl.to_string(), "jsonl");
    assert_eq!(RecordFormat::Human(Palette::plain()).to_string(), "human");
    assert_eq!(RecordFormat::Nothing.to_string(), "nothing");
    assert_eq!(
        Outcome::Failed("not valid JSON".into()).to_string(),
        "failed: not valid JSON"
    );
    let written = |findings| Outcome::Written {
        findings,
        worst: None,
    };
    assert_eq!(written(1).to_string(), "diagnosed: 1 finding");
    assert_eq!(written(3).to_string(), "diagnosed: 3 findings");
    assert_eq!(Input::Stdin.to_string(), "- (stdin)");
    assert_eq!(
        Input::Jsonl("a.jsonl".into()).to_string(),
        "a.jsonl (JSON Lines)"
    );
    assert_eq!(
        Input::Unusable("nope".into(), "no such file".into()).to_string(),
        "nope: no such file"
    );
    assert_eq!(
        Line::<String>::TooLong { line: 3, bytes: 9 }.to_string(),
        "line 3: 9 bytes, longer than the limit"
    );
    assert_eq!(
        Appended::Text {
            line: 4,
            text: (),
            bytes: 12
        }
        .to_string(),
        "line 4: 12 bytes of text"
    );
    assert_eq!(ChoiceOrigin::Flag.to_string(), "--rules");
    assert_eq!(ChoiceOrigin::Environment.to_string(), RULES_ENV);
    assert_eq!(
        ChoiceOrigin::Config("x/balance-doctor.yaml".into()).to_string(),
        "x/balance-doctor.yaml"
    );
    let origin = RecordOrigin {
        file: "b.jsonl".into(),
        line: Some(7),
    };
    assert_eq!(origin.to_string(), "b.jsonl:7");
    let origin = RecordOrigin {
        file: "bundle".into(),
        line: None,
    };
    assert_eq!(origin.to_string(), "bundle");
}
