//! The loaders never panic, whatever text they are given: rule files (arbitrary text and
//! mutations of the default pack) and bundles (arbitrary JSON text).

use balance_doctor_engine::{Bundle, RuleText, compile};
use proptest::prelude::*;

const DEFAULT: &str = include_str!("../rules/default.yaml");

fn compile_text(text: &str) -> Result<usize, String> {
    compile(&[RuleText {
        name: "fuzzed.yaml",
        text,
    }])
    .map(|rules| rules.rules().len())
    .map_err(|errors| {
        // Every problem must render, with a message.
        for problem in &errors.problems {
            assert!(!problem.message.is_empty(), "{problem:?}");
        }
        errors.to_string()
    })
}

/// One small edit of the default pack's text.
#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceChar(usize, char),
    DeleteChar(usize),
    InsertText(usize, String),
}

fn edits() -> impl Strategy<Value = Edit> {
    let lines = DEFAULT.lines().count();
    let chars = DEFAULT.chars().count();
    let fragments = prop_oneof![
        Just("$".to_owned()),
        Just("[".to_owned()),
        Just(": ".to_owned()),
        Just("- ".to_owned()),
        Just("{".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("\t".to_owned()),
        Just("older_than: ".to_owned()),
        Just("fired: ".to_owned()),
        "[ -~]{0,6}",
    ];
    prop_oneof![
        (0..lines).prop_map(Edit::DeleteLine),
        (0..lines).prop_map(Edit::DuplicateLine),
        (0..lines, 0..lines).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (0..chars, any::<char>()).prop_map(|(i, c)| Edit::ReplaceChar(i, c)),
        (0..chars).prop_map(Edit::DeleteChar),
        (0..chars, fragments).prop_map(|(i, t)| Edit::InsertText(i, t)),
    ]
}

fn apply(edit: &Edit) -> String {
    let mut lines: Vec<&str> = DEFAULT.lines().collect();
    let mut chars: Vec<char> = DEFAULT.chars().collect();
    match edit {
        Edit::DeleteLine(i) => {
            lines.remove(*i);
        }
        Edit::DuplicateLine(i) => lines.insert(*i, lines[*i]),
        Edit::SwapLines(a, b) => lines.swap(*a, *b),
        Edit::ReplaceChar(i, c) => {
            chars[*i] = *c;
            return chars.into_iter().collect();
        }
        Edit::DeleteChar(i) => {
            chars.remove(*i);
            return chars.into_iter().collect();
        }
        Edit::InsertText(i, text) => {
            let mut out: String = chars[..*i].iter().collect();
            out.push_str(text);
            out.extend(&chars[*i..]);
            return out;
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn compiling_arbitrary_text_never_panics(text in "(?s).{0,400}") {
        let _ = compile_text(&text);
    }

    #[test]
    fn compiling_a_mutated_default_pack_never_panics(first in edits(), second in edits()) {
        let once = apply(&first);
        let _ = compile_text(&once);
        // Two edits: apply the second to the default again, then splice both halves.
        let twice = apply(&second);
        let half = once.len().min(twice.len()) / 2;
        if once.is_char_boundary(half) && twice.is_char_boundary(half) {
            let _ = compile_text(&format!("{}{}", &once[..half], &twice[half..]));
        }
    }

    #[test]
    fn parsing_arbitrary_bundle_text_never_panics(text in "(?s).{0,300}") {
        let _ = Bundle::from_json(&text);
        let wrapped = format!(r#"{{"as_of": {text:?}, "documents": {{}}}}"#);
        let _ = Bundle::from_json(&wrapped);
    }
}

#[test]
fn hostile_yaml_is_refused_cleanly() {
    let laughs = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n\
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n\
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n\
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n\
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n\
        rules: [*i]\n";
    assert!(compile_text(laughs).is_err());
    let deep = format!("rules: {}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(compile_text(&deep).is_err());
    let deep_condition = format!(
        "rules:\n  - id: deep\n    title: Deep\n    severity: info\n    message: x\n    when: {}{{path: \"d:$\", exists: true}}{}\n",
        "{not: ".repeat(5_000),
        "}".repeat(5_000)
    );
    assert!(compile_text(&deep_condition).is_err());
}
