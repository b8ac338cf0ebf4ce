"""Delivery semantics: a producer preset or consumer mode -> kafka-python settings, and what Kafka documents for it.

The verdict compares a run against `documented_expect(semantic, mode)` when the scenario has no
`expect`, so every entry below carries the one-sentence claim it stands for (`GUARANTEES`).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field

import kafka

from .errors import ScenarioError

ANY = None  # an expectation of None means "any count is fine"
MAX_RETRIES = 2147483647  # Java's Integer.MAX_VALUE, Kafka's default since 2.1; JSON-able, unlike inf
MAX_SETTING = 2147483647  # every numeric client setting is a whole number in 0..Java's int (or `AT_LEAST_ONE`)
AT_LEAST_ONE = {"max_in_flight_requests_per_connection", "max_poll_records", "metrics_num_samples"}
MAX_SETTING_TEXT = 4096   # a string setting
_WHOLE = re.compile(r"^\s*[+-]?[0-9]{1,19}\s*$")
_DECIMAL = re.compile(r"^\s*[+-]?([0-9]{1,19}(\.[0-9]{0,19})?|\.[0-9]{1,19})([eE][+-]?[0-9]{1,3})?\s*$")
_VERSION_PART = re.compile(r"^[0-9]{1,4}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Preset:
    """A producer semantic: the settings it stands for and the guarantee Kafka documents for them."""

    settings: dict
    claim: str
    expect: dict  # partial expectation: lost, log_duplicates, reordered (+ torn_transactions)
    reserved: bool = False
    mode: str = "commit-after-process"  # the consumer mode that carries the guarantee end to end (kchaos init)


@dataclass(frozen=True)
class Mode:
    """A consumer mode: how offsets are committed and the guarantee Kafka documents for that."""

    enable_auto_commit: bool
    commit: str  # "auto" (the library's own timer) | "before" processing | "after" processing
    claim: str
    expect: dict  # partial expectation: lost, reprocessed (+ aborted_reads)
    settings: dict = field(default_factory=dict)
    reserved: bool = False


_IDEMPOTENT = {"acks": "all", "enable_idempotence": True, "retries": MAX_RETRIES,
               "max_in_flight_requests_per_connection": 5}

PRESETS: dict[str, Preset] = {
    "no-guarantee": Preset(
        {"acks": 1, "retries": MAX_RETRIES, "enable_idempotence": False,
         "max_in_flight_requests_per_connection": 5},
        "acks=1 with retries and 5 requests in flight (the pre-3.0 default): Kafka documents that a "
        "leader failure before followers copy a record loses it, and that retries may duplicate and reorder.",
        {"lost": ANY, "log_duplicates": ANY, "reordered": ANY}),
    "at-most-once": Preset(
        {"acks": 0, "retries": 0, "enable_idempotence": False},
        "acks=0 and no retries: Kafka documents that records may be lost but, never being resent, are "
        "never duplicated or reordered by the producer.",
        {"lost": ANY, "log_duplicates": 0, "reordered": 0}, mode="commit-before-process"),
    "at-least-once": Preset(
        {"acks": "all", "retries": MAX_RETRIES, "enable_idempotence": False},
        "acks=all with retries: Kafka documents that an acknowledged record survives a broker failure "
        "when replication.factor>=3 and min.insync.replicas>=2, but retries may duplicate and reorder it.",
        {"lost": 0, "log_duplicates": ANY, "reordered": ANY}),
    "idempotent": Preset(
        dict(_IDEMPOTENT),
        "enable.idempotence=true (acks=all, retries, <=5 in flight): Kafka documents that retries write "
        "each record exactly once per partition and in order, and acknowledged records are not lost.",
        {"lost": 0, "log_duplicates": 0, "reordered": 0}),
    "transactional": Preset(
        # Java retries CONCURRENT_TRANSACTIONS after 20 ms (KAFKA-5477), kafka-python after retry_backoff_ms:
        # at its default 100 ms each transaction's first sends wait ~0.2 s for the previous one's markers
        {**_IDEMPOTENT, "retry_backoff_ms": 20},
        "An idempotent producer with transactional.id: Kafka documents that a transaction's records "
        "become visible to read_committed consumers all together or not at all, and never if it aborted.",
        {"lost": 0, "log_duplicates": 0, "reordered": 0, "torn_transactions": 0}, mode="read-committed"),
    "outbox": Preset(
        dict(_IDEMPOTENT),
        "Transactional outbox: the application writes its rows and their outbox rows in one database "
        "transaction, and a relay publishes unsent rows with an idempotent producer, then marks them sent; a relay "
        "crash between the ack and the mark publishes rows again (duplicates in the topic), so only a sink that "
        "dedups by outbox id applies each committed row exactly once.",
        {"lost": 0, "log_duplicates": ANY, "reordered": ANY}),
}

MODES: dict[str, Mode] = {
    "auto-commit": Mode(
        True, "auto",
        "enable.auto.commit=true: Kafka documents at-least-once only if every record returned by a poll "
        "is processed before the next poll; a crash in between may skip or repeat records.",
        {"lost": ANY, "reprocessed": ANY}),
    "commit-before-process": Mode(
        False, "before",
        "Committing before processing is at-most-once: Kafka documents that a crash after the commit "
        "skips the records not yet processed, and none is processed twice.",
        {"lost": ANY, "reprocessed": 0}),
    "commit-after-process": Mode(
        False, "after",
        "Committing after processing is at-least-once: Kafka documents that a crash before the commit "
        "processes the records again, and none is skipped.",
        {"lost": 0, "reprocessed": ANY}),
    "read-committed": Mode(
        False, "after",
        "isolation.level=read_committed (confluent-kafka's default): Kafka documents that the consumer returns "
        "only records of committed transactions and non-transactional ones, never one of an aborted or still "
        "open transaction; committing after processing keeps it at-least-once.",
        {"lost": 0, "reprocessed": ANY, "aborted_reads": 0},
        settings={"isolation_level": "read_committed"}),
    "read-uncommitted": Mode(
        False, "after",
        "isolation.level=read_uncommitted (kafka-python's and the Java client's default): Kafka documents that "
        "the consumer returns every record, also those of aborted and still open transactions; committing "
        "after processing keeps it at-least-once.",
        {"lost": 0, "reprocessed": ANY, "aborted_reads": ANY},
        settings={"isolation_level": "read_uncommitted"}),
}

GUARANTEES: dict[str, str] = {**{k: p.claim for k, p in PRESETS.items()},
                              **{k: m.claim for k, m in MODES.items()}}

# What Kafka (and the pattern) documents for each copier variant (on_abort, offsets) and sink variant (offsets).
COPIER_CLAIMS = {
    ("seek", "transaction"): "offsets sent in the transaction (KIP-98, KIP-447 fencing) and a rewind after each "
                             "abort: every input record has exactly one committed copy (lost_effects and "
                             "duplicate_effects 0)",
    ("no-seek", "transaction"): "no rewind after an abort: the consumer keeps its position (KAFKA-17582, by design), "
                                "so the inputs of aborted transactions are never copied (lost effects expected)",
    ("seek", "after-commit"): "offsets committed to Kafka after the transaction, outside it: a crash between the "
                              "two copies the batch again (duplicate effects expected)",
    ("no-seek", "after-commit"): "no rewind and offsets outside the transactions: both lost and duplicate effects",
}
SINK_CLAIMS = {
    "database": "inbox pattern: each batch's effects and its next offsets in one database transaction, and the "
                "consumer positioned at the stored offsets on every assignment: each record applied exactly once",
    "kafka": "effects committed to the database, then offsets committed to Kafka: a crash between the two applies "
             "the batch again (duplicate effects expected, unless the sink dedups)",
}

SEMANTICS = tuple(PRESETS)
CONSUMER_MODES = tuple(MODES)

# What ties a client to its cluster, record format and group: a run uses its own, so an application's settings
# file may name them (and they are left out); a scenario's config may not.
PRODUCER_WIRING = ("bootstrap_servers", "key_serializer", "value_serializer")
CONSUMER_WIRING = ("bootstrap_servers", "key_deserializer", "value_deserializer", "group_id")

# Settings kchaos fills in itself; a scenario may not override them.
PRODUCER_OWNED = {**dict.fromkeys(PRODUCER_WIRING, ""),
                  "transactional_id": " (semantic: transactional; name one with producer.transactional_id)",
                  "transaction_timeout_ms": " from producer.transaction_timeout (semantic: transactional)"}
CONSUMER_OWNED = {**dict.fromkeys(CONSUMER_WIRING, ""), "enable_auto_commit": " from consumer.mode",
                  "isolation_level": " from consumer.mode (read-committed or read-uncommitted)"}


# The producer's client library (scenario key producer.client); kafka-python is the default.
PRODUCER_CLIENTS = ("kafka-python", "confluent-kafka")


def _text(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _acks(v) -> str:
    return "all" if v in ("all", -1) else str(v)


# kafka-python setting (as a preset or a scenario's config holds it, after normalize_config) -> librdkafka's name
# and how its value is written there. The one place both producer drivers' settings meet: every preset must
# translate (tests check), and a setting without a translation is refused for producer.client confluent-kafka.
LIBRDKAFKA: dict[str, tuple[str, object]] = {
    "acks": ("acks", _acks),
    "retries": ("retries", int),
    "max_in_flight_requests_per_connection": ("max.in.flight.requests.per.connection", int),
    "enable_idempotence": ("enable.idempotence", bool),
    "linger_ms": ("linger.ms", int),
    "batch_size": ("batch.size", int),
    "request_timeout_ms": ("request.timeout.ms", int),
    "delivery_timeout_ms": ("delivery.timeout.ms", int),
    "compression_type": ("compression.type", lambda v: "none" if v is None else _text(v)),
    "retry_backoff_ms": ("retry.backoff.ms", int),
    "max_request_size": ("message.max.bytes", int),
    "client_id": ("client.id", _text),
    "metadata_max_age_ms": ("metadata.max.age.ms", int),
    "connections_max_idle_ms": ("connections.max.idle.ms", int),
    "reconnect_backoff_ms": ("reconnect.backoff.ms", int),
    "reconnect_backoff_max_ms": ("reconnect.backoff.max.ms", int),
    "send_buffer_bytes": ("socket.send.buffer.bytes", int),
    "receive_buffer_bytes": ("socket.receive.buffer.bytes", int),
    "client_dns_lookup": ("client.dns.lookup", _text),
    "security_protocol": ("security.protocol", _text),
    "sasl_mechanism": ("sasl.mechanisms", _text),
    "sasl_plain_username": ("sasl.username", _text),
    "sasl_plain_password": ("sasl.password", _text),
    "ssl_cafile": ("ssl.ca.location", _text),
    "ssl_certfile": ("ssl.certificate.location", _text),
    "ssl_keyfile": ("ssl.key.location", _text),
    "ssl_password": ("ssl.key.password", _text),
    "ssl_crlfile": ("ssl.crl.location", _text),
    "ssl_ciphers": ("ssl.cipher.suites", _text),
    "ssl_check_hostname": ("ssl.endpoint.identification.algorithm", lambda v: "https" if v else "none"),
    "transactional_id": ("transactional.id", _text),
    "transaction_timeout_ms": ("transaction.timeout.ms", int),
}
# kchaos's own settings, read by the worker and never handed to librdkafka (which bootstraps in the background)
KCHAOS_ONLY = ("bootstrap_timeout_ms",)


def librdkafka_settings(config: dict) -> dict:
    """`config` (kafka-python names) in librdkafka's names and values; SettingError names the first setting
    librdkafka has no equivalent for."""
    out = {}
    for key, value in config.items():
        if key in KCHAOS_ONLY:
            continue
        if key not in LIBRDKAFKA:
            raise SettingError(key, "has no confluent-kafka (librdkafka) equivalent kchaos knows; remove it or use "
                                    "producer.client: kafka-python")
        name, convert = LIBRDKAFKA[key]
        out[name] = convert(value)
    return out


class SettingError(ScenarioError):
    """One client setting is wrong; `key` is the name as the scenario spelled it, `detail` says why."""

    def __init__(self, key: str, detail: str):
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.detail = detail


def documented_expect(semantic: str, mode: str) -> dict[str, int | None]:
    """The counts Kafka's documentation promises for this producer semantic and consumer mode (None = any)."""
    p, m = PRESETS[semantic].expect, MODES[mode].expect
    expect = {
        "lost": 0 if p["lost"] == 0 and m["lost"] == 0 else ANY,
        "log_duplicates": p["log_duplicates"],
        "reprocessed": m["reprocessed"],
        "duplicates": 0 if p["log_duplicates"] == 0 and m["reprocessed"] == 0 else ANY,
        "reordered": p["reordered"],
        "phantoms": 0,  # a record nobody sent can never be consumed
    }
    if "aborted_reads" in m:
        expect["aborted_reads"] = m["aborted_reads"]
    if "torn_transactions" in p:
        expect["torn_transactions"] = p["torn_transactions"]
    return expect


