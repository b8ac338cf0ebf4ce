"""--set KEY=VALUE: fields replaced by dotted path before validation, every check still applied, messages naming
the --set."""

import pytest
from typer.testing import CliRunner

from kafka_chaos import overrides
from kafka_chaos.cli import app
from kafka_chaos.errors import ScenarioError, UsageError
from kafka_chaos.scenario import load, loads

SCENARIO = """\
duration: 10s
cluster: {bootstrap: "127.0.0.1:19092", containers: {1: kafka-1, 2: kafka-2, 3: kafka-3}}
producer: {semantic: idempotent, rate: 100, config: {linger_ms: 5}}
consumer: {mode: commit-after-process}
faults:
  - {at: 2s, action: kill, target: random, duration: 2s}
"""


def refused(*sets, text=SCENARIO) -> str:
    with pytest.raises(ScenarioError) as e:
        loads(text, "s.yaml", [overrides.parse(s) for s in sets])
    assert "\n" not in str(e.value)
    return str(e.value)


def test_top_level_nested_list_and_config_fields():
    s = loads(SCENARIO, "s.yaml", [("duration", "30s"), ("producer.rate", "500"), ("faults.0.at", "5s"),
                                   ("producer.config.linger_ms", "20"), ("topic.config.min.insync.replicas", "2"),
                                   ("cluster.containers.1", "kafka-9")])
    assert (s.duration, s.producer.rate, s.faults[0].at, s.producer.config["linger_ms"]) == (30.0, 500.0, 5.0, 20)
    assert s.topic.config == {"min.insync.replicas": "2"} and s.cluster.containers[1] == "kafka-9"


def test_a_kafka_name_with_dots_is_one_key_under_a_config_map():
    s = loads(SCENARIO, "s.yaml", [("producer.config.enable.idempotence", "true")])
    assert s.producer.config["enable_idempotence"] is True
    assert refused("producer.config.enable.idempotence=false") == (
        "--set producer.config.enable.idempotence=false: producer.config.enable.idempotence: false contradicts "
        "semantic idempotent (remove it)")


def test_value_is_yaml_and_later_sets_win():
    s = loads(SCENARIO, "s.yaml", [("faults", "[]"), ("name", "run-1"), ("name", "run-2"),
                                   ("faults.0", "{at: 1s, action: pause, target: random, duration: 1s}")])
    assert s.name == "run-2" and [f.action for f in s.faults] == ["pause"]


def test_every_check_still_applies_and_names_the_set():
    assert refused("producer.config.acks=1") == ("--set producer.config.acks=1: producer.config.acks: 1 contradicts "
                                                 "semantic idempotent (idempotence needs acks=all)")
    assert refused("duration=soon").startswith("--set duration=soon: duration: 'soon' is not a duration")
    assert refused("faults.0.at=1m").startswith("--set faults.0.at=1m: faults[0].at: 60s is not before the end")
    # a field the file gave, made wrong by another --set, is named where the file gave it
    assert refused("duration=1s").startswith("s.yaml:6: faults[0].at: 2s is not before the end of the run")


def test_an_unknown_key_gets_the_parsers_did_you_mean():
    assert refused("producer.confg.acks=1").startswith(
        "--set producer.confg.acks=1: producer.confg: unknown key (did you mean config? known: semantic,")
    assert refused("duraton=5s").startswith("--set duraton=5s: duraton: unknown key (did you mean duration?")


@pytest.mark.parametrize("given, why", [
    ("faults.2.at=1s", "faults.2: faults is a list of 1 item(s) (give an index 0..0, or 1 to add one)"),
    ("faults.x.at=1s", "faults.x: faults is a list of 1 item(s)"),
    ("duration.unit=s", "duration: is a single value ('10s'), not a mapping or list, so it has no unit"),
    ("nemesis.faults.0.duration=1s", "nemesis.faults: not in the scenario, so it has no item 0; give it whole"),
    ("producer..rate=1", "'producer..rate' is not a dotted path"),
    ("producer.rate={a: 1", "VALUE is not YAML"),
    ("producer.rate=!!python/object:os.system x", "VALUE is not YAML"),
])
def test_a_path_that_cannot_be_followed_is_one_line(given, why):
    message = refused(given)
    assert message.startswith(f"--set {given}: ") and why in message


def test_bad_syntax_is_a_usage_error():
    for text in ("producer.rate", "=5", " =5"):
        with pytest.raises(UsageError, match="give KEY=VALUE"):
            overrides.parse(text)
    assert overrides.parse("producer.config.client_id=a=b") == ("producer.config.client_id", "a=b")


def test_an_anchored_or_merged_node_changes_only_where_the_set_points():
    text = SCENARIO.replace("  - {at: 2s, action: kill, target: random, duration: 2s}\n",
                            "  - &f {at: 2s, action: split, groups: [[1], [2, 3]], duration: 2s}\n"
                            "  - {<<: *f, at: 4s}\n")
    text += "topic: {config: *t}\n"
    text = text.replace("cluster: {", "cluster: {broker_config: &t {retention.ms: '100000'}, ")
    faults = lambda s: [(f.duration, f.groups) for f in s.faults]  # noqa: E731
    assert faults(loads(text, "s.yaml", [("faults.0.duration", "1s")])) == [(1.0, ((1,), (2, 3))),
                                                                          (2.0, ((1,), (2, 3)))]
    assert faults(loads(text, "s.yaml", [("faults.1.groups.1", "[3]")])) == [(2.0, ((1,), (2, 3))),
                                                                           (2.0, ((1,), (3,)))]
    s = loads(text, "s.yaml", [("topic.config.retention.ms", "200000")])
    assert (s.topic.config, s.cluster.broker_config) == ({"retention.ms": "200000"}, {"retention.ms": "100000"})


def test_load_is_pure_and_takes_overrides(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    assert load(path, [("producer.rate", "250")]).producer.rate == 250.0
    assert load(path).producer.rate == 100.0


def test_cli_validate_and_run_take_set(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", str(path), "--set", "duration=30s", "--set", "producer.rate=5"])
    assert ok.exit_code == 0 and "30 s" in ok.output
    bad = runner.invoke(app, ["validate", str(path), "--set", "producer.config.acks=1"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "--set producer.config.acks=1: producer.config.acks: 1 contradicts" in " ".join(bad.output.split())
    syntax = runner.invoke(app, ["validate", str(path), "--set", "producer.rate"])
    assert syntax.exit_code == 2 and "give KEY=VALUE" in syntax.output
    replay = runner.invoke(app, ["run", "--replay", str(tmp_path), "--set", "duration=1s"])
    assert replay.exit_code == 2 and "--set changes a scenario FILE" in replay.output
