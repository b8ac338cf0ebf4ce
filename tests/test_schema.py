"""The scenario schema: every shipped scenario fits it, broken ones fail it and the parser alike, it is built from
the parser's tables (a key added there shows up, or the build fails), and it never refuses what the parser takes."""

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafka_chaos import catalog, counts, schema, semantics, topics
from kafka_chaos import scenario as sc
from kafka_chaos.errors import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted([*ROOT.glob("scenarios/**/*.yaml"), *ROOT.glob("examples/**/*.yaml")])
SCHEMA = schema.build()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

BASE = """\
name: base
duration: 30s
cluster: {compose: compose/kraft-3.yml}
topic: {name: chaos, partitions: 3, replication_factor: 3, config: {min.insync.replicas: "2"}}
producer: {semantic: at-least-once, rate: 200}
consumer: {mode: commit-after-process, process_time: 1ms}
faults:
  - {at: 8s, action: kill, target: "leader(chaos,0)", duration: 5s}
expect: {lost: 0, duplicates: any}
"""


def as_json(data):
    """What an editor validates: the YAML's data as JSON (mapping keys become strings)."""
    return json.loads(json.dumps(data, default=str))


def schema_errors(data) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(as_json(data))]


def parser_accepts(data) -> bool:
    """Whether scenario.loads takes `data` (written as YAML; compose paths resolved from the repository)."""
    try:
        sc.loads(yaml.safe_dump(data, sort_keys=False), str(ROOT / "scenarios" / "generated.yaml"))
    except ScenarioError:
        return False
    return True


def test_the_schema_is_a_valid_2020_12_schema_whose_keywords_draft_7_editors_read_alike():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft7Validator.check_schema(SCHEMA)   # editors on draft 7 (yaml-language-server) read it too
    draft7 = jsonschema.Draft7Validator(SCHEMA)
    for path in SHIPPED:
        assert draft7.is_valid(as_json(yaml.safe_load(path.read_text())))
    assert not draft7.is_valid(as_json({**yaml.safe_load(BASE), "colour": "red"}))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_scenario_fits_the_schema(path):
    assert schema_errors(yaml.safe_load(path.read_text())) == []


def test_the_base_scenario_fits_both():
    assert parser_accepts(yaml.safe_load(BASE)) and schema_errors(yaml.safe_load(BASE)) == []


def _set(path, value):
    """Set the value at `path` ("a.0.b", or a tuple of steps when a key holds dots)."""
    def change(doc):
        *parents, last = path.split(".") if isinstance(path, str) else path
        for step in parents:
            doc = doc[int(step)] if step.isdigit() else doc[step]
        doc[int(last) if last.isdigit() else last] = value
    return change


