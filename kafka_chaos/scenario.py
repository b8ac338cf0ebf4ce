"""The scenario contract: load a YAML scenario, validate it, and return an immutable Scenario.

Every mistake is one ScenarioError line, `FILE:LINE: FIELD: what is wrong (what is allowed)`, raised
before anything touches a cluster. Line numbers come from the YAML node marks. Input is bounded before
it is used: the file and its YAML (kafka_chaos.yamlfile), every string and every number (the MAX_ bounds
below, Kafka's own in kafka_chaos.topics). `from_dict` puts a run directory's scenario.json through the
same checks, so a replay or a heal acts only on validated data.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import catalog, counts, overrides as _overrides, schedule, semantics, settingsfile, topics, yamlfile
from .errors import ScenarioError
from .masking import MASK, is_secret
from .semantics import shown as _shown

ACTIONS = catalog.NAMES
NETWORK_ACTIONS = catalog.NETWORK_ACTIONS
COMMAND_ACTIONS = catalog.BROKER_ACTIONS  # the keys of cluster.commands
FUTURE_ACTIONS = ("clock", "disk")
DIRECTIONS = ("both", "in", "out")
# crash `point` -> the workers that have it: the worker kills itself there instead of being killed at once
CRASH_POINTS = {
    "after-commit": ("consumer", "copier", "sink", "relay"),   # right after its next commit
    "mid-batch": ("consumer",),   # halfway through processing a batch of 2 or more, before committing it
}
SHAPES = ("majority", "minority")
BROKER_LABEL = "kchaos.broker.id"

DEFAULT_SEED = 0
DEFAULT_DRAIN_TIMEOUT = 60.0
DEFAULT_TOPIC = {"name": "chaos", "partitions": 3, "replication_factor": 3}
DEFAULT_RATE = 500.0
DEFAULT_VALUE_SIZE = 100
DEFAULT_PROCESS_TIME = 0.002
DEFAULT_TXN = {"txn_size": 100, "abort_ratio": 0.1, "transaction_timeout": 10.0}  # semantic: transactional
DEFAULT_COPIER = {"txn_size": 100, "abort_ratio": 0.1, "transaction_timeout": 10.0, "on_abort": "seek",
                  "offsets": "transaction"}
COPIER_ON_ABORT = ("seek", "no-seek")
SINK_OFFSETS = ("database", "kafka")
DATABASES = ("sqlite", "postgresql")   # postgresql: the DSN comes from the environment (PG_DSN_ENV), never a file
PG_DSN_ENV = "KCHAOS_PG_DSN"
COPIER_OFFSETS = ("transaction", "after-commit")

# Bounds. Shipped scenarios are ~1.5 KiB and ~100 nodes; each bound is far above any real need and far below
# what costs time or memory.
MAX_FILE_BYTES = yamlfile.MAX_BYTES   # and yamlfile.MAX_NODES, MAX_DEPTH for the YAML in it
MAX_NAME = 200                # the run directory `<YYYYmmdd-HHMMSS[.n]>-<name>` stays within 255 bytes
MAX_TEXT = 4096               # description, paths, bootstrap, config values, command words
MAX_WORDS = 64                # words of one cluster.commands argument list
MAX_HOST = 253                # DNS's limit on a host name
MAX_SECONDS = 24 * 3600.0     # duration, a fault's duration, nemesis timings
MAX_DRAIN = 3600.0            # drain_timeout
MAX_PROCESS_TIME = 60.0       # consumer.process_time per record
MIN_EVERY = 0.1               # every, nemesis.interval: applying a fault takes longer than this anyway
MAX_RATE = 1e6                # records/s: twice what librdkafka reaches here; kchaos's producer does ~10k
MAX_COUNT = 10**9             # producer.count
MAX_VALUE_SIZE = 1_000_000    # with its key and batch overhead a record fits Kafka's default max.message.bytes
                              # (1048588) and kafka-python's max_request_size (1048576)
MAX_BIG = 2**63 - 1           # seed, expect bounds: a Java long
MAX_BROKER_ID = 2**31 - 1     # Kafka's node.id is a Java int
MIN_LATENCY, MAX_LATENCY = 0.001, 60.0  # delay: netem is given whole microseconds
MIN_PROBABILITY = 0.0001      # loss: iptables is given 4 decimals, so p is a multiple of 0.0001
MIN_RATE_BITS, MAX_RATE_BITS = 8_000, 100 * 10**9  # bandwidth: below 8kbit a 1500-byte packet takes 1.5 s
MAX_TXN_SIZE = 10_000         # records per transaction
MIN_TXN_TIMEOUT, MAX_TXN_TIMEOUT = 1.0, 900.0  # the broker's transaction.max.timeout.ms defaults to 15 min
MAX_TXN_ID = 200              # transactional_id characters (kchaos appends nothing to a given one)
TXN_FIELDS = ("txn_size", "abort_ratio", "transaction_timeout", "transactional_id")   # semantic: transactional
TIMING = ("at", "every", "count", "jitter")   # of a timed fault; a nemesis fault has none (the nemesis decides)

# The keys of each section of a scenario file, in the order messages list them, and the ones a section must give.
# The parser and the JSON Schema (kafka_chaos.schema) both read these tables, so an editor never completes a key
# the parser refuses, nor misses one it takes. `expect` takes kafka_chaos.counts's names; `cluster.commands` the
# broker actions of kafka_chaos.catalog.
KEYS: dict[str, tuple[str, ...]] = {
    "scenario": ("name", "description", "seed", "duration", "drain_timeout", "cluster", "topic", "producer",
                 "consumer", "copier", "sink", "database", "faults", "nemesis", "expect", "expect_by_version"),
    "cluster": ("compose", "bootstrap", "containers", "broker_config", "hosts", "commands"),
    "topic": ("name", "partitions", "replication_factor", "config"),
    "producer": ("semantic", "client", "rate", "count", "value_size", "config", "config_file", *TXN_FIELDS),
    "consumer": ("mode", "process_time", "config", "config_file"),
    "copier": tuple(DEFAULT_COPIER),
    "sink": ("offsets", "dedup", "process_time"),
    "nemesis": ("start", "interval", "jitter", "recovery", "faults"),
    "fault": (*TIMING, "action", "target", "duration", "direction", "groups", "shape", "probability", "rate",
              "point", "latency", "latency_jitter"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "scenario": ("duration", "cluster", "producer", "consumer"),
    "producer": ("semantic",),
    "consumer": ("mode",),
    "nemesis": ("interval", "faults"),
    "fault": ("action",),
}
_TOP = KEYS["scenario"]
_FAULT_KEYS = KEYS["fault"]
_OPTIONAL_ROLES = ("nemesis", "copier", "sink", "database", "expect_by_version")   # recorded only when given
_RECORDED = (*(k for k in _TOP if k not in _OPTIONAL_ROLES), "path")  # what every scenario.json holds
_TARGET_RE = re.compile(r"^\s*(?:(broker)\(\s*([0-9]{1,10})\s*\)"
                        r"|(leader|follower)\(\s*([A-Za-z0-9._-]{1,249})\s*,\s*([0-9]{1,9})\s*\)"
                        r"|(coordinator|txn-coordinator)\(\s*([A-Za-z0-9._:@-]{1,249})\s*\)"
                        r"|(controller|random|all|killed|paused|partitioned|producer|consumer|copier|sink|outbox|relay))\s*$")
_RATE_RE = re.compile(r"^([0-9]{1,12}(?:\.[0-9]{1,6})?)(bit|kbit|mbit|gbit)$")
_BITS = {"bit": 1, "kbit": 10**3, "mbit": 10**6, "gbit": 10**9}  # tc's SI units
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
_RENAMED = {"partition": "split"}  # reserved names that ended up under another name
_DURATION_RE = re.compile(r"^\s*([0-9]{1,12}(?:\.[0-9]{0,9})?|\.[0-9]{1,9})\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HOST_RE = re.compile(r"^[A-Za-z0-9_:\[][A-Za-z0-9._:@\[\]-]*$")  # host, IPv4, [IPv6], user@host; never an option
_CONTAINER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")     # Docker's container and compose's service names
_CONFIG_KEY_RE = re.compile(r"^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$")  # Kafka's: unclean.leader.election.enable
_BROKER_ID_RE = re.compile(r"^\s*[0-9]{1,10}\s*$")
_PORT_RE = re.compile(r"^[0-9]{1,5}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")  # \t, \n ok
_BRIEF_RE = re.compile(r"^[A-Za-z0-9_.:@/-]{1,64}$")


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
    probability: float | None = None  # loss: chance each packet is dropped, a multiple of 0.0001 in (0, 1]
    rate: str | None = None  # bandwidth: tc rate, e.g. "1mbit"
    latency: float | None = None  # delay: seconds added to each packet
    latency_jitter: float = 0.0  # delay: ± seconds around latency
    point: str | None = None  # crash: "after-commit" = at the worker's next crash point, not at once

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
class SettingsFile:
    """Where a client's settings came from: `config_file` as the scenario gave it, the keys of it in the client's
    settings (as the file spells them; the scenario's config won over the others) and the wiring keys left out."""

    path: str
    keys: tuple[str, ...]
    ignored: tuple[str, ...] = ()   # bootstrap.servers, serializers, group.id: the run uses its own


@dataclass(frozen=True)
class ProducerSpec:
    semantic: str
    rate: float | None  # records/second; None when `count` is given
    count: int | None
    value_size: int
    config: dict  # merged kafka-python settings from semantics.producer_settings
    # semantic transactional only (None otherwise):
    txn_size: int | None = None  # records per transaction (the last one may be shorter)
    abort_ratio: float | None = None  # fraction of transactions aborted on purpose (seeded draws)
    transaction_timeout: float | None = None  # seconds; kafka-python's transaction_timeout_ms
    transactional_id: str | None = None  # None: the runner derives kchaos-<run id>-<name>-<producer instance>
    settings_file: SettingsFile | None = None   # producer.config_file, under config
    client: str = "kafka-python"   # the client library: semantics.PRODUCER_CLIENTS


@dataclass(frozen=True)
class ConsumerSpec:
    mode: str
    process_time: float  # simulated application work per record, seconds
    config: dict  # kafka-python settings from semantics.consumer_settings
    settings_file: SettingsFile | None = None   # consumer.config_file, under config


@dataclass(frozen=True)
class CopierSpec:
    """Consume-transform-produce: copy the topic to <topic>-out, each batch in one transaction with its offsets."""

    txn_size: int              # input records per transaction at most
    abort_ratio: float         # fraction of its transactions aborted on purpose (seeded draws)
    transaction_timeout: float
    on_abort: str              # seek (back to the committed positions) | no-seek (broken: skips aborted inputs)
    offsets: str               # transaction (send_offsets_to_transaction) | after-commit (broken: auto-commit)


@dataclass(frozen=True)
class SinkSpec:
    """The inbox pattern: a consumer applying each record's effect to a database table (see workload.sink)."""

    offsets: str          # database (with the effects, one transaction) | kafka (committed after: broken)
    dedup: bool           # skip a record applied before (by its id): what a sink behind an outbox relay needs
    process_time: float   # seconds of work per record before the batch is applied


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
    copier: CopierSpec | None = None
    sink: SinkSpec | None = None
    database: str | None = None   # of the sink and the outbox: sqlite (in the run directory; None too) | postgresql
    # Kafka version spec ("<3.9", ">=3.9.0", "3.8.1") -> expect; the first that matches the run's version wins
    expect_by_version: dict[str, dict[str, int | None]] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able plain data (Paths as str, tuples as lists), for scenario.json in the run dir."""
        return _plain(dataclasses.asdict(self))


MAX_VERSION_SPECS = 20
VERSION_SPEC_RE = re.compile(r"^(<=|>=|==|<|>)?\s*([0-9]{1,4}(?:\.[0-9]{1,4}){0,2})$")


def version_matches(spec: str, version: str) -> bool:
    """Whether Kafka `version` (e.g. 3.8.1) satisfies `spec` (e.g. <3.9); missing parts count as 0."""
    op, wanted = VERSION_SPEC_RE.match(spec.strip()).groups()
    parts = re.match(r"^([0-9]{1,4}(?:\.[0-9]{1,4}){0,2})", version.strip())
    if not parts:
        return False
    have = tuple(int(x) for x in (parts[1].split(".") + ["0", "0"])[:3])
    want = tuple(int(x) for x in (wanted.split(".") + ["0", "0"])[:3])
    return {"<": have < want, "<=": have <= want, ">": have > want, ">=": have >= want,
            "==": have == want, None: have == want}[op]


def for_version(s: Scenario, version: str) -> tuple[Scenario, str | None]:
    """`s` with the expect of its first expect_by_version entry that `version` matches, and a line saying which;
    (s, None) when it has no such entries, (s, why) with its own expect when none matches."""
    if not s.expect_by_version:
        return s, None
    for spec, expect in s.expect_by_version.items():
        if version_matches(spec, version):
            return dataclasses.replace(s, expect=dict(expect)), f"expect for Kafka {version}: expect_by_version {spec}"
    return s, f"no expect_by_version entry matches Kafka {version}: the scenario's expect applies"


def from_dict(data, path: Path | str = "scenario.json") -> Scenario:
    """Rebuild a Scenario from `to_dict` output (scenario.json, read back by `kchaos run --replay` and `kchaos
    heal`). It is untrusted input: every field goes through the checks `loads` makes, and a wrong one is a
    ScenarioError naming `path` and the field."""
    where = _display(str(path))
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: scenario: must be a JSON object (the scenario kchaos wrote), not {_shown(data)}")
    for key in _RECORDED:
        if key not in data:
            raise ScenarioError(f"{where}: {key}: missing, so not a scenario kchaos wrote (it writes {key} in "
                                "every scenario.json)")
    parser = _Parser(str(path), record=True)
    return parser.scenario(_to_nodes(_as_written(data), parser))


def fault_from_dict(data, path: Path | str = "") -> FaultSpec:
    """A FaultSpec from its `to_dict` form (a timeline's `spec`), checked as `loads` checks a fault; brokers and
    topics it names are not checked (no scenario says which exist). Messages name `path` when given."""
    parser = _Parser(str(path), record=True)
    if not isinstance(data, dict):
        raise parser.error(None, "fault", f"must be a JSON object (a fault kchaos wrote), not {_shown(data)}")
    fault = _fault_as_written(data)
    nemesis = fault.get("at") is None and fault.get("every") is None   # the nemesis's faults have neither
    return parser.fault(_to_nodes(fault, parser), "fault", MAX_SECONDS, None, None, nemesis)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Path) else value


def _as_written(data: dict) -> dict:
    """scenario.json's form back in a scenario file's form: defaults and empty parts left out, `any` for an
    expectation of None, and the consumer settings consumer.mode fixes taken out of consumer.config."""
    out = {k: v for k, v in data.items() if not (k == "description" and v == "")}
    if isinstance(out.get("cluster"), dict):
        out["cluster"] = {k: v for k, v in out["cluster"].items() if not (isinstance(v, (str, dict, list)) and not v)}
    if isinstance(out.get("faults"), list):
        out["faults"] = [_fault_as_written(f) for f in out["faults"]]
    if isinstance(out.get("nemesis"), dict) and isinstance(out["nemesis"].get("faults"), list):
        out["nemesis"] = {**out["nemesis"], "faults": [_fault_as_written(f) for f in out["nemesis"]["faults"]]}
    if isinstance(out.get("expect"), dict):
        out["expect"] = {k: "any" if v is None else v for k, v in out["expect"].items()}
    if out.get("expect_by_version") == {}:
        del out["expect_by_version"]
    elif isinstance(out.get("expect_by_version"), dict):
        out["expect_by_version"] = {spec: {k: "any" if v is None else v for k, v in e.items()} if isinstance(e, dict)
                                    else e for spec, e in out["expect_by_version"].items()}
    consumer = out.get("consumer")
    if isinstance(consumer, dict) and isinstance(consumer.get("config"), dict) and \
            isinstance(consumer.get("mode"), str) and consumer["mode"] in semantics.MODES:
        fixed = semantics.mode_settings(consumer["mode"])
        config = {k: v for k, v in consumer["config"].items()
                  if not (k in fixed and v == fixed[k] and type(v) is type(fixed[k]))}
        out["consumer"] = {**consumer, "config": config}
    return out


def _fault_as_written(fault):
    if not isinstance(fault, dict):
        return fault
    defaults = {"target": "", "direction": "both", "jitter": 0, "latency_jitter": 0}
    return {k: v for k, v in fault.items()
            if not (k in defaults and type(v) in (str, int, float) and v == defaults[k])}


_MARK = yaml.Mark("scenario.json", 0, 0, 0, None, None)
_TAG = "tag:yaml.org,2002:"


def _to_nodes(value, parser: _Parser):
    """The YAML node tree `parser` reads for JSON-like `value`, within yamlfile's node and depth bounds."""
    count = [0]

    def node(v, depth: int):
        count[0] += 1
        if count[0] > yamlfile.MAX_NODES or depth > yamlfile.MAX_DEPTH:
            raise parser.error(None, "scenario", f"more than {yamlfile.MAX_NODES} values or {yamlfile.MAX_DEPTH} "
                                                 "levels of nesting")
        if isinstance(v, dict):
            return yaml.MappingNode(_TAG + "map", [(node(k, depth + 1), node(x, depth + 1)) for k, x in v.items()],
                                    _MARK, _MARK)
        if isinstance(v, (list, tuple)):
            return yaml.SequenceNode(_TAG + "seq", [node(x, depth + 1) for x in v], _MARK, _MARK)
        if isinstance(v, bool) or v is None:
            tag, text = ("bool", str(v).lower()) if v is not None else ("null", "null")
        elif isinstance(v, int):   # str() of a huge int is slow, then refused: show it as what it is instead
            tag, text = ("int", str(v)) if v.bit_length() <= 128 else ("str", f"<an integer of {v.bit_length()} bits>")
        elif isinstance(v, float):
            tag, text = "float", repr(v)
        else:
            tag, text = "str", v if isinstance(v, str) else f"<{type(v).__name__}>"
        return yaml.ScalarNode(_TAG + tag, text, _MARK, _MARK)

    return node(value, 0)


def compose_brokers(compose: Path) -> dict[int, str]:
    """{broker id: service name} of the services labelled kchaos.broker.id in a compose file (read bounded)."""
    try:
        return _compose_brokers(Path(compose))
    except yamlfile.Unreadable as e:
        raise ScenarioError(f"{_display(str(compose))}: {e}") from None


def _compose_brokers(compose: Path) -> dict[int, str]:
    try:
        doc = yamlfile.load(compose)
    except yamlfile.Unreadable as e:
        raise yamlfile.Unreadable(f"cannot read {compose} ({e})") from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:
        raise yamlfile.Unreadable(f"cannot read {compose} ({' '.join(str(e).split())[:200]})") from None
    services = doc.get("services") if isinstance(doc, dict) else None
    found = {}
    for service, spec in (services.items() if isinstance(services, dict) else ()):
        labels = spec.get("labels") if isinstance(spec, dict) else None
        if isinstance(labels, list):
            labels = dict(str(item).partition("=")[::2] for item in labels)
        if not isinstance(labels, dict) or BROKER_LABEL not in labels:
            continue
        ident = str(labels[BROKER_LABEL]).strip()
        if not _BROKER_ID_RE.match(ident) or int(ident) > MAX_BROKER_ID or int(ident) in found \
                or not _CONTAINER_RE.match(str(service)) or len(str(service)) > MAX_HOST:
            raise yamlfile.Unreadable(f"service {_shown(service)} in {compose.name} has {BROKER_LABEL}="
                              f"{_shown(labels[BROKER_LABEL])} (needs a unique integer broker id and a service "
                              "name of letters, digits, . _ -)")
        found[int(ident)] = str(service)
    if not found:
        raise yamlfile.Unreadable(f"no service in {compose.name} has the label {BROKER_LABEL} "
                          f"(label each broker, e.g. labels: {{{BROKER_LABEL}: \"1\"}})")
    return found


def load(path: Path | str, overrides=()) -> Scenario:
    """Read and validate the scenario file at `path` (a regular file of at most MAX_FILE_BYTES of UTF-8), each
    (dotted key, YAML value) of `overrides` set first, as `--set KEY=VALUE` does: load(p, [("producer.rate", "500")])."""
    try:
        text = yamlfile.read_text(Path(path))
    except yamlfile.Unreadable as e:
        raise ScenarioError(f"{_display(str(path))}: cannot read the scenario ({e})") from None
    return loads(text, str(path), overrides)


def loads(text: str, path: str = "<string>", overrides=()) -> Scenario:
    """Validate scenario `text` with `overrides` set (see `load`); `path` names it in messages and anchors relative
    paths (cluster.compose, config_file)."""
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(f"{_display(path)}:1: scenario: {len(text)} characters (allowed: at most {MAX_FILE_BYTES})")
    return _Parser(path).scenario(_overrides.apply(_compose(text, _display(path)), overrides))


def parse_duration(value, field: str) -> float:
    """Seconds in "10s", "500ms", "2m", "1h", "1.5s" or a bare number of seconds."""
    seconds = _seconds(value)
    if seconds is None:
        raise ScenarioError(f"{field}: {_shown(value)} is not a duration (e.g. 10s, 500ms, 2m, 1.5s, or seconds)")
    return seconds


def _seconds(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if 0 <= value <= 1e15 else None  # also refuses nan and inf
    m = _DURATION_RE.match(value) if isinstance(value, str) else None
    return float(m.group(1)) * _UNIT[m.group(2)] if m else None


def _fmt(seconds: float) -> str:
    """24h, 1m, 100ms: a bound as a scenario would write it."""
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 0.001)):
        n = seconds / size
        if n >= 1 and abs(n - round(n)) < 1e-9:
            return f"{round(n)}{unit}"
    return f"{seconds:g}s"


def _brief(key) -> str:
    """A key or word as a field name shows it: itself when short and plain, else quoted and cut."""
    return key if isinstance(key, str) and _BRIEF_RE.match(key) else _shown(key)


def _display(path: str) -> str:
    return repr(path) if _CONTROL_RE.search(path) else path


def _did_you_mean(word, options, form: str = "{}") -> str:
    """'did you mean X? ' for a near miss; long words are never compared (difflib's time grows with their square)."""
    close = difflib.get_close_matches(word, list(options), n=1) if isinstance(word, str) and len(word) <= 64 else []
    return f"did you mean {form.format(close[0])}? " if close else ""


def _compose(text: str, where: str):
    """The root node of `text`, every value constructible; a YAML mistake is a ScenarioError at its line."""
    try:
        root = yaml.compose(text, Loader=yamlfile.Loader)
        if root is not None:
            # Surface bad tags and unhashable keys here; on a copy, since merging rewrites nodes.
            yamlfile.Loader("").construct_document(copy.deepcopy(root))
        return root
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        what = " ".join(filter(None, (getattr(e, "context", None), getattr(e, "problem", None)))) or str(e)
        raise ScenarioError(f"{where}:{line}: yaml: {' '.join(what.split())[:300]}") from None
    except (ValueError, TypeError, RecursionError) as e:
        raise ScenarioError(f"{where}:1: yaml: cannot read a value ({' '.join(str(e).split())[:300]})") from None


class _Parser:
    """Walks the composed YAML node tree so each error can name its line. With `record`, the tree is a run
    directory's scenario.json: messages name no line, `path`, `cluster.broker_ids` and each fault's `line`
    are read from it, and the compose file it names need not exist any more."""

    def __init__(self, path: str, record: bool = False):
        self.path = path
        self.record = record
        self._constructor = yamlfile.Loader("")

    # -- primitives -------------------------------------------------------------------------------
    def error(self, node, field: str, message: str) -> ScenarioError:
        if self.record:
            return ScenarioError(f"{_display(self.path) + ': ' if self.path else ''}{field}: {message}")
        if _overrides.is_override(node):   # its mark's name is the --set KEY=VALUE that made it
            return ScenarioError(f"{node.start_mark.name}: {field}: {message}")
        line = node.start_mark.line + 1 if node is not None else 1
        return ScenarioError(f"{_display(self.path)}:{line}: {field}: {message}")

    def value(self, node):
        return self._constructor.construct_object(node, deep=True)

    def mapping(self, node, field: str, known: tuple, required: tuple = (), listed: tuple = ()) -> dict:
        """{key: value node} of a mapping; null values count as absent. Messages list `listed` (else `known`)."""
        listed = listed or known
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, field, f"must be a mapping, not {self.kind(node)} (keys: {', '.join(listed)})")
        self.no_duplicates(node, field)
        self._constructor.flatten_mapping(node)  # `<<: *anchor` merges; the mapping's own keys win
        out = {}
        for key_node, value_node in node.value:
            key = self.value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key not in known:
                sub = f"{field}.{_brief(key)}" if field else _brief(key)
                raise self.error(key_node, sub, f"unknown key ({_did_you_mean(key, listed)}known: {', '.join(listed)})")
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
                    raise self.error(key_node, f"{field}.{_brief(key)}" if field else _brief(key),
                                     "given twice (keep one)")
                seen.add(key)

    def key_node(self, node, key: str):
        return next(k for k, _ in reversed(node.value) if isinstance(k, yaml.ScalarNode) and k.value == key)

    def kind(self, node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        return _shown(self.value(node))

    def text(self, node, field: str, limit: int = MAX_TEXT, lines: bool = False, why: str = "") -> str:
        """A non-empty string of at most `limit` characters, without control characters (`lines`: tabs and
        newlines allowed); stripped."""
        v = self.value(node)
        if not isinstance(v, str) or not v.strip():
            raise self.error(node, field, f"must be a non-empty string, not {self.kind(node)}")
        if len(v) > limit:
            raise self.error(node, field, f"is {len(v)} characters long (allowed: at most {limit}{why})")
        bad = (_TEXT_CONTROL_RE if lines else _CONTROL_RE).search(v)
        if bad:
            raise self.error(node, field, f"contains the control character {bad.group()!r} (allowed: printable "
                                          f"text{', tabs and newlines' if lines else ''})")
        return v.strip()

    def integer(self, node, field: str, low: int, high: int, why: str = "") -> int:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise self.error(node, field, f"must be an integer >= {low}, not {self.kind(node)}")
        if v > high:
            raise self.error(node, field, f"{_shown(v)} is more than {high} (allowed: {low}..{high}{why})")
        return v

    def number(self, node, field: str, high: float, why: str = "") -> float:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < math.inf:
            raise self.error(node, field, f"must be a number > 0, not {self.kind(node)}")
        if v > high:
            raise self.error(node, field, f"{_shown(v)} is more than {high:.0f} (allowed: 0 < value <= {high:.0f}{why})")
        return float(v)

    def duration(self, node, field: str, positive: bool = True, high: float = MAX_SECONDS, low: float = 0.0,
                 why: str = "") -> float:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        seconds = _seconds(v)
        if seconds is None:
            raise self.error(node, field, f"{self.kind(node)} is not a duration "
                                          "(e.g. 10s, 500ms, 2m, 1.5s, or seconds)")
        if positive and seconds <= 0:
            raise self.error(node, field, f"{v} must be longer than 0")
        if seconds < low:
            raise self.error(node, field, f"{v} is shorter than {_fmt(low)} (allowed: at least {_fmt(low)}{why})")
        if seconds > high:
            raise self.error(node, field, f"{v} is longer than {_fmt(high)} (allowed: at most {_fmt(high)}{why})")
        return seconds

    def stringified(self, node, field: str, known: dict | None = None) -> dict[str, str]:
        """A Kafka config mapping; values become the strings Kafka's properties files hold. Keys are `known`'s
        (topic configs, each value checked as Kafka would) or, without it, Kafka config names (broker configs)."""
        out = {}
        for key, (v, key_node) in self.raw_mapping(node, field).items():
            sub = f"{field}.{_brief(key)}"
            if not isinstance(key, str) or isinstance(v, (dict, list, set)) or v is None:
                raise self.error(key_node, sub, "must be `name: value` with a single value")
            if known is not None and key not in known:
                raise self.error(key_node, sub, f"not a Kafka topic config ({_did_you_mean(key, known)}"
                                                f"known: {', '.join(known)})")
            if known is None and not (len(key) <= 249 and _CONFIG_KEY_RE.match(key)):
                raise self.error(key_node, sub, "not a Kafka config name (lowercase words joined by dots, e.g. "
                                                "unclean.leader.election.enable)")
            text = str(v).lower() if isinstance(v, bool) else str(v)
            if len(text) > MAX_TEXT or _CONTROL_RE.search(text):
                raise self.error(key_node, sub, f"{_shown(text)}: a value is at most {MAX_TEXT} characters without "
                                                "control characters (Kafka reads it as one line)")
            problem = topics.config_problem(key, text) if known is not None else None
            if problem:
                raise self.error(key_node, sub, f"{_shown(text)} {problem}")
            out[key] = text
        return out

    # -- sections ---------------------------------------------------------------------------------
    def scenario(self, root) -> Scenario:
        top = (*_TOP, "path") if self.record else _TOP
        if root is None:
            raise ScenarioError(f"{_display(self.path)}:1: scenario: the file is empty (keys: {', '.join(_TOP)})")
        if not isinstance(root, yaml.MappingNode):
            raise self.error(root, "scenario", f"the top level must be a mapping, not {self.kind(root)}")
        required = tuple(k for k in _RECORDED if k != "description") if self.record else REQUIRED["scenario"]
        m = self.mapping(root, "", top, required=required, listed=_TOP)
        if "name" in m:
            name = self.text(m["name"], "name", MAX_NAME, why="; the run directory is <YYYYmmdd-HHMMSS>-<name>")
            if not _NAME_RE.match(name):
                raise self.error(m["name"], "name", f"{_shown(name)} is not a name (letters, digits, . _ -)")
        else:
            name = _stem(self.path)
        duration = self.duration(m["duration"], "duration")
        cluster = self.cluster(m["cluster"])
        topic = self.topic(m.get("topic"), root, cluster)
        producer = self.producer(m["producer"])
        consumer = self.consumer(m["consumer"])
        faults = self.faults(m.get("faults"), duration, cluster, topic)
        nemesis = self.nemesis(m["nemesis"], duration, cluster, topic) if "nemesis" in m else None
        copier = self.copier(m["copier"]) if "copier" in m and not self.null(m["copier"]) else None
        sink = self.sink(m["sink"]) if "sink" in m and not self.null(m["sink"]) else None
        if copier and sink:
            raise self.error(m["sink"], "sink", "not with a copier (one store of effects per run: the copier's "
                                                "output topic or the sink's table)")
        if producer.semantic == "outbox" and not sink:
            raise self.error(m["producer"], "producer.semantic", "outbox needs a sink downstream (sink: {dedup: "
                                                                 "true}): the relay may publish a row twice")
        database = None
        if "database" in m and not self.null(m["database"]):
            database = self.word(m["database"], "database", "a database", DATABASES)
            if not sink and producer.semantic != "outbox":
                raise self.error(m["database"], "database", "only with a sink or producer.semantic: outbox")
        self.roles_present(faults, nemesis, copier, producer, sink)
        expect = self.expect(m["expect"]) if "expect" in m else None   # each parsed once: a merge is flattened
        by_version = self.expect_by_version(m["expect_by_version"]) if "expect_by_version" in m else {}
        self.measured(m, expect, by_version,
                      counts.unmeasured(bool(copier or sink), producer.semantic == "transactional"))
        self.planned(m, faults, nemesis, duration)
        return Scenario(
            name=name,
            description=(self.text(m["description"], "description", lines=True) if "description" in m else ""),
            seed=self.integer(m["seed"], "seed", 0, MAX_BIG) if "seed" in m else DEFAULT_SEED,
            duration=duration,
            drain_timeout=(self.duration(m["drain_timeout"], "drain_timeout", high=MAX_DRAIN)
                           if "drain_timeout" in m else DEFAULT_DRAIN_TIMEOUT),
            cluster=cluster, topic=topic, producer=producer, consumer=consumer, faults=faults,
            expect=expect if expect is not None else default_expect(producer.semantic, consumer.mode, copier, sink),
            path=Path(self.text(m["path"], "path") if self.record else self.path), nemesis=nemesis, copier=copier,
            sink=sink, database=database,
            expect_by_version=by_version)

    def measured(self, m, expect, by_version, unmeasured: dict[str, str]) -> None:
        """Refuse a bound in `expect` or `expect_by_version` on a count nothing in this run measures (`unmeasured`:
        name -> what would; `any` is allowed); `expect` and `by_version` are those mappings parsed (their merges
        flattened into the nodes)."""
        where = [(m["expect"], "expect", expect)] if expect is not None else []
        if by_version:   # its entries in the order of the (flattened) node
            where += [(value, f"expect_by_version.{spec}", bounds)
                      for (spec, bounds), (_, value) in zip(by_version.items(), m["expect_by_version"].value)]
        for node, field, bounds in where:
            for key, what in unmeasured.items():
                if bounds.get(key) is not None:
                    raise self.error(self.key_node(node, key), f"{field}.{key}",
                                     f"measured only with {what}; `any` is allowed")

    def expect_by_version(self, node) -> dict[str, dict[str, int | None]]:
        """Version spec -> expect, for a scenario whose verdict depends on the Kafka version (a known bug and the
        release that fixed it)."""
        if not isinstance(node, yaml.MappingNode) or not node.value:
            raise self.error(node, "expect_by_version", "must be a mapping of Kafka version specs to expect "
                                                        "mappings, e.g. {\"<3.9\": {lost: 0}, \">=3.9\": {lost: any}}")
        self._constructor.flatten_mapping(node)  # `<<: *anchor` merges, as in every other mapping
        if len(node.value) > MAX_VERSION_SPECS:
            raise self.error(node, "expect_by_version", f"{len(node.value)} entries (allowed: at most "
                                                        f"{MAX_VERSION_SPECS})")
        out = {}
        for key_node, value_node in node.value:
            spec = self.value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if isinstance(spec, (int, float)) and not isinstance(spec, bool):   # YAML reads 3.10 as 3.1
                raise self.error(key_node, "expect_by_version", f"{spec} is a number to YAML: quote the version "
                                                                f"spec (\"{key_node.value}\": ...)")
            if not isinstance(spec, str) or not VERSION_SPEC_RE.match(spec.strip()):
                raise self.error(key_node, "expect_by_version", f"{_shown(spec)} is not a version spec (e.g. 3.8.1, "
                                                                "<3.9, >=3.9.0; operators < <= > >= ==)")
            if spec.strip() in out:
                raise self.error(key_node, f"expect_by_version.{spec.strip()}", "given twice")
            out[spec.strip()] = self.expect(value_node, f"expect_by_version.{spec.strip()}")
        return out

    def null(self, node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"

    def sink(self, node) -> SinkSpec:
        m = self.mapping(node, "sink", KEYS["sink"])
        offsets = self.word(m["offsets"], "sink.offsets", "a place for offsets", SINK_OFFSETS) \
            if "offsets" in m else "database"
        dedup = False
        if "dedup" in m:
            v = self.value(m["dedup"]) if isinstance(m["dedup"], yaml.ScalarNode) else None
            if not isinstance(v, bool):
                raise self.error(m["dedup"], "sink.dedup", f"{self.kind(m['dedup'])} is not true or false")
            dedup = v
        process_time = self.duration(m["process_time"], "sink.process_time", positive=False,
                                     high=MAX_PROCESS_TIME, why=" per record") \
            if "process_time" in m else DEFAULT_PROCESS_TIME
        return SinkSpec(offsets, dedup, process_time)

    def copier(self, node) -> CopierSpec:
        m = self.mapping(node, "copier", KEYS["copier"])
        out = {**DEFAULT_COPIER, **self.transaction_fields(m, "copier")}
        for key, allowed in (("on_abort", COPIER_ON_ABORT), ("offsets", COPIER_OFFSETS)):
            if key in m:
                v = self.value(m[key]) if isinstance(m[key], yaml.ScalarNode) else None
                if v not in allowed:
                    raise self.error(m[key], f"copier.{key}", f"{self.kind(m[key])} is not allowed (allowed: "
                                                              f"{', '.join(allowed)})")
                out[key] = v
        return CopierSpec(**out)

    def transaction_fields(self, m: dict, section: str) -> dict:
        """txn_size, abort_ratio and transaction_timeout of a transactional producer or the copier, as given."""
        out = {}
        if "txn_size" in m:
            out["txn_size"] = self.integer(m["txn_size"], f"{section}.txn_size", 1, MAX_TXN_SIZE,
                                           " records per transaction")
        if "abort_ratio" in m:
            out["abort_ratio"] = self.fraction(m["abort_ratio"], f"{section}.abort_ratio")
        if "transaction_timeout" in m:
            out["transaction_timeout"] = self.duration(
                m["transaction_timeout"], f"{section}.transaction_timeout", low=MIN_TXN_TIMEOUT,
                high=MAX_TXN_TIMEOUT, why="; the broker caps it at transaction.max.timeout.ms, 15m by default")
        return out

    def fraction(self, node, field: str) -> float:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise self.error(node, field, f"{self.kind(node)} is not a fraction (allowed: 0 <= {field.split('.')[-1]} "
                                          "<= 1, e.g. 0.1: one transaction in ten aborted)")
        return float(v)

    def roles_present(self, faults, nemesis, copier, producer, sink=None) -> None:
        """A fault may crash only a role the scenario runs; fence needs producers that share a transactional.id."""
        runs = {"producer": producer.semantic != "outbox", "consumer": True, "copier": copier is not None,
                "sink": sink is not None, "outbox": producer.semantic == "outbox",
                "relay": producer.semantic == "outbox"}
        for f in (*faults, *(nemesis.faults if nemesis else ())):
            if f.target in runs and not runs[f.target]:
                raise ScenarioError(f"{_display(self.path)}: faults: {f.action} {f.target}: the scenario runs no "
                                    f"{f.target} (runs: {', '.join(k for k, v in runs.items() if v)})")
            if f.point and f.target not in CRASH_POINTS[f.point]:
                raise ScenarioError(f"{_display(self.path)}: faults: crash {f.target} has no point {f.point} "
                                    f"(workers with it: {', '.join(CRASH_POINTS[f.point])})")
            if f.target == "copier" and copier is None:
                raise ScenarioError(f"{_display(self.path)}: faults: crash copier needs a copier: section "
                                    "(the scenario runs no copier)")
            if f.action == "fence-producer" and not producer.transactional_id:
                raise ScenarioError(f"{_display(self.path)}: faults: fence-producer needs producer.semantic: transactional "
                                    "with a producer.transactional_id (producers with their own ids never fence "
                                    "each other)")

    def cluster(self, node) -> ClusterSpec:
        keys = KEYS["cluster"]
        m = self.mapping(node, "cluster", (*keys, "broker_ids") if self.record else keys,
                         ("broker_ids",) if self.record else (), listed=keys)
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
            if self.record and not containers:
                raise self.error(node, "cluster.containers", "required with compose (the brokers kchaos found in it)")
            if not self.record:
                found = self.compose_brokers(m["compose"], compose)
                if not containers:
                    containers, ids = found, tuple(sorted(found))
        recorded = self.value(m["broker_ids"]) if self.record else list(ids)
        if recorded != list(ids):
            shown = repr(recorded) if isinstance(recorded, list) and len(repr(recorded)) <= 60 else _shown(recorded)
            raise self.error(m["broker_ids"], "cluster.broker_ids", f"{shown} are not the brokers of containers or "
                                                                    f"hosts ({list(ids)})")
        bootstrap = self.bootstrap(m["bootstrap"]) if "bootstrap" in m else None
        broker_config = self.stringified(m["broker_config"], "cluster.broker_config") if "broker_config" in m else {}
        return ClusterSpec(compose, bootstrap, containers, broker_config, ids, hosts, commands)

    def broker_map(self, node, section: str, what: str, example: str) -> dict[int, str]:
        """containers or hosts: {broker id: name}. A host can never be read as an option (`-oProxyCommand=`)."""
        out = {}
        second = example.replace("1", "2").replace("-a", "-b")
        hosts = section == "cluster.hosts"
        rule = ("letters, digits, . _ - : @ [ ], not starting with -" if hosts
                else "Docker's names: letters, digits, . _ -, starting with a letter or digit")
        for key, (v, key_node) in self.raw_mapping(node, section).items():
            field = f"{section}.{_brief(key)}"
            ident = int(key) if isinstance(key, str) and _BROKER_ID_RE.match(key) else key
            if not isinstance(ident, int) or isinstance(ident, bool) or not 0 <= ident <= MAX_BROKER_ID:
                raise self.error(key_node, field, f"keys are broker ids (integers 0..{MAX_BROKER_ID}, Kafka's "
                                                  f"node.id), e.g. {{1: {example}}}")
            if not isinstance(v, str) or not v.strip():
                raise self.error(key_node, field, f"must be {what}, e.g. {{1: {example}}}")
            name = v.strip()
            if len(name) > MAX_HOST or not (_HOST_RE if hosts else _CONTAINER_RE).match(name):
                raise self.error(key_node, field, f"{_shown(name)} is not {what} ({rule}; at most {MAX_HOST})")
            if ident in out:
                raise self.error(key_node, field, "broker id given twice")
            if not hosts and name in out.values():
                raise self.error(key_node, field, f"{name} is already another broker's container (one each)")
            out[ident] = name
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
            if not isinstance(argv, yaml.SequenceNode) or not argv.value or len(argv.value) > MAX_WORDS:
                raise self.error(argv, field, f"must be a non-empty list of at most {MAX_WORDS} strings, not "
                                              f"{self.kind(argv)} (e.g. [ssh, '{{host}}', sudo, systemctl, start, kafka])")
            words = []
            for i, item in enumerate(argv.value):
                v = self.value(item) if isinstance(item, yaml.ScalarNode) else None
                if not isinstance(v, str) or (i == 0 and not v.strip()):
                    raise self.error(item, f"{field}[{i}]", f"must be a string, not {self.kind(item)} "
                                                            "(quote numbers, e.g. \"-9\")")
                if len(v) > MAX_TEXT or "\0" in v:
                    raise self.error(item, f"{field}[{i}]", f"an argument is at most {MAX_TEXT} characters, "
                                                            "without NUL")
                for name in _PLACEHOLDER_RE.findall(v):
                    if name not in ("host", "broker"):
                        hint = _did_you_mean(name, ("host", "broker"), "{{{}}}")
                        raise self.error(item, f"{field}[{i}]", f"unknown placeholder {{{_brief(name)}}} "
                                                                f"({hint}allowed: {{host}}, {{broker}})")
                words.append(v)
            out[action] = tuple(words)
        return out

    def bootstrap(self, node) -> str:
        parts = [p.strip() for p in self.text(node, "cluster.bootstrap").split(",")]
        for part in parts:
            host, _, port = part.rpartition(":")
            if not (host and len(host) <= MAX_HOST and _HOST_RE.match(host) and _PORT_RE.match(port)
                    and 0 < int(port) < 65536):
                raise self.error(node, "cluster.bootstrap", f"{_shown(part)} is not HOST:PORT "
                                                            "(e.g. 127.0.0.1:19092, comma-separated)")
        return ",".join(parts)

    def compose_path(self, node) -> Path:
        text = self.text(node, "cluster.compose")
        if self.record:
            return Path(text)   # as recorded: verify and heal need no compose file
        try:
            given = Path(text).expanduser()
        except RuntimeError:   # ~user without a home directory
            given = Path(text)
        bases = [Path.cwd()]
        if self.path != "<string>":
            try:
                here = Path(self.path).resolve().parent
                bases += [here, here.parent]
            except (OSError, RuntimeError):
                pass
        candidates = [given] if given.is_absolute() else [b / given for b in bases]
        problem = None
        for candidate in candidates:
            try:
                if candidate.is_file():
                    return candidate.resolve()
            except (OSError, RuntimeError) as e:   # a name too long, a symlink loop
                problem = getattr(e, "strerror", None) or str(e)
        if problem:
            raise self.error(node, "cluster.compose", f"{_shown(text)} cannot be looked up ({problem})")
        looked = ", ".join(str(c.parent) for c in candidates)
        raise self.error(node, "cluster.compose", f"{given} not found (looked in {looked})")

    def compose_brokers(self, node, compose: Path) -> dict[int, str]:
        try:
            return _compose_brokers(compose)
        except yamlfile.Unreadable as e:
            raise self.error(node, "cluster.compose", str(e)) from None

    def topic(self, node, root, cluster: ClusterSpec) -> TopicSpec:
        m = self.mapping(node, "topic", KEYS["topic"]) if node else {}
        name = DEFAULT_TOPIC["name"]
        if "name" in m:
            name = self.text(m["name"], "topic.name", topics.MAX_NAME,
                             why="; Kafka allows 249 and kchaos appends -<run stamp>-<run id>")
            problem = topics.name_problem(name)
            if problem:
                raise self.error(m["name"], "topic.name", f"{_shown(name)} {problem}")
        partitions = self.integer(m["partitions"], "topic.partitions", 1, topics.MAX_PARTITIONS,
                                  ", kchaos's bound for a test topic") if "partitions" in m \
            else DEFAULT_TOPIC["partitions"]
        rf_node = m.get("replication_factor", node or root)
        rf = self.integer(rf_node, "topic.replication_factor", 1, topics.MAX_REPLICATION,
                          ", Kafka's 16-bit replication factor") if "replication_factor" in m \
            else DEFAULT_TOPIC["replication_factor"]
        brokers = len(cluster.broker_ids)
        if brokers and rf > brokers:
            raise self.error(rf_node, "topic.replication_factor",
                             f"{rf} is more than the {brokers} broker(s) (allowed: 1..{brokers})")
        config = self.stringified(m["config"], "topic.config", topics.CONFIGS) if "config" in m else {}
        if int(config.get("min.insync.replicas", 1)) > rf:
            where = self.key_node(m["config"], "min.insync.replicas")
            raise self.error(where, "topic.config.min.insync.replicas",
                             f"{config['min.insync.replicas']} is more than replication_factor {rf} (allowed: "
                             f"1..{rf}; above it every acks=all send fails)")
        return TopicSpec(name, partitions, rf, config)

    def producer(self, node) -> ProducerSpec:
        m = self.mapping(node, "producer", self.recorded(KEYS["producer"]), REQUIRED["producer"],
                         listed=KEYS["producer"])
        semantic = self.choice(m["semantic"], "producer.semantic", semantics.PRESETS)
        txn = self.transaction(m, semantic)
        if "rate" in m and "count" in m:
            raise self.error(m["count"], "producer.count", "give rate or count, not both")
        rate = self.number(m["rate"], "producer.rate", MAX_RATE, " records/s") if "rate" in m else None
        count = self.integer(m["count"], "producer.count", 1, MAX_COUNT) if "count" in m else None
        if rate is None and count is None:
            rate = DEFAULT_RATE
        value_size = self.integer(m["value_size"], "producer.value_size", 1, MAX_VALUE_SIZE,
                                  " bytes: a record must fit Kafka's default max.message.bytes, 1048588") \
            if "value_size" in m else DEFAULT_VALUE_SIZE
        client = self.word(m["client"], "producer.client", "a client library", semantics.PRODUCER_CLIENTS) \
            if "client" in m else semantics.PRODUCER_CLIENTS[0]

        def settings(raw: dict) -> dict:
            config = semantics.producer_settings(semantic, raw)
            if client == "confluent-kafka":   # every setting must have a librdkafka name (SettingError otherwise)
                semantics.librdkafka_settings(config)
            return config
        config, source = self.client_config(m, "producer", settings, semantics.PRODUCER_WIRING)
        return ProducerSpec(semantic, rate, count, value_size, config, **txn, settings_file=source, client=client)

    def transaction(self, m: dict, semantic: str) -> dict:
        """The transactional producer's fields, defaults filled in; refused for any other semantic."""
        if semantic != "transactional":
            for key in TXN_FIELDS:
                if key in m:
                    raise self.error(m[key], f"producer.{key}", f"only with semantic: transactional (this "
                                                                f"producer is {semantic})")
            return {}
        out = {**DEFAULT_TXN, **self.transaction_fields(m, "producer")}
        if "transactional_id" in m:
            v = self.text(m["transactional_id"], "producer.transactional_id", MAX_TXN_ID)
            if not _NAME_RE.match(v):
                raise self.error(m["transactional_id"], "producer.transactional_id",
                                 f"{_shown(v)} is not a transactional id (letters, digits, . _ -, starting with a "
                                 "letter or digit)")
            out["transactional_id"] = v
        return out

    def consumer(self, node) -> ConsumerSpec:
        m = self.mapping(node, "consumer", self.recorded(KEYS["consumer"]), REQUIRED["consumer"],
                         listed=KEYS["consumer"])
        mode = self.choice(m["mode"], "consumer.mode", semantics.MODES)
        process_time = self.duration(m["process_time"], "consumer.process_time", positive=False,
                                     high=MAX_PROCESS_TIME, why=" per record") \
            if "process_time" in m else DEFAULT_PROCESS_TIME
        config, source = self.client_config(m, "consumer", lambda raw: semantics.consumer_settings(mode, raw),
                                            semantics.CONSUMER_WIRING, semantics.mode_settings(mode),
                                            f"consumer.mode {mode}")
        return ConsumerSpec(mode, process_time, config, settings_file=source)

    def choice(self, node, field: str, table: dict) -> str:
        """A producer semantic or consumer mode; reserved ones are refused until they are built."""
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        ready = [k for k, entry in table.items() if not entry.reserved]
        if not isinstance(v, str) or v not in table:
            raise self.error(node, field, f"{self.kind(node)} is unknown ({_did_you_mean(v, table)}"
                                          f"allowed: {', '.join(ready)})")
        if table[v].reserved:
            raise self.error(node, field, f"{v} is reserved and not implemented yet (implemented: {', '.join(ready)})")
        return v

    def recorded(self, keys: tuple) -> tuple:
        """A role's keys as scenario.json holds them: settings_file (what config_file gave) for config_file."""
        return tuple("settings_file" if k == "config_file" else k for k in keys) if self.record else keys

    def client_config(self, m: dict, section: str, settings, wiring: tuple, fixed: dict | None = None,
                      fixed_by: str = "") -> tuple[dict, SettingsFile | None]:
        """Run semantics' merge over the settings of config_file overridden by config (a key given in both, in
        either spelling, is config's), so every preset check holds for the merged settings; a SettingError is
        pinned to its key's line, in the scenario or in the file. Also returns where the file's settings went."""
        raw = self.raw_mapping(m["config"], f"{section}.config") if "config" in m else {}
        given = {k: (v, lambda detail, k=k, v=v, node=node: self.error(node, f"{section}.config.{_brief(k)}",
                                                                       _masked(k, v, detail)))
                 for k, (v, node) in raw.items()}
        from_file, source = {}, None
        if "config_file" in m:
            from_file, agreed, ignored, path = self.settings_file(m["config_file"], section, wiring, fixed or {},
                                                                  fixed_by)
            names = {semantics.python_name(k) for k in raw if isinstance(k, str)}
            from_file = {k: e for k, e in from_file.items() if semantics.python_name(k) not in names}
            source = SettingsFile(path, tuple(k for k in (*agreed, *from_file)), ignored)
        merged = {**from_file, **given}
        try:
            config = settings({k: v for k, (v, _) in merged.items()})
        except semantics.SettingError as e:
            written = next((k for k in merged if isinstance(k, str) and semantics.python_name(k) == e.key), e.key)
            if written in merged:
                raise merged[written][1](e.detail) from None
            raise self.error(m.get("config", m.get("config_file")), f"{section}.config.{_brief(e.key)}",
                             e.detail) from None
        if self.record and "settings_file" in m:
            source = self.recorded_settings_file(m["settings_file"], section, config, wiring)
        return config, source

    def settings_file(self, node, section: str, wiring: tuple, fixed: dict, fixed_by: str):
        """({key: (value, pin)} to merge, keys equal to what `fixed` sets, wiring keys left out, the path as
        given) of the file config_file names, relative to the scenario's folder."""
        field = f"{section}.config_file"
        given = self.text(node, field)
        path = Path(given) if self.path == "<string>" else Path(self.path).parent / given
        where = _display(str(path))
        try:
            entries = settingsfile.read(path)
        except settingsfile.Problem as e:
            if e.line is None:
                raise self.error(node, field, f"{where}: {e}") from None
            raise ScenarioError(f"{where}:{e.line}: {field}: {e}") from None
        out, agreed, ignored = {}, [], []
        for key, value, line in entries:
            name = semantics.python_name(key)
            at = f"{where}:{line}: {field}: {_brief(key)}"   # FILE:LINE: producer.config_file: KEY: why
            pin = lambda detail, at=at, k=key, v=value: ScenarioError(f"{at}: {_masked(k, v, detail)}")  # noqa: E731
            if name in wiring:
                ignored.append(key)
            elif name in fixed and str(value).lower() == str(fixed[name]).lower():
                agreed.append(key)
            elif name in fixed:
                raise pin(f"{_shown(value)} contradicts {fixed_by}, which sets {name}={str(fixed[name]).lower()} (choose "
                          "the mode the application runs with)")
            else:
                out[key] = (value, pin)
        return out, agreed, tuple(ignored), given

    def recorded_settings_file(self, node, section: str, config: dict, wiring: tuple) -> SettingsFile | None:
        """scenario.json's settings_file: every key it lists is in the recorded config (or is a wiring key)."""
        if self.null(node):
            return None
        field = f"{section}.settings_file"
        m = self.mapping(node, field, ("path", "keys", "ignored"), ("path",))
        lists = {}
        for key, allowed, what in (("keys", config, f"in {section}.config"), ("ignored", wiring, "a wiring key")):
            items = m.get(key)
            if items is not None and (not isinstance(items, yaml.SequenceNode)
                                      or len(items.value) > settingsfile.MAX_KEYS):
                raise self.error(items, f"{field}.{key}", f"must be a list of at most {settingsfile.MAX_KEYS} names")
            names = tuple(self.text(item, f"{field}.{key}", topics.MAX_NAME) for item in (items.value if items else ()))
            for name in names:
                if semantics.python_name(name) not in allowed:
                    raise self.error(items, f"{field}.{key}", f"{_shown(name)} is not {what}")
            lists[key] = names
        return SettingsFile(self.text(m["path"], f"{field}.path"), lists["keys"], lists["ignored"])

    def faults(self, node, duration: float, cluster: ClusterSpec, topic: TopicSpec) -> tuple[FaultSpec, ...]:
        if node is None:
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, "faults", f"must be a list, not {self.kind(node)} "
                                             "(e.g. - {at: 10s, action: kill, target: random})")
        return tuple(self.fault(item, f"faults[{i}]", duration, cluster, topic) for i, item in enumerate(node.value))

    def nemesis(self, node, duration: float, cluster: ClusterSpec, topic: TopicSpec) -> NemesisSpec:
        m = self.mapping(node, "nemesis", KEYS["nemesis"], REQUIRED["nemesis"])
        start = self.duration(m["start"], "nemesis.start", positive=False) if "start" in m else 0.0
        if start >= duration:
            raise self.error(m["start"], "nemesis.start", f"{start:g}s is not before the end of the run "
                                                          f"(allowed: 0 <= start < duration {duration:g}s)")
        interval = self.duration(m["interval"], "nemesis.interval", low=MIN_EVERY)
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

    def planned(self, m: dict, faults: tuple, nemesis: NemesisSpec | None, duration: float) -> None:
        """Refuse a schedule of more than schedule.MAX_PLANNED actions (automatic heals included)."""
        cap, total = schedule.MAX_PLANNED, 0
        for i, f in enumerate(faults):
            total += schedule.planned_actions(f, duration)
            if total > cap:
                key = "every" if f.every is not None else "at"
                raise self.error(self.key_node(m["faults"].value[i], key), f"faults[{i}].{key}",
                                 f"the faults so far plan {total} actions within duration {duration:g}s, heals "
                                 f"included (allowed: at most {cap} per run; give count, or a longer every)")
        if nemesis is not None and total + schedule.most_nemesis_actions(nemesis, duration) > cap:
            raise self.error(m["nemesis"], "nemesis.interval",
                             f"the nemesis may plan up to {schedule.most_nemesis_actions(nemesis, duration)} actions "
                             f"within duration {duration:g}s, heals included, and the faults {total} (allowed: at "
                             f"most {cap} per run; a longer interval or recovery)")

    def fault(self, node, field: str, duration: float, cluster: ClusterSpec | None, topic: TopicSpec | None,
              nemesis: bool = False) -> FaultSpec:
        """One item of faults (timed by at or every) or of nemesis.faults (timed by the nemesis). Without a
        cluster and topic (a fault read back alone) the brokers and topic it names are not checked."""
        keys = (*_FAULT_KEYS, "line") if self.record else _FAULT_KEYS
        m = self.mapping(node, field, keys, (*REQUIRED["fault"], "line") if self.record else REQUIRED["fault"],
                         listed=_FAULT_KEYS)
        action = self.action(m["action"], f"{field}.action", catalog.NEMESIS_ACTIONS if nemesis else ACTIONS)
        entry = catalog.ACTIONS[action]
        self.fault_keys(node, m, field, entry, nemesis)
        if "target" in m:
            target = self.target(m["target"], f"{field}.target", entry, cluster, topic)
        elif not entry.targets:
            target = ""
            if cluster is not None and not cluster.broker_ids:
                raise self.error(m["action"], f"{field}.action", self.no_brokers())
        else:
            raise self.error(node, f"{field}.target", "required")
        at = every = count = None
        jitter = 0.0
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
            every = self.duration(m["every"], f"{field}.every", low=MIN_EVERY)
            if every >= duration:
                raise self.error(m["every"], f"{field}.every", f"{every:g}s never fires within duration "
                                                               f"{duration:g}s (allowed: 0 < every < duration)")
            count = self.integer(m["count"], f"{field}.count", 1, schedule.MAX_PLANNED) if "count" in m else None
            if "jitter" in m:
                jitter = self.duration(m["jitter"], f"{field}.jitter", positive=False)
                if jitter > every:
                    raise self.error(m["jitter"], f"{field}.jitter", f"{jitter:g}s is more than every {every:g}s "
                                                                     "(allowed: 0 <= jitter <= every)")
        length = self.duration(m["duration"], f"{field}.duration") if "duration" in m else None
        if action == "crash" and length is None:
            raise self.error(node, f"{field}.duration", "required for crash (how long until a fresh worker starts)")
        if nemesis and length is None:
            raise self.error(node, f"{field}.duration", "required in a nemesis fault (the nemesis heals it after "
                                                        "this long)")
        if entry.healer and length is not None:
            raise self.error(m["duration"], f"{field}.duration", f"{action} heals; it takes no duration")
        if action == "rolling-restart" and length is not None:
            raise self.error(m["duration"], f"{field}.duration", "rolling-restart takes no duration (it ends "
                                                                 "when the last broker is back in sync)")
        if cluster is not None and cluster.commands:
            self.has_commands(m, field, entry, length, cluster)
        extra = self.network_fields(node, m, field, action, cluster)
        line = self.integer(m["line"], f"{field}.line", 0, MAX_FILE_BYTES) if self.record else node.start_mark.line + 1
        return FaultSpec(action, target, at, every, count, jitter, length, line, **extra)

    def fault_keys(self, node, m: dict, field: str, entry: catalog.Action, nemesis: bool) -> None:
        """Refuse keys another action (or a timed fault) takes; `mapping` already refused unknown ones."""
        own = ("action", "target", "duration") if entry.targets else ("action", "duration")
        known = [*(() if nemesis else TIMING), *own, *entry.fields, *(("line",) if self.record else ())]
        for key in m:
            if key in known:
                continue
            if key == "target":
                why = f"{entry.name} takes no target ({entry.no_target})"
            elif key in TIMING:
                why = f"unknown key in a nemesis fault (the nemesis decides when; known: {', '.join(known)})"
            else:
                owners = ", ".join(a.name for a in catalog.TABLE if key in a.fields)
                why = f"unknown key for {entry.name} ({key} is for {owners}; known: {', '.join(known)})"
            raise self.error(self.key_node(node, key), f"{field}.{key}", why)

    def network_fields(self, node, m: dict, field: str, action: str, cluster: ClusterSpec | None) -> dict:
        """The FaultSpec fields past `line`, for the actions that take them."""
        out = {}
        if "direction" in m:
            out["direction"] = self.word(m["direction"], f"{field}.direction", "a direction", DIRECTIONS)
        if "point" in m:
            out["point"] = self.word(m["point"], f"{field}.point", "a crash point", tuple(CRASH_POINTS))
        if action == "split":
            if ("groups" in m) == ("shape" in m):
                raise self.error(m.get("shape", node), field, "give exactly one of groups or shape "
                                                              "(groups: [[1], [2, 3]], or shape: majority)")
            if "groups" in m:
                out["groups"] = self.groups(m["groups"], f"{field}.groups", cluster)
            else:
                out["shape"] = self.word(m["shape"], f"{field}.shape", "a shape", SHAPES)
                if cluster is not None and len(cluster.broker_ids) < 2:
                    raise self.error(m["shape"], f"{field}.shape", f"a split needs at least 2 brokers "
                                                                   f"(have {len(cluster.broker_ids)})")
        if action == "loss":
            if "probability" not in m:
                raise self.error(node, f"{field}.probability", "required for loss (e.g. probability: 0.1)")
            given = m["probability"]
            v = self.value(given) if isinstance(given, yaml.ScalarNode) else None
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not MIN_PROBABILITY <= v <= 1 \
                    or round(v, 4) != v:
                raise self.error(given, f"{field}.probability", f"{self.kind(given)} is not a probability (allowed: "
                                                                "0.0001 <= p <= 1 in steps of 0.0001, e.g. 0.1; "
                                                                "iptables is given 4 decimals)")
            out["probability"] = float(v)
        if action == "bandwidth":
            if "rate" not in m:
                raise self.error(node, f"{field}.rate", "required for bandwidth (e.g. rate: 1mbit)")
            v = self.value(m["rate"]) if isinstance(m["rate"], yaml.ScalarNode) else None
            match = _RATE_RE.match(v.strip().lower()) if isinstance(v, str) and len(v) <= 40 else None
            if not match or not MIN_RATE_BITS <= float(match.group(1)) * _BITS[match.group(2)] <= MAX_RATE_BITS:
                raise self.error(m["rate"], f"{field}.rate", f"{self.kind(m['rate'])} is not a rate from 8kbit to "
                                                             "100gbit (e.g. 512kbit, 1mbit, 2gbit; below 8kbit one "
                                                             "1500-byte packet takes 1.5 s)")
            out["rate"] = match.group(0)
        if action == "delay":
            if "latency" not in m:
                raise self.error(node, f"{field}.latency", "required for delay (e.g. latency: 100ms)")
            out["latency"] = self.duration(m["latency"], f"{field}.latency", low=MIN_LATENCY, high=MAX_LATENCY)
            if "latency_jitter" in m:
                out["latency_jitter"] = self.duration(m["latency_jitter"], f"{field}.latency_jitter", positive=False,
                                                      high=out["latency"], why=", the latency")
        return out

    def word(self, node, field: str, what: str, allowed: tuple) -> str:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(v, str) or v not in allowed:
            raise self.error(node, field, f"{self.kind(node)} is not {what} ({_did_you_mean(v, allowed)}"
                                          f"allowed: {', '.join(allowed)})")
        return v

    def groups(self, node, field: str, cluster: ClusterSpec | None) -> tuple[tuple[int, ...], ...]:
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
                if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_BROKER_ID:
                    raise self.error(item, f"{field}[{i}]", f"{self.kind(item)} is not a broker id")
                if cluster is not None and v not in cluster.broker_ids:
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

    def has_commands(self, m: dict, field: str, entry: catalog.Action, length: float | None,
                     cluster: ClusterSpec) -> None:
        """Under cluster.commands, a fault needs a template for its action and, with a duration, its heal."""
        have, action = ", ".join(cluster.commands), entry.name
        if entry.family == "network":
            raise self.error(m["action"], f"{field}.action", f"{action}: network faults need Docker containers, "
                                                             "not cluster.commands (use compose, or containers)")
        if entry.family == "cluster":
            raise self.error(m["action"], f"{field}.action", f"{action} needs Docker containers, not "
                                                             "cluster.commands (use compose, or containers)")
        if entry.family != "broker":
            return
        if action == "restart" and "restart" not in cluster.commands and not {"stop", "start"} <= set(cluster.commands):
            raise self.error(m["action"], f"{field}.action", "restart has no command in cluster.commands "
                                                             f"(give restart, or stop and start; have: {have})")
        if action != "restart" and action not in cluster.commands:
            raise self.error(m["action"], f"{field}.action", f"{action} has no command in cluster.commands "
                                                             f"(have: {have})")
        if entry.heal and length is not None and entry.heal not in cluster.commands:
            raise self.error(m["duration"], f"{field}.duration", f"{action} heals with {entry.heal}, which has no "
                                                                 f"command in cluster.commands (have: {have})")

    def action(self, node, field: str, allowed: tuple = ACTIONS) -> str:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if v in FUTURE_ACTIONS:
            raise self.error(node, field, f"{v} is not supported yet (supported: {', '.join(ACTIONS)})")
        if v in ACTIONS and v not in allowed:
            raise self.error(node, field, f"{v} is not a nemesis fault (the nemesis heals each fault itself; "
                                          f"allowed: {', '.join(allowed)})")
        if not isinstance(v, str) or v not in ACTIONS:
            hint = f"did you mean {_RENAMED[v]}? " if v in _RENAMED else _did_you_mean(v, ACTIONS)
            raise self.error(node, field, f"{self.kind(node)} is not an action ({hint}supported: {', '.join(ACTIONS)})")
        return v

    def no_brokers(self) -> str:
        return ("broker faults need cluster.containers (or hosts and commands) when the cluster is given by "
                "bootstrap (e.g. containers: {1: kafka-1})")

    def target(self, node, field: str, entry: catalog.Action, cluster: ClusterSpec | None,
               topic: TopicSpec | None) -> str:
        v = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        action, allowed = entry.name, entry.targets_text
        match = _TARGET_RE.match(v) if isinstance(v, str) and len(v) <= 600 else None
        if not match:
            raise self.error(node, field, f"{self.kind(node)} is not a target of {action} (allowed: {allowed})")
        broker, n, role, name, partition, coordinator, key, word = match.groups()
        kind = broker or role or coordinator or word
        target = (f"broker({int(n)})" if broker else f"{role}({name},{int(partition)})" if role
                  else f"{coordinator}({key})" if coordinator else word)
        if kind not in entry.targets:
            raise self.error(node, field, f"{target} is not a target of {action} (allowed: {allowed})")
        if kind in catalog.ROLE_TARGETS:
            return target
        if broker and int(n) > MAX_BROKER_ID:
            raise self.error(node, field, f"{target}: broker ids are 0..{MAX_BROKER_ID} (Kafka's node.id)")
        if cluster is not None and not cluster.broker_ids:
            raise self.error(node, field, self.no_brokers())
        if broker and cluster is not None and int(n) not in cluster.broker_ids:
            brokers = ", ".join(map(str, cluster.broker_ids))
            raise self.error(node, field, f"{target} does not exist (brokers: {brokers})")
        if role and topic is not None:
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

    def expect(self, node, field: str = "expect") -> dict[str, int | None]:
        """Upper bounds on the verdict's counts (kafka_chaos.counts); a reserved count is refused with why."""
        m = self.mapping(node, field, (*counts.COUNT_NAMES, *counts.RESERVED), listed=counts.COUNT_NAMES)
        out = {}
        for key, value_node in m.items():
            if key in counts.RESERVED:
                raise self.error(self.key_node(node, key), f"{field}.{key}", f"nothing measures it yet: "
                                                                            f"{counts.RESERVED[key]}")
            v = self.value(value_node) if isinstance(value_node, yaml.ScalarNode) else None
            if v == "any":
                out[key] = None
            elif isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_BIG:
                out[key] = v
            else:
                raise self.error(value_node, f"{field}.{key}", f"{self.kind(value_node)} is not an expectation "
                                                              f"(allowed: 0, an upper bound 0..{MAX_BIG}, or any)")
        return out


def _masked(key, value, detail: str) -> str:
    """`detail` without `value` when `key` looks secret (a message may show a setting's value)."""
    return detail.replace(_shown(value), repr(MASK)) if is_secret(key) else detail


def default_expect(semantic: str, mode: str, copier: CopierSpec | None, sink: SinkSpec | None) -> dict[str, int | None]:
    """A scenario's expect when it gives none: what Kafka documents for its producer, consumer, copier and
    sink, without the counts nothing in such a run measures (a read_committed consumer's aborted_reads
    behind a producer that never aborts)."""
    documented = {**semantics.documented_expect(semantic, mode), **copier_expect(copier), **sink_expect(sink)}
    skip = counts.unmeasured(bool(copier or sink), semantic == "transactional")
    return {name: bound for name, bound in documented.items() if name not in skip}


def copier_expect(copier: CopierSpec | None) -> dict[str, int | None]:
    """What Kafka documents for a copier: exactly one committed copy of each input record when offsets travel
    in the transaction and an abort rewinds; the broken variants promise nothing (that is their point)."""
    if copier is None:
        return {}
    exact = copier.on_abort == "seek" and copier.offsets == "transaction"
    return {"lost_effects": 0 if exact else None, "duplicate_effects": 0 if exact else None, "aborted_effects": 0}


def sink_expect(sink: SinkSpec | None) -> dict[str, int | None]:
    """The inbox pattern promises one effect per record; offsets committed to Kafka after the database promise
    none lost but duplicates on a crash, unless the sink dedups."""
    if sink is None:
        return {}
    return {"lost_effects": 0, "duplicate_effects": 0 if sink.offsets == "database" or sink.dedup else None,
            "aborted_effects": 0}


def _stem(path: str) -> str:
    stem = Path(path).stem if path != "<string>" else "scenario"
    return stem if _NAME_RE.match(stem) and len(stem) <= MAX_NAME else "scenario"
