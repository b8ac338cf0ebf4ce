"""Kafka's rules for the topic a run creates: its name, partition count, replication factor and configs.

Scenario validation reads this table, so a topic Kafka would refuse (or a config it does not know)
is refused before anything touches a cluster, not as an exit-3 failure half-way into a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# kchaos creates "<name>-<stamp>-<run id>" and "<name>-<stamp>-<run id>-out" (stamp: YYYYmmdd-HHMMSS[.n], up to
# ~22 characters; run id: 8 hex digits) and Kafka's limit is 249, so the scenario's part stays well below it.
MAX_NAME = 200
NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")
MAX_PARTITIONS = 10_000      # far above a test topic's needs; each partition costs broker memory and files
MAX_REPLICATION = 32_767     # CreateTopics carries the replication factor as a 16-bit integer

_INT, _LONG = 2**31 - 1, 2**63 - 1


@dataclass(frozen=True)
class Config:
    """One topic config: `kind` int | bool | ratio | choice | list, with the range or choices Kafka accepts."""

    kind: str
    low: int = 0
    high: int = _LONG
    choices: tuple[str, ...] = ()


def _int(low: int = 0, high: int = _INT) -> Config:
    return Config("int", low, high)


def _long(low: int = 0) -> Config:
    return Config("int", low, _LONG)


_BOOL = Config("bool")
_THROTTLED = Config("throttled")

# The topic-level configs of Kafka 3.x and 4.x with the validators of Kafka's LogConfig.
CONFIGS: dict[str, Config] = {
    "cleanup.policy": Config("list", choices=("delete", "compact")),
    "compression.type": Config("choice", choices=("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")),
    "compression.gzip.level": Config("choice", choices=("-1", *map(str, range(1, 10)))),
    "compression.lz4.level": _int(1, 17),
    "compression.zstd.level": _int(-131072, 22),
    "delete.retention.ms": _long(),
    "file.delete.delay.ms": _long(),
    "flush.messages": _long(1),
    "flush.ms": _long(),
    "follower.replication.throttled.replicas": _THROTTLED,
    "leader.replication.throttled.replicas": _THROTTLED,
    "index.interval.bytes": _int(),
    "local.retention.bytes": _long(-2),
    "local.retention.ms": _long(-2),
    "max.compaction.lag.ms": _long(1),
    "max.message.bytes": _int(),
    "message.timestamp.type": Config("choice", choices=("CreateTime", "LogAppendTime")),
    "message.timestamp.before.max.ms": _long(),
    "message.timestamp.after.max.ms": _long(),
    "min.cleanable.dirty.ratio": Config("ratio"),
    "min.compaction.lag.ms": _long(),
    "min.insync.replicas": _int(1),
    "preallocate": _BOOL,
    "remote.storage.enable": _BOOL,
    "retention.bytes": _long(-1),
    "retention.ms": _long(-1),
    "segment.bytes": _int(1_048_576),   # Kafka 4's minimum (3.x: 14); one value both accept
    "segment.index.bytes": _int(4),
    "segment.jitter.ms": _long(),
    "segment.ms": _long(1),
    "unclean.leader.election.enable": _BOOL,
}
_INTEGER = re.compile(r"^-?[0-9]{1,19}$")
_RATIO = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,17})?$")
_THROTTLED_RE = re.compile(r"^(\*|[0-9]{1,10}:[0-9]{1,10}(,[0-9]{1,10}:[0-9]{1,10})*)$")


def name_problem(name: str) -> str | None:
    """Why Kafka would refuse topic `name` (with kchaos's suffix), or None; the reason reads after the name."""
    if len(name) > MAX_NAME:
        return (f"is {len(name)} characters (allowed: at most {MAX_NAME}; Kafka allows 249 and kchaos appends "
                "-<run stamp>-<run id>)")
    if not NAME_RE.match(name):
        return "is not a Kafka topic name (letters, digits, . _ -)"
    if name in (".", ".."):
        return "is not a Kafka topic name (Kafka refuses . and ..)"
    return None


def config_problem(key: str, value: str) -> str | None:
    """Why Kafka would refuse topic config `key` = `value` (both as a properties file holds them), or None;
    the reason reads after the value."""
    spec = CONFIGS[key]
    if spec.kind == "int":
        if _INTEGER.match(value) and spec.low <= int(value) <= spec.high:
            return None
        allowed = f">= {spec.low}" if spec.high == _LONG else f"in {spec.low}..{spec.high}"
        return f"is not an integer {allowed} (Kafka's range for {key})"
    if spec.kind == "bool":
        return None if value.lower() in ("true", "false") else "is not a boolean (allowed: true, false)"
    if spec.kind == "ratio":
        if _RATIO.match(value) and 0 <= float(value) <= 1:
            return None
        return "is not a ratio (allowed: 0 to 1, e.g. 0.5)"
    if spec.kind == "throttled":
        return None if _THROTTLED_RE.match(value) else ("is not a replica list (allowed: * or "
                                                         "PARTITION:BROKER,..., e.g. 0:1,1:2)")
    words = value.split(",") if spec.kind == "list" else [value]
    if all(w.strip() in spec.choices for w in words):
        return None
    what = "a comma-separated list of" if spec.kind == "list" else "one of"
    return f"is not {what} {', '.join(spec.choices)}"
