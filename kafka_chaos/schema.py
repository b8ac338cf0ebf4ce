"""The JSON Schema (draft 2020-12) of a scenario file, built from the parser's own tables, for editors.

Every key comes from scenario.KEYS and REQUIRED, every choice from the tables the parser checks against
(semantics' presets and modes, the fault catalog, counts.COUNTS, topics.CONFIGS) and every bound from the
parser's constants, so the schema cannot list a key, value or range the parser does not take. It is a
relaxation of the parser: what the parser accepts, the schema accepts; rules across fields (and bounds on
durations written as text) are only described, and `kchaos validate` stays the authority.
"""

from __future__ import annotations

import re

import kafka

from . import catalog, counts, schedule, semantics, topics
from . import scenario as sc

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_WHOLE = r"^\s*[+-]?[0-9]{1,19}\s*$"


def _stripped(pattern: str) -> str:
    """A parser pattern `^X$` for a value the parser strips first: surrounding blanks allowed."""
    return rf"^\s*(?:{pattern.removeprefix('^').removesuffix('$')})\s*$"


def _any_case(pattern: str) -> str:
    """A parser pattern for a value the parser lowercases first (no letter in it is part of an escape)."""
    return re.sub(r"(?<!\\)[a-z]", lambda m: f"[{m.group()}{m.group().upper()}]", pattern)


def _described(schema: dict, doc: str) -> dict:
    return {**schema, "description": doc} if doc else schema


def _text(limit: int = sc.MAX_TEXT, pattern: str | None = None) -> dict:
    out = {"type": "string", "minLength": 1, "maxLength": limit}
    return {**out, "pattern": pattern} if pattern else out


def _integer(low: int, high: int) -> dict:
    return {"type": "integer", "minimum": low, "maximum": high}


def _duration(low: float = 0.0, high: float = sc.MAX_SECONDS, positive: bool = True) -> dict:
    """A number of seconds or text like 10s, 500ms, 2m, 1h; the bounds of text are the parser's to check."""
    number = {"type": "number", "maximum": high}
    number.update({"exclusiveMinimum": 0} if positive and low <= 0 else {"minimum": low})
    text = {"type": "string", "pattern": sc._DURATION_RE.pattern}
    bound = f"{'more than' if positive and low <= 0 else 'at least'} {sc._fmt(low) if low else '0'}, " \
            f"at most {sc._fmt(high)}"
    return {"anyOf": [text, number], "description": f"a duration: 10s, 500ms, 2m, 1h or seconds ({bound})"}


def _choices(table: dict, doc=lambda entry: entry) -> dict:
    """One of a table's keys, each with its documentation; reserved entries (not built yet) left out."""
    return {"oneOf": [{"const": name, "description": doc(entry)} for name, entry in table.items()
                      if not getattr(entry, "reserved", False)]}


def _words(words: tuple) -> dict:
    return {"enum": list(words)}


def _scalar() -> dict:
    return {"type": ["string", "number", "boolean"]}


def _client_config(defaults: dict, owned: dict, section: str) -> dict:
    """kafka-python settings by their names or Java's dotted ones (each _ may be written . or -); the settings
    kchaos sets itself are refused."""
    names = [k for k in defaults if k not in owned and re.fullmatch(r"[a-z0-9_]+", k)]   # no regex escapes needed
    spelled = "|".join(k.replace("_", "[._-]") for k in sorted(names, key=len, reverse=True))
    return {"type": "object", "propertyNames": {"pattern": f"^(?:{spelled})$"},
            "properties": {k: {} for k in names},
            "additionalProperties": {"type": ["string", "number", "boolean", "array"]},
            "description": f"raw kafka-python {section} settings (or Java dotted names), checked against the "
                           f"preset by the parser; kchaos sets {', '.join(owned)} itself"}


