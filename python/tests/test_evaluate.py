"""The binding against the command line: same diagnoses, in the schema's shape."""

import json

import pytest

import balance_doctor
from conftest import AS_OF, REPO, fixture_dirs, load_fixture

RULES = balance_doctor.RuleSet()


@pytest.mark.parametrize("directory", fixture_dirs(), ids=lambda p: p.name)
def test_every_fixture_diagnoses_as_the_cli_does(directory, cli, diagnosis_validator):
    bundle = load_fixture(directory)
    expected = json.loads(cli("diagnose", "--format", "json", str(directory)).stdout)

    from_dict = RULES.evaluate(bundle)
    from_text = RULES.evaluate(json.dumps(bundle))
    as_json = json.loads(RULES.evaluate(bundle, as_json=True))
    from_path = RULES.evaluate(directory)

    assert from_dict == expected
    assert from_path == expected
    assert from_text == expected
    assert as_json == expected
    diagnosis_validator.validate(from_dict)


def test_explain_matches_the_cli_and_the_schema(cli, diagnosis_validator):
    directory = REPO / "fixtures" / "several-causes"
    expected = json.loads(
        cli("diagnose", "--format", "json", "--explain", str(directory)).stdout
    )
    diagnosis = RULES.evaluate(load_fixture(directory), explain=True)
    assert diagnosis["explain"], "an explanation lists every rule"
    assert diagnosis == expected
    diagnosis_validator.validate(diagnosis)


def generated(cli, count, seed=7):
    return cli("generate", "--count", str(count), "--seed", str(seed)).stdout.splitlines()


def cli_records(cli, lines, *extra):
    output = cli(
        "diagnose", "--format", "jsonl", "--as-of", AS_OF, *extra, "-",
        input="\n".join(lines) + "\n", check=False,
    ).stdout
    records = [json.loads(line) for line in output.splitlines()]
    for record in records:
        del record["origin"]
    return records


@pytest.mark.parametrize("threads", [None, 1, 3])
def test_many_bundles_in_parallel_keep_their_order(cli, threads, diagnosis_validator):
    lines = generated(cli, 300)
    expected = cli_records(cli, lines)
    assert len(expected) == 300
    # A generator, so nothing can be read ahead of what the iterator asks for.
    diagnoses = list(
        RULES.evaluate_many((line for line in lines), as_of=AS_OF, threads=threads)
    )
    assert diagnoses == expected
    # Dicts give the same as their JSON text, and JSON output the same as dicts, to the last
    # bit of every number (serde_json reads decimals with `float_roundtrip`, as Python does).
    dicts = [json.loads(line) for line in lines]
    from_dicts = list(RULES.evaluate_many(dicts, as_of=AS_OF, threads=threads))
    assert from_dicts == expected
    as_json = RULES.evaluate_many(lines, as_of=AS_OF, threads=threads, as_json=True)
    assert [json.loads(text) for text in as_json] == expected
    for diagnosis in diagnoses[:50]:
        diagnosis_validator.validate(diagnosis)
    # Some generated Items are unhealthy: the comparison covers findings, not only silence.
    assert sum(1 for d in diagnoses if d["findings"]) > 50


def test_an_empty_iterable_yields_nothing():
    assert list(RULES.evaluate_many([])) == []


def test_an_invalid_bundle_raises_where_it_stands():
    good = {"as_of": AS_OF, "documents": {"item_get": {"item": {"item_id": "a"}}}}
    bad = {"documents": {"context": {}}}
    results = RULES.evaluate_many([good, good, bad, good], chunk_size=8)
    assert next(results)["labels"]["item_id"] == "a"
    assert next(results)["labels"]["item_id"] == "a"
    with pytest.raises(balance_doctor.BundleError, match="`context` is reserved"):
        next(results)


def test_errors_record_yields_an_error_record_in_place_and_goes_on(cli):
    lines = generated(cli, 5)
    lines.insert(2, "{not json")
    lines.insert(4, '{"documents": {"left": {}}}')
    expected = cli_records(cli, lines)
    records = list(RULES.evaluate_many(lines, as_of=AS_OF, errors="record"))
    assert len(records) == 7
    assert [set(r) == {"error"} for r in records] == [
        False, False, True, False, True, False, False,
    ]
    assert records[2]["error"].startswith("not valid JSON")
    assert "`left` is reserved" in records[4]["error"]
    assert [r for r in records if "error" not in r] == [
        r for r in expected if "error" not in r
    ]


def test_records_keep_the_bundle_id_as_the_cli_records_do(cli):
    lines = ['{"id":"g%d",%s' % (i, line[1:]) for i, line in enumerate(generated(cli, 6))]
    lines[1] = '{"id":17,' + lines[1][len('{"id":"g1",'):]  # a number id stays a number
    lines.insert(3, '{"id": "bad", "documents": {"left": {}}}')  # invalid, its id readable
    lines.insert(5, '{"id": "cut", "documents": ')  # not JSON: no id can be read
    expected = cli_records(cli, lines)
    assert [r.get("id") for r in expected] == ["g0", 17, "g2", "bad", "g3", None, "g4", "g5"]
    assert "error" in expected[3] and "error" in expected[5]
    got = list(RULES.evaluate_many(lines, as_of=AS_OF, errors="record"))
    assert got == expected
    as_json = RULES.evaluate_many(lines, as_of=AS_OF, errors="record", as_json=True)
    assert [json.loads(text) for text in as_json] == expected
    # Dicts: the same records, the invalid one's id included.
    dicts = [json.loads(line) for i, line in enumerate(lines) if i != 5]
    from_dicts = list(RULES.evaluate_many(dicts, as_of=AS_OF, errors="record"))
    assert from_dicts == [r for i, r in enumerate(expected) if i != 5]
    assert RULES.evaluate(lines[0], as_of=AS_OF)["id"] == "g0"
    assert json.loads(RULES.evaluate(dicts[1], as_of=AS_OF, as_json=True))["id"] == 17


@pytest.mark.parametrize(
    "bundle, message",
    [
        ({"documents": {"left": {}}}, "documents.left: `left` is reserved"),
        ({"as_of": "yesterday", "documents": {}}, "as_of: `yesterday` is not an RFC 3339"),
        ({"documents": {}, "extra": 1}, "extra"),
        ("[1, 2]", "a bundle must be a JSON object"),
        ('{"documents": ', "not valid JSON"),
        (42, "a bundle is a dict, its JSON text"),
        (REPO / "fixtures" / "no-such-bundle", "cannot read bundle"),
    ],
)
def test_invalid_bundles_raise_bundle_error_saying_where(bundle, message):
    with pytest.raises(balance_doctor.BundleError) as error:
        RULES.evaluate(bundle)
    assert message in str(error.value)
    assert isinstance(error.value, ValueError)


def test_as_of_argument_wins_and_is_reported():
    import datetime

    bundle = {"as_of": "2026-01-01T00:00:00Z", "documents": {"item_get": {}}}
    assert RULES.evaluate(bundle)["as_of_from"] == "bundle"
    given = RULES.evaluate(bundle, as_of="2026-11-20T12:00:00Z")
    assert (given["as_of"], given["as_of_from"]) == ("2026-11-20T12:00:00Z", "flag")
    aware = datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.timezone.utc)
    assert RULES.evaluate(bundle, as_of=aware)["as_of"] == "2026-11-20T12:00:00Z"
    with pytest.raises(balance_doctor.BundleError, match="RFC 3339"):
        RULES.evaluate(bundle, as_of=datetime.datetime(2026, 11, 20, 12))
    assert RULES.evaluate({"documents": {"item_get": {}}})["as_of_from"] == "clock"