BROKEN = {
    "unknown top-level key": _set("colour", "red"),
    "unknown producer key": _set("producer.semantik", "idempotent"),
    "misspelt topic key": _set("topic.partition", 3),
    "duration of the wrong type": _set("duration", [30]),
    "partitions as a word": _set("topic.partitions", "three"),
    "partitions out of bounds": _set("topic.partitions", topics.MAX_PARTITIONS + 1),
    "rate above the bound": _set("producer.rate", sc.MAX_RATE * 2),
    "duration without a unit word": _set("duration", "30 seconds"),
    "unknown fault action": _set("faults.0.action", "explode"),
    "a field of another action": _set("faults.0.probability", 0.1),
    "a target the action does not take": _set("faults.0.target", "consumer"),
    "a malformed target": _set("faults.0.target", "leader(chaos)"),
    "unknown expect count": _set("expect.lostt", 0),
    "expect bound of the wrong type": _set("expect.lost", "none"),
    "bad semantic": _set("producer.semantic", "exactly-twice"),
    "bad consumer mode": _set("consumer.mode", "commit-sometimes"),
    "unknown topic config": _set(("topic", "config", "min.insync.replica"), "2"),
    "a setting kchaos owns": _set("producer.config", {"bootstrap_servers": "x:1"}),
    "an unknown client setting": _set("consumer.config", {"enable_autocommit": True}),
    "unknown sink offsets": _set("sink", {"offsets": "nowhere"}),
    "missing required key": lambda d: d.pop("producer"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_scenario_fails_the_schema_and_the_parser(name):
    data = yaml.safe_load(BASE)
    BROKEN[name](data)
    assert schema_errors(data), f"the schema took: {name}"
    assert not parser_accepts(data), f"the parser took: {name}"


def _section_props(section: str) -> dict:
    if section == "scenario":
        return SCHEMA["properties"]
    node = SCHEMA["$defs"][section]
    return (node["anyOf"][0] if "anyOf" in node else node)["properties"]


@pytest.mark.parametrize("section", sc.KEYS)
def test_each_section_has_exactly_the_parsers_keys_and_required_keys(section):
    assert list(_section_props(section)) == list(sc.KEYS[section])
    node = SCHEMA if section == "scenario" else SCHEMA["$defs"][section]
    node = node["anyOf"][0] if "anyOf" in node else node
    assert node.get("required", []) == list(sc.REQUIRED.get(section, ()))
    assert node["additionalProperties"] is False


def _consts(node) -> list:
    return [c["const"] for c in _given(node)["oneOf"]]


def _given(node) -> dict:
    """An optional key's schema without its `or null` (the parser reads null as absent)."""
    return node["anyOf"][0] if node.get("anyOf", [None])[-1] == {"type": "null"} else node


def test_choices_come_from_the_parsers_tables():
    props = _section_props
    assert _consts(props("producer")["semantic"]) == [k for k, p in semantics.PRESETS.items() if not p.reserved]
    assert _consts(props("consumer")["mode"]) == [k for k, m in semantics.MODES.items() if not m.reserved]
    assert _consts(props("fault")["action"]) == list(catalog.NAMES)
    assert _consts(SCHEMA["$defs"]["nemesisFault"]["properties"]["action"]) == list(catalog.NEMESIS_ACTIONS)
    assert list(SCHEMA["$defs"]["expect"]["properties"]) == [k for k in counts.COUNT_NAMES if k not in counts.RESERVED]
    assert list(_given(props("topic")["config"])["properties"]) == list(topics.CONFIGS)
    assert list(_given(props("cluster")["commands"])["properties"]) == list(sc.COMMAND_ACTIONS)
    assert _given(props("copier")["on_abort"])["enum"] == list(sc.COPIER_ON_ABORT)
    assert _consts(props("sink")["offsets"]) == list(sc.SINK_OFFSETS)
    assert _given(props("fault")["shape"])["enum"] == list(sc.SHAPES)
    assert _given(props("scenario")["seed"])["maximum"] == sc.MAX_BIG


def test_a_key_added_to_the_parser_but_not_the_schema_fails_the_build(monkeypatch):
    monkeypatch.setitem(sc.KEYS, "producer", (*sc.KEYS["producer"], "colour"))
    with pytest.raises(AssertionError, match="missing \\['colour'\\]"):
        schema.build()


def test_counts_semantics_and_actions_added_to_their_tables_appear_in_the_schema(monkeypatch):
    monkeypatch.setitem(counts.COUNTS, "new_count", "a count measured from now on")
    monkeypatch.setitem(semantics.PRESETS, "new-semantic", semantics.PRESETS["idempotent"])
    monkeypatch.setitem(catalog.ACTIONS, "new-action", catalog.ACTIONS["kill"])
    built = schema.build()
    assert "new_count" in built["$defs"]["expect"]["properties"]
    assert "new-semantic" in _consts(built["$defs"]["producer"]["properties"]["semantic"])
    assert "new-action" in _consts(built["$defs"]["fault"]["properties"]["action"])


def test_cross_field_rules_are_described_not_enforced():
    both = {**yaml.safe_load(BASE), "cluster": {"compose": "compose/kraft-3.yml", "bootstrap": "127.0.0.1:19092"}}
    assert schema_errors(both) == [] and not parser_accepts(both)
    assert "exactly one of compose or bootstrap" in SCHEMA["$defs"]["cluster"]["properties"]["compose"]["description"]
    assert "validate" in SCHEMA["description"]


# -- the schema is a relaxation of the parser: what the parser takes, the schema takes ------------------------

DOCS = [yaml.safe_load(p.read_text()) for p in SHIPPED]
VALUES = [None, 0, 1, 3, -1, 0.5, 1.5, 2**40, True, False, "", " ", "x", "10s", " 10s ", "500ms", "2m", "0", "any",
          "all", "random", "broker(1)", " leader(chaos, 0) ", "killed", "consumer", "copier", "kill", "crash",
          "isolate", "split", "loss", "after-commit", "in", "majority", "1MBit", " 2gbit", "database", "kafka",
          "seek", "no-seek", "transaction", "sqlite", "postgresql", "idempotent", "transactional", "outbox",
          "read-committed", " chaos ", "true", "TRUE", "2", [], [1], [[1], [2, 3]], {}, {"a": 1},
          {"linger.ms": 5}, {"enable-idempotence": True}, {"min.insync.replicas": 2}, {"1": "kafka-1"}]


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _seen(docs) -> dict:
    """key -> every value shipped scenarios give it: replacements the parser often takes."""
    out = {}
    for doc in docs:
        for path in _paths(doc):
            value = doc
            for step in path:
                value = value[step]
            out.setdefault(path[-1], []).append(value)
    return out


SEEN = _seen(DOCS)


@st.composite
def mutated(draw):
    """A shipped scenario with one or two values replaced (by a value seen under that key elsewhere, or an odd
    one), a key dropped, or a key of some section added."""
    doc = copy.deepcopy(draw(st.sampled_from(DOCS)))
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(list(_paths(doc))))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        how = draw(st.sampled_from(["seen", "odd", "drop", "add"] if isinstance(parent, dict) else ["seen", "odd"]))
        if how == "drop":
            del parent[path[-1]]
            continue
        key = path[-1] if how != "add" else draw(st.sampled_from(sc.KEYS[draw(st.sampled_from(sorted(sc.KEYS)))]))
        pool = SEEN.get(key, VALUES) if how != "odd" else VALUES
        parent[key] = copy.deepcopy(draw(st.sampled_from(pool)))
    return doc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=mutated())
def test_what_the_parser_accepts_the_schema_accepts(doc):
    if parser_accepts(doc):
        assert schema_errors(doc) == []
