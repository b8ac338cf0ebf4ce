"""The scenario contract: what a valid file becomes, and the one-line FILE:LINE: FIELD message for each mistake."""

import json
import re
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafka_chaos import counts
from kafka_chaos import scenario as sc
from kafka_chaos.errors import ScenarioError
from kafka_chaos.scenario import FaultSpec, load, loads, parse_duration
from kafka_chaos.semantics import documented_expect

COMPOSE = """\
services:
  kafka-1: {image: kchaos/kafka, labels: {kchaos.broker.id: "1"}}
  kafka-2: {image: kchaos/kafka, labels: ["kchaos.broker.id=2"]}
  kafka-3: {image: kchaos/kafka, labels: {kchaos.broker.id: 3}}
  client: {image: kchaos/kafka}
"""

README_EXAMPLE = """\
name: acks1-leader-kill
description: acks=1 may lose acknowledged writes when the leader dies before followers copy them
seed: 7                      # default 0
duration: 60s
drain_timeout: 60s
cluster:
  compose: compose/kraft-3.yml
  broker_config: {unclean.leader.election.enable: true}
topic: {name: chaos, partitions: 3, replication_factor: 3, config: {min.insync.replicas: "2"}}
producer:
  semantic: at-least-once
  rate: 1000
  value_size: 100
  config: {acks: "1"}
consumer:
  mode: commit-after-process
  process_time: 2ms
  config: {}
faults:
  - {at: 10s, action: kill, target: "leader(chaos, 0)"}
  - {at: 25s, action: start, target: killed}
  - {at: 35s, action: pause, target: "broker(2)", duration: 8s}
  - {at: 20s, action: crash, target: consumer, duration: 3s}
  - {every: 15s, jitter: 2s, count: 3, action: restart, target: random}
expect: {lost: 0, duplicates: any, reordered: any}
"""


@pytest.fixture(autouse=True)
def empty_cwd(tmp_path, monkeypatch):
    """Compose paths are tried against the cwd first; keep the repository's files out of it."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")


@pytest.fixture
def where(tmp_path):
    """A directory holding compose.yml (brokers 1, 2, 3), nolabels.yml (no broker labels), broken.yml."""
    (tmp_path / "compose.yml").write_text(COMPOSE)
    (tmp_path / "nolabels.yml").write_text("services:\n  kafka: {image: x}\n")
    (tmp_path / "broken.yml").write_text("services: [\n")
    return tmp_path


def doc(duration="60s", cluster="{compose: compose.yml}",
        topic="{name: chaos, partitions: 3, replication_factor: 3}",
        producer="{semantic: at-least-once}", consumer="{mode: commit-after-process}",
        extra="seed: 0", faults=()):
    """A scenario with one field per line: 1 duration, 2 cluster, 3 topic, 4 producer, 5 consumer,
    6 `extra`, 7 `faults:` (or `faults: <str>`), 8+i faults[i]."""
    lines = [f"duration: {duration}", f"cluster: {cluster}", f"topic: {topic}", f"producer: {producer}",
             f"consumer: {consumer}", extra]
    if isinstance(faults, str):
        lines.append(f"faults: {faults}")
    elif faults:
        lines += ["faults:"] + [f"  - {f}" for f in faults]
    return "\n".join(lines) + "\n"


def error(where, text, name="s.yaml") -> str:
    path = where / name
    path.write_text(text)
    with pytest.raises(ScenarioError) as e:
        load(path)
    message = str(e.value)
    assert "\n" not in message
    return message.removeprefix(f"{path}:")


# -- valid scenarios ------------------------------------------------------------------------------

def test_readme_example(tmp_path):
    (tmp_path / "scenarios" / "compose").mkdir(parents=True)
    (tmp_path / "scenarios" / "compose" / "kraft-3.yml").write_text(COMPOSE)
    path = tmp_path / "scenarios" / "acks1.yaml"
    path.write_text(README_EXAMPLE)
    s = load(path)
    assert (s.name, s.seed, s.duration, s.drain_timeout, s.path) == ("acks1-leader-kill", 7, 60.0, 60.0, path)
    assert s.description.startswith("acks=1 may lose")
    assert s.cluster == sc.ClusterSpec(
        compose=(tmp_path / "scenarios" / "compose" / "kraft-3.yml").resolve(), bootstrap=None,
        containers={1: "kafka-1", 2: "kafka-2", 3: "kafka-3"},
        broker_config={"unclean.leader.election.enable": "true"}, broker_ids=(1, 2, 3))
    assert s.topic == sc.TopicSpec("chaos", 3, 3, {"min.insync.replicas": "2"})
    assert s.producer == sc.ProducerSpec("at-least-once", 1000.0, None, 100, {
        "acks": 1, "retries": 2147483647, "enable_idempotence": False})
    assert s.consumer == sc.ConsumerSpec("commit-after-process", 0.002, {"enable_auto_commit": False})
    assert s.faults == (
        FaultSpec("kill", "leader(chaos,0)", 10.0, None, None, 0.0, None, line=20),
        FaultSpec("start", "killed", 25.0, None, None, 0.0, None, line=21),
        FaultSpec("pause", "broker(2)", 35.0, None, None, 0.0, 8.0, line=22),
        FaultSpec("crash", "consumer", 20.0, None, None, 0.0, 3.0, line=23),
        FaultSpec("restart", "random", None, 15.0, 3, 2.0, None, line=24),
    )
    assert s.expect == {"lost": 0, "duplicates": None, "reordered": None}


def test_round_trips_through_json(tmp_path):
    (tmp_path / "compose" ).mkdir()
    (tmp_path / "compose" / "kraft-3.yml").write_text(COMPOSE)
    path = tmp_path / "x.yaml"
    path.write_text(README_EXAMPLE)
    s = load(path)
    data = json.loads(json.dumps(s.to_dict()))
    assert data["cluster"]["compose"] == str(s.cluster.compose)
    assert data["faults"][4] == {"action": "restart", "target": "random", "at": None, "every": 15.0,
                                 "count": 3, "jitter": 2.0, "duration": None, "line": 24, "direction": "both",
                                 "groups": None, "shape": None, "probability": None, "rate": None,
                                 "latency": None, "latency_jitter": 0.0, "point": None}
    assert (data["nemesis"], data["cluster"]["hosts"], data["cluster"]["commands"]) == (None, {}, {})
    assert sc.from_dict(data) == s


def test_defaults(where):
    s = loads("duration: 30\ncluster: {compose: compose.yml}\nproducer: {semantic: idempotent}\n"
              "consumer: {mode: auto-commit}\n", str(where / "min-case.yaml"))
    assert (s.name, s.description, s.seed, s.duration, s.drain_timeout) == ("min-case", "", 0, 30.0, 60.0)
    assert s.topic == sc.TopicSpec("chaos", 3, 3, {})
    assert (s.producer.rate, s.producer.count, s.producer.value_size) == (500.0, None, 100)
    assert (s.consumer.process_time, s.faults, s.cluster.broker_config) == (0.002, (), {})
    assert s.expect == documented_expect("idempotent", "auto-commit")


def test_null_sections_count_as_absent(where):
    s = loads(doc(extra="expect:", faults="~"), str(where / "s.yaml"))
    assert (s.faults, s.expect) == ((), documented_expect("at-least-once", "commit-after-process"))


def test_count_instead_of_rate(where):
    s = loads(doc(producer="{semantic: at-most-once, count: 50000}"), str(where / "s.yaml"))
    assert (s.producer.rate, s.producer.count) == (None, 50000)


def test_java_dotted_client_config(where):
    s = loads(doc(producer="{semantic: no-guarantee, config: {max.in.flight.requests.per.connection: '1'}}",
                  consumer="{mode: commit-after-process, config: {max.poll.records: 10}}"), str(where / "s.yaml"))
    assert s.producer.config["max_in_flight_requests_per_connection"] == 1
    assert s.consumer.config == {"max_poll_records": 10, "enable_auto_commit": False}


def test_live_cluster_brokers_come_from_containers(where):
    s = loads(doc(cluster="{bootstrap: '127.0.0.1:19092', containers: {1: kafka-1, '2': kafka-2, 3: kafka-3}}",
                  faults=["{at: 1s, action: kill, target: broker(2)}"]), str(where / "s.yaml"))
    assert (s.cluster.bootstrap, s.cluster.compose, s.cluster.broker_ids) == ("127.0.0.1:19092", None, (1, 2, 3))


def test_live_cluster_without_containers_allows_client_crashes(where):
    s = loads(doc(cluster="{bootstrap: 'a:1,b:2'}", faults=["{at: 1s, action: crash, target: producer, duration: 1s}"]),
              str(where / "s.yaml"))
    assert (s.cluster.broker_ids, s.faults[0].target) == ((), "producer")


def test_compose_path_is_resolved_against_cwd_then_dir_then_parent(where, monkeypatch):
    (where / "scenarios").mkdir()
    text = doc()
    assert loads(text, str(where / "scenarios" / "s.yaml")).cluster.compose == (where / "compose.yml").resolve()
    (where / "scenarios" / "compose.yml").write_text(COMPOSE.replace('"1"', '"4"'))
    assert loads(text, str(where / "scenarios" / "s.yaml")).cluster.broker_ids == (2, 3, 4)
    monkeypatch.chdir(where)
    assert loads(text).cluster.compose == (where / "compose.yml").resolve()


def test_merge_keys_and_anchors(where):
    text = doc(faults=["&kill {at: 1s, action: kill, target: random}", "{<<: *kill, at: 2s}"])
    assert [f.at for f in loads(text, str(where / "s.yaml")).faults] == [1.0, 2.0]


def test_network_faults(where):
    s = loads(doc(faults=[
        "{at: 1s, action: isolate, target: 'coordinator( consumer )', duration: 5s}",
        "{at: 2s, action: isolate, target: broker(1), direction: in}",
        "{at: 3s, action: split, groups: [[1], [2, 3]], direction: out, duration: 4s}",
        "{at: 4s, action: split, shape: minority}",
        "{at: 5s, action: isolate-clients, target: 'txn-coordinator(tx-1)'}",
        "{at: 6s, action: isolate-replication, target: 'leader(chaos,1)', direction: out}",
        "{at: 7s, action: loss, target: all, probability: 1}",
        "{at: 8s, action: bandwidth, target: random, rate: 1.5MBit}",
        "{at: 9s, action: delay, target: controller, latency: 100ms, latency_jitter: 20ms, duration: 3s}",
        "{at: 10s, action: heal-network, target: partitioned}",
        "{every: 20s, action: rolling-restart}",
    ]), str(where / "s.yaml"))
    assert s.faults == (
        FaultSpec("isolate", "coordinator(consumer)", 1.0, None, None, 0.0, 5.0, 8),
        FaultSpec("isolate", "broker(1)", 2.0, None, None, 0.0, None, 9, direction="in"),
        FaultSpec("split", "", 3.0, None, None, 0.0, 4.0, 10, direction="out", groups=((1,), (2, 3))),
        FaultSpec("split", "", 4.0, None, None, 0.0, None, 11, shape="minority"),
        FaultSpec("isolate-clients", "txn-coordinator(tx-1)", 5.0, None, None, 0.0, None, 12),
        FaultSpec("isolate-replication", "leader(chaos,1)", 6.0, None, None, 0.0, None, 13, direction="out"),
        FaultSpec("loss", "all", 7.0, None, None, 0.0, None, 14, probability=1.0),
        FaultSpec("bandwidth", "random", 8.0, None, None, 0.0, None, 15, rate="1.5mbit"),
        FaultSpec("delay", "controller", 9.0, None, None, 0.0, 3.0, 16, latency=0.1, latency_jitter=0.02),
        FaultSpec("heal-network", "partitioned", 10.0, None, None, 0.0, None, 17),
        FaultSpec("rolling-restart", "", None, 20.0, None, 0.0, None, 18),
    )


@pytest.mark.parametrize("action", ["pause", "kill", "stop", "restart"])
def test_coordinators_are_broker_targets(where, action):
    s = loads(doc(faults=[f"{{at: 1s, action: {action}, target: 'coordinator(orders-app)'}}",
                          f"{{at: 2s, action: {action}, target: 'txn-coordinator( tx.1 )'}}"]), str(where / "s.yaml"))
    assert [f.target for f in s.faults] == ["coordinator(orders-app)", "txn-coordinator(tx.1)"]


@pytest.mark.parametrize("rate", ["8kbit", "8000bit", "512kbit", "1mbit", "10mbit", "2gbit", "2.5Gbit", "100gbit"])
def test_bandwidth_rates(where, rate):
    s = loads(doc(faults=[f"{{at: 1s, action: bandwidth, target: all, rate: {rate}}}"]), str(where / "s.yaml"))
    assert s.faults[0].rate == rate.lower()


NEMESIS = """\
duration: 60s
cluster: {compose: compose.yml}
producer: {semantic: idempotent}
consumer: {mode: auto-commit}
nemesis:
  start: 5s
  interval: 10s
  jitter: 2s
  recovery: 5s
  faults:
    - {action: kill, target: random, duration: 5s}
    - {action: isolate, target: "leader(chaos,0)", duration: 6s}
    - {action: split, shape: majority, duration: 4s}
    - {action: crash, target: consumer, duration: 1s}