def _topic_config(spec: topics.Config) -> dict:
    """One topic config's value: a scalar the parser turns into Kafka's text and checks as Kafka would."""
    whole = {"type": "string", "pattern": _WHOLE}
    if spec.kind == "int":
        return {"anyOf": [_integer(spec.low, spec.high), whole]}
    if spec.kind == "bool":
        return {"anyOf": [{"type": "boolean"}, {"type": "string", "pattern": "^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"}]}
    if spec.kind == "ratio":
        return {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "string"}]}
    if spec.kind == "choice":
        return {"enum": [*spec.choices, *(int(c) for c in spec.choices if re.fullmatch(r"-?[0-9]+", c))]}
    return _described({"type": "string"}, f"comma-separated: {', '.join(spec.choices)}" if spec.choices else "")


def _broker_map(value_pattern: str, doc: str) -> dict:
    return {"type": "object", "minProperties": 1, "propertyNames": {"pattern": sc._BROKER_ID_RE.pattern},
            "additionalProperties": {"type": "string", "maxLength": sc.MAX_HOST, "pattern": value_pattern},
            "description": doc}


def _fields() -> dict[str, dict[str, dict]]:
    """section -> key -> the schema of its value. Every key of scenario.KEYS must be here (build() checks)."""
    semantic_doc = lambda p: p.claim   # noqa: E731
    return {
        "scenario": {
            "name": _described(_text(sc.MAX_NAME, _stripped(sc._NAME_RE.pattern)),
                               "names the run directory <time>-<name> (default: the file's name)"),
            "description": _described({"type": "string", "minLength": 1, "maxLength": sc.MAX_TEXT},
                                      "what the scenario shows"),
            "seed": _described(_integer(0, sc.MAX_BIG), "every random choice (targets, jitter) derives from it"),
            "duration": _described(_duration(), "how long the producer runs; the consumer then drains"),
            "drain_timeout": _described(_duration(high=sc.MAX_DRAIN),
                                        f"longest drain after the run (default {sc.DEFAULT_DRAIN_TIMEOUT:g}s)"),
            "cluster": {"$ref": "#/$defs/cluster"},
            "topic": {"$ref": "#/$defs/topic"},
            "producer": {"$ref": "#/$defs/producer"},
            "consumer": {"$ref": "#/$defs/consumer"},
            "copier": {"$ref": "#/$defs/copier"},
            "sink": {"$ref": "#/$defs/sink"},
            "database": _described(_words(sc.DATABASES), f"of the sink and the outbox (only with one; default "
                                   f"sqlite; postgresql reads its DSN from ${sc.PG_DSN_ENV})"),
            "faults": {"type": "array", "items": {"$ref": "#/$defs/fault"},
                       "description": "faults played at a time (at) or repeatedly (every)"},
            "nemesis": {"$ref": "#/$defs/nemesis"},
            "expect": {"$ref": "#/$defs/expect"},
            "expect_by_version": _described(
                {"type": "object", "minProperties": 1, "maxProperties": sc.MAX_VERSION_SPECS,
                 "propertyNames": {"pattern": sc.VERSION_SPEC_RE.pattern},
                 "additionalProperties": {"$ref": "#/$defs/expect"}},
                "Kafka version spec (3.8.1, <3.9, >=3.9.0) -> expect; the first entry the run's Kafka version "
                "matches replaces expect (a known bug and the release that fixed it)"),
        },
        "cluster": {
            "compose": _described(_text(), "compose file kchaos brings up (brokers labelled "
                                           f"{sc.BROKER_LABEL}); give exactly one of compose or bootstrap"),
            "bootstrap": _described(_text(), "HOST:PORT,... of a live cluster kchaos did not start; give exactly "
                                             "one of compose or bootstrap"),
            "containers": _broker_map(_stripped(sc._CONTAINER_RE.pattern), "broker id -> Docker container (not with commands)"),
            "broker_config": {"type": "object", "propertyNames": {"pattern": sc._CONFIG_KEY_RE.pattern},
                              "additionalProperties": _scalar(),
                              "description": "Kafka broker configs (compose clusters), e.g. "
                                             "unclean.leader.election.enable: \"true\""},
            "hosts": _broker_map(_stripped(sc._HOST_RE.pattern), "broker id -> host filling {host} in commands (only with "
                                                      "bootstrap and commands)"),
            "commands": {"type": "object", "minProperties": 1, "additionalProperties": False,
                         "properties": {a: {"type": "array", "minItems": 1, "maxItems": sc.MAX_WORDS,
                                            "items": {"type": "string", "maxLength": sc.MAX_TEXT},
                                            "description": catalog.ACTIONS[a].doc} for a in sc.COMMAND_ACTIONS},
                         "description": "broker action -> argv template with {host} and {broker} (only with "
                                        "bootstrap and hosts)"},
        },
        "topic": {
            "name": _text(topics.MAX_NAME, _stripped(topics.NAME_RE.pattern)),
            "partitions": _integer(1, topics.MAX_PARTITIONS),
            "replication_factor": _described(_integer(1, topics.MAX_REPLICATION), "at most the number of brokers"),
            "config": {"type": "object", "additionalProperties": False,
                       "properties": {k: _topic_config(v) for k, v in topics.CONFIGS.items()},
                       "description": "topic configs (min.insync.replicas at most replication_factor)"},
        },
        "producer": {
            "semantic": _choices(semantics.PRESETS, semantic_doc),
            "client": _described(_words(semantics.PRODUCER_CLIENTS),
                                 "the producer's client library (default kafka-python; confluent-kafka is librdkafka: "
                                 "every config setting must have a librdkafka name)"),
            "rate": _described({"type": "number", "exclusiveMinimum": 0, "maximum": sc.MAX_RATE},
                               f"records per second (default {sc.DEFAULT_RATE:g}); not with count"),
            "count": _described(_integer(1, sc.MAX_COUNT), "records to send in all; not with rate"),
            "value_size": _described(_integer(1, sc.MAX_VALUE_SIZE), "bytes per record"),
            "config": _client_config(kafka.KafkaProducer.DEFAULT_CONFIG, semantics.PRODUCER_OWNED, "producer"),
            "config_file": _described({"type": "string", "minLength": 1},
                                      "the application's producer settings: .properties, .yaml/.yml or .json, "
                                      "relative to the scenario; config wins over it"),
            **_transaction("only with semantic: transactional"),
            "transactional_id": _described(_text(sc.MAX_TXN_ID, _stripped(sc._NAME_RE.pattern)),
                                           "only with semantic: transactional (default: one per run and producer)"),
        },
        "consumer": {
            "mode": _choices(semantics.MODES, semantic_doc),
            "process_time": _described(_duration(high=sc.MAX_PROCESS_TIME, positive=False),
                                       "simulated application work per record"),
            "config": _client_config(kafka.KafkaConsumer.DEFAULT_CONFIG, semantics.CONSUMER_OWNED, "consumer"),
            "config_file": _described({"type": "string", "minLength": 1},
                                      "the application's consumer settings: .properties, .yaml/.yml or .json, "
                                      "relative to the scenario; config wins over it"),
        },
        "copier": {
            **_transaction("of the copier's transactions"),
            "on_abort": _described(_words(sc.COPIER_ON_ABORT), "seek: rewind to the committed positions after an "
                                                               "abort; no-seek: keep going (broken on purpose)"),
            "offsets": _described(_words(sc.COPIER_OFFSETS), "transaction: offsets in the transaction; "
                                                             "after-commit: committed after it (broken on purpose)"),
        },
        "sink": {
            "offsets": _choices(semantics.SINK_CLAIMS),
            "dedup": _described({"type": "boolean"}, "skip a record applied before (by its id)"),
            "process_time": _described(_duration(high=sc.MAX_PROCESS_TIME, positive=False), "work per record"),
        },
        "nemesis": {
            "start": _described(_duration(positive=False), "first fault after this long (before duration)"),
            "interval": _described(_duration(low=sc.MIN_EVERY), "one fault every interval"),
            "jitter": _described(_duration(positive=False), "± around interval (at most interval)"),
            "recovery": _described(_duration(positive=False), "fault-free time after each heal"),
            "faults": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/nemesisFault"},
                       "description": "the faults the nemesis draws from, each with a duration"},
        },
        "fault": {
            "at": _described(_duration(positive=False), "once, this long into the run (not with every)"),
            "every": _described(_duration(low=sc.MIN_EVERY), "repeatedly, every this long (not with at)"),
            "count": _described(_integer(1, schedule.MAX_PLANNED), "with every: how many times"),
            "jitter": _described(_duration(positive=False), "with every: ± around each time (at most every)"),
            "action": _choices(catalog.ACTIONS, lambda a: f"{a.doc} (targets: {a.targets_text})"),
            "target": _described({"type": "string", "maxLength": 600, "pattern": sc._TARGET_RE.pattern},
                                 ", ".join(catalog.TARGET_TEXT.values())),
            "duration": _described(_duration(), "heal after this long (crash: until a fresh worker starts)"),
            "direction": _words(sc.DIRECTIONS),
            "groups": {"type": "array", "minItems": 2,
                       "items": {"type": "array", "minItems": 1, "items": _integer(0, sc.MAX_BROKER_ID)},
                       "description": "split: brokers talk only within their group, e.g. [[1], [2, 3]]"},
            "shape": _described(_words(sc.SHAPES), "split: groups drawn at run time"),
            "probability": _described({"type": "number", "minimum": sc.MIN_PROBABILITY, "maximum": 1},
                                      f"loss: chance each packet is dropped, in steps of {sc.MIN_PROBABILITY:g}"),
            "rate": _described({"type": "string", "maxLength": 40, "pattern": _stripped(_any_case(sc._RATE_RE.pattern))},
                               "bandwidth: 8kbit to 100gbit, e.g. 1mbit"),
            "point": _described(_words(tuple(sc.CRASH_POINTS)), "crash: at the worker's next crash point, not at once ("
                                + "; ".join(f"{p}: {', '.join(roles)}" for p, roles in sc.CRASH_POINTS.items()) + ")"),
            "latency": _described(_duration(low=sc.MIN_LATENCY, high=sc.MAX_LATENCY), "delay: added to each packet"),
            "latency_jitter": _described(_duration(positive=False, high=sc.MAX_LATENCY),
                                         "delay: ± around latency (at most latency)"),
        },
    }


