"""Shared fixtures: the repository's paths, the command line binary, the diagnosis schema."""

import json
import os
import pathlib
import subprocess

import jsonschema
import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
AS_OF = "2026-11-20T12:00:00Z"


@pytest.fixture(scope="session")
def cli():
    """The command line binary the binding is compared with (BALANCE_DOCTOR_BIN, or the
    release build in target/); `.ci/run` builds it before running pytest."""
    path = pathlib.Path(
        os.environ.get("BALANCE_DOCTOR_BIN", REPO / "target" / "release" / "balance-doctor")
    )
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `cargo build --release` first")

    def run(*args, input=None, check=True):
        return subprocess.run(
            [str(path), *args], input=input, capture_output=True, text=True, check=check
        )

    return run


@pytest.fixture(scope="session")
def diagnosis_validator():
    schema = json.loads((REPO / "schemas" / "diagnosis.schema.json").read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def fixture_dirs():
    return sorted(p for p in (REPO / "fixtures").iterdir() if p.is_dir())


def load_fixture(directory):
    """A fixture directory as the single-file bundle form (a dict)."""
    bundle = {"documents": {}}
    for path in sorted(directory.iterdir()):
        if path.name in ("bundle.yaml", "bundle.yml"):
            meta = yaml.safe_load(path.read_text()) or {}
            meta.pop("description", None)
            bundle.update(meta)
        elif path.name == "bundle.json":
            meta = json.loads(path.read_text())
            meta.pop("description", None)
            bundle.update(meta)
        elif path.suffix == ".json":
            bundle["documents"][path.stem] = json.loads(path.read_text())
    return bundle