"""


def test_nemesis(where):
    s = loads(NEMESIS, str(where / "s.yaml"))
    assert s.faults == ()
    assert s.nemesis == sc.NemesisSpec(start=5.0, interval=10.0, jitter=2.0, recovery=5.0, faults=(
        FaultSpec("kill", "random", None, None, None, 0.0, 5.0, 11),
        FaultSpec("isolate", "leader(chaos,0)", None, None, None, 0.0, 6.0, 12),
        FaultSpec("split", "", None, None, None, 0.0, 4.0, 13, shape="majority"),
        FaultSpec("crash", "consumer", None, None, None, 0.0, 1.0, 14),
    ))


def test_nemesis_defaults(where):
    s = loads(doc(extra="nemesis: {interval: 10s, faults: [{action: pause, target: all, duration: 1s}]}"),
              str(where / "s.yaml"))
    assert (s.nemesis.start, s.nemesis.interval, s.nemesis.jitter, s.nemesis.recovery) == (0.0, 10.0, 0.0, 0.0)


def test_nemesis_and_network_faults_round_trip_through_json(where):
    text = NEMESIS.replace("faults:\n", "faults:\n    - {action: split, groups: [[1], [2, 3]], duration: 1s}\n", 1)
    text += "faults:\n  - {at: 1s, action: delay, target: all, latency: 1s}\n"
    s = loads(text, str(where / "s.yaml"))
    data = json.loads(json.dumps(s.to_dict()))
    assert data["nemesis"]["faults"][0]["groups"] == [[1], [2, 3]]
    assert data["nemesis"]["start"] == 5.0
    assert sc.from_dict(data) == s


def test_from_dict_reads_scenario_json_written_before_network_faults(where):
    data = loads(doc(faults=["{at: 1s, action: kill, target: random}"]), str(where / "s.yaml")).to_dict()
    del data["nemesis"], data["cluster"]["hosts"], data["cluster"]["commands"]
    for key in ("direction", "groups", "shape", "probability", "rate", "latency", "latency_jitter"):
        del data["faults"][0][key]
    s = sc.from_dict(data)
    assert (s.nemesis, s.cluster.commands, s.faults[0].direction, s.faults[0].groups) == (None, {}, "both", None)


COMMANDS = ("{bootstrap: 'h:1', hosts: {1: host-a, '2': host-b, 3: host-c}, commands: {"
            "kill: [ssh, '{host}', sudo, systemctl, kill, -s, KILL, kafka], "
            "start: [ssh, '{host}', sudo, systemctl, start, 'kafka@{broker}'], "
            "stop: [ssh, '{host}', sudo, systemctl, stop, kafka]}}")


def test_commands_backend(where):
    s = loads(doc(cluster=COMMANDS, faults=["{at: 1s, action: kill, target: 'leader(chaos,0)', duration: 5s}",
                                            "{at: 2s, action: restart, target: random}",
                                            "{at: 3s, action: start, target: killed}",
                                            "{at: 4s, action: crash, target: producer, duration: 1s}"],
                  extra="nemesis: {interval: 5s, faults: [{action: stop, target: controller, duration: 2s}]}"),
              str(where / "s.yaml"))
    assert s.cluster == sc.ClusterSpec(
        compose=None, bootstrap="h:1", containers={}, broker_config={}, broker_ids=(1, 2, 3),
        hosts={1: "host-a", 2: "host-b", 3: "host-c"},
        commands={"kill": ("ssh", "{host}", "sudo", "systemctl", "kill", "-s", "KILL", "kafka"),
                  "stop": ("ssh", "{host}", "sudo", "systemctl", "stop", "kafka"),
                  "start": ("ssh", "{host}", "sudo", "systemctl", "start", "kafka@{broker}")})
    assert [f.action for f in s.faults] == ["kill", "restart", "start", "crash"]
    data = json.loads(json.dumps(s.to_dict()))
    assert data["cluster"]["hosts"] == {"1": "host-a", "2": "host-b", "3": "host-c"}
    assert sc.from_dict(data) == s


def test_commands_pause_with_unpause(where):
    cluster = "{bootstrap: 'h:1', hosts: {1: a}, commands: {pause: [kill, -STOP, '{host}'], unpause: [kill, -CONT, x]}}"
    s = loads(doc(cluster=cluster, topic="{replication_factor: 1}",
                  faults=["{at: 1s, action: pause, target: broker(1), duration: 1s}"]), str(where / "s.yaml"))
    assert (s.cluster.broker_ids, list(s.cluster.commands)) == ((1,), ["pause", "unpause"])


@pytest.mark.parametrize("value, seconds", [("10s", 10.0), ("500ms", 0.5), ("2m", 120.0), ("1.5s", 1.5),
                                            ("1h", 3600.0), (3, 3.0), (0.25, 0.25), ("7", 7.0), (" 2 s ", 2.0),
                                            ("0", 0.0)])
def test_parse_duration(value, seconds):
    assert parse_duration(value, "duration") == seconds


@pytest.mark.parametrize("value", ["10x", "", "s", "-1s", -1, True, None, "1.5.s", float("nan"), float("inf"), [1]])
def test_parse_duration_rejects(value):
    with pytest.raises(ScenarioError, match=r"^faults\[0\]\.at: .* is not a duration \(e\.g\. 10s"):
        parse_duration(value, "faults[0].at")


# -- one test per error path ----------------------------------------------------------------------

TOP = [
    ("empty file", "", 1, "scenario", "the file is empty"),
    ("only comments", "# nothing\n", 1, "scenario", "the file is empty"),
    ("yaml syntax", "duration: 60s\ncluster: [compose\n", 3, "yaml", "expected ',' or ']'"),
    ("tab indentation", "duration: 60s\ncluster:\n\tcompose: x\n", 3, "yaml", "found character '\\t'"),
    ("two documents", "a: 1\n---\nb: 2\n", 2, "yaml",
     "expected a single document in the stream but found another document"),
    ("bad tag", "duration: !!python/name:os.system x\n", 1, "yaml", "could not determine a constructor"),
    ("unhashable key", "? [a]\n: 1\n", 1, "yaml", "unhashable key"),
    ("top is a list", "- duration: 60s\n", 1, "scenario", "must be a mapping, not a list"),
    ("top is a scalar", "hello\n", 1, "scenario", "must be a mapping, not 'hello'"),
    ("unknown key", doc(extra="duraton: 5"), 6, "duraton", "unknown key (did you mean duration? known: name,"),
    ("key twice", doc(extra="duration: 5"), 6, "duration", "given twice"),
    ("missing duration", "cluster: {compose: compose.yml}\nproducer: {semantic: idempotent}\n", 1, "duration",
     "required"),
    ("missing producer", "duration: 1\ncluster: {compose: compose.yml}\nconsumer: {mode: auto-commit}\n", 1,
     "producer", "required"),
    ("bad duration", doc(duration="ten"), 1, "duration", "'ten' is not a duration (e.g. 10s, 500ms"),
    ("negative duration", doc(duration="-5s"), 1, "duration", "is not a duration"),
    ("zero duration", doc(duration="0s"), 1, "duration", "0s must be longer than 0"),
    ("duration list", doc(duration="[1]"), 1, "duration", "a list is not a duration"),
    ("drain_timeout", doc(extra="drain_timeout: soon"), 6, "drain_timeout", "is not a duration"),
    ("negative seed", doc(extra="seed: -1"), 6, "seed", "must be an integer >= 0, not -1"),
    ("seed bool", doc(extra="seed: true"), 6, "seed", "must be an integer >= 0, not True"),
    ("name with space", doc(extra="name: 'a b'"), 6, "name", "'a b' is not a name (letters, digits, . _ -)"),
    ("name not string", doc(extra="name: [a]"), 6, "name", "must be a non-empty string, not a list"),
    ("description", doc(extra="description: {a: 1}"), 6, "description", "must be a non-empty string"),
]

CLUSTER = [
    ("both", doc(cluster="{compose: compose.yml, bootstrap: 'h:1'}"), 2, "cluster",
     "exactly one of compose or bootstrap"),
    ("neither", doc(cluster="{broker_config: {}}"), 2, "cluster", "exactly one of compose or bootstrap"),
    ("not a mapping", doc(cluster="compose.yml"), 2, "cluster", "must be a mapping, not 'compose.yml'"),
    ("unknown key", doc(cluster="{compse: compose.yml}"), 2, "cluster.compse", "did you mean compose?"),
    ("compose missing", doc(cluster="{compose: nope.yml}"), 2, "cluster.compose", "nope.yml not found (looked in"),
    ("compose unlabeled", doc(cluster="{compose: nolabels.yml}"), 2, "cluster.compose",
     "no service in nolabels.yml has the label kchaos.broker.id"),
    ("compose not yaml", doc(cluster="{compose: broken.yml}"), 2, "cluster.compose", "cannot read"),
    ("bootstrap", doc(cluster="{bootstrap: localhost}"), 2, "cluster.bootstrap", "'localhost' is not HOST:PORT"),
    ("containers key", doc(cluster="{bootstrap: 'h:1', containers: {one: kafka-1}}"), 2, "cluster.containers.one",
     "keys are broker ids"),
    ("containers value", doc(cluster="{bootstrap: 'h:1', containers: {1: [x]}}"), 2, "cluster.containers.1",
     "must be a container name"),
    ("containers empty", doc(cluster="{bootstrap: 'h:1', containers: {}}"), 2, "cluster.containers", "is empty"),
    ("broker_config list", doc(cluster="{compose: compose.yml, broker_config: [a]}"), 2, "cluster.broker_config",
     "must be a mapping, not a list"),
    ("broker_config value", doc(cluster="{compose: compose.yml, broker_config: {a: [1]}}"), 2,
     "cluster.broker_config.a", "a single value"),
]

TOPIC = [
    ("rf above brokers", doc(topic="{replication_factor: 4}"), 3, "topic.replication_factor",
     "4 is more than the 3 broker(s) (allowed: 1..3)"),
    ("partitions 0", doc(topic="{partitions: 0}"), 3, "topic.partitions", "must be an integer >= 1, not 0"),
    ("not a mapping", doc(topic="chaos"), 3, "topic", "must be a mapping"),
    ("unknown key", doc(topic="{partition: 3}"), 3, "topic.partition", "did you mean partitions?"),
    ("config value", doc(topic="{config: {min.insync.replicas: ~}}"), 3, "topic.config.min.insync.replicas",
     "a single value"),
]

PRODUCER = [
    ("unknown semantic", doc(producer="{semantic: exactly-once}"), 4, "producer.semantic",
     "'exactly-once' is unknown (did you mean at-least-once? allowed: no-guarantee, at-most-once, at-least-once, "
     "idempotent, transactional, outbox)"),
    ("typo semantic", doc(producer="{semantic: idempotnt}"), 4, "producer.semantic", "did you mean idempotent?"),
    ("missing semantic", doc(producer="{rate: 5}"), 4, "producer.semantic", "required"),
    ("rate and count", doc(producer="{semantic: idempotent, rate: 5, count: 5}"), 4, "producer.count",
     "give rate or count, not both"),
    ("rate", doc(producer="{semantic: idempotent, rate: -1}"), 4, "producer.rate", "must be a number > 0, not -1"),
    ("count", doc(producer="{semantic: idempotent, count: 0}"), 4, "producer.count", "must be an integer >= 1"),
    ("value_size", doc(producer="{semantic: idempotent, value_size: 1.5}"), 4, "producer.value_size",
     "must be an integer >= 1"),
    ("unknown setting", doc(producer="{semantic: idempotent, config: {lingr_ms: 5}}"), 4,
     "producer.config.lingr_ms", "not a kafka-python producer setting (did you mean linger_ms?"),
    ("owned setting", doc(producer="{semantic: idempotent, config: {bootstrap.servers: x}}"), 4,
     "producer.config.bootstrap.servers", "kchaos sets bootstrap_servers itself"),
    ("acks", doc(producer="{semantic: no-guarantee, config: {acks: 2}}"), 4, "producer.config.acks",
     "2 is not an acks value (allowed: 0, 1, all)"),
    ("idempotent acks", doc(producer="{semantic: idempotent, config: {acks: '1'}}"), 4, "producer.config.acks",
     "1 contradicts semantic idempotent"),
    ("idempotent in flight",
     doc(producer="{semantic: idempotent, config: {max.in.flight.requests.per.connection: 10}}"),
     4, "producer.config.max.in.flight.requests.per.connection", "10 contradicts semantic idempotent"),
    ("at-most-once retries", doc(producer="{semantic: at-most-once, config: {retries: 3}}"), 4,
     "producer.config.retries", "3 contradicts semantic at-most-once"),
    ("at-least-once acks 0", doc(producer="{semantic: at-least-once, config: {acks: 0}}"), 4,
     "producer.config.acks", "0 contradicts semantic at-least-once"),
    ("config not mapping", doc(producer="{semantic: idempotent, config: [acks]}"), 4, "producer.config",
     "must be a mapping, not a list"),
]

CONSUMER = [
    ("unknown mode", doc(consumer="{mode: exactly-once}"), 5, "consumer.mode",
     "(allowed: auto-commit, commit-before-process, commit-after-process, read-committed, read-uncommitted)"),
    ("transform", doc(consumer="{mode: transform}"), 5, "consumer.mode", "'transform' is unknown"),
    ("missing mode", doc(consumer="{process_time: 1ms}"), 5, "consumer.mode", "required"),
    ("process_time", doc(consumer="{mode: auto-commit, process_time: fast}"), 5, "consumer.process_time",
     "'fast' is not a duration"),
    ("group_id", doc(consumer="{mode: auto-commit, config: {group.id: g}}"), 5, "consumer.config.group.id",
     "kchaos sets group_id itself"),
    ("enable_auto_commit", doc(consumer="{mode: auto-commit, config: {enable_auto_commit: false}}"), 5,
     "consumer.config.enable_auto_commit", "kchaos sets enable_auto_commit itself from consumer.mode"),
    ("unknown setting", doc(consumer="{mode: auto-commit, config: {linger_ms: 5}}"), 5,
     "consumer.config.linger_ms", "not a kafka-python consumer setting"),
    ("bool setting", doc(consumer="{mode: auto-commit, config: {check_crcs: maybe}}"), 5,
     "consumer.config.check_crcs", "'maybe' is not a boolean"),
]

KILL = "action: kill, target: random"
FAULTS = [
    ("not a list", doc(faults="{at: 1s}"), 7, "faults", "must be a list, not a mapping"),
    ("item not a mapping", doc(faults=["kill"]), 8, "faults[0]", "must be a mapping, not 'kill'"),
    ("unknown key", doc(faults=[f"{{at: 1s, {KILL}, druation: 1s}}"]), 8, "faults[0].druation",
     "did you mean duration?"),
    ("missing action", doc(faults=["{at: 1s, target: random}"]), 8, "faults[0].action", "required"),
    ("missing target", doc(faults=["{at: 1s, action: kill}"]), 8, "faults[0].target", "required"),
    ("unknown action", doc(faults=["{at: 1s, action: kil, target: random}"]), 8, "faults[0].action",
     "'kil' is not an action (did you mean kill? supported: pause, unpause, kill, stop, start, restart, crash, "
     "fence-producer, isolate, split, isolate-clients, isolate-replication, loss, bandwidth, delay, heal-network, rolling-restart)"),
    ("future action", doc(faults=["{at: 1s, action: clock, target: random}"]), 8, "faults[0].action",
     "clock is not supported yet (supported: pause,"),
    ("disk", doc(faults=["{at: 1s, action: disk, target: random}"]), 8, "faults[0].action",
     "disk is not supported yet"),
    ("renamed action", doc(faults=["{at: 1s, action: partition, target: random}"]), 8, "faults[0].action",
     "'partition' is not an action (did you mean split? supported:"),
    ("target grammar", doc(faults=["{at: 1s, action: kill, target: brokr(2)}"]), 8, "faults[0].target",
     "'brokr(2)' is not a target of kill (allowed: broker(N), leader(TOPIC,P), follower(TOPIC,P), controller,"),
    ("no such broker", doc(faults=["{at: 1s, action: kill, target: broker(7)}"]), 8, "faults[0].target",
     "broker(7) does not exist (brokers: 1, 2, 3)"),
    ("second fault", doc(faults=[f"{{at: 1s, {KILL}}}", "{at: 1s, action: pause, target: broker(0)}"]), 9,
     "faults[1].target", "broker(0) does not exist"),
    ("other topic", doc(faults=["{at: 1s, action: kill, target: 'leader(other,0)'}"]), 8, "faults[0].target",
     "leader(other,0): no topic other (the scenario's topic is chaos)"),
    ("partition range", doc(faults=["{at: 1s, action: stop, target: 'follower(chaos,3)'}"]), 8, "faults[0].target",
     "follower(chaos,3): no partition 3 (allowed: 0..2)"),
    ("no followers",
     doc(topic="{replication_factor: 1}", faults=["{at: 1s, action: kill, target: 'follower(chaos,0)'}"]),
     8, "faults[0].target", "replication_factor 1 has no followers"),
    ("pause killed", doc(faults=["{at: 1s, action: pause, target: killed}"]), 8, "faults[0].target",
     "killed is not a target of pause"),
    ("kill consumer", doc(faults=["{at: 1s, action: kill, target: consumer}"]), 8, "faults[0].target",
     "consumer is not a target of kill"),
    ("crash broker", doc(faults=["{at: 1s, action: crash, target: broker(1), duration: 1s}"]), 8, "faults[0].target",
     "broker(1) is not a target of crash (allowed: producer, consumer, copier, sink, outbox, relay)"),
    ("unpause random", doc(faults=["{at: 1s, action: unpause, target: random}"]), 8, "faults[0].target",
     "random is not a target of unpause (allowed: paused, broker(N), all)"),
    ("start paused", doc(faults=["{at: 1s, action: start, target: paused}"]), 8, "faults[0].target",
     "paused is not a target of start (allowed: killed, broker(N), all)"),
    ("bootstrap without containers", doc(cluster="{bootstrap: 'h:1'}", faults=[f"{{at: 1s, {KILL}}}"]), 8,
     "faults[0].target", "broker faults need cluster.containers"),
    ("crash without duration", doc(faults=["{at: 1s, action: crash, target: consumer}"]), 8, "faults[0].duration",
     "required for crash"),
    ("start with duration", doc(faults=["{at: 1s, action: start, target: killed, duration: 1s}"]), 8,
     "faults[0].duration", "start heals; it takes no duration"),
    ("zero duration", doc(faults=[f"{{at: 1s, {KILL}, duration: 0}}"]), 8, "faults[0].duration", "longer than 0"),
    ("at and every", doc(faults=[f"{{at: 1s, every: 2s, {KILL}}}"]), 8, "faults[0]", "give exactly one of at or every"),
    ("neither at nor every", doc(faults=[f"{{{KILL}}}"]), 8, "faults[0]", "give exactly one of at or every"),
    ("at past the end", doc(faults=[f"{{at: 60s, {KILL}}}"]), 8, "faults[0].at",
     "60s is not before the end of the run (allowed: 0 <= at < duration 60s)"),
    ("bad at", doc(faults=[f"{{at: soon, {KILL}}}"]), 8, "faults[0].at", "'soon' is not a duration"),
    ("every past the end", doc(faults=[f"{{every: 2m, {KILL}}}"]), 8, "faults[0].every", "never fires"),
    ("every zero", doc(faults=[f"{{every: 0s, {KILL}}}"]), 8, "faults[0].every", "longer than 0"),
    ("count with at", doc(faults=[f"{{at: 1s, count: 2, {KILL}}}"]), 8, "faults[0].count", "only with every"),
    ("jitter with at", doc(faults=[f"{{at: 1s, jitter: 1s, {KILL}}}"]), 8, "faults[0].jitter", "only with every"),
    ("count zero", doc(faults=[f"{{every: 5s, count: 0, {KILL}}}"]), 8, "faults[0].count", "integer >= 1"),
    ("bad jitter", doc(faults=[f"{{every: 5s, jitter: -1, {KILL}}}"]), 8, "faults[0].jitter", "not a duration"),
]

EXPECT = [
    ("unknown key", doc(extra="expect: {lots: 0}"), 6, "expect.lots", "did you mean lost?"),
    ("negative", doc(extra="expect: {lost: -1}"), 6, "expect.lost",
     "-1 is not an expectation (allowed: 0, an upper bound 0..9223372036854775807, or any)"),
    ("word", doc(extra="expect: {lost: some}"), 6, "expect.lost", "'some' is not an expectation"),
    ("bool", doc(extra="expect: {lost: false}"), 6, "expect.lost", "False is not an expectation"),
    ("not a mapping", doc(extra="expect: [lost]"), 6, "expect", "must be a mapping, not a list"),
]

NET = "target: random"
NETWORK = [
    ("isolate all", doc(faults=["{at: 1s, action: isolate, target: all}"]), 8, "faults[0].target",
     "all is not a target of isolate (allowed: broker(N), leader(TOPIC,P), follower(TOPIC,P), controller, "
     "coordinator(GROUP), txn-coordinator(ID), random)"),
    ("isolate-clients all", doc(faults=["{at: 1s, action: isolate-clients, target: all}"]), 8, "faults[0].target",
     "all is not a target of isolate-clients"),
    ("isolate without target", doc(faults=["{at: 1s, action: isolate}"]), 8, "faults[0].target", "required"),
    ("direction", doc(faults=[f"{{at: 1s, action: isolate, {NET}, direction: up}}"]), 8, "faults[0].direction",
     "'up' is not a direction (allowed: both, in, out)"),
    ("direction typo", doc(faults=[f"{{at: 1s, action: isolate, {NET}, direction: inn}}"]), 8,
     "faults[0].direction", "did you mean in?"),
    ("direction on kill", doc(faults=[f"{{at: 1s, {KILL}, direction: in}}"]), 8, "faults[0].direction",
     "unknown key for kill (direction is for isolate, split, isolate-replication; known: at, every, count, jitter, "
     "action, target, duration)"),
    ("direction on isolate-clients", doc(faults=[f"{{at: 1s, action: isolate-clients, {NET}, direction: in}}"]), 8,
     "faults[0].direction", "unknown key for isolate-clients"),
    ("rate on loss", doc(faults=[f"{{at: 1s, action: loss, {NET}, probability: 0.5, rate: 1mbit}}"]), 8,
     "faults[0].rate", "unknown key for loss (rate is for bandwidth; known: at, every, count, jitter, action, "
     "target, duration, probability)"),
    ("latency on bandwidth", doc(faults=[f"{{at: 1s, action: bandwidth, {NET}, rate: 1mbit, latency: 1s}}"]), 8,
     "faults[0].latency", "unknown key for bandwidth (latency is for delay;"),
    ("groups on isolate", doc(faults=[f"{{at: 1s, action: isolate, {NET}, groups: [[1], [2]]}}"]), 8,
     "faults[0].groups", "unknown key for isolate (groups is for split;"),
    ("split target", doc(faults=["{at: 1s, action: split, target: all, shape: majority}"]), 8, "faults[0].target",
     "split takes no target (give groups or shape instead)"),
    ("rolling-restart target", doc(faults=["{at: 1s, action: rolling-restart, target: all}"]), 8,
     "faults[0].target", "rolling-restart takes no target"),
    ("rolling-restart duration", doc(faults=["{at: 1s, action: rolling-restart, duration: 5s}"]), 8,
     "faults[0].duration", "rolling-restart takes no duration"),
    ("split neither", doc(faults=["{at: 1s, action: split}"]), 8, "faults[0]", "give exactly one of groups or shape"),
    ("split both", doc(faults=["{at: 1s, action: split, groups: [[1], [2]], shape: majority}"]), 8, "faults[0]",
     "give exactly one of groups or shape"),
    ("groups not a list", doc(faults=["{at: 1s, action: split, groups: 1}"]), 8, "faults[0].groups",
     "must be a list of broker-id lists, not 1"),
    ("one group", doc(faults=["{at: 1s, action: split, groups: [[1, 2]]}"]), 8, "faults[0].groups",
     "needs at least 2 groups, not 1"),
    ("group not a list", doc(faults=["{at: 1s, action: split, groups: [[1], 2]}"]), 8, "faults[0].groups[1]",
     "must be a non-empty list of broker ids, not 2"),
    ("empty group", doc(faults=["{at: 1s, action: split, groups: [[1], []]}"]), 8, "faults[0].groups[1]",
     "must be a non-empty list of broker ids, not a list"),
    ("group member", doc(faults=["{at: 1s, action: split, groups: [[1], [b]]}"]), 8, "faults[0].groups[1]",
     "'b' is not a broker id"),
    ("group no such broker", doc(faults=["{at: 1s, action: split, groups: [[1], [2, 7]]}"]), 8,
     "faults[0].groups[1]", "broker 7 does not exist (brokers: 1, 2, 3)"),
    ("groups overlap", doc(faults=["{at: 1s, action: split, groups: [[1, 2], [2, 3]]}"]), 8, "faults[0].groups[1]",
     "broker 2 is already in faults[0].groups[0] (groups must not overlap)"),
    ("shape", doc(faults=["{at: 1s, action: split, shape: half}"]), 8, "faults[0].shape",
     "'half' is not a shape (allowed: majority, minority)"),
    ("shape one broker", doc(cluster="{bootstrap: 'h:1', containers: {1: a}}", topic="{replication_factor: 1}",
                             faults=["{at: 1s, action: split, shape: majority}"]), 8, "faults[0].shape",
     "a split needs at least 2 brokers (have 1)"),
    ("split without containers", doc(cluster="{bootstrap: 'h:1'}", faults=["{at: 1s, action: split, shape: minority}"]),
     8, "faults[0].action", "broker faults need cluster.containers (or hosts and commands)"),
    ("rolling-restart without containers", doc(cluster="{bootstrap: 'h:1'}",
                                               faults=["{every: 10s, action: rolling-restart}"]),
     8, "faults[0].action", "broker faults need cluster.containers"),
    ("isolate without containers", doc(cluster="{bootstrap: 'h:1'}", faults=[f"{{at: 1s, action: isolate, {NET}}}"]),
     8, "faults[0].target", "broker faults need cluster.containers"),
    ("isolate-replication broker", doc(faults=["{at: 1s, action: isolate-replication, target: broker(1)}"]), 8,
     "faults[0].target", "broker(1) is not a target of isolate-replication (allowed: leader(TOPIC,P))"),
    ("isolate-replication rf 1", doc(topic="{replication_factor: 1}",
                                     faults=["{at: 1s, action: isolate-replication, target: 'leader(chaos,0)'}"]),
     8, "faults[0].target", "leader(chaos,0): replication_factor 1 has no replication to cut"),
    ("loss without probability", doc(faults=[f"{{at: 1s, action: loss, {NET}}}"]), 8, "faults[0].probability",
     "required for loss (e.g. probability: 0.1)"),
    ("loss 0", doc(faults=[f"{{at: 1s, action: loss, {NET}, probability: 0}}"]), 8, "faults[0].probability",
     "0 is not a probability (allowed: 0.0001 <= p <= 1 in steps of 0.0001, e.g. 0.1; iptables is given 4 "
     "decimals)"),
    ("loss 1.5", doc(faults=[f"{{at: 1s, action: loss, {NET}, probability: 1.5}}"]), 8, "faults[0].probability",
     "1.5 is not a probability"),
    ("loss percent", doc(faults=[f"{{at: 1s, action: loss, {NET}, probability: 10%}}"]), 8, "faults[0].probability",
     "'10%' is not a probability"),
    ("loss bool", doc(faults=[f"{{at: 1s, action: loss, {NET}, probability: true}}"]), 8, "faults[0].probability",
     "True is not a probability"),
    ("bandwidth without rate", doc(faults=[f"{{at: 1s, action: bandwidth, {NET}}}"]), 8, "faults[0].rate",
     "required for bandwidth (e.g. rate: 1mbit)"),
    ("rate number", doc(faults=[f"{{at: 1s, action: bandwidth, {NET}, rate: 1000}}"]), 8, "faults[0].rate",
     "1000 is not a rate from 8kbit to 100gbit (e.g. 512kbit, 1mbit, 2gbit; below 8kbit one 1500-byte packet "
     "takes 1.5 s)"),
    ("rate unit", doc(faults=[f"{{at: 1s, action: bandwidth, {NET}, rate: 1mbps}}"]), 8, "faults[0].rate",
     "'1mbps' is not a rate"),
    ("rate zero", doc(faults=[f"{{at: 1s, action: bandwidth, {NET}, rate: 0kbit}}"]), 8, "faults[0].rate",
     "'0kbit' is not a rate from 8kbit to 100gbit"),
    ("delay without latency", doc(faults=[f"{{at: 1s, action: delay, {NET}}}"]), 8, "faults[0].latency",
     "required for delay (e.g. latency: 100ms)"),
    ("latency zero", doc(faults=[f"{{at: 1s, action: delay, {NET}, latency: 0ms}}"]), 8, "faults[0].latency",
     "0ms must be longer than 0"),
    ("latency_jitter", doc(faults=[f"{{at: 1s, action: delay, {NET}, latency: 1s, latency_jitter: -1ms}}"]), 8,
     "faults[0].latency_jitter", "'-1ms' is not a duration"),
    ("heal-network random", doc(faults=[f"{{at: 1s, action: heal-network, {NET}}}"]), 8, "faults[0].target",
     "random is not a target of heal-network (allowed: partitioned, broker(N), all)"),
    ("heal-network duration", doc(faults=["{at: 1s, action: heal-network, target: all, duration: 1s}"]), 8,
     "faults[0].duration", "heal-network heals; it takes no duration"),
    ("kill partitioned", doc(faults=["{at: 1s, action: kill, target: partitioned}"]), 8, "faults[0].target",
     "partitioned is not a target of kill"),
    ("crash coordinator", doc(faults=["{at: 1s, action: crash, target: 'coordinator(g)', duration: 1s}"]), 8,
     "faults[0].target", "coordinator(g) is not a target of crash"),
    ("coordinator without group", doc(faults=["{at: 1s, action: kill, target: 'coordinator()'}"]), 8,
     "faults[0].target", "'coordinator()' is not a target of kill"),
    ("unpause coordinator", doc(faults=["{at: 1s, action: unpause, target: 'coordinator(g)'}"]), 8,
     "faults[0].target", "coordinator(g) is not a target of unpause"),
]

NEM_KILL = "{action: kill, target: random, duration: 5s}"
NEMESIS_ERRORS = [
    ("not a mapping", doc(extra="nemesis: 5s"), 6, "nemesis", "must be a mapping, not '5s'"),
    ("unknown key", doc(extra=f"nemesis: {{intervall: 5s, faults: [{NEM_KILL}]}}"), 6, "nemesis.intervall",
     "unknown key (did you mean interval? known: start, interval, jitter, recovery, faults)"),
    ("no interval", doc(extra=f"nemesis: {{faults: [{NEM_KILL}]}}"), 6, "nemesis.interval", "required"),
    ("no faults", doc(extra="nemesis: {interval: 5s}"), 6, "nemesis.faults", "required"),
    ("empty faults", doc(extra="nemesis: {interval: 5s, faults: []}"), 6, "nemesis.faults",
     "is empty (e.g. - {action: kill, target: random, duration: 5s})"),
    ("faults mapping", doc(extra=f"nemesis: {{interval: 5s, faults: {NEM_KILL}}}"), 6, "nemesis.faults",
     "must be a list, not a mapping"),
    ("interval zero", doc(extra=f"nemesis: {{interval: 0s, faults: [{NEM_KILL}]}}"), 6, "nemesis.interval",
     "0s must be longer than 0"),
    ("start past the end", doc(extra=f"nemesis: {{start: 1m, interval: 5s, faults: [{NEM_KILL}]}}"), 6,
     "nemesis.start", "60s is not before the end of the run (allowed: 0 <= start < duration 60s)"),
    ("jitter above interval", doc(extra=f"nemesis: {{interval: 5s, jitter: 6s, faults: [{NEM_KILL}]}}"), 6,
     "nemesis.jitter", "6s is more than interval 5s (allowed: 0 <= jitter <= interval)"),
    ("recovery", doc(extra=f"nemesis: {{interval: 5s, recovery: later, faults: [{NEM_KILL}]}}"), 6,
     "nemesis.recovery", "'later' is not a duration"),
    ("fault at", doc(extra="nemesis: {interval: 5s, faults: [{at: 1s, action: kill, target: random, duration: 1s}]}"),
     6, "nemesis.faults[0].at", "unknown key in a nemesis fault (the nemesis decides when; known: action, target, "
     "duration)"),
    ("fault every", doc(extra="nemesis: {interval: 5s, faults: [{action: loss, target: all, duration: 1s, "
                              "probability: 0.5, every: 2s}]}"),
     6, "nemesis.faults[0].every", "known: action, target, duration, probability)"),
    ("fault without duration", doc(extra="nemesis: {interval: 5s, faults: [{action: kill, target: random}]}"), 6,
     "nemesis.faults[0].duration", "required in a nemesis fault"),
    ("crash without duration", doc(extra="nemesis: {interval: 5s, faults: [{action: crash, target: consumer}]}"), 6,
     "nemesis.faults[0].duration", "required for crash"),
    ("healer", doc(extra="nemesis: {interval: 5s, faults: [{action: start, target: killed}]}"), 6,
     "nemesis.faults[0].action", "start is not a nemesis fault (the nemesis heals each fault itself; allowed: pause, "
     "kill, stop, restart, crash, isolate,"),
    ("rolling-restart", doc(extra="nemesis: {interval: 5s, faults: [{action: rolling-restart}]}"), 6,
     "nemesis.faults[0].action", "rolling-restart is not a nemesis fault"),
    ("fault target", doc(extra="nemesis: {interval: 5s, faults: [{action: kill, target: broker(9), duration: 1s}]}"),
     6, "nemesis.faults[0].target", "broker(9) does not exist (brokers: 1, 2, 3)"),
]

CMD = "{bootstrap: 'h:1', hosts: {1: a, 2: b, 3: c}, commands: %s}"
KILL_START = "{kill: [ssh, '{host}', kill], start: [ssh, '{host}', start]}"
COMMAND_ERRORS = [
    ("with compose", doc(cluster=f"{{compose: compose.yml, commands: {KILL_START}}}"), 2, "cluster.commands",
     "only with bootstrap, not with compose"),
    ("hosts with compose", doc(cluster="{compose: compose.yml, hosts: {1: a}}"), 2, "cluster.hosts",
     "only with bootstrap, not with compose"),
    ("hosts without commands", doc(cluster="{bootstrap: 'h:1', hosts: {1: a}}"), 2, "cluster.hosts",
     "only with commands"),
    ("no hosts", doc(cluster=f"{{bootstrap: 'h:1', commands: {KILL_START}}}"), 2, "cluster.hosts",
     "required with commands (e.g. {1: host-a, 2: host-b})"),
    ("containers", doc(cluster=f"{{bootstrap: 'h:1', containers: {{1: a}}, hosts: {{1: a}}, commands: {KILL_START}}}"),
     2, "cluster.containers", "not with commands (with commands the brokers are cluster.hosts)"),
    ("hosts key", doc(cluster=CMD.replace("1: a", "x: a") % KILL_START), 2, "cluster.hosts.x",
     "keys are broker ids (integers 0..2147483647, Kafka's node.id), e.g. {1: host-a}"),
    ("hosts value", doc(cluster=CMD.replace("1: a", "1: [a]") % KILL_START), 2, "cluster.hosts.1",
     "must be a host name, e.g. {1: host-a}"),
    ("hosts empty", doc(cluster=CMD.replace("{1: a, 2: b, 3: c}", "{}") % KILL_START), 2, "cluster.hosts",
     "is empty (e.g. {1: host-a, 2: host-b})"),
    ("unknown command", doc(cluster=CMD % "{kil: [x]}"), 2, "cluster.commands.kil",
     "unknown key (did you mean kill? known: pause, unpause, kill, stop, start, restart)"),
    ("no commands", doc(cluster=CMD % "{}"), 2, "cluster.commands", "is empty"),
    ("command string", doc(cluster=CMD % "{kill: 'ssh a kill'}"), 2, "cluster.commands.kill",
     "must be a non-empty list of at most 64 strings, not 'ssh a kill'"),
    ("command empty", doc(cluster=CMD % "{kill: []}"), 2, "cluster.commands.kill", "must be a non-empty list"),
    ("command number", doc(cluster=CMD % "{kill: [kill, -9, '{host}']}"), 2, "cluster.commands.kill[1]",
     "must be a string, not -9 (quote numbers, e.g. \"-9\")"),
    ("command nested", doc(cluster=CMD % "{kill: [[ssh]]}"), 2, "cluster.commands.kill[0]",
     "must be a string, not a list"),
    ("placeholder", doc(cluster=CMD % "{kill: [ssh, '{hots}', kill]}"), 2, "cluster.commands.kill[1]",
     "unknown placeholder {hots} (did you mean {host}? allowed: {host}, {broker})"),
    ("placeholder inside", doc(cluster=CMD % "{start: [ssh, '{host}', 'start kafka@{id}']}"), 2,
     "cluster.commands.start[2]", "unknown placeholder {id} (allowed: {host}, {broker})"),
    ("no such broker", doc(cluster=CMD % KILL_START, faults=["{at: 1s, action: kill, target: broker(4)}"]), 8,
     "faults[0].target", "broker(4) does not exist (brokers: 1, 2, 3)"),
    ("missing command", doc(cluster=CMD % "{pause: [a], unpause: [b]}", faults=[f"{{at: 1s, {KILL}}}"]), 8,
     "faults[0].action", "kill has no command in cluster.commands (have: pause, unpause)"),
    ("kill duration without start", doc(cluster=CMD % "{kill: [a]}", faults=[f"{{at: 1s, {KILL}, duration: 2s}}"]),
     8, "faults[0].duration", "kill heals with start, which has no command in cluster.commands (have: kill)"),
    ("pause duration without unpause", doc(cluster=CMD % "{pause: [a]}",
                                           faults=["{at: 1s, action: pause, target: all, duration: 2s}"]),
     8, "faults[0].duration", "pause heals with unpause, which has no command"),
    ("start without start", doc(cluster=CMD % "{kill: [a]}", faults=["{at: 1s, action: start, target: killed}"]), 8,
     "faults[0].action", "start has no command in cluster.commands (have: kill)"),
    ("restart", doc(cluster=CMD % KILL_START, faults=["{at: 1s, action: restart, target: random}"]), 8,
     "faults[0].action", "restart has no command in cluster.commands (give restart, or stop and start; "
     "have: kill, start)"),
    ("network", doc(cluster=CMD % KILL_START, faults=[f"{{at: 1s, action: isolate, {NET}}}"]), 8, "faults[0].action",
     "isolate: network faults need Docker containers, not cluster.commands"),
    ("heal-network", doc(cluster=CMD % KILL_START, faults=["{at: 1s, action: heal-network, target: all}"]), 8,
     "faults[0].action", "heal-network: network faults need Docker containers"),
    ("rolling-restart", doc(cluster=CMD % KILL_START, faults=["{every: 9s, action: rolling-restart}"]), 8,
     "faults[0].action", "rolling-restart needs Docker containers, not cluster.commands"),
    ("nemesis fault", doc(cluster=CMD % "{kill: [a]}", extra=f"nemesis: {{interval: 5s, faults: [{NEM_KILL}]}}"), 6,
     "nemesis.faults[0].duration", "kill heals with start, which has no command in cluster.commands (have: kill)"),
]


@pytest.mark.parametrize("text, line, field, fragment",
                         [pytest.param(*case[1:], id=case[0])
                          for case in TOP + CLUSTER + TOPIC + PRODUCER + CONSUMER + FAULTS + EXPECT
                          + NETWORK + NEMESIS_ERRORS + COMMAND_ERRORS])
def test_error(where, text, line, field, fragment):
    message = error(where, text)
    assert message.startswith(f"{line}: {field}: "), message
    assert fragment in message, message


def test_setting_error_points_at_its_own_line(where):
    text = textwrap.dedent("""\
        duration: 60s
        cluster: {compose: compose.yml}
        producer:
          semantic: idempotent
          config:
            linger.ms: 5
            enable.idempotence: "false"
        consumer: {mode: auto-commit}
        """)
    assert error(where, text) == ("7: producer.config.enable.idempotence: false contradicts semantic "
                                  "idempotent (remove it)")


def test_readme_message_format(where):
    text = doc(faults=["{at: 1s, action: kill, target: random}"] * 2 + ["{at: 1s, action: kill, target: broker(7)}"])
    assert error(where, text) == "10: faults[2].target: broker(7) does not exist (brokers: 1, 2, 3)"



def test_nemesis_error_points_at_the_key_line(where):
    text = NEMESIS.replace("    - {action: split, shape: majority, duration: 4s}\n",
                           "    - action: isolate\n      target: random\n      rate: 1mbit\n      duration: 2s\n")
    assert error(where, text) == ("15: nemesis.faults[2].rate: unknown key for isolate (rate is for bandwidth; "
                                  "known: action, target, duration, direction)")

def test_unreadable_file(tmp_path):
    with pytest.raises(ScenarioError, match=r"missing\.yaml: cannot read the scenario \(No such file"):
        load(tmp_path / "missing.yaml")


def test_loads_names_string_input():
    with pytest.raises(ScenarioError, match=r"^<string>:1: duration: required"):
        loads("cluster: {bootstrap: 'h:1'}\nproducer: {semantic: idempotent}\nconsumer: {mode: auto-commit}\n")


# -- never a traceback ----------------------------------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 70), st.sampled_from(
    ["10s", "1ms", "all", "random", "broker(1)", "leader(chaos,0)", "compose.yml", "idempotent", "kill",
     "crash", "consumer", "auto-commit", "any", "h:1", "x", "isolate", "split", "loss", "delay", "majority",
     "coordinator(g)", "partitioned", "{host}", "{x}", "1mbit", "0.5"]))
_keys = st.sampled_from(["duration", "cluster", "compose", "bootstrap", "containers", "topic", "producer",
                         "semantic", "consumer", "mode", "faults", "at", "every", "action", "target", "expect",
                         "config", "acks", "lost", 1, "nemesis", "interval", "hosts", "commands", "groups",
                         "shape", "direction", "probability", "rate", "latency"])
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
                       max_leaves=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(_keys, _values, max_size=6) | _values)
def test_any_document_gives_a_scenario_or_a_scenario_error(where, data):
    try:
        loads(yaml.safe_dump(data), str(where / "s.yaml"))
    except ScenarioError as e:
        assert "\n" not in str(e)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="ab:-[]{}&*!?|>'\"#\n\t 1s,", max_size=40))
def test_any_text_gives_a_scenario_or_a_scenario_error(text):
    try:
        loads(text)
    except ScenarioError as e:
        assert "\n" not in str(e)


# -- inputs that cannot hurt: bounded files, YAML, strings and numbers -----------------------------

BILLION_LAUGHS = "".join(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}" if i else '"lol"'] * 9)
                         + "]\n" for i in range(9))


def quick(where, text, seconds=10.0) -> str:
    """The error of `text`, which must come within `seconds`: far above the milliseconds it takes, so a loaded
    machine never fails it, and far below what an unbounded expansion (minutes, or memory) would take."""
    start = time.monotonic()
    message = error(where, text)
    assert time.monotonic() - start < seconds, message
    return message


def test_a_billion_laughs_is_refused_at_once(where):
    message = quick(where, BILLION_LAUGHS + doc())
    assert message.startswith("5: yaml: more than 10000 values (an alias counts as every value it repeats)")


def test_an_alias_bomb_inside_a_known_field_is_refused_at_once(where):
    text = BILLION_LAUGHS.replace("a: &a", "description: &a", 1)
    assert quick(where, text + doc()).startswith("5: yaml: more than 10000 values")


def test_a_document_that_contains_itself_is_refused(where):
    assert quick(where, doc(extra="x: &a [1, *a]")) == "6: yaml: alias *a is inside its own anchor " \
                                                       "(a document that contains itself)"


def test_deep_nesting_is_refused(where):
    assert quick(where, doc(extra="description: " + "[" * 200 + "]" * 200)).startswith(
        "6: yaml: nested more than 32 levels deep")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    import os
    import threading
    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(pytest.raises(ScenarioError, load, fifo)), daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():   # today's code blocks in open(): release it before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("load() blocked on a FIFO")
    assert str(outcome[0].value) == f"{fifo}: cannot read the scenario (a FIFO, not a regular file)"


@pytest.mark.parametrize("path, kind", [("/dev/zero", "a device"), ("/tmp", "a directory")])
def test_a_device_or_directory_is_refused_before_it_is_read(path, kind):
    import resource
    import subprocess
    import sys
    code = ("from kafka_chaos import scenario\ntry:\n    scenario.load(%r)\nexcept scenario.ScenarioError as e:\n"
            "    print(e)" % path)
    limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))   # noqa: E731 - reading /dev/zero
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, preexec_fn=limit)
    assert done.stdout == f"{path}: cannot read the scenario ({kind}, not a regular file)\n", done.stderr[-300:]


def test_a_large_file_is_refused_from_its_size(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("".join(f"k{i}: {i}\n" for i in range(200_000)))   # 3 MB: 55 s and 1.2 GB before
    start = time.monotonic()
    with pytest.raises(ScenarioError, match=r"big\.yaml: cannot read the scenario \(\d+ bytes \(allowed: at most "
                                            r"262144\)\)"):
        load(path)
    assert time.monotonic() - start < 5   # 55 s before the size bound; margin for a loaded machine


def test_many_keys_below_the_size_bound_stop_at_the_node_bound(where):
    text = doc() + "".join(f"k{i}: {i}\n" for i in range(20_000))   # ~200 KiB
    assert quick(where, text).endswith("yaml: more than 10000 values (an alias counts as every value it repeats)")


def test_text_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"duration: 1s\nname: caf\xe9\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml: cannot read the scenario \(not UTF-8 text \(line 2\)\)"):
        load(path)


def test_a_path_too_long_for_the_file_system_is_exit_2(tmp_path):
    with pytest.raises(ScenarioError, match=r"cannot read the scenario \(File name too long\)"):
        load(tmp_path / ("a" * 300 + ".yaml"))


def test_a_long_name_is_refused_quickly(where):
    message = quick(where, doc(extra="name: " + "a" * 100_000))
    assert message == ("6: name: is 100000 characters long (allowed: at most 200; the run directory is "
                       "<YYYYmmdd-HHMMSS>-<name>)")


def test_long_strings_never_reach_difflib_or_messages_whole(where):
    message = quick(where, doc(extra="? " + "x" * 60_000 + "\n: 1"))
    assert len(message) < 400 and "unknown key (known: name," in message


@pytest.mark.parametrize("text, line, field, fragment", [
    pytest.param(doc(extra="seed: " + "1" * 5000), 6, "yaml", "an integer of 5000 characters is too large", id="seed"),
    pytest.param(doc(cluster="{bootstrap: 'h:1', containers: {'²': kafka-1}}"), 2, "cluster.containers.'²'",
                 "keys are broker ids (integers 0..2147483647", id="superscript container id"),
    pytest.param(doc(cluster="{bootstrap: 'h:1', hosts: {'٣': a}, commands: {kill: [x]}}"), 2, "cluster.hosts.'٣'",
                 "keys are broker ids", id="arabic-indic host id"),
    pytest.param(doc(cluster="\n  bootstrap: 'h:1'\n  containers:\n    ? '" + "1" * 5000 + "'\n    : kafka-1"), 5,
                 "cluster.containers.'1111", "keys are broker ids", id="5000-digit container id"),
    pytest.param(doc(cluster="{bootstrap: 'h:²'}"), 2, "cluster.bootstrap", "'h:²' is not HOST:PORT", id="port"),
    pytest.param(doc(cluster="{bootstrap: 'h:99999'}"), 2, "cluster.bootstrap", "'h:99999' is not HOST:PORT",
                 id="port range"),
    pytest.param(doc(faults=["{at: 1s, action: kill, target: 'broker(" + "9" * 5000 + ")'}"]), 8, "faults[0].target",
                 "is not a target of kill", id="5000-digit broker"),
    pytest.param(doc(faults=["{at: 1s, action: kill, target: 'broker(²)'}"]), 8, "faults[0].target",
                 "'broker(²)' is not a target of kill", id="superscript broker"),
    pytest.param(doc(faults=["{at: 1s, action: kill, target: 'leader(chaos,٣)'}"]), 8, "faults[0].target",
                 "is not a target of kill", id="arabic-indic partition"),
    pytest.param(doc(producer="{semantic: no-guarantee, config: {api_version: '3.²'}}"), 4,
                 "producer.config.api_version", "'3.²' is not a version", id="superscript api_version"),
    pytest.param(doc(producer="{semantic: no-guarantee, config: {linger_ms: '" + "9" * 5000 + "'}}"), 4,
                 "producer.config.linger_ms", "is not a number", id="5000-digit setting"),
    pytest.param(doc(cluster="{compose: " + "a" * 300 + ".yml}"), 2, "cluster.compose",
                 "cannot be looked up (File name too long)", id="300-character compose path"),
    pytest.param(doc(duration="1.0e+400"), 1, "duration", "inf is not a duration", id="infinite duration"),
    pytest.param(doc(duration="'1e400s'"), 1, "duration", "'1e400s' is not a duration", id="1e400s"),
    pytest.param(doc(duration="9" * 400 + "s"), 1, "duration", "is not a duration", id="400-digit duration"),
])
def test_input_that_crashed_validation_is_exit_2(where, text, line, field, fragment):
    message = quick(where, text)
    assert message.startswith(f"{line}: {field}"), message
    assert fragment in message, message


BOUNDS = [
    ("partitions", doc(topic="{partitions: 10001}"), 3, "topic.partitions",
     "10001 is more than 10000 (allowed: 1..10000, kchaos's bound for a test topic)"),
    ("replication_factor", doc(cluster="{bootstrap: 'h:1'}", topic="{replication_factor: 40000}"), 3,
     "topic.replication_factor", "40000 is more than 32767 (allowed: 1..32767, Kafka's 16-bit replication factor)"),
    ("value_size", doc(producer="{semantic: idempotent, value_size: 1000001}"), 4, "producer.value_size",
     "1000001 is more than 1000000 (allowed: 1..1000000 bytes: a record must fit Kafka's default "
     "max.message.bytes, 1048588)"),
    ("count", doc(producer="{semantic: idempotent, count: 1000000001}"), 4, "producer.count",
     "1000000001 is more than 1000000000"),
    ("rate", doc(producer="{semantic: idempotent, rate: 1000001}"), 4, "producer.rate",
     "1000001 is more than 1000000 (allowed: 0 < value <= 1000000 records/s)"),
    ("duration", doc(duration="25h"), 1, "duration", "25h is longer than 24h (allowed: at most 24h)"),
    ("drain_timeout", doc(extra="drain_timeout: 2h"), 6, "drain_timeout", "2h is longer than 1h"),
    ("process_time", doc(consumer="{mode: auto-commit, process_time: 2m}"), 5, "consumer.process_time",
     "2m is longer than 1m (allowed: at most 1m per record)"),
    ("seed", doc(extra=f"seed: {2**63}"), 6, "seed", "9223372036854775808 is more than 9223372036854775807"),
    ("expect", doc(extra=f"expect: {{lost: {2**63}}}"), 6, "expect.lost", "is not an expectation"),
    ("every 1ms", doc(faults=["{every: 1ms, action: kill, target: random}"]), 8, "faults[0].every",
     "1ms is shorter than 100ms (allowed: at least 100ms)"),
    ("planned actions", doc(duration="24h", faults=["{every: 100ms, action: kill, target: random}"]), 8,
     "faults[0].every", "the faults so far plan 863999 actions within duration 86400s, heals included (allowed: at "
     "most 10000 per run; give count, or a longer every)"),
    ("planned with heals", doc(duration="2000s", faults=["{every: 1s, action: pause, target: all, duration: 1s}",
                                                         "{every: 1s, action: kill, target: random, duration: 1s}",
                                                         "{every: 1s, action: stop, target: random, duration: 1s}"]),
     10, "faults[2].every", "the faults so far plan 11994 actions"),
    ("nemesis actions", doc(duration="24h", extra="nemesis: {interval: 100ms, faults: [{action: kill, target: random, "
                                                  "duration: 1ms}]}"), 6, "nemesis.interval",
     "the nemesis may plan up to 1728002 actions within duration 86400s, heals included, and the faults 0"),
    ("nemesis interval", doc(extra="nemesis: {interval: 10ms, faults: [{action: kill, target: random, "
                                   "duration: 1s}]}"), 6, "nemesis.interval", "10ms is shorter than 100ms"),
    ("count", doc(faults=["{every: 1s, count: 10001, action: kill, target: random}"]), 8, "faults[0].count",
     "10001 is more than 10000"),
    ("jitter above every", doc(faults=["{every: 1s, jitter: 2s, action: kill, target: random}"]), 8, "faults[0].jitter",
     "2s is more than every 1s (allowed: 0 <= jitter <= every)"),
    ("fault duration", doc(faults=["{at: 1s, action: kill, target: random, duration: 25h}"]), 8, "faults[0].duration",
     "25h is longer than 24h"),
    ("latency below 1ms", doc(faults=["{at: 1s, action: delay, target: all, latency: 0.5ms}"]), 8, "faults[0].latency",
     "0.5ms is shorter than 1ms (allowed: at least 1ms)"),
    ("latency above 60s", doc(faults=["{at: 1s, action: delay, target: all, latency: 61s}"]), 8, "faults[0].latency",
     "61s is longer than 1m"),
    ("latency_jitter above latency", doc(faults=["{at: 1s, action: delay, target: all, latency: 1ms, "
                                                 "latency_jitter: 2ms}"]), 8, "faults[0].latency_jitter",
     "2ms is longer than 1ms (allowed: at most 1ms, the latency)"),
    ("loss below iptables' 4 decimals", doc(faults=["{at: 1s, action: loss, target: all, probability: 0.00004}"]), 8,
     "faults[0].probability", "4e-05 is not a probability (allowed: 0.0001 <= p <= 1 in steps of 0.0001"),
    ("loss with 5 decimals", doc(faults=["{at: 1s, action: loss, target: all, probability: 0.12345}"]), 8,
     "faults[0].probability", "0.12345 is not a probability"),
    ("bandwidth below 8kbit", doc(faults=["{at: 1s, action: bandwidth, target: all, rate: 0.0000001bit}"]), 8,
     "faults[0].rate", "'0.0000001bit' is not a rate from 8kbit to 100gbit"),
    ("bandwidth 7999bit", doc(faults=["{at: 1s, action: bandwidth, target: all, rate: 7999bit}"]), 8, "faults[0].rate",
     "'7999bit' is not a rate from 8kbit"),
    ("bandwidth above 100gbit", doc(faults=["{at: 1s, action: bandwidth, target: all, rate: 101gbit}"]), 8,
     "faults[0].rate", "'101gbit' is not a rate"),
    ("retries -1", doc(producer="{semantic: at-least-once, config: {retries: -1}}"), 4, "producer.config.retries",
     "-1 is out of range (allowed: a whole number in 0..2147483647, Java's int)"),
    ("retries absurd", doc(producer="{semantic: at-least-once, config: {retries: 1e300}}"), 4,
     "producer.config.retries", "is out of range"),
    ("in flight 0", doc(producer="{semantic: no-guarantee, config: {max.in.flight.requests.per.connection: 0}}"), 4,
     "producer.config.max.in.flight.requests.per.connection", "0 is out of range (allowed: a whole number in "
                                                              "1..2147483647"),
    ("max_poll_records 0", doc(consumer="{mode: auto-commit, config: {max_poll_records: 0}}"), 5,
     "consumer.config.max_poll_records", "0 is out of range"),
    ("linger 0.5", doc(producer="{semantic: no-guarantee, config: {linger_ms: 0.5}}"), 4, "producer.config.linger_ms",
     "0.5 is out of range (allowed: a whole number"),
    ("client_id control", doc(producer="{semantic: no-guarantee, config: {client_id: \"a\\nb\"}}"), 4,
     "producer.config.client_id", "without control characters"),
]
NAMES = [
    ("topic name", doc(topic="{name: 'a b'}"), 3, "topic.name", "'a b' is not a Kafka topic name (letters, digits, . _ -)"),
    ("topic ..", doc(topic="{name: '..'}"), 3, "topic.name", "'..' is not a Kafka topic name (Kafka refuses . and ..)"),
    ("topic length", doc(topic="{name: " + "t" * 201 + "}"), 3, "topic.name",
     "is 201 characters long (allowed: at most 200; Kafka allows 249 and kchaos appends -<run stamp>-<run id>)"),
    ("topic config key", doc(topic="{config: {min.insync.replica: 2}}"), 3, "topic.config.min.insync.replica",
     "not a Kafka topic config (did you mean min.insync.replicas? known: cleanup.policy,"),
    ("cleanup.policy", doc(topic="{config: {cleanup.policy: deleet}}"), 3, "topic.config.cleanup.policy",
     "'deleet' is not a comma-separated list of delete, compact"),
    ("retention.ms", doc(topic="{config: {retention.ms: forever}}"), 3, "topic.config.retention.ms",
     "'forever' is not an integer >= -1 (Kafka's range for retention.ms)"),
    ("min.insync.replicas 0", doc(topic="{config: {min.insync.replicas: 0}}"), 3,
     "topic.config.min.insync.replicas", "'0' is not an integer in 1..2147483647"),
    ("min.insync.replicas above rf", doc(topic="{config: {min.insync.replicas: 4}}"), 3,
     "topic.config.min.insync.replicas", "4 is more than replication_factor 3 (allowed: 1..3; above it every acks=all "
                                         "send fails)"),
    ("unclean", doc(topic="{config: {unclean.leader.election.enable: maybe}}"), 3,
     "topic.config.unclean.leader.election.enable", "'maybe' is not a boolean (allowed: true, false)"),
    ("segment.bytes", doc(topic="{config: {segment.bytes: 100}}"), 3, "topic.config.segment.bytes",
     "'100' is not an integer in 1048576..2147483647"),
    ("timestamp type", doc(topic="{config: {message.timestamp.type: createtime}}"), 3,
     "topic.config.message.timestamp.type", "is not one of CreateTime, LogAppendTime"),
    ("dirty ratio", doc(topic="{config: {min.cleanable.dirty.ratio: 1.5}}"), 3, "topic.config.min.cleanable.dirty.ratio",
     "'1.5' is not a ratio"),
    ("name length", doc(extra="name: " + "n" * 201), 6, "name", "is 201 characters long (allowed: at most 200"),
    ("description control", doc(extra="description: \"a\\x1b[31mb\""), 6, "description",
     "contains the control character '\\x1b'"),
    ("description length", doc(extra="description: " + "d" * 5000), 6, "description", "is 5000 characters long"),
    ("host option", doc(cluster="{bootstrap: 'h:1', hosts: {1: '-oProxyCommand=touch /tmp/x'}, commands: {kill: "
                                "[ssh, '{host}']}}"), 2, "cluster.hosts.1",
     "'-oProxyCommand=touch /tmp/x' is not a host name (letters, digits, . _ - : @ [ ], not starting with -"),
    ("host space", doc(cluster="{bootstrap: 'h:1', hosts: {1: 'a b'}, commands: {kill: [ssh, '{host}']}}"), 2,
     "cluster.hosts.1", "'a b' is not a host name"),
    ("host length", doc(cluster="{bootstrap: 'h:1', hosts: {1: " + "h" * 254 + "}, commands: {kill: [x]}}"), 2,
     "cluster.hosts.1", "is not a host name"),
    ("container option", doc(cluster="{bootstrap: 'h:1', containers: {1: '--privileged'}}"), 2, "cluster.containers.1",
     "'--privileged' is not a container name (Docker's names"),
    ("container twice", doc(cluster="{bootstrap: 'h:1', containers: {1: kafka-1, 2: kafka-1}}"), 2,
     "cluster.containers.2", "kafka-1 is already another broker's container"),
    ("bootstrap host", doc(cluster="{bootstrap: '-x:1'}"), 2, "cluster.bootstrap", "'-x:1' is not HOST:PORT"),
    ("broker_config key", doc(cluster="{compose: compose.yml, broker_config: {KAFKA_LOG_RETENTION_HOURS: 1}}"), 2,
     "cluster.broker_config.KAFKA_LOG_RETENTION_HOURS", "not a Kafka config name (lowercase words joined by dots"),
    ("broker_config newline", doc(cluster="{compose: compose.yml, broker_config: {a.b: \"x\\nKAFKA_Y=1\"}}"), 2,
     "cluster.broker_config.a.b", "a value is at most 4096 characters without control characters"),
    ("command NUL", doc(cluster="{bootstrap: 'h:1', hosts: {1: a}, commands: {kill: [ssh, \"a\\0b\"]}}"), 2,
     "cluster.commands.kill[1]", "an argument is at most 4096 characters, without NUL"),
    ("command words", doc(cluster="{bootstrap: 'h:1', hosts: {1: a}, commands: {kill: [" + "x, " * 65 + "]}}"), 2,
     "cluster.commands.kill", "must be a non-empty list of at most 64 strings"),
    ("compose label", doc(cluster="{compose: superscript.yml}"), 2, "cluster.compose",
     "service 'kafka-1' in superscript.yml has kchaos.broker.id='²' (needs a unique integer broker id"),
]


@pytest.mark.parametrize("text, line, field, fragment", [pytest.param(*case[1:], id=case[0]) for case in BOUNDS + NAMES])
def test_nonsense_is_refused_with_its_bound(where, text, line, field, fragment):
    (where / "superscript.yml").write_text("services: {kafka-1: {labels: {kchaos.broker.id: '²'}}}\n")
    message = quick(where, text)
    assert message.startswith(f"{line}: {field}: "), message
    assert fragment in message, message


def test_expect_keys_are_the_verifiers_counts(where):
    from kafka_chaos import counts
    text = doc(extra="expect: {" + ", ".join(f"{k}: any" for k in counts.COUNT_NAMES) + "}")
    assert list(loads(text, str(where / "s.yaml")).expect) == list(counts.COUNT_NAMES)
    assert error(where, doc(extra="expect: {lots: 0}")).endswith(
        f"(did you mean lost? known: {', '.join(counts.COUNT_NAMES)})")


@pytest.mark.parametrize("extra", ["name: " + "n" * 200, "description: " + "d" * 4096, "seed: 9223372036854775807"])
def test_values_at_their_bound_are_accepted(where, extra):
    loads(doc(extra=extra, topic="{name: " + "t" * 200 + ", partitions: 10000, config: {segment.bytes: 1048576, "
                                "min.insync.replicas: 3, cleanup.policy: 'compact,delete', retention.ms: -1}}",
              producer="{semantic: idempotent, rate: 1000000, value_size: 1000000}",
              faults=["{at: 1s, action: loss, target: all, probability: 0.0001}",
                      "{every: 100ms, count: 5, action: delay, target: all, latency: 1ms, latency_jitter: 1ms}",
                      "{at: 2s, action: bandwidth, target: all, rate: 8kbit}"]), str(where / "s.yaml"))


def test_a_hostile_bootstrap_host_list_round_trips_only_when_valid(where):
    s = loads(doc(cluster="{bootstrap: ' [::1]:9092, user@kafka-a.example:19092 ,10.0.0.1:1'}"), str(where / "s.yaml"))
    assert s.cluster.bootstrap == "[::1]:9092,user@kafka-a.example:19092,10.0.0.1:1"


# -- from_dict: a run directory's scenario.json is untrusted ----------------------------------------

SHIPPED = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_round_trips_through_scenario_json(path):
    s = load(path)
    assert sc.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_round_trip_keeps_client_settings_that_json_turns_into_lists(where):
    s = loads(doc(producer="{semantic: no-guarantee, config: {api_version: '3.9', client_id: x}}",
                  consumer="{mode: auto-commit, config: {max_poll_records: 7}}"), str(where / "s.yaml"))
    assert sc.from_dict(json.loads(json.dumps(s.to_dict())), "x/scenario.json") == s


def recorded(where, **changes):
    data = json.loads(json.dumps(loads(doc(cluster="{bootstrap: 'h:1', hosts: {1: a, 2: b, 3: c}, commands: "
                                                   "{kill: [ssh, '{host}', kill], start: [ssh, '{host}', start]}}",
                                           faults=["{at: 1s, action: kill, target: random, duration: 2s}"]),
                                       str(where / "s.yaml")).to_dict()))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = data
        for p in parents:
            target = target[int(p)] if isinstance(target, list) else target[p]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return data


@pytest.mark.parametrize("changes, field, fragment", [
    ({"cluster": []}, "cluster", "must be a mapping, not a list"),
    ({"cluster__hosts": {"1": "-oProxyCommand=x"}, "cluster__broker_ids": [1]}, "cluster.hosts.1",
     "'-oProxyCommand=x' is not a host name"),
    ({"cluster__commands": {"kill": ["sh", "-c", "{cmd}"]}}, "cluster.commands.kill[2]", "unknown placeholder {cmd}"),
    ({"cluster__broker_ids": [1, 2]}, "cluster.broker_ids", "[1, 2] are not the brokers of containers or hosts"),
    ({"name": "../../etc"}, "name", "'../../etc' is not a name"),
    ({"topic__name": "a/b"}, "topic.name", "'a/b' is not a Kafka topic name"),
    ({"topic__partitions": "3"}, "topic.partitions", "must be an integer >= 1, not '3'"),
    ({"duration": float("inf")}, "duration", "inf is not a duration"),
    ({"seed": 10**5000}, "seed", "not '<an integer of 16610 bits>'"),
    ({"faults": "x"}, "faults", "must be a list"),
    ({"faults__0__target": "broker(9)"}, "faults[0].target", "broker(9) does not exist (brokers: 1, 2, 3)"),
    ({"faults__0__line": KeyError}, "faults[0].line", "required"),
    ({"faults__0__line": -1}, "faults[0].line", "must be an integer >= 0"),
    ({"faults__0__bogus": 1}, "faults[0].bogus", "unknown key"),
    ({"expect__bogus": 1}, "expect.bogus", "unknown key"),
    ({"consumer__config": {"enable_auto_commit": True}}, "consumer.config.enable_auto_commit",
     "kchaos sets enable_auto_commit itself"),
    ({"path": "a\0b"}, "path", "contains the control character '\\x00'"),
    ({"extra": 1}, "extra", "unknown key"),
    ({"description": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}, "scenario",
     "more than 10000 values or 32 levels of nesting"),
])
def test_a_wrongly_shaped_scenario_json_is_a_scenario_error_naming_file_and_field(where, changes, field, fragment):
    with pytest.raises(ScenarioError) as e:
        sc.from_dict(recorded(where, **changes), where / "run" / "scenario.json")
    assert str(e.value).startswith(f"{where / 'run' / 'scenario.json'}: {field}: "), str(e.value)
    assert fragment in str(e.value)


@pytest.mark.parametrize("data, message", [
    ([], "scenario.json: scenario: must be a JSON object (the scenario kchaos wrote), not a list"),
    ({"name": "x"}, "scenario.json: description: missing, so not a scenario kchaos wrote"),
])
def test_from_dict_of_something_else_is_refused(data, message):
    with pytest.raises(ScenarioError, match="^" + re.escape(message)):
        sc.from_dict(data)


@pytest.mark.parametrize("spec, fragment", [
    ({"x": 1}, "fault.x: unknown key"),
    ({"action": "kill", "target": "all", "at": 1.0, "line": 1, "duration": -1}, "fault.duration: -1 is not a duration"),
    ({"action": "loss", "target": "all", "at": 1.0, "line": 1, "probability": 0.00001}, "fault.probability:"),
    ({"action": "crash", "target": "broker(1)", "at": 1.0, "line": 1, "duration": 1.0}, "fault.target:"),
    ([1], "fault: must be a JSON object"),
])
def test_fault_from_dict_checks_a_timeline_spec(spec, fragment):
    with pytest.raises(ScenarioError) as e:
        sc.fault_from_dict(spec)
    assert str(e.value).startswith(fragment), str(e.value)


# -- the transactional producer -------------------------------------------------------------------

def test_transactional_producer_takes_transaction_defaults(where):
    s = loads(doc(producer="{semantic: transactional}", consumer="{mode: read-committed}"), str(where / "s.yaml"))
    assert (s.producer.txn_size, s.producer.abort_ratio, s.producer.transaction_timeout,
            s.producer.transactional_id) == (100, 0.1, 10.0, None)
    assert s.consumer.config == {"enable_auto_commit": False, "isolation_level": "read_committed"}
    assert s.expect["aborted_reads"] == 0 and s.expect["torn_transactions"] == 0 and s.expect["lost"] == 0


def test_transactional_producer_fields_as_given(where):
    s = loads(doc(producer="{semantic: transactional, txn_size: 7, abort_ratio: 0, transaction_timeout: 2m, "
                           "transactional_id: orders-app.1}", consumer="{mode: read-uncommitted}"),
              str(where / "s.yaml"))
    assert (s.producer.txn_size, s.producer.abort_ratio, s.producer.transaction_timeout,
            s.producer.transactional_id) == (7, 0.0, 120.0, "orders-app.1")
    assert s.consumer.config["isolation_level"] == "read_uncommitted" and s.expect["aborted_reads"] is None


def test_other_semantics_have_no_transaction_fields(where):
    s = loads(doc(producer="{semantic: idempotent}"), str(where / "s.yaml"))
    assert (s.producer.txn_size, s.producer.abort_ratio, s.producer.transaction_timeout,
            s.producer.transactional_id) == (None, None, None, None)


@pytest.mark.parametrize("producer", [
    "{semantic: transactional}",
    "{semantic: transactional, txn_size: 10000, abort_ratio: 1, transaction_timeout: 15m, transactional_id: a}",
    "{semantic: transactional, count: 500, abort_ratio: 0.25, transaction_timeout: 1s}",
    "{semantic: idempotent}",
])
def test_transactional_fields_round_trip_through_scenario_json(where, producer):
    s = loads(doc(producer=producer, consumer="{mode: read-committed}"), str(where / "s.yaml"))
    assert sc.from_dict(json.loads(json.dumps(s.to_dict())), "x/scenario.json") == s


TXN = "{semantic: transactional, %s}"
TRANSACTION_ERRORS = [
    ("txn_size elsewhere", "{semantic: idempotent, txn_size: 5}", "producer.txn_size",
     "only with semantic: transactional (this producer is idempotent)"),
    ("abort_ratio elsewhere", "{semantic: at-least-once, abort_ratio: 0.1}", "producer.abort_ratio",
     "only with semantic: transactional (this producer is at-least-once)"),
    ("timeout elsewhere", "{semantic: no-guarantee, transaction_timeout: 10s}", "producer.transaction_timeout",
     "only with semantic: transactional"),
    ("id elsewhere", "{semantic: at-most-once, transactional_id: x}", "producer.transactional_id",
     "only with semantic: transactional"),
    ("txn_size 0", TXN % "txn_size: 0", "producer.txn_size", "must be an integer >= 1, not 0"),
    ("txn_size big", TXN % "txn_size: 10001", "producer.txn_size", "10001 is more than 10000"),
    ("txn_size text", TXN % "txn_size: many", "producer.txn_size", "must be an integer >= 1, not 'many'"),
    ("abort_ratio big", TXN % "abort_ratio: 1.5", "producer.abort_ratio", "1.5 is not a fraction (allowed: 0 <="),
    ("abort_ratio negative", TXN % "abort_ratio: -0.1", "producer.abort_ratio", "-0.1 is not a fraction"),
    ("abort_ratio nan", TXN % "abort_ratio: .nan", "producer.abort_ratio", "nan is not a fraction"),
    ("abort_ratio bool", TXN % "abort_ratio: true", "producer.abort_ratio", "True is not a fraction"),
    ("timeout short", TXN % "transaction_timeout: 500ms", "producer.transaction_timeout",
     "500ms is shorter than 1s"),
    ("timeout long", TXN % "transaction_timeout: 16m", "producer.transaction_timeout",
     "16m is longer than 15m (allowed: at most 15m; the broker caps it at transaction.max.timeout.ms"),
    ("timeout text", TXN % "transaction_timeout: soon", "producer.transaction_timeout", "'soon' is not a duration"),
    ("id space", TXN % "transactional_id: 'a b'", "producer.transactional_id", "'a b' is not a transactional id"),
    ("id option", TXN % "transactional_id: '-x'", "producer.transactional_id", "'-x' is not a transactional id"),
    ("id long", TXN % f"transactional_id: {'x' * 201}", "producer.transactional_id",
     "is 201 characters long (allowed: at most 200)"),
    ("id number", TXN % "transactional_id: 5", "producer.transactional_id", "must be a non-empty string, not 5"),
    ("id in config", TXN % "config: {transactional.id: x}", "producer.config.transactional.id",
     "kchaos sets transactional_id itself"),
    ("timeout in config", TXN % "config: {transaction_timeout_ms: 5000}", "producer.config.transaction_timeout_ms",
     "kchaos sets transaction_timeout_ms itself from producer.transaction_timeout"),
    ("not idempotent", TXN % "config: {enable.idempotence: false}", "producer.config.enable.idempotence",
     "false contradicts semantic transactional"),
]


@pytest.mark.parametrize("producer, field, fragment", [pytest.param(*c[1:], id=c[0]) for c in TRANSACTION_ERRORS])
def test_transaction_fields_are_refused_with_file_line_field(where, producer, field, fragment):
    message = error(where, doc(producer=producer))
    assert message.startswith(f"4: {field}: "), message
    assert fragment in message, message


def test_a_tampered_scenario_json_cannot_give_transaction_fields_to_another_semantic(where):
    data = json.loads(json.dumps(loads(doc(producer="{semantic: idempotent}"), str(where / "s.yaml")).to_dict()))
    data["producer"]["txn_size"] = 5
    with pytest.raises(ScenarioError, match="^x/scenario.json: producer.txn_size: only with semantic: transactional"):
        sc.from_dict(data, "x/scenario.json")


# ---- roles: copier, sink, outbox, crash points, fence ----

@pytest.mark.parametrize("extra", [
    "copier: {}",
    "copier: {txn_size: 10, abort_ratio: 0.5, transaction_timeout: 5s, on_abort: no-seek, offsets: after-commit}",
    "sink: {}",
    "sink: {offsets: kafka, dedup: true, process_time: 0}",
    "database: postgresql\nsink: {offsets: database}",
])
def test_role_sections_round_trip_through_scenario_json(where, extra):
    s = loads(doc(extra=extra), str(where / "s.yaml"))
    assert sc.from_dict(json.loads(json.dumps(s.to_dict())), "x/scenario.json") == s


def test_role_defaults_and_what_each_variant_is_expected_to_show(where):
    s = loads(doc(extra="copier: {}"), str(where / "s.yaml"))
    assert s.copier == sc.CopierSpec(100, 0.1, 10.0, "seek", "transaction") and s.sink is None
    assert (s.expect["lost_effects"], s.expect["duplicate_effects"]) == (0, 0)
    s = loads(doc(extra="copier: {on_abort: no-seek}"), str(where / "s.yaml"))
    assert (s.expect["lost_effects"], s.expect["duplicate_effects"]) == (None, None)
    s = loads(doc(extra="sink: {offsets: kafka}"), str(where / "s.yaml"))
    assert s.sink == sc.SinkSpec("kafka", False, sc.DEFAULT_PROCESS_TIME) and s.database is None
    assert (s.expect["lost_effects"], s.expect["duplicate_effects"]) == (0, None)
    s = loads(doc(extra="sink: {offsets: kafka, dedup: true}"), str(where / "s.yaml"))
    assert s.expect["duplicate_effects"] == 0


OUTBOX = "{semantic: outbox, rate: 100}"
ROLE_ERRORS = [
    ("copier unknown key", doc(extra="copier: {txn: 5}"), 6, "copier.txn", "unknown key"),
    ("copier on_abort", doc(extra="copier: {on_abort: rewind}"), 6, "copier.on_abort",
     "'rewind' is not allowed (allowed: seek, no-seek)"),
    ("copier offsets", doc(extra="copier: {offsets: later}"), 6, "copier.offsets",
     "(allowed: transaction, after-commit)"),
    ("copier abort_ratio", doc(extra="copier: {abort_ratio: 2}"), 6, "copier.abort_ratio", "is not a fraction"),
    ("sink offsets", doc(extra="sink: {offsets: file}"), 6, "sink.offsets", "allowed: database, kafka"),
    ("sink dedup", doc(extra="sink: {dedup: maybe}"), 6, "sink.dedup", "is not true or false"),
    ("copier and sink", doc(extra="copier: {}\nsink: {}"), 7, "sink", "not with a copier"),
    ("database alone", doc(extra="database: sqlite"), 6, "database", "only with a sink or producer.semantic: outbox"),
    ("database unknown", doc(extra="database: mysql\nsink: {}"), 6, "database", "allowed: sqlite, postgresql"),
    ("outbox without sink", doc(producer=OUTBOX), 4, "producer.semantic", "outbox needs a sink downstream"),
    ("effects without a store", doc(extra="expect: {lost: 0, lost_effects: 0}"), 6, "expect.lost_effects",
     "only with a copier or a sink"),
    ("effects merged in without a store", doc(extra='expect_by_version: {"<3.9": {<<: {lost: 0, effects: 1}, lost: any}}'),
     6, "expect_by_version.<3.9.effects", "only with a copier or a sink"),
    ("effects by version without a store", doc(extra='expect_by_version: {"<3.9": {lost: 0}, ">=3.9": {effects: 2}}'),
     6, "expect_by_version.>=3.9.effects", "only with a copier or a sink"),
    ("aborted reads without transactions", doc(consumer="{mode: read-committed}", extra="expect: {aborted_reads: 0}"),
     6, "expect.aborted_reads", "measured only with a transactional producer"),
    ("torn by version without transactions",
     doc(extra='expect_by_version: {"<3.9": {lost: 0}, ">=3.9": {torn_transactions: 0}}'),
     6, "expect_by_version.>=3.9.torn_transactions", "measured only with a transactional producer"),
    ("aborted effects of an idempotent producer",
     doc(producer="{semantic: idempotent}", extra="copier: {}\nexpect: {lost_effects: 0, aborted_effects: 0}"),
     7, "expect.aborted_effects", "measured only with a transactional producer"),
]


def test_a_merge_override_in_expect_by_version_is_one_key_not_two(where):
    """The mapping is parsed once: a second parse saw the merged key beside the override as given twice."""
    s = loads(doc(extra='expect_by_version: {"<3.9": {<<: {lost: 0}, lost: any}}'), str(where / "s.yaml"))
    assert s.expect_by_version == {"<3.9": {"lost": None}}


@pytest.mark.parametrize("text, line, field, fragment", [pytest.param(*c[1:], id=c[0]) for c in ROLE_ERRORS])
def test_role_errors(where, text, line, field, fragment):
    message = error(where, text)
    assert message.startswith(f"{line}: {field}: ") and fragment in message, message


def test_faults_may_hit_only_roles_the_scenario_runs(where):
    crash = "{at: 1s, action: crash, target: %s, duration: 1s}"
    for target, extra in (("copier", "seed: 0"), ("sink", "seed: 0"), ("relay", "sink: {dedup: true}")):
        with pytest.raises(ScenarioError, match=f"crash {target}: the scenario runs no {target}"):
            loads(doc(extra=extra, faults=[crash % target]), str(where / "s.yaml"))
    s = loads(doc(producer=OUTBOX, extra="sink: {dedup: true}", faults=[crash % "relay", crash % "outbox"]),
              str(where / "s.yaml"))
    assert [f.target for f in s.faults] == ["relay", "outbox"]
    with pytest.raises(ScenarioError, match="crash producer: the scenario runs no producer"):
        loads(doc(producer=OUTBOX, extra="sink: {dedup: true}", faults=[crash % "producer"]), str(where / "s.yaml"))


def test_a_crash_point_only_for_workers_that_have_one(where):
    point = "{at: 1s, action: crash, target: %s, point: after-commit, duration: 1s}"
    s = loads(doc(extra="sink: {}", faults=[point % "sink"]), str(where / "s.yaml"))
    assert s.faults[0].point == "after-commit"
    assert loads(doc(faults=[point % "consumer"]), str(where / "s.yaml")).faults[0].point == "after-commit"
    with pytest.raises(ScenarioError, match="crash producer has no point after-commit"):
        loads(doc(faults=[point % "producer"]), str(where / "s.yaml"))
    mid = point.replace("after-commit", "mid-batch")
    assert loads(doc(faults=[mid % "consumer"]), str(where / "s.yaml")).faults[0].point == "mid-batch"
    with pytest.raises(ScenarioError, match=r"crash sink has no point mid-batch \(workers with it: consumer\)"):
        loads(doc(extra="sink: {}", faults=[mid % "sink"]), str(where / "s.yaml"))
    message = error(where, doc(extra="sink: {}", faults=["{at: 1s, action: crash, target: sink, point: soon, duration: 1s}"]))
    assert "faults[0].point: 'soon' is not a crash point" in message, message


def test_fence_needs_producers_sharing_a_transactional_id(where):
    fence = ["{at: 5s, action: fence-producer, target: producer}"]
    with pytest.raises(ScenarioError, match="fence-producer needs producer.semantic: transactional with a producer.transactional_id"):
        loads(doc(producer="{semantic: transactional}", consumer="{mode: read-committed}", faults=fence),
              str(where / "s.yaml"))
    s = loads(doc(producer="{semantic: transactional, transactional_id: app}", consumer="{mode: read-committed}",
                  faults=fence), str(where / "s.yaml"))
    assert s.faults[0].action == "fence-producer"


def test_expect_by_version_picks_the_first_entry_the_kafka_version_matches(where):
    s = loads(doc(extra='expect_by_version: {"<3.9": {lost: 0}, ">=3.9": {lost: any, phantoms: 0}}'),
              str(where / "s.yaml"))
    assert s.expect_by_version == {"<3.9": {"lost": 0}, ">=3.9": {"lost": None, "phantoms": 0}}
    old, why = sc.for_version(s, "3.8.1")
    assert old.expect == {"lost": 0} and why == "expect for Kafka 3.8.1: expect_by_version <3.9"
    new, _ = sc.for_version(s, "4.1.1")
    assert new.expect == {"lost": None, "phantoms": 0}
    assert sc.from_dict(new.to_dict()).expect_by_version == s.expect_by_version   # scenario.json round trip
    plain = loads(doc(), str(where / "s.yaml"))
    assert sc.for_version(plain, "4.1.1") == (plain, None)
    only = loads(doc(extra='expect_by_version: {"==3.8.1": {lost: 0}}'), str(where / "s.yaml"))
    kept, why = sc.for_version(only, "4.1.1")
    assert kept.expect == only.expect and "no expect_by_version entry matches Kafka 4.1.1" in why


@pytest.mark.parametrize("spec, version, matches", [
    ("<3.9", "3.8.1", True), ("<3.9", "3.9.0", False), (">=3.9", "3.9", True), ("3.8", "3.8.0", True),
    ("3.8", "3.8.1", False), ("<=3.8.1", "3.8.1", True), (">4", "4.0.1", True), ("==4.1.1", "4.1.1", True),
    ("<3.9", "not-a-version", False),
])
def test_version_specs_compare_numerically(spec, version, matches):
    assert sc.version_matches(spec, version) is matches


@pytest.mark.parametrize("body, message", [
    ('expect_by_version: {"~3.9": {lost: 0}}', "'~3.9' is not a version spec"),
    ('expect_by_version: {"<3.9": {lost: -1}}', "expect_by_version"),
    ('expect_by_version: {"<3.9": {lots: 0}}', "lots"),
    ("expect_by_version: []", "must be a mapping of Kafka version specs"),
    ("expect_by_version: {}", "must be a mapping of Kafka version specs"),
])
def test_a_bad_expect_by_version_is_one_line_naming_it(where, body, message):
    assert message in error(where, doc(extra=body))


def test_transaction_counts_are_bounded_only_behind_a_transactional_producer(where):
    """A read_committed consumer behind a producer that never aborts is not promised aborted_reads: 0 (it would
    pass on nothing checked); behind a transactional one it is, and `any` is allowed everywhere."""
    path = where / "s.yaml"
    path.write_text(doc(producer="{semantic: idempotent}", consumer="{mode: read-committed}", extra="copier: {}"))
    s = load(path)
    assert not set(s.expect) & set(counts.TXN_COUNTS) and s.expect["lost_effects"] == 0
    path.write_text(doc(producer="{semantic: transactional}", consumer="{mode: read-committed}", extra="copier: {}"))
    s = load(path)
    assert s.expect["aborted_reads"] == 0 and s.expect["torn_transactions"] == 0 and s.expect["aborted_effects"] == 0
    path.write_text(doc(consumer="{mode: read-uncommitted}", extra="expect: {lost: 0, aborted_reads: any}"))
    assert load(path).expect == {"lost": 0, "aborted_reads": None}