def producer_settings(semantic: str, raw_config: dict) -> dict:
    """The preset's kafka-python settings overridden by `raw_config`; raises SettingError on a contradiction."""
    config, spelled = normalize_config(raw_config, kafka.KafkaProducer.DEFAULT_CONFIG, PRODUCER_OWNED)
    merged = {**PRESETS[semantic].settings, **config}
    for key, detail in _contradictions(semantic, merged):
        raise SettingError(spelled.get(key, key), detail)
    return merged


def consumer_settings(mode: str, raw_config: dict) -> dict:
    """The user's kafka-python consumer settings plus what `mode` fixes (enable_auto_commit, isolation_level)."""
    config, _ = normalize_config(raw_config, kafka.KafkaConsumer.DEFAULT_CONFIG, CONSUMER_OWNED)
    return {**config, **mode_settings(mode)}


def mode_settings(mode: str) -> dict:
    """The kafka-python settings consumer `mode` fixes: enable_auto_commit, and isolation_level for some."""
    return {"enable_auto_commit": MODES[mode].enable_auto_commit, **MODES[mode].settings}


def python_name(written: str) -> str:
    """kafka-python's name for a setting given either way: enable.idempotence -> enable_idempotence."""
    return written.replace(".", "_").replace("-", "_")


def _contradictions(semantic: str, s: dict):
    """Yield (key, detail) for each setting that breaks what `semantic` promises."""
    idem, acks = s.get("enable_idempotence"), s.get("acks")
    retries, in_flight = s.get("retries", 0), s.get("max_in_flight_requests_per_connection", 5)
    if semantic in ("idempotent", "transactional", "outbox"):   # outbox: the relay's producer
        if acks != "all":
            yield "acks", f"{acks} contradicts semantic {semantic} (idempotence needs acks=all)"
        if idem is False:
            yield "enable_idempotence", f"false contradicts semantic {semantic} (remove it)"
        if retries == 0:
            yield "retries", f"0 contradicts semantic {semantic} (idempotence needs retries > 0)"
        if in_flight > 5:
            yield ("max_in_flight_requests_per_connection",
                   f"{in_flight} contradicts semantic {semantic} (idempotence allows at most 5)")
        return
    if idem:
        yield "enable_idempotence", f"true makes the producer idempotent, not {semantic} (use semantic: idempotent)"
    if semantic == "at-most-once" and retries > 0:
        yield "retries", f"{retries} contradicts semantic at-most-once (a retry may write a record twice; use 0)"
    if semantic == "at-least-once":
        if acks == 0:
            yield "acks", "0 contradicts semantic at-least-once (nothing is acknowledged; use 1 or all)"
        if retries == 0:
            yield "retries", "0 contradicts semantic at-least-once (a failed send is never resent; use > 0)"


