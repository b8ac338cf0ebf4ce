"""Presets -> kafka-python settings, contradictions, and the guarantees Kafka documents."""

import itertools

import pytest

from kafka_chaos import semantics
from kafka_chaos.errors import ScenarioError
from kafka_chaos.semantics import (GUARANTEES, SettingError, consumer_settings, documented_expect,
                                   producer_settings)

IMPLEMENTED_SEMANTICS = ["no-guarantee", "at-most-once", "at-least-once", "idempotent", "transactional"]
IMPLEMENTED_MODES = ["auto-commit", "commit-before-process", "commit-after-process", "read-committed",
                     "read-uncommitted"]
BIG = semantics.MAX_RETRIES


def test_presets_are_the_documented_settings():
    assert {s: producer_settings(s, {}) for s in semantics.SEMANTICS} == {
        "no-guarantee": {"acks": 1, "retries": BIG, "enable_idempotence": False,
                         "max_in_flight_requests_per_connection": 5},
        "at-most-once": {"acks": 0, "retries": 0, "enable_idempotence": False},
        "at-least-once": {"acks": "all", "retries": BIG, "enable_idempotence": False},
        "idempotent": {"acks": "all", "retries": BIG, "enable_idempotence": True,
                       "max_in_flight_requests_per_connection": 5},
        "transactional": {"acks": "all", "retries": BIG, "enable_idempotence": True,
                          "max_in_flight_requests_per_connection": 5, "retry_backoff_ms": 20},
        "outbox": {"acks": "all", "retries": BIG, "enable_idempotence": True,
                   "max_in_flight_requests_per_connection": 5},
    }


def test_raw_config_overrides_the_preset():
    assert producer_settings("at-least-once", {"acks": "1", "linger_ms": 5}) == {
        "acks": 1, "retries": BIG, "enable_idempotence": False, "linger_ms": 5}


def test_java_dotted_names_become_kafka_python_names():
    got = producer_settings("no-guarantee", {"max.in.flight.requests.per.connection": "1",
                                             "linger.ms": "10", "compression.type": "gzip"})
    assert got["max_in_flight_requests_per_connection"] == 1
    assert got["linger_ms"] == 10
    assert got["compression_type"] == "gzip"
    assert consumer_settings("commit-after-process", {"max.poll.records": 10, "auto.offset.reset": "earliest"}) \
        == {"max_poll_records": 10, "auto_offset_reset": "earliest", "enable_auto_commit": False}


@pytest.mark.parametrize("given, acks", [("0", 0), (0, 0), ("1", 1), (1, 1), ("all", "all"),
                                         ("ALL", "all"), ("-1", "all"), (-1, "all")])
def test_acks_is_normalized(given, acks):
    assert producer_settings("no-guarantee", {"acks": given})["acks"] == acks


@pytest.mark.parametrize("given, value", [("true", True), ("False", False), (True, True)])
def test_boolean_settings_accept_java_strings(given, value):
    assert consumer_settings("auto-commit", {"check.crcs": given})["check_crcs"] == value


@pytest.mark.parametrize("semantic, raw, key, fragment", [
    ("idempotent", {"acks": 1}, "acks", "idempotence needs acks=all"),
    ("idempotent", {"acks": "0"}, "acks", "idempotence needs acks=all"),
    ("idempotent", {"enable.idempotence": "false"}, "enable.idempotence", "contradicts semantic idempotent"),
    ("idempotent", {"retries": 0}, "retries", "idempotence needs retries > 0"),
    ("idempotent", {"max.in.flight.requests.per.connection": 6}, "max.in.flight.requests.per.connection",
     "at most 5"),
    ("at-most-once", {"retries": 3}, "retries", "contradicts semantic at-most-once"),
    ("at-least-once", {"acks": 0}, "acks", "contradicts semantic at-least-once"),
    ("at-least-once", {"retries": "0"}, "retries", "never resent"),
    ("at-least-once", {"enable_idempotence": True}, "enable_idempotence", "use semantic: idempotent"),
    ("no-guarantee", {"enable_idempotence": True}, "enable_idempotence", "use semantic: idempotent"),
])
def test_contradictions_name_the_setting_as_written(semantic, raw, key, fragment):
    with pytest.raises(SettingError) as e:
        producer_settings(semantic, raw)
    assert e.value.key == key
    assert fragment in e.value.detail
    assert isinstance(e.value, ScenarioError)


