"""The scenario contract: load a YAML scenario, validate it, and return an immutable Scenario.

Every mistake is one ScenarioError line, `FILE:LINE: FIELD: what is wrong (what is allowed)`, raised
before anything touches a cluster. Line numbers come from the YAML node marks.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import semantics
from .errors import ScenarioError

NETWORK_ACTIONS = ("isolate", "split", "isolate-clients", "isolate-replication", "loss", "bandwidth", "delay")
ACTIONS = ("pause", "unpause", "kill", "stop", "start", "restart", "crash", *NETWORK_ACTIONS, "heal-network",
           "rolling-restart")
FUTURE_ACTIONS = ("clock", "disk")
COMMAND_ACTIONS = ("pause", "unpause", "kill", "stop", "start", "restart")  # the keys of cluster.commands
DIRECTIONS = ("both", "in", "out")
SHAPES = ("majority", "minority")
EXPECT_KEYS = ("sent", "acked", "errors", "consumed", "lost", "lost_in_log", "lost_from_log",
               "unacked_present", "unacked_missing", "duplicates", "log_duplicates", "reprocessed",
               "reordered", "phantoms", "aborted_reads", "torn_transactions")
BROKER_LABEL = "kchaos.broker.id"

DEFAULT_SEED = 0
DEFAULT_DRAIN_TIMEOUT = 60.0
DEFAULT_TOPIC = {"name": "chaos", "partitions": 3, "replication_factor": 3}
DEFAULT_RATE = 500.0
DEFAULT_VALUE_SIZE = 100
DEFAULT_PROCESS_TIME = 0.002

_PICK = {"broker", "leader", "follower", "controller", "coordinator", "txn-coordinator", "random"}
_PICKERS = "broker(N), leader(TOPIC,P), follower(TOPIC,P), controller, coordinator(GROUP), txn-coordinator(ID), random"
_TARGETS_OF = {  # action -> (allowed target kinds, how the message lists them); split, rolling-restart: none
    **{a: (_PICK | {"all"}, f"{_PICKERS}, all") for a in ("pause", "kill", "stop", "restart", "loss", "bandwidth",
                                                           "delay")},
    **{a: (_PICK, _PICKERS) for a in ("isolate", "isolate-clients")},
    "isolate-replication": ({"leader"}, "leader(TOPIC,P)"),
    "unpause": ({"paused", "broker", "all"}, "paused, broker(N), all"),
    "start": ({"killed", "broker", "all"}, "killed, broker(N), all"),
    "heal-network": ({"partitioned", "broker", "all"}, "partitioned, broker(N), all"),
    "crash": ({"producer", "consumer"}, "producer, consumer"),
}
_NO_TARGET = {"split": "give groups or shape instead", "rolling-restart": "it restarts every broker in turn"}
_HEALERS = ("unpause", "start", "heal-network")  # actions that heal, so they take no duration
_FIELDS_OF = {  # action -> the fault keys only it takes
    "isolate": ("direction",), "split": ("groups", "shape", "direction"), "isolate-replication": ("direction",),
    "loss": ("probability",), "bandwidth": ("rate",), "delay": ("latency", "latency_jitter"),
}
_TIMING = ("at", "every", "count", "jitter")
_FAULT_KEYS = (*_TIMING, "action", "target", "duration", "direction", "groups", "shape", "probability", "rate",
               "latency", "latency_jitter")
_NEMESIS_ACTIONS = tuple(a for a in ACTIONS if a not in _HEALERS and a != "rolling-restart")
_HEALED_BY = {"pause": "unpause", "kill": "start", "stop": "start"}
_TARGET_RE = re.compile(r"^\s*(?:(broker)\(\s*(\d+)\s*\)|(leader|follower)\(\s*([^,()\s]+)\s*,\s*(\d+)\s*\)"
                        r"|(coordinator|txn-coordinator)\(\s*([^,()\s]+)\s*\)"
                        r"|(controller|random|all|killed|paused|partitioned|producer|consumer))\s*$")
_RATE_RE = re.compile(r"^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)$")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
_RENAMED = {"partition": "split"}  # reserved names that ended up under another name
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class FaultSpec:
    """One fault line: `action` on `target` once `at` seconds in, or `every` seconds (± jitter, `count` times)."""

    action: str
    target: str  # normalized: "broker(2)", "leader(chaos,0)", "random", "consumer", ...
    at: float | None
    every: float | None
    count: int | None  # None: as often as fits in the scenario's duration
    jitter: float
    duration: float | None  # heal after this long; for crash, until a fresh worker starts
    line: int
    direction: str = "both"  # isolate, split, isolate-replication: cut traffic both ways, only in, or only out
    groups: tuple[tuple[int, ...], ...] | None = None  # split: brokers talk only within their group
    shape: str | None = None  # split: majority or minority, groups drawn at run time
    probability: float | None = None  # loss: chance each packet is dropped, 0 < p <= 1
    rate: str | None = None  # bandwidth: tc rate, e.g. "1mbit"
    latency: float | None = None  # delay: seconds added to each packet
    latency_jitter: float = 0.0  # delay: ± seconds around latency

    def to_dict(self) -> dict:
        """JSON-able form (tuples as lists) for the timeline; `fault_from_dict` reads it back."""
        return _plain(dataclasses.asdict(self))


@dataclass(frozen=True)
class ClusterSpec:
    """Where the brokers are; `containers` maps broker id to a container (compose: the service name)."""

    compose: Path | None
    bootstrap: str | None
    containers: dict[int, str]
    broker_config: dict[str, str]
    broker_ids: tuple[int, ...]
    hosts: dict[int, str] = dataclasses.field(default_factory=dict)  # with commands: broker id -> {host}
    commands: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # action -> argv template


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str]


@dataclass(frozen=True)
class ProducerSpec:
    semantic: str
    rate: float | None  # records/second; None when `count` is given
    count: int | None
    value_size: int
    config: dict  # merged kafka-python settings from semantics.producer_settings


@dataclass(frozen=True)
class ConsumerSpec:
    mode: str
    process_time: float  # simulated application work per record, seconds
    config: dict  # kafka-python settings from semantics.consumer_settings


@dataclass(frozen=True)
class NemesisSpec:
    """Random faults drawn from the seed: from `start`, one of `faults` every `interval` (± jitter), each
    healed after its duration and followed by `recovery` seconds without a fault."""

    start: float
    interval: float
    jitter: float
    recovery: float
    faults: tuple[FaultSpec, ...]  # at and every are None; duration is always set


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: int
    duration: float
    drain_timeout: float
    cluster: ClusterSpec
    topic: TopicSpec
    producer: ProducerSpec
    consumer: ConsumerSpec
    faults: tuple[FaultSpec, ...]
    expect: dict[str, int | None]  # None = any count
    path: Path
    nemesis: NemesisSpec | None = None

    def to_dict(self) -> dict:
        """JSON-able plain data (Paths as str, tuples as lists), for scenario.json in the run dir."""
        return _plain(dataclasses.asdict(self))


def from_dict(data: dict) -> Scenario:
    """Rebuild a Scenario from `to_dict` output (e.g. scenario.json read back by `kchaos verify`)."""
    c, t, p, k = data["cluster"], data["topic"], data["producer"], data["consumer"]
    cluster = ClusterSpec(Path(c["compose"]) if c["compose"] else None, c["bootstrap"],
                          {int(i): n for i, n in c["containers"].items()}, dict(c["broker_config"]),
                          tuple(c["broker_ids"]), {int(i): h for i, h in c.get("hosts", {}).items()},
                          {a: tuple(argv) for a, argv in c.get("commands", {}).items()})
    n = data.get("nemesis")  # absent in scenario.json written before the nemesis existed
    nemesis = NemesisSpec(n["start"], n["interval"], n["jitter"], n["recovery"],
                          tuple(fault_from_dict(f) for f in n["faults"])) if n else None
    return Scenario(
        data["name"], data["description"], data["seed"], data["duration"], data["drain_timeout"],
        cluster, TopicSpec(**t), ProducerSpec(**p), ConsumerSpec(**k),
        tuple(fault_from_dict(f) for f in data["faults"]), dict(data["expect"]), Path(data["path"]), nemesis)


def fault_from_dict(data: dict) -> FaultSpec:
    """A FaultSpec from its `to_dict` form (JSON lists back to tuples)."""
    groups = data.get("groups")
    return FaultSpec(**{**data, "groups": tuple(tuple(g) for g in groups) if groups is not None else None})


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Path) else value


def load(path: Path | str) -> Scenario:
    """Read and validate the scenario file at `path`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read the scenario ({getattr(e, 'strerror', None) or e})") from None
    return loads(text, str(path))


