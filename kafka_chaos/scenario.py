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

ACTIONS = ("pause", "unpause", "kill", "stop", "start", "restart", "crash")
FUTURE_ACTIONS = ("isolate", "split", "partition", "loss", "bandwidth", "delay", "clock", "disk")
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

_PICKERS = "broker(N), leader(TOPIC,P), follower(TOPIC,P), controller, random, all"
_TARGETS_OF = {  # action -> (allowed target kinds, how the message lists them)
    "pause": ({"broker", "leader", "follower", "controller", "random", "all"}, _PICKERS),
    "kill": ({"broker", "leader", "follower", "controller", "random", "all"}, _PICKERS),
    "stop": ({"broker", "leader", "follower", "controller", "random", "all"}, _PICKERS),
    "restart": ({"broker", "leader", "follower", "controller", "random", "all"}, _PICKERS),
    "unpause": ({"paused", "broker", "all"}, "paused, broker(N), all"),
    "start": ({"killed", "broker", "all"}, "killed, broker(N), all"),
    "crash": ({"producer", "consumer"}, "producer, consumer"),
}
_TARGET_RE = re.compile(r"^\s*(?:(broker)\(\s*(\d+)\s*\)|(leader|follower)\(\s*([^,()\s]+)\s*,\s*(\d+)\s*\)"
                        r"|(controller|random|all|killed|paused|producer|consumer))\s*$")
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


@dataclass(frozen=True)
class ClusterSpec:
    """Where the brokers are; `containers` maps broker id to a container (compose: the service name)."""

    compose: Path | None
    bootstrap: str | None
    containers: dict[int, str]
    broker_config: dict[str, str]
    broker_ids: tuple[int, ...]


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

    def to_dict(self) -> dict:
        """JSON-able plain data (Paths as str, tuples as lists), for scenario.json in the run dir."""
        return _plain(dataclasses.asdict(self))


def from_dict(data: dict) -> Scenario:
    """Rebuild a Scenario from `to_dict` output (e.g. scenario.json read back by `kchaos verify`)."""
    c, t, p, k = data["cluster"], data["topic"], data["producer"], data["consumer"]
    cluster = ClusterSpec(Path(c["compose"]) if c["compose"] else None, c["bootstrap"],
                          {int(i): n for i, n in c["containers"].items()}, dict(c["broker_config"]),
                          tuple(c["broker_ids"]))
    return Scenario(
        data["name"], data["description"], data["seed"], data["duration"], data["drain_timeout"],
        cluster, TopicSpec(**t), ProducerSpec(**p), ConsumerSpec(**k),
        tuple(FaultSpec(**f) for f in data["faults"]), dict(data["expect"]), Path(data["path"]))


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
               "producer", "consumer", "faults", "expect")
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
            path=Path(self.path))

    def cluster(self, node) -> ClusterSpec:
        m = self.mapping(node, "cluster", ("compose", "bootstrap", "containers", "broker_config"))
        if ("compose" in m) == ("bootstrap" in m):
            where = m.get("bootstrap", node)
            raise self.error(where, "cluster", "give exactly one of compose or bootstrap "
                                               "(compose: FILE, or bootstrap: HOST:PORT with containers)")
        containers = self.containers(m["containers"]) if "containers" in m else {}
        compose, ids = None, tuple(sorted(containers))
        if "compose" in m:
            compose = self.compose_path(m["compose"])
            found = self.compose_brokers(m["compose"], compose)
            if not containers:
                containers, ids = found, tuple(sorted(found))
        bootstrap = self.bootstrap(m["bootstrap"]) if "bootstrap" in m else None
        broker_config = self.stringified(m["broker_config"], "cluster.broker_config") if "broker_config" in m else {}
        return ClusterSpec(compose, bootstrap, containers, broker_config, ids)

    def containers(self, node) -> dict[int, str]:
        out = {}
        for key, (v, key_node) in self.raw_mapping(node, "cluster.containers").items():
            field = f"cluster.containers.{key}"
            ident = int(key) if isinstance(key, str) and key.strip().isdigit() else key
            if not isinstance(ident, int) or isinstance(ident, bool) or ident < 0:
                raise self.error(key_node, field, "keys are broker ids (integers >= 0), e.g. {1: kafka-1}")
            if not isinstance(v, str) or not v.strip():
                raise self.error(key_node, field, "must be a container name, e.g. {1: kafka-1}")
            if ident in out:
                raise self.error(key_node, field, "broker id given twice")
            out[ident] = v.strip()
        if not out:
            raise self.error(node, "cluster.containers", "is empty (e.g. {1: kafka-1, 2: kafka-2})")
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

    def fault(self, node, field: str, duration: float, cluster: ClusterSpec, topic: TopicSpec) -> FaultSpec:
        m = self.mapping(node, field, ("at", "every", "count", "jitter", "action", "target", "duration"),
                         ("action", "target"))
        action = self.action(m["action"], f"{field}.action")
        target = self.target(m["target"], f"{field}.target", action, cluster, topic)
        if ("at" in m) == ("every" in m):
            raise self.error(m.get("every", node), field, "give exactly one of at or every (at: 10s, or every: 15s)")
        at = every = count = None
        if "at" in m:
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
        if action in ("unpause", "start") and length is not None:
            raise self.error(m["duration"], f"{field}.duration", f"{action} heals; it takes no duration")
        return FaultSpec(action, target, at, every, count, jitter, length, node.start_mark.line + 1)

    def action(self, node, field: str) -> str:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if v in FUTURE_ACTIONS:
            raise self.error(node, field, f"{v} is not supported yet (supported: {', '.join(ACTIONS)})")
        if v not in ACTIONS:
            close = difflib.get_close_matches(str(v), ACTIONS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise self.error(node, field, f"{self.kind(node)} is not an action ({hint}supported: {', '.join(ACTIONS)})")
        return v

    def target(self, node, field: str, action: str, cluster: ClusterSpec, topic: TopicSpec) -> str:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        kinds, allowed = _TARGETS_OF[action]
        match = _TARGET_RE.match(v) if isinstance(v, str) else None
        if not match:
            raise self.error(node, field, f"{self.kind(node)} is not a target of {action} (allowed: {allowed})")
        broker, n, role, name, partition, word = match.groups()
        kind = broker or role or word
        target = f"broker({int(n)})" if broker else f"{role}({name},{int(partition)})" if role else word
        if kind not in kinds:
            raise self.error(node, field, f"{target} is not a target of {action} (allowed: {allowed})")
        if kind in ("producer", "consumer"):
            return target
        if not cluster.broker_ids:
            raise self.error(node, field, "broker faults need cluster.containers when the cluster is given "
                                          "by bootstrap (e.g. containers: {1: kafka-1})")
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
