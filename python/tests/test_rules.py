"""Compiling rules: the default pack, files, text, `extends`, and located errors."""

import pytest

import balance_doctor
from conftest import REPO

COMPOSE = REPO / "tests" / "compose"
RULE_ERRORS = REPO / "tests" / "rule-errors"


def rule_ids(rule_set):
    return [rule["id"] for rule in rule_set.rules()]


def test_the_default_pack_is_the_cli_s(cli):
    listed = cli("rules", "list").stdout
    rules = balance_doctor.RuleSet().rules()
    assert len(rules) > 10
    for rule in rules:
        assert rule["id"] in listed
        assert rule["file"] == balance_doctor.DEFAULT_RULES_NAME
    assert balance_doctor.DEFAULT_RULES == cli("rules", "show").stdout
    assert rule_ids(balance_doctor.RuleSet.default()) == [r["id"] for r in rules]


def test_files_are_compiled_after_what_they_extend():
    personal = balance_doctor.RuleSet.from_files(COMPOSE / "personal.yaml")
    by_id = {rule["id"]: rule for rule in personal.rules()}
    default_ids = rule_ids(balance_doctor.RuleSet())
    # default <- team.yaml <- personal.yaml
    assert set(default_ids) < set(by_id)
    assert "chase-item" in by_id
    assert by_id["no-webhook"]["severity"] == "error"
    assert by_id["refresh-cadence"]["enabled"] is False
    assert by_id["no-webhook"]["overridden_by"] == [
        str(COMPOSE / "team.yaml"),
        str(COMPOSE / "personal.yaml"),
    ]


def test_text_extends_the_default_pack_and_files_relative_to_base():
    text = "extends: [default]\noverrides:\n  no-webhook:\n    severity: error\n"
    rules = balance_doctor.RuleSet.from_text(text, name="mine.yaml")
    by_id = {rule["id"]: rule for rule in rules.rules()}
    assert by_id["no-webhook"]["severity"] == "error"
    assert by_id["no-webhook"]["overridden_by"] == ["mine.yaml"]

    layered = balance_doctor.RuleSet.from_text(
        "extends: [team.yaml]\n", name="layer.yaml", base=COMPOSE
    )
    assert "chase-item" in rule_ids(layered)


def test_text_without_extends_is_only_itself():
    text = """
rules:
  - id: no-documents
    title: Nothing was captured
    severity: info
    when: { path: "item_get:$", missing: true }
    message: No /item/get response was captured
"""
    rules = balance_doctor.RuleSet.from_text(text)
    assert rule_ids(rules) == ["no-documents"]
    assert rules.rules()[0]["file"] == "<string>"


@pytest.mark.parametrize("path", sorted(RULE_ERRORS.glob("*.yaml")), ids=lambda p: p.name)
def test_rule_errors_carry_the_cli_s_located_messages(path, cli):
    checked = cli("rules", "check", str(path), check=False)
    assert checked.returncode == 2
    with pytest.raises(balance_doctor.RuleError) as raised:
        balance_doctor.RuleSet.from_files(path)
    error = raised.value
    # Every line the CLI prints for a problem (it adds warnings and a count) is in the message.
    printed = [
        line
        for line in checked.stderr.splitlines()
        if not line.startswith("warning: ") and "problem(s) found" not in line
    ]
    assert str(error).splitlines() == printed
    assert [problem["text"] for problem in error.problems] == printed
    for problem in error.problems:
        assert problem["file"] == str(path)
        assert problem["message"] and problem["kind"]


def test_a_problem_names_its_rule_line_and_field():
    text = """rules:
  - id: broken
    title: Broken
    severity: info
    when: { path: "item_get:$.item", exits: true }
"""
    with pytest.raises(balance_doctor.RuleError) as raised:
        balance_doctor.RuleSet.from_text(text, name="broken.yaml")
    (problem,) = raised.value.problems
    assert problem["file"] == "broken.yaml"
    assert problem["rule"] == "broken"
    assert problem["line"] == 5
    assert problem["field"].startswith("rules[0].when")
    assert problem["kind"] == "unknown_key"
    assert "did you mean `exists`" in problem["message"]
    assert str(raised.value).startswith("broken.yaml:5:")


def test_extends_that_cannot_be_resolved_is_an_error():
    with pytest.raises(balance_doctor.RuleError, match="cycle"):
        balance_doctor.RuleSet.from_files(COMPOSE / "loop-a.yaml")
    with pytest.raises(balance_doctor.RuleError, match="missing.yaml"):
        balance_doctor.RuleSet.from_text("extends: [missing.yaml]\n", base=COMPOSE)
    with pytest.raises(balance_doctor.RuleError, match="cannot read"):
        balance_doctor.RuleSet.from_files(COMPOSE / "no-such-file.yaml")


def test_text_extends_only_files_under_its_base():
    with pytest.raises(balance_doctor.RuleError) as raised:
        balance_doctor.RuleSet.from_text(
            "extends: [../rule-errors/empty.yaml]\n", name="outside.yaml", base=COMPOSE
        )
    (problem,) = raised.value.problems
    assert problem["kind"] == "unresolved_extends"
    assert problem["field"] == "extends[0]"
    assert "outside the folder" in problem["message"]