def loads(text: str, path: str = "<string>") -> Scenario:
    """Validate scenario `text`; `path` names it in messages and anchors a relative compose path."""
    return _Parser(path).scenario(text)


def parse_duration(value, field: str) -> float:
    """Seconds in "10s", "500ms", "2m", "1h", "1.5s" or a bare number of seconds."""
    seconds = _seconds(value)
    if seconds is None:
        raise ScenarioError(f"{field}: {value!r} is not a duration (e.g. 10s, 500ms, 2m, 1.5s, or seconds)")
    return seconds


def _seconds(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if 0 <= value <= 1e300 else None  # also refuses nan and inf
    m = _DURATION_RE.match(value) if isinstance(value, str) else None
    return float(m.group(1)) * _UNIT[m.group(2)] if m else None


class _Parser:
    """Walks the composed YAML node tree so each error can name its line."""

    def __init__(self, path: str):
        self.path = path
        self._constructor = yaml.SafeLoader("")

    # -- primitives -------------------------------------------------------------------------------
    def error(self, node, field: str, message: str) -> ScenarioError:
        line = node.start_mark.line + 1 if node is not None else 1
        return ScenarioError(f"{self.path}:{line}: {field}: {message}")

    def value(self, node):
        return self._constructor.construct_object(node, deep=True)

    def mapping(self, node, field: str, known: tuple, required: tuple = ()) -> dict:
        """{key: value node} of a mapping; null values count as absent."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, field, f"must be a mapping, not {self.kind(node)} (keys: {', '.join(known)})")
        self.no_duplicates(node, field)
        self._constructor.flatten_mapping(node)  # `<<: *anchor` merges; the mapping's own keys win
        out = {}
        for key_node, value_node in node.value:
            key = self.value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean {close[0]}? " if close else ""
                sub = f"{field}.{key}" if field else str(key)
                raise self.error(key_node, sub, f"unknown key ({hint}known: {', '.join(known)})")
            out.pop(key, None)
            if not (isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null")):
                out[key] = value_node
        for key in required:
            if key not in out:
                raise self.error(node, f"{field}.{key}" if field else key, "required")
        return out

    def raw_mapping(self, node, field: str) -> dict:
        """A free-form mapping (client or broker configs): {key: (python value, key node)}."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, field, f"must be a mapping, not {self.kind(node)}")
        self.no_duplicates(node, field)
        self._constructor.flatten_mapping(node)
        out = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise self.error(key_node, field, f"{self.kind(key_node)} is not a setting name")
            out[key] = (self.value(value_node), key_node)
        return out

    def no_duplicates(self, node, field: str) -> None:
        """YAML keeps the last of two equal keys silently; a scenario says it."""
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = self.value(key_node)
                if key in seen:
                    raise self.error(key_node, f"{field}.{key}" if field else str(key), "given twice (keep one)")
                seen.add(key)

    def kind(self, node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        return repr(self.value(node))

    def string(self, node, field: str) -> str:
        v = self.value(node)
        if not isinstance(v, str) or not v.strip():
            raise self.error(node, field, f"must be a non-empty string, not {self.kind(node)}")
        return v.strip()

    def integer(self, node, field: str, minimum: int) -> int:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
            raise self.error(node, field, f"must be an integer >= {minimum}, not {self.kind(node)}")
        return v

    def number(self, node, field: str) -> float:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1e300:
            raise self.error(node, field, f"must be a number > 0, not {self.kind(node)}")
        return float(v)

    def duration(self, node, field: str, positive: bool = True) -> float:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        seconds = _seconds(v)
        if seconds is None:
            raise self.error(node, field, f"{self.kind(node)} is not a duration "
                                          "(e.g. 10s, 500ms, 2m, 1.5s, or seconds)")
        if positive and seconds <= 0:
            raise self.error(node, field, f"{v} must be longer than 0")
        return seconds

    def stringified(self, node, field: str) -> dict[str, str]:
        """A Kafka config mapping; values become the strings Kafka's properties files hold."""
        out = {}
        for key, (v, key_node) in self.raw_mapping(node, field).items():
            if not isinstance(key, str) or isinstance(v, (dict, list)) or v is None:
                raise self.error(key_node, f"{field}.{key}", "must be `name: value` with a single value")
            out[key] = str(v).lower() if isinstance(v, bool) else str(v)
        return out

    # -- sections ---------------------------------------------------------------------------------
    def scenario(self, text: str) -> Scenario:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            if root is not None:
                # Surface bad tags and unhashable keys here; on a copy, since merging rewrites nodes.
                yaml.SafeLoader("").construct_document(copy.deepcopy(root))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
            line = mark.line + 1 if mark else 1
            what = " ".join(filter(None, (getattr(e, "context", None), getattr(e, "problem", None)))) or str(e)
            raise ScenarioError(f"{self.path}:{line}: yaml: {' '.join(what.split())}") from None
        except (ValueError, TypeError, RecursionError) as e:
            raise ScenarioError(f"{self.path}:1: yaml: cannot read a value ({e})") from None
        top = ("name", "description", "seed", "duration", "drain_timeout", "cluster", "topic",
               "producer", "consumer", "faults", "nemesis", "expect")
        if root is None:
            raise ScenarioError(f"{self.path}:1: scenario: the file is empty (keys: {', '.join(top)})")
        if not isinstance(root, yaml.MappingNode):
            raise self.error(root, "scenario", f"the top level must be a mapping, not {self.kind(root)}")
        m = self.mapping(root, "", top, required=("duration", "cluster", "producer", "consumer"))
        name = self.string(m["name"], "name") if "name" in m else _stem(self.path)
        if not _NAME_RE.match(name):
            raise self.error(m["name"], "name", f"{name!r} is not a name (letters, digits, . _ -)")
        duration = self.duration(m["duration"], "duration")
        cluster = self.cluster(m["cluster"])
        topic = self.topic(m.get("topic"), root, cluster)
        producer = self.producer(m["producer"])
        consumer = self.consumer(m["consumer"])
        faults = self.faults(m.get("faults"), duration, cluster, topic)
        nemesis = self.nemesis(m["nemesis"], duration, cluster, topic) if "nemesis" in m else None
        return Scenario(
            name=name,
            description=self.string(m["description"], "description") if "description" in m else "",
            seed=self.integer(m["seed"], "seed", 0) if "seed" in m else DEFAULT_SEED,
            duration=duration,
            drain_timeout=(self.duration(m["drain_timeout"], "drain_timeout")
                           if "drain_timeout" in m else DEFAULT_DRAIN_TIMEOUT),
            cluster=cluster, topic=topic, producer=producer, consumer=consumer, faults=faults,
            expect=(self.expect(m["expect"]) if "expect" in m
                    else semantics.documented_expect(producer.semantic, consumer.mode)),
            path=Path(self.path), nemesis=nemesis)

    def cluster(self, node) -> ClusterSpec:
        m = self.mapping(node, "cluster", ("compose", "bootstrap", "containers", "broker_config", "hosts", "commands"))
        if ("compose" in m) == ("bootstrap" in m):
            where = m.get("bootstrap", node)
            raise self.error(where, "cluster", "give exactly one of compose or bootstrap (compose: FILE, or "
                                               "bootstrap: HOST:PORT with containers, or with hosts and commands)")
        for key in ("hosts", "commands"):
            if key in m and "compose" in m:
                raise self.error(m[key], f"cluster.{key}", "only with bootstrap, not with compose "
                                                           "(compose brokers are Docker containers)")
        if "commands" in m:
            if "containers" in m:
                raise self.error(m["containers"], "cluster.containers",
                                 "not with commands (with commands the brokers are cluster.hosts)")
            if "hosts" not in m:
                raise self.error(node, "cluster.hosts", "required with commands (e.g. {1: host-a, 2: host-b})")
        elif "hosts" in m:
            raise self.error(m["hosts"], "cluster.hosts", "only with commands (hosts fill {host} in the "
                                                          "command templates; for Docker use containers)")
        hosts = self.broker_map(m["hosts"], "cluster.hosts", "a host name", "host-a") if "hosts" in m else {}
        commands = self.commands(m["commands"]) if "commands" in m else {}
        containers = self.broker_map(m["containers"], "cluster.containers", "a container name", "kafka-1") \
            if "containers" in m else {}
        compose, ids = None, tuple(sorted(containers or hosts))
        if "compose" in m:
            compose = self.compose_path(m["compose"])
            found = self.compose_brokers(m["compose"], compose)
            if not containers:
                containers, ids = found, tuple(sorted(found))
        bootstrap = self.bootstrap(m["bootstrap"]) if "bootstrap" in m else None
        broker_config = self.stringified(m["broker_config"], "cluster.broker_config") if "broker_config" in m else {}
        return ClusterSpec(compose, bootstrap, containers, broker_config, ids, hosts, commands)

    def broker_map(self, node, section: str, what: str, example: str) -> dict[int, str]:
        """containers or hosts: {broker id: name}."""
        out = {}
        second = example.replace("1", "2").replace("-a", "-b")
        for key, (v, key_node) in self.raw_mapping(node, section).items():
            field = f"{section}.{key}"
            ident = int(key) if isinstance(key, str) and key.strip().isdigit() else key
            if not isinstance(ident, int) or isinstance(ident, bool) or ident < 0:
                raise self.error(key_node, field, f"keys are broker ids (integers >= 0), e.g. {{1: {example}}}")
            if not isinstance(v, str) or not v.strip():
                raise self.error(key_node, field, f"must be {what}, e.g. {{1: {example}}}")
            if ident in out:
                raise self.error(key_node, field, "broker id given twice")
            out[ident] = v.strip()
        if not out:
            raise self.error(node, section, f"is empty (e.g. {{1: {example}, 2: {second}}})")
        return out

    def commands(self, node) -> dict[str, tuple[str, ...]]:
        """cluster.commands: {action: argv}; `{host}` and `{broker}` are the only placeholders."""
        m = self.mapping(node, "cluster.commands", COMMAND_ACTIONS)
        if not m:
            raise self.error(node, "cluster.commands", "is empty (e.g. {kill: [ssh, '{host}', sudo, systemctl, "
                                                       "kill, -s, KILL, kafka]})")
        out = {}
        for action in COMMAND_ACTIONS:
            if action not in m:
                continue
            field, argv = f"cluster.commands.{action}", m[action]
            if not isinstance(argv, yaml.SequenceNode) or not argv.value:
                raise self.error(argv, field, f"must be a non-empty list of strings, not {self.kind(argv)} "
                                              "(e.g. [ssh, '{host}', sudo, systemctl, start, kafka])")
            words = []
            for i, item in enumerate(argv.value):
                v = self.value(item) if isinstance(item, yaml.ScalarNode) else None
                if not isinstance(v, str) or (i == 0 and not v.strip()):
                    raise self.error(item, f"{field}[{i}]", f"must be a string, not {self.kind(item)} "
                                                            "(quote numbers, e.g. \"-9\")")
                for name in _PLACEHOLDER_RE.findall(v):
                    if name not in ("host", "broker"):
                        close = difflib.get_close_matches(name, ("host", "broker"), n=1)
                        hint = f"did you mean {{{close[0]}}}? " if close else ""
                        raise self.error(item, f"{field}[{i}]", f"unknown placeholder {{{name}}} "
                                                                f"({hint}allowed: {{host}}, {{broker}})")
                words.append(v)
            out[action] = tuple(words)
        return out

    def bootstrap(self, node) -> str:
        text = self.string(node, "cluster.bootstrap")
        for part in text.split(","):
            host, _, port = part.strip().rpartition(":")
            if not host or not port.isdigit():
                raise self.error(node, "cluster.bootstrap", f"{part.strip()!r} is not HOST:PORT "
                                                            "(e.g. 127.0.0.1:19092, comma-separated)")
        return ",".join(p.strip() for p in text.split(","))

    def compose_path(self, node) -> Path:
        given = Path(self.string(node, "cluster.compose")).expanduser()
        bases = [Path.cwd()]
        if self.path != "<string>":
            here = Path(self.path).resolve().parent
            bases += [here, here.parent]
        candidates = [given] if given.is_absolute() else [b / given for b in bases]
        for candidate in candidates:
            if candidate.is_file():
                return candidate.resolve()
        looked = ", ".join(str(c.parent) for c in candidates)
        raise self.error(node, "cluster.compose", f"{given} not found (looked in {looked})")

    def compose_brokers(self, node, compose: Path) -> dict[int, str]:
        """{broker id: service name} for services labelled kchaos.broker.id."""
        field = "cluster.compose"
        try:
            doc = yaml.safe_load(compose.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
            raise self.error(node, field, f"cannot read {compose} ({str(e).splitlines()[0]})") from None
        services = doc.get("services") if isinstance(doc, dict) else None
        found = {}
        for service, spec in (services.items() if isinstance(services, dict) else ()):
            labels = spec.get("labels") if isinstance(spec, dict) else None
            if isinstance(labels, list):
                labels = dict(str(item).partition("=")[::2] for item in labels)
            if not isinstance(labels, dict) or BROKER_LABEL not in labels:
                continue
            ident = str(labels[BROKER_LABEL]).strip()
            if not ident.isdigit() or int(ident) in found:
                raise self.error(node, field, f"service {service} in {compose.name} has {BROKER_LABEL}="
                                              f"{labels[BROKER_LABEL]!r} (needs a unique integer broker id)")
            found[int(ident)] = str(service)
        if not found:
            raise self.error(node, field, f"no service in {compose.name} has the label {BROKER_LABEL} "
                                          f"(label each broker, e.g. labels: {{{BROKER_LABEL}: \"1\"}})")
        return found

    def topic(self, node, root, cluster: ClusterSpec) -> TopicSpec:
        m = self.mapping(node, "topic", ("name", "partitions", "replication_factor", "config")) if node else {}
        name = self.string(m["name"], "topic.name") if "name" in m else DEFAULT_TOPIC["name"]
        partitions = self.integer(m["partitions"], "topic.partitions", 1) if "partitions" in m \
            else DEFAULT_TOPIC["partitions"]
        rf_node = m.get("replication_factor", node or root)
        rf = self.integer(rf_node, "topic.replication_factor", 1) if "replication_factor" in m \
            else DEFAULT_TOPIC["replication_factor"]
        brokers = len(cluster.broker_ids)
        if brokers and rf > brokers:
            raise self.error(rf_node, "topic.replication_factor",
                             f"{rf} is more than the {brokers} broker(s) (allowed: 1..{brokers})")
        config = self.stringified(m["config"], "topic.config") if "config" in m else {}
        return TopicSpec(name, partitions, rf, config)

    def producer(self, node) -> ProducerSpec:
        m = self.mapping(node, "producer", ("semantic", "rate", "count", "value_size", "config"), ("semantic",))
        semantic = self.choice(m["semantic"], "producer.semantic", semantics.PRESETS)
        if "rate" in m and "count" in m:
            raise self.error(m["count"], "producer.count", "give rate or count, not both")
        rate = self.number(m["rate"], "producer.rate") if "rate" in m else None
        count = self.integer(m["count"], "producer.count", 1) if "count" in m else None
        if rate is None and count is None:
            rate = DEFAULT_RATE
        value_size = self.integer(m["value_size"], "producer.value_size", 1) if "value_size" in m \
            else DEFAULT_VALUE_SIZE
        config = self.client_config(m, "producer", lambda raw: semantics.producer_settings(semantic, raw))
        return ProducerSpec(semantic, rate, count, value_size, config)

    def consumer(self, node) -> ConsumerSpec:
        m = self.mapping(node, "consumer", ("mode", "process_time", "config"), ("mode",))
        mode = self.choice(m["mode"], "consumer.mode", semantics.MODES)
        process_time = self.duration(m["process_time"], "consumer.process_time", positive=False) \
            if "process_time" in m else DEFAULT_PROCESS_TIME
        config = self.client_config(m, "consumer", lambda raw: semantics.consumer_settings(mode, raw))
        return ConsumerSpec(mode, process_time, config)

    def choice(self, node, field: str, table: dict) -> str:
        """A producer semantic or consumer mode; reserved ones are refused until they are built."""
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        ready = [k for k, entry in table.items() if not entry.reserved]
        if v not in table:
            close = difflib.get_close_matches(str(v), list(table), n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise self.error(node, field, f"{self.kind(node)} is unknown ({hint}allowed: {', '.join(ready)})")
        if table[v].reserved:
            raise self.error(node, field, f"{v} is reserved and not implemented yet (implemented: {', '.join(ready)})")
        return v

    def client_config(self, m: dict, section: str, settings) -> dict:
        """Run semantics' merge over the raw config; a SettingError is pinned to its key's line."""
        raw = self.raw_mapping(m["config"], f"{section}.config") if "config" in m else {}
        try:
            return settings({k: v for k, (v, _) in raw.items()})
        except semantics.SettingError as e:
            where = raw[e.key][1] if e.key in raw else m["config"]
            raise self.error(where, f"{section}.config.{e.key}", e.detail) from None

    def faults(self, node, duration: float, cluster: ClusterSpec, topic: TopicSpec) -> tuple[FaultSpec, ...]:
        if node is None:
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, "faults", f"must be a list, not {self.kind(node)} "
                                             "(e.g. - {at: 10s, action: kill, target: random})")
        return tuple(self.fault(item, f"faults[{i}]", duration, cluster, topic) for i, item in enumerate(node.value))

    def nemesis(self, node, duration: float, cluster: ClusterSpec, topic: TopicSpec) -> NemesisSpec:
        m = self.mapping(node, "nemesis", ("start", "interval", "jitter", "recovery", "faults"), ("interval", "faults"))
        start = self.duration(m["start"], "nemesis.start", positive=False) if "start" in m else 0.0
        if start >= duration:
            raise self.error(m["start"], "nemesis.start", f"{start:g}s is not before the end of the run "
                                                          f"(allowed: 0 <= start < duration {duration:g}s)")
        interval = self.duration(m["interval"], "nemesis.interval")
        jitter = self.duration(m["jitter"], "nemesis.jitter", positive=False) if "jitter" in m else 0.0
        if jitter > interval:
            raise self.error(m["jitter"], "nemesis.jitter", f"{jitter:g}s is more than interval {interval:g}s "
                                                            "(allowed: 0 <= jitter <= interval)")
        recovery = self.duration(m["recovery"], "nemesis.recovery", positive=False) if "recovery" in m else 0.0
        items = m["faults"]
        if not isinstance(items, yaml.SequenceNode) or not items.value:
            what = "is empty" if isinstance(items, yaml.SequenceNode) else f"must be a list, not {self.kind(items)}"
            raise self.error(items, "nemesis.faults", f"{what} (e.g. - {{action: kill, target: random, duration: 5s}})")
        faults = tuple(self.fault(item, f"nemesis.faults[{i}]", duration, cluster, topic, nemesis=True)
                       for i, item in enumerate(items.value))
        return NemesisSpec(start, interval, jitter, recovery, faults)

    def fault(self, node, field: str, duration: float, cluster: ClusterSpec, topic: TopicSpec,
              nemesis: bool = False) -> FaultSpec:
        """One item of faults (timed by at or every) or of nemesis.faults (timed by the nemesis)."""
        m = self.mapping(node, field, _FAULT_KEYS, ("action",))
        action = self.action(m["action"], f"{field}.action", _NEMESIS_ACTIONS if nemesis else ACTIONS)
        self.fault_keys(node, m, field, action, nemesis)
        if "target" in m:
            target = self.target(m["target"], f"{field}.target", action, cluster, topic)
        elif action in _NO_TARGET:
            target = ""
            if not cluster.broker_ids:
                raise self.error(m["action"], f"{field}.action", self.no_brokers())
        else:
            raise self.error(node, f"{field}.target", "required")
        at = every = count = None
        if nemesis:
            pass
        elif ("at" in m) == ("every" in m):
            raise self.error(m.get("every", node), field, "give exactly one of at or every (at: 10s, or every: 15s)")
        elif "at" in m:
            at = self.duration(m["at"], f"{field}.at", positive=False)
            if at >= duration:
                raise self.error(m["at"], f"{field}.at", f"{at:g}s is not before the end of the run "
                                                         f"(allowed: 0 <= at < duration {duration:g}s)")
            for key in ("count", "jitter"):
                if key in m:
                    raise self.error(m[key], f"{field}.{key}", "only with every, not with at")
        else:
            every = self.duration(m["every"], f"{field}.every")
            if every >= duration:
                raise self.error(m["every"], f"{field}.every", f"{every:g}s never fires within duration "
                                                               f"{duration:g}s (allowed: 0 < every < duration)")
            count = self.integer(m["count"], f"{field}.count", 1) if "count" in m else None
        jitter = self.duration(m["jitter"], f"{field}.jitter", positive=False) if "jitter" in m else 0.0
        length = self.duration(m["duration"], f"{field}.duration") if "duration" in m else None
        if action == "crash" and length is None:
            raise self.error(node, f"{field}.duration", "required for crash (how long until a fresh worker starts)")
        if nemesis and length is None:
            raise self.error(node, f"{field}.duration", "required in a nemesis fault (the nemesis heals it after "
                                                        "this long)")
        if action in _HEALERS and length is not None:
            raise self.error(m["duration"], f"{field}.duration", f"{action} heals; it takes no duration")
        if action == "rolling-restart" and length is not None:
            raise self.error(m["duration"], f"{field}.duration", "rolling-restart takes no duration (it ends "
                                                                 "when the last broker is back in sync)")
        if cluster.commands:
            self.has_commands(m, field, action, length, cluster)
        extra = self.network_fields(node, m, field, action, cluster)
        return FaultSpec(action, target, at, every, count, jitter, length, node.start_mark.line + 1, **extra)

    def fault_keys(self, node, m: dict, field: str, action: str, nemesis: bool) -> None:
        """Refuse keys another action (or a timed fault) takes; `mapping` already refused unknown ones."""
        own = ("action", "duration") if action in _NO_TARGET else ("action", "target", "duration")
        known = [*(() if nemesis else _TIMING), *own, *_FIELDS_OF.get(action, ())]
        for key in m:
            if key in known:
                continue
            if key == "target":
                why = f"{action} takes no target ({_NO_TARGET[action]})"
            elif key in _TIMING:
                why = f"unknown key in a nemesis fault (the nemesis decides when; known: {', '.join(known)})"
            else:
                owners = ", ".join(a for a, keys in _FIELDS_OF.items() if key in keys)
                why = f"unknown key for {action} ({key} is for {owners}; known: {', '.join(known)})"
            raise self.error(self.key_node(node, key), f"{field}.{key}", why)

    def key_node(self, node, key: str):
        return next(k for k, _ in reversed(node.value) if isinstance(k, yaml.ScalarNode) and k.value == key)

    def network_fields(self, node, m: dict, field: str, action: str, cluster: ClusterSpec) -> dict:
        """The FaultSpec fields past `line`, for the actions that take them."""
        out = {}
        if "direction" in m:
            out["direction"] = self.word(m["direction"], f"{field}.direction", "a direction", DIRECTIONS)
        if action == "split":
            if ("groups" in m) == ("shape" in m):
                raise self.error(m.get("shape", node), field, "give exactly one of groups or shape "
                                                              "(groups: [[1], [2, 3]], or shape: majority)")
            if "groups" in m:
                out["groups"] = self.groups(m["groups"], f"{field}.groups", cluster)
            else:
                out["shape"] = self.word(m["shape"], f"{field}.shape", "a shape", SHAPES)
                if len(cluster.broker_ids) < 2:
                    raise self.error(m["shape"], f"{field}.shape", f"a split needs at least 2 brokers "
                                                                   f"(have {len(cluster.broker_ids)})")
        if action == "loss":
            if "probability" not in m:
                raise self.error(node, f"{field}.probability", "required for loss (e.g. probability: 0.1)")
            given = m["probability"]
            v = self.value(given) if isinstance(given, yaml.ScalarNode) else None
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
                raise self.error(given, f"{field}.probability", f"{self.kind(given)} is not a probability "
                                                                "(allowed: 0 < p <= 1, e.g. 0.1)")
            out["probability"] = float(v)
        if action == "bandwidth":
            if "rate" not in m:
                raise self.error(node, f"{field}.rate", "required for bandwidth (e.g. rate: 1mbit)")
            v = self.value(m["rate"]) if isinstance(m["rate"], yaml.ScalarNode) else None
            match = _RATE_RE.match(v.strip().lower()) if isinstance(v, str) else None
            if not match or float(match.group(1)) == 0:
                raise self.error(m["rate"], f"{field}.rate", f"{self.kind(m['rate'])} is not a rate above 0 "
                                                             "(e.g. 800bit, 512kbit, 1mbit, 2gbit)")
            out["rate"] = match.group(0)
        if action == "delay":
            if "latency" not in m:
                raise self.error(node, f"{field}.latency", "required for delay (e.g. latency: 100ms)")
            out["latency"] = self.duration(m["latency"], f"{field}.latency")
            if "latency_jitter" in m:
                out["latency_jitter"] = self.duration(m["latency_jitter"], f"{field}.latency_jitter", positive=False)
        return out

    def word(self, node, field: str, what: str, allowed: tuple) -> str:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if v not in allowed:
            close = difflib.get_close_matches(str(v), allowed, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise self.error(node, field, f"{self.kind(node)} is not {what} ({hint}allowed: {', '.join(allowed)})")
        return v

    def groups(self, node, field: str, cluster: ClusterSpec) -> tuple[tuple[int, ...], ...]:
        example = "(e.g. [[1], [2, 3]]; brokers not listed are left alone)"
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, field, f"must be a list of broker-id lists, not {self.kind(node)} {example}")
        out, seen = [], {}
        for i, group in enumerate(node.value):
            if not isinstance(group, yaml.SequenceNode) or not group.value:
                raise self.error(group, f"{field}[{i}]", f"must be a non-empty list of broker ids, "
                                                         f"not {self.kind(group)} {example}")
            ids = []
            for item in group.value:
                v = self.value(item) if isinstance(item, yaml.ScalarNode) else None
                if not isinstance(v, int) or isinstance(v, bool):
                    raise self.error(item, f"{field}[{i}]", f"{self.kind(item)} is not a broker id")
                if v not in cluster.broker_ids:
                    brokers = ", ".join(map(str, cluster.broker_ids)) or "none"
                    raise self.error(item, f"{field}[{i}]", f"broker {v} does not exist (brokers: {brokers})")
                if v in seen:
                    raise self.error(item, f"{field}[{i}]", f"broker {v} is already in {field}[{seen[v]}] "
                                                            "(groups must not overlap)")
                seen[v] = i
                ids.append(v)
            out.append(tuple(ids))
        if len(out) < 2:
            raise self.error(node, field, f"needs at least 2 groups, not {len(out)} {example}")
        return tuple(out)

    def has_commands(self, m: dict, field: str, action: str, length: float | None, cluster: ClusterSpec) -> None:
        """Under cluster.commands, a fault needs a template for its action and, with a duration, its heal."""
        have = ", ".join(cluster.commands)
        if action in NETWORK_ACTIONS or action == "heal-network":
            raise self.error(m["action"], f"{field}.action", f"{action}: network faults need Docker containers, "
                                                             "not cluster.commands (use compose, or containers)")
        if action == "rolling-restart":
            raise self.error(m["action"], f"{field}.action", "rolling-restart needs Docker containers, not "
                                                             "cluster.commands (use compose, or containers)")
        if action == "restart" and "restart" not in cluster.commands and not {"stop", "start"} <= set(cluster.commands):
            raise self.error(m["action"], f"{field}.action", "restart has no command in cluster.commands "
                                                             f"(give restart, or stop and start; have: {have})")
        if action in COMMAND_ACTIONS and action != "restart" and action not in cluster.commands:
            raise self.error(m["action"], f"{field}.action", f"{action} has no command in cluster.commands "
                                                             f"(have: {have})")
        heal = _HEALED_BY.get(action)
        if heal and length is not None and heal not in cluster.commands:
            raise self.error(m["duration"], f"{field}.duration", f"{action} heals with {heal}, which has no command "
                                                                 f"in cluster.commands (have: {have})")

    def action(self, node, field: str, allowed: tuple = ACTIONS) -> str:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if v in FUTURE_ACTIONS:
            raise self.error(node, field, f"{v} is not supported yet (supported: {', '.join(ACTIONS)})")
        if v in ACTIONS and v not in allowed:
            raise self.error(node, field, f"{v} is not a nemesis fault (the nemesis heals each fault itself; "
                                          f"allowed: {', '.join(allowed)})")
        if v not in ACTIONS:
            close = [_RENAMED[v]] if v in _RENAMED else difflib.get_close_matches(str(v), ACTIONS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise self.error(node, field, f"{self.kind(node)} is not an action ({hint}supported: {', '.join(ACTIONS)})")
        return v

    def no_brokers(self) -> str:
        return ("broker faults need cluster.containers (or hosts and commands) when the cluster is given by "
                "bootstrap (e.g. containers: {1: kafka-1})")

    def target(self, node, field: str, action: str, cluster: ClusterSpec, topic: TopicSpec) -> str:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        kinds, allowed = _TARGETS_OF[action]
        match = _TARGET_RE.match(v) if isinstance(v, str) else None
        if not match:
            raise self.error(node, field, f"{self.kind(node)} is not a target of {action} (allowed: {allowed})")
        broker, n, role, name, partition, coordinator, key, word = match.groups()
        kind = broker or role or coordinator or word
        target = (f"broker({int(n)})" if broker else f"{role}({name},{int(partition)})" if role
                  else f"{coordinator}({key})" if coordinator else word)
        if kind not in kinds:
            raise self.error(node, field, f"{target} is not a target of {action} (allowed: {allowed})")
        if kind in ("producer", "consumer"):
            return target
        if not cluster.broker_ids:
            raise self.error(node, field, self.no_brokers())
        if broker and int(n) not in cluster.broker_ids:
            brokers = ", ".join(map(str, cluster.broker_ids))
            raise self.error(node, field, f"{target} does not exist (brokers: {brokers})")
        if role:
            if name != topic.name:
                raise self.error(node, field, f"{target}: no topic {name} (the scenario's topic is {topic.name})")
            if int(partition) >= topic.partitions:
                raise self.error(node, field, f"{target}: no partition {int(partition)} "
                                              f"(allowed: 0..{topic.partitions - 1})")
            if role == "follower" and topic.replication_factor < 2:
                raise self.error(node, field, f"{target}: replication_factor 1 has no followers "
                                              "(allowed: leader(TOPIC,P))")
            if action == "isolate-replication" and topic.replication_factor < 2:
                raise self.error(node, field, f"{target}: replication_factor 1 has no replication to cut "
                                              "(isolate-replication needs replication_factor >= 2)")
        return target

    def expect(self, node) -> dict[str, int | None]:
        m = self.mapping(node, "expect", EXPECT_KEYS)
        out = {}
        for key, value_node in m.items():
            v = self.value(value_node) if isinstance(value_node, yaml.ScalarNode) else None
            if v == "any":
                out[key] = None
            elif isinstance(v, int) and not isinstance(v, bool) and v >= 0:
                out[key] = v
            else:
                raise self.error(value_node, f"expect.{key}", f"{self.kind(value_node)} is not an expectation "
                                                              "(allowed: 0, an upper bound >= 0, or any)")
        return out


def _stem(path: str) -> str:
    stem = Path(path).stem if path != "<string>" else "scenario"
    return stem if _NAME_RE.match(stem) else "scenario"