def _transaction(doc: str) -> dict:
    return {
        "txn_size": _described(_integer(1, sc.MAX_TXN_SIZE), f"records per transaction; {doc}"),
        "abort_ratio": _described({"type": "number", "minimum": 0, "maximum": 1},
                                  f"fraction of transactions aborted on purpose; {doc}"),
        "transaction_timeout": _described(_duration(low=sc.MIN_TXN_TIMEOUT, high=sc.MAX_TXN_TIMEOUT), doc),
    }


_NULL = {"type": "null"}   # the parser reads a key whose value is null as absent


def _section(section: str, fields: dict, doc: str) -> dict:
    """An object of exactly scenario.KEYS[section]; a key the schema has no type for is a bug, raised here."""
    keys, required = sc.KEYS[section], sc.REQUIRED.get(section, ())
    missing = [k for k in keys if k not in fields[section]]
    extra = [k for k in fields[section] if k not in keys]
    if missing or extra:
        raise AssertionError(f"schema and scenario.KEYS[{section!r}] differ: missing {missing}, extra {extra}")
    props = {k: fields[section][k] if k in required else {"anyOf": [fields[section][k], _NULL]} for k in keys}
    for k in keys:   # editors show the description of the property itself
        inner = fields[section][k]
        if k not in required and "description" in inner:
            props[k]["description"] = inner["description"]
    out = {"type": "object", "properties": props, "additionalProperties": False, "description": doc}
    return {**out, "required": list(required)} if required else out