@pytest.mark.parametrize("raw, key, fragment", [
    ({"lingr_ms": 5}, "lingr_ms", "did you mean linger_ms?"),
    ({"bootstrap_servers": "x:1"}, "bootstrap_servers", "kchaos sets bootstrap_servers itself"),
    ({"value.serializer": "x"}, "value.serializer", "kchaos sets value_serializer itself"),
    ({"transactional.id": "t"}, "transactional.id", "semantic: transactional"),
    ({"acks": 2}, "acks", "allowed: 0, 1, all"),
    ({"linger_ms": "soon"}, "linger_ms", "not a number"),
    ({"linger_ms": [1]}, "linger_ms", "single value"),
    ({"partitioner": "x"}, "partitioner", "only be set from Python"),
    ({"linger_ms": 1, "linger.ms": 2}, "linger.ms", "given twice"),
])
def test_bad_producer_settings(raw, key, fragment):
    with pytest.raises(SettingError) as e:
        producer_settings("at-least-once", raw)
    assert (e.value.key, fragment in e.value.detail) == (key, True), e.value.detail


@pytest.mark.parametrize("key", ["group_id", "group.id", "enable.auto.commit", "isolation_level",
                                 "value_deserializer", "bootstrap.servers"])
def test_consumer_settings_kchaos_owns(key):
    with pytest.raises(SettingError, match="kchaos sets"):
        consumer_settings("commit-after-process", {key: "x"})


def test_consumer_settings_reject_producer_only_names():
    with pytest.raises(SettingError, match="not a kafka-python consumer setting"):
        consumer_settings("auto-commit", {"linger_ms": 5})


@pytest.mark.parametrize("mode, auto", [("auto-commit", True), ("commit-before-process", False),
                                        ("commit-after-process", False)])
def test_mode_sets_auto_commit(mode, auto):
    assert consumer_settings(mode, {}) == {"enable_auto_commit": auto}


def test_commit_timing_table():
    assert {m: (e.enable_auto_commit, e.commit) for m, e in semantics.MODES.items()
            if not e.reserved} == {"auto-commit": (True, "auto"), "commit-before-process": (False, "before"),
                                   "commit-after-process": (False, "after"), "read-committed": (False, "after"),
                                   "read-uncommitted": (False, "after")}
    assert {k for k, v in {**semantics.PRESETS, **semantics.MODES}.items() if v.reserved} == set()


def test_documented_expect_examples():
    assert documented_expect("at-least-once", "commit-after-process") == {
        "lost": 0, "log_duplicates": None, "reprocessed": None, "duplicates": None, "reordered": None,
        "phantoms": 0}
    assert documented_expect("idempotent", "commit-before-process") == {
        "lost": None, "log_duplicates": 0, "reprocessed": 0, "duplicates": 0, "reordered": 0, "phantoms": 0}
    assert documented_expect("no-guarantee", "auto-commit") == {
        "lost": None, "log_duplicates": None, "reprocessed": None, "duplicates": None, "reordered": None,
        "phantoms": 0}


@pytest.mark.parametrize("semantic, mode", list(itertools.product(IMPLEMENTED_SEMANTICS, IMPLEMENTED_MODES)))
def test_documented_expect_rules(semantic, mode):
    e = documented_expect(semantic, mode)
    committing_after = mode in ("commit-after-process", "read-committed", "read-uncommitted")
    assert (e["lost"] == 0) == (semantic in ("at-least-once", "idempotent", "transactional") and committing_after)
    assert (e["duplicates"] == 0) == (semantic in ("idempotent", "at-most-once", "transactional")
                                      and mode == "commit-before-process")
    assert (e["reordered"] == 0) == (semantic in ("idempotent", "at-most-once", "transactional"))
    assert e.get("aborted_reads", "absent") == {"read-committed": 0, "read-uncommitted": None}.get(mode, "absent")
    assert e.get("torn_transactions", "absent") == (0 if semantic == "transactional" else "absent")
    assert e["phantoms"] == 0


def test_every_preset_and_mode_has_a_one_sentence_claim():
    assert set(GUARANTEES) == set(semantics.SEMANTICS) | set(semantics.CONSUMER_MODES)
    for name, claim in GUARANTEES.items():
        assert "\n" not in claim and claim.endswith(".") and claim.count(". ") == 0, name


@pytest.mark.parametrize("mode, isolation", [("read-committed", "read_committed"),
                                             ("read-uncommitted", "read_uncommitted")])
def test_isolation_modes_commit_after_processing_with_their_isolation_level(mode, isolation):
    assert consumer_settings(mode, {}) == {"enable_auto_commit": False, "isolation_level": isolation}
    with pytest.raises(SettingError, match="kchaos sets isolation_level itself from consumer.mode"):
        consumer_settings(mode, {"isolation.level": isolation})


def test_transactional_preset_is_idempotent_and_owns_its_transaction_settings():
    assert producer_settings("transactional", {})["enable_idempotence"] is True
    with pytest.raises(SettingError, match="from producer.transaction_timeout"):
        producer_settings("transactional", {"transaction.timeout.ms": 5000})
    with pytest.raises(SettingError, match="1 contradicts semantic transactional"):
        producer_settings("transactional", {"acks": 1})