def normalize_config(raw: dict, defaults: dict, owned: dict) -> tuple[dict, dict]:
    """Map Java dotted names to kafka-python ones and coerce values to the default's type.

    Returns (settings, spelled) where spelled maps each kafka-python name to the key as written.
    """
    config, spelled = {}, {}
    for written, value in raw.items():
        if not isinstance(written, str):
            raise SettingError(str(written), "setting names are strings")
        key = python_name(written)
        if key in owned:
            raise SettingError(written, f"kchaos sets {key} itself{owned[key]}; remove it")
        if key not in defaults:
            close = difflib.get_close_matches(key, list(defaults), n=1) if len(key) <= 64 else []
            hint = f"did you mean {close[0]}? " if close else ""
            raise SettingError(written, f"not a kafka-python {_kind(defaults)} setting ({hint}"
                                        "use kafka-python or Java dotted names)")
        if key in config:
            raise SettingError(written, f"given twice (also as {spelled[key]})")
        config[key] = _coerce(written, key, value, defaults[key])
        spelled[key] = written
    return config, spelled


def _kind(defaults: dict) -> str:
    return "producer" if defaults is kafka.KafkaProducer.DEFAULT_CONFIG else "consumer"


def _coerce(written: str, key: str, value, default):
    """Turn a YAML scalar into what kafka-python expects for `key` (Java configs are often quoted strings)."""
    if key == "acks":
        acks = {"0": 0, "1": 1, "all": "all", "-1": "all"}.get(str(value).lower())
        if acks is None or isinstance(value, (bool, float)):
            raise SettingError(written, f"{shown(value)} is not an acks value (allowed: 0, 1, all)")
        return acks
    if key == "api_version":
        parts = value.split(".") if isinstance(value, str) and len(value) <= 20 else value
        if not isinstance(parts, list) or not 0 < len(parts) <= 4 or \
                not all(isinstance(p, (int, str)) and not isinstance(p, bool) and _VERSION_PART.match(str(p))
                        for p in parts):
            raise SettingError(written, f"{shown(value)} is not a version (e.g. \"3.9\" or [3, 9])")
        return tuple(int(p) for p in parts)
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingError(written, f"{value} is not a finite number")
    if isinstance(value, (list, dict)) or value is None:
        raise SettingError(written, "must be a single value (string, number or boolean)")
    if isinstance(default, bool):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise SettingError(written, f"{shown(value)} is not a boolean (allowed: true, false)")
        return value
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        number = _number(value)
        if number is None:
            raise SettingError(written, f"{shown(value)} is not a number")
        low = 1 if key in AT_LEAST_ONE else 0
        if not isinstance(number, int) or not low <= number <= MAX_SETTING:
            raise SettingError(written, f"{shown(number)} is out of range (allowed: a whole number in "
                                        f"{low}..{MAX_SETTING}, Java's int)")
        return number
    if isinstance(default, str) or (default is None and isinstance(value, str)):
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if len(text) > MAX_SETTING_TEXT or _CONTROL.search(text):
            raise SettingError(written, f"must be at most {MAX_SETTING_TEXT} characters without control characters")
        return text
    if default is None:
        return value
    raise SettingError(written, "can only be set from Python code, not in a scenario")


def _number(value) -> int | float | None:
    """A finite number from a YAML number or a decimal string (ASCII digits only); whole floats become ints."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return (int(value) if value.is_integer() else value) if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    if _WHOLE.match(value):
        return int(value)
    return _number(float(value)) if _DECIMAL.match(value) else None


def shown(value) -> str:
    """A value as a message shows it: on one line, at most about 60 characters (for scenario messages too)."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
