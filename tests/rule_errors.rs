//! Every broken rules file under `tests/rule-errors/` must fail to compile; the full list of
//! problems it reports is snapshotted, so that messages stay precise and helpful.

use balance_doctor_engine::{RuleText, compile};

#[test]
fn broken_rule_files_report_every_problem_with_its_location() {
    insta::glob!("rule-errors/*.yaml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let errors = match compile(&[RuleText {
            name: &name,
            text: &text,
        }]) {
            Ok(_) => panic!("{name} compiled, but every file here is broken"),
            Err(errors) => errors,
        };
        insta::assert_snapshot!("problems", errors.to_string());
    });
}

/// No problem of any broken file names a Rust type or a rule of the JSONPath parser's
/// grammar: those mean nothing to someone writing a rules file.
#[test]
fn problems_never_name_the_programs_own_types() {
    let internal = [
        "struct ",
        "Value::Tagged",
        "enum ",
        "Spec",
        "invalid type:",
        "atom_expr",
        "jp_query",
        "comparable",
        "logical_expr",
    ];
    insta::glob!("rule-errors/*.yaml", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let Err(errors) = compile(&[RuleText {
            name: &name,
            text: &text,
        }]) else {
            panic!("{name} compiled, but every file here is broken");
        };
        let shown = errors.to_string();
        for word in internal {
            assert!(!shown.contains(word), "{name} names `{word}`:\n{shown}");
        }
    });
}
