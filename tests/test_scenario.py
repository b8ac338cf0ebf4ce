"""The scenario contract: what a valid file becomes, and the one-line FILE:LINE: FIELD message for each mistake."""

import json
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
                                 "latency": None, "latency_jitter": 0.0}
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


@pytest.mark.parametrize("rate", ["800bit", "512kbit", "1mbit", "10mbit", "2gbit", "2.5Gbit"])
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
     "idempotent)"),
    ("typo semantic", doc(producer="{semantic: idempotnt}"), 4, "producer.semantic", "did you mean idempotent?"),
    ("reserved", doc(producer="{semantic: transactional}"), 4, "producer.semantic",
     "transactional is reserved and not implemented yet"),
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
     "(allowed: auto-commit, commit-before-process, commit-after-process)"),
    ("read-committed", doc(consumer="{mode: read-committed}"), 5, "consumer.mode",
     "read-committed is reserved and not implemented yet"),
    ("transform", doc(consumer="{mode: transform}"), 5, "consumer.mode", "transform is reserved"),
    ("sink", doc(consumer="{mode: sink}"), 5, "consumer.mode", "sink is reserved"),
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
     "isolate, split, isolate-clients, isolate-replication, loss, bandwidth, delay, heal-network, rolling-restart)"),
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
     "broker(1) is not a target of crash (allowed: producer, consumer)"),
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
     "-1 is not an expectation (allowed: 0, an upper bound >= 0, or any)"),
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
     "0 is not a probability (allowed: 0 < p <= 1, e.g. 0.1)"),
    ("loss 1.5", doc(faults=[f"{{at: 1s, action: loss, {NET}, probability: 1.5}}"]), 8, "faults[0].probability",
     "1.5 is not a probability"),
    ("loss percent", doc(faults=[f"{{at: 1s, action: loss, {NET}, probability: 10%}}"]), 8, "faults[0].probability",
     "'10%' is not a probability"),
    ("loss bool", doc(faults=[f"{{at: 1s, action: loss, {NET}, probability: true}}"]), 8, "faults[0].probability",
     "True is not a probability"),
    ("bandwidth without rate", doc(faults=[f"{{at: 1s, action: bandwidth, {NET}}}"]), 8, "faults[0].rate",
     "required for bandwidth (e.g. rate: 1mbit)"),
    ("rate number", doc(faults=[f"{{at: 1s, action: bandwidth, {NET}, rate: 1000}}"]), 8, "faults[0].rate",
     "1000 is not a rate above 0 (e.g. 800bit, 512kbit, 1mbit, 2gbit)"),
    ("rate unit", doc(faults=[f"{{at: 1s, action: bandwidth, {NET}, rate: 1mbps}}"]), 8, "faults[0].rate",
     "'1mbps' is not a rate"),
    ("rate zero", doc(faults=[f"{{at: 1s, action: bandwidth, {NET}, rate: 0kbit}}"]), 8, "faults[0].rate",
     "'0kbit' is not a rate above 0"),
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
     "keys are broker ids (integers >= 0), e.g. {1: host-a}"),
    ("hosts value", doc(cluster=CMD.replace("1: a", "1: [a]") % KILL_START), 2, "cluster.hosts.1",
     "must be a host name, e.g. {1: host-a}"),
    ("hosts empty", doc(cluster=CMD.replace("{1: a, 2: b, 3: c}", "{}") % KILL_START), 2, "cluster.hosts",
     "is empty (e.g. {1: host-a, 2: host-b})"),
    ("unknown command", doc(cluster=CMD % "{kil: [x]}"), 2, "cluster.commands.kil",
     "unknown key (did you mean kill? known: pause, unpause, kill, stop, start, restart)"),
    ("no commands", doc(cluster=CMD % "{}"), 2, "cluster.commands", "is empty"),
    ("command string", doc(cluster=CMD % "{kill: 'ssh a kill'}"), 2, "cluster.commands.kill",
     "must be a non-empty list of strings, not 'ssh a kill'"),
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