def _per_action(nemesis: bool) -> list[dict]:
    """For each action of the catalog: the target kinds it takes and the fields of other actions it refuses."""
    rules = []
    others = sorted({f for a in catalog.TABLE for f in a.fields})
    for a in catalog.TABLE:
        then: dict = {k: _NULL for k in others if k not in a.fields}
        if a.targets:
            kinds = "|".join(sorted(a.targets, key=len, reverse=True))   # words of letters and -: no escapes
            then["target"] = {"anyOf": [{"type": "string", "pattern": rf"^\s*(?:{kinds})(?![A-Za-z-])"}, _NULL],
                              "description": f"targets of {a.name}: {a.targets_text}"}
        else:
            then["target"] = _NULL
        if a.healer:
            then["duration"] = _NULL
        if nemesis and not a.nemesis:
            continue
        rules.append({"if": {"properties": {"action": {"const": a.name}}, "required": ["action"]},
                      "then": {"properties": then, "required": ["target"] if a.targets else []}})
    return rules


def build() -> dict:
    """The schema as a JSON-able dict."""
    fields = _fields()
    fault = _section("fault", fields, "a fault: give exactly one of at or every; the action decides the target "
                                      "and fields (kchaos faults lists them)")
    fault["allOf"] = _per_action(nemesis=False)
    nemesis_fault = _section("fault", fields, "a fault the nemesis draws: no at, every, count or jitter; a "
                                              "duration is required")
    nemesis_fault["properties"] = {**nemesis_fault["properties"], **{k: _NULL for k in sc.TIMING},
                                   "action": _choices({k: catalog.ACTIONS[k] for k in catalog.NEMESIS_ACTIONS},
                                                      lambda a: a.doc)}
    nemesis_fault["required"] = [*nemesis_fault.get("required", []), "duration"]
    nemesis_fault["allOf"] = _per_action(nemesis=True)
    expect = {"type": "object", "additionalProperties": False,
              "properties": {name: {"anyOf": [_integer(0, sc.MAX_BIG), {"const": "any"}, _NULL],
                                    "description": f"{meaning} (0, an upper bound, or any)"}
                             for name, meaning in counts.COUNTS.items() if name not in counts.RESERVED},
              "description": "upper bounds on the verdict's counts; without it, what Kafka documents for the "
                             f"semantic and mode. {', '.join(counts.EFFECT_COUNTS)} only with a copier or sink; "
                             f"{', '.join(counts.TXN_COUNTS)} only with a transactional producer"}
    defs = {
        "cluster": _section("cluster", fields, "where the brokers are: compose, or bootstrap with containers "
                                               "(or hosts and commands)"),
        "topic": _section("topic", fields, "the topic the run creates"),
        "producer": _section("producer", fields, "the producer: a semantic preset, overridable by config"),
        "consumer": _section("consumer", fields, "the consumer application: how it commits offsets"),
        "copier": {"anyOf": [_section("copier", fields, "consume-transform-produce to <topic>-out (not with a "
                                                        "sink)"), _NULL]},
        "sink": {"anyOf": [_section("sink", fields, "the inbox pattern: effects in a database table (not with a "
                                                    "copier; semantic outbox needs one)"), _NULL]},
        "nemesis": _section("nemesis", fields, "random faults drawn from the seed"),
        "fault": fault,
        "nemesisFault": nemesis_fault,
        "expect": expect,
    }
    top = _section("scenario", fields, "A kchaos scenario: a workload, a fault schedule and the counts it expects. "
                                       "Rules across fields are checked by `kchaos validate`, the authority.")
    return {"$schema": DRAFT, "title": "kchaos scenario", **top, "$defs": defs}
