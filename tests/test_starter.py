"""`kchaos init`: for every semantic, a commented scenario that the parser and the schema take, expecting exactly
what Kafka documents for the semantic and its consumer mode."""

from pathlib import Path

import jsonschema
import pytest
import yaml

from kafka_chaos import schema, semantics, starter
from kafka_chaos import scenario as sc

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = jsonschema.Draft202012Validator(schema.build())


def test_every_semantic_of_the_table_has_a_starter():
    assert starter.SEMANTICS == tuple(k for k, p in semantics.PRESETS.items() if not p.reserved)
    assert {"at-most-once", "at-least-once", "idempotent", "transactional"} <= set(starter.SEMANTICS)


@pytest.mark.parametrize("semantic", starter.SEMANTICS)
def test_the_starter_loads_fits_the_schema_and_expects_what_kafka_documents(semantic, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)   # compose/kraft-3.yml is found from the checkout, as a user runs it
    path = tmp_path / "my.yaml"
    path.write_text(starter.render(semantic))
    s = sc.load(path)
    assert s.producer.semantic == semantic and s.consumer.mode == semantics.PRESETS[semantic].mode
    assert s.expect == sc.default_expect(semantic, s.consumer.mode, s.copier, s.sink)
    assert [f.action for f in s.faults] == ["kill"] and s.faults[0].target.startswith("leader(")
    assert list(VALIDATOR.iter_errors(yaml.safe_load(path.read_text()))) == []


@pytest.mark.parametrize("semantic", starter.SEMANTICS)
def test_the_starter_explains_each_field_and_the_expected_verdict(semantic):
    text = starter.render(semantic)
    assert "Expected verdict: PASSED" in text and semantics.PRESETS[semantic].claim[:40] in " ".join(text.split())
    for line in text.splitlines():
        if line and not line.lstrip().startswith("#") and not line.startswith("description"):
            assert "#" in line or line.rstrip().endswith(":") or line.startswith("  partitions"), line
