"""The producer's two client libraries: kafka-python settings in librdkafka's names, both drivers' error codes in
history.ERROR_NAMES, the scenario key producer.client, and what the worker records from a driver's results."""

import time

import pytest
from confluent_kafka import KafkaError, Producer

from kafka_chaos import history, schema, semantics
from kafka_chaos.errors import ScenarioError
from kafka_chaos.history import ACK, ERROR, HistoryWriter
from kafka_chaos.scenario import loads
from kafka_chaos.semantics import LIBRDKAFKA, SettingError, librdkafka_settings, producer_settings
from kafka_chaos.workload import producer, producer_confluent, producer_kafka

COMPOSE = """services:
  kafka-1: {image: x, labels: {kchaos.broker.id: "1", kchaos.external.port: "19092"}}
  kafka-2: {image: x, labels: {kchaos.broker.id: "2", kchaos.external.port: "19093"}}
  kafka-3: {image: x, labels: {kchaos.broker.id: "3", kchaos.external.port: "19094"}}
"""


@pytest.mark.parametrize("semantic", semantics.SEMANTICS)
def test_every_preset_translates_and_librdkafka_accepts_it(semantic):
    config = producer_settings(semantic, {})
    if semantic == "transactional":
        config = {**config, "transactional_id": "t", "transaction_timeout_ms": 10000}
    translated = librdkafka_settings(config)
    assert translated["acks"] == {"all": "all", 0: "0", 1: "1"}[config["acks"]]
    assert translated["enable.idempotence"] is config["enable_idempotence"]
    # librdkafka checks names and values when the client is made (it connects later, in the background)
    Producer({**translated, "bootstrap.servers": "127.0.0.1:9", "log_level": 0})


def test_every_translation_starts_from_a_kafka_python_setting():
    import kafka
    assert set(LIBRDKAFKA) <= set(kafka.KafkaProducer.DEFAULT_CONFIG)


def test_settings_scenarios_use_translate_to_librdkafka_names():
    assert librdkafka_settings(producer_settings("at-least-once", {
        "linger.ms": "5", "batch_size": 32768, "request.timeout.ms": 9000, "delivery_timeout_ms": 60000,
        "compression_type": "gzip", "max.in.flight.requests.per.connection": 1, "bootstrap_timeout_ms": 5})) == {
        "acks": "all", "retries": semantics.MAX_RETRIES, "enable.idempotence": False, "linger.ms": 5,
        "batch.size": 32768, "request.timeout.ms": 9000, "delivery.timeout.ms": 60000, "compression.type": "gzip",
        "max.in.flight.requests.per.connection": 1}   # bootstrap_timeout_ms is kchaos's own


def test_a_setting_without_a_librdkafka_name_is_refused_by_name():
    with pytest.raises(SettingError) as e:
        librdkafka_settings({"acks": "all", "max_block_ms": 1000})
    assert e.value.key == "max_block_ms"
    assert "no confluent-kafka (librdkafka) equivalent" in str(e.value)


def test_librdkafka_error_codes_map_to_history_names():
    name = lambda code: history.ERROR_NAMES[producer_confluent.error_code(code)]   # noqa: E731
    assert name(KafkaError._MSG_TIMED_OUT) == "timeout"
    assert name(KafkaError.NOT_LEADER_FOR_PARTITION) == "not-leader"
    assert name(KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND) == "not-enough-replicas"
    assert name(KafkaError._TRANSPORT) == "network"
    assert name(KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER) == "out-of-order"
    assert name(KafkaError.PRODUCER_FENCED) == "producer-fenced"
    assert name(KafkaError.MSG_SIZE_TOO_LARGE) == "record-too-large"
    assert name(KafkaError._PURGE_QUEUE) == "other"
    assert set(producer_confluent._ERROR_CODES.values()) <= set(history.ERROR_NAMES)


def test_kafka_python_errors_map_to_history_names():
    from kafka.errors import KafkaTimeoutError, NotLeaderForPartitionError, UnknownError
    assert history.ERROR_NAMES[producer_kafka.error_code(KafkaTimeoutError())] == "timeout"
    assert history.ERROR_NAMES[producer_kafka.error_code(NotLeaderForPartitionError())] == "not-leader"
    assert history.ERROR_NAMES[producer_kafka.error_code(UnknownError())] == "other"
    assert {n for _, n in producer_kafka._ERROR_CODES} <= set(history.ERROR_NAMES)


def test_both_drivers_name_the_same_failure_the_same():
    from kafka import errors as kp
    same = [(kp.RequestTimedOutError, KafkaError.REQUEST_TIMED_OUT),
            (kp.LeaderNotAvailableError, KafkaError.LEADER_NOT_AVAILABLE),
            (kp.NotEnoughReplicasError, KafkaError.NOT_ENOUGH_REPLICAS),
            (kp.KafkaConnectionError, KafkaError.NETWORK_EXCEPTION),
            (kp.OutOfOrderSequenceNumberError, KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER),
            (kp.ProducerFencedError, KafkaError.PRODUCER_FENCED),
            (kp.InvalidProducerEpochError, KafkaError.INVALID_PRODUCER_EPOCH),
            (kp.MessageSizeTooLargeError, KafkaError.MSG_SIZE_TOO_LARGE)]
    for exc, code in same:
        assert producer_kafka.error_code(exc()) == producer_confluent.error_code(code) != 0, exc.__name__
    assert {n for _, n in producer_kafka._ERROR_CODES} == set(producer_confluent._ERROR_CODES.values())


# -- the scenario key -------------------------------------------------------------------------------------------

def scenario(tmp_path, producer_line: str, overrides=()):
    (tmp_path / "compose.yml").write_text(COMPOSE)
    text = (f"duration: 10s\ncluster: {{compose: {tmp_path / 'compose.yml'}}}\nproducer: {producer_line}\n"
            "consumer: {mode: commit-after-process}\n")
    return loads(text, str(tmp_path / "s.yaml"), overrides)


def test_client_defaults_to_kafka_python_and_takes_confluent_kafka(tmp_path):
    assert scenario(tmp_path, "{semantic: idempotent}").producer.client == "kafka-python"
    assert scenario(tmp_path, "{semantic: idempotent, client: confluent-kafka}").producer.client == "confluent-kafka"
    assert scenario(tmp_path, "{semantic: idempotent}", [("producer.client", "confluent-kafka")]).producer.client \
        == "confluent-kafka"


def test_an_unknown_client_is_refused_with_file_line_and_field(tmp_path):
    with pytest.raises(ScenarioError) as e:
        scenario(tmp_path, "{semantic: idempotent, client: librdkafka}")
    assert str(e.value).startswith(f"{tmp_path / 's.yaml'}:3: producer.client: ")
    assert "allowed: kafka-python, confluent-kafka" in str(e.value)


def test_with_confluent_kafka_a_setting_librdkafka_lacks_is_refused_at_its_line(tmp_path):
    line = "\n  semantic: at-least-once\n  client: confluent-kafka\n  config:\n    max.block.ms: 1000"
    with pytest.raises(ScenarioError) as e:
        scenario(tmp_path, line)
    assert str(e.value).startswith(f"{tmp_path / 's.yaml'}:7: producer.config.max.block.ms: ")
    assert "no confluent-kafka (librdkafka) equivalent" in str(e.value)
    assert scenario(tmp_path, line.replace("confluent-kafka", "kafka-python")).producer.config["max_block_ms"] == 1000


def test_the_client_survives_scenario_json(tmp_path):
    from kafka_chaos.scenario import from_dict
    s = scenario(tmp_path, "{semantic: transactional, client: confluent-kafka}")
    assert from_dict(s.to_dict()).producer.client == "confluent-kafka"


def test_the_schema_lists_the_client():
    client = schema.build()["$defs"]["producer"]["properties"]["client"]
    assert client["anyOf"][0]["enum"] == list(semantics.PRODUCER_CLIENTS)


# -- what the worker records of a driver's results --------------------------------------------------------------

def test_the_value_codec_writes_history_values_and_reads_their_seq():
    encode, seq_of = history.value_codec("0123456789abcdef", 3, 100)
    value = encode(123456, 1764000000000)
    assert value == history.encode_value("0123456789abcdef", 3, 123456, 1764000000000, 100)
    assert seq_of(value) == 123456 and history.decode_value(value, "0123456789abcdef") == (3, 123456)


def worker(tmp_path, acks0=False):
    w = producer.Producer.__new__(producer.Producer)
    w.instance, w.acks0, w.txn_first = 2, acks0, -1
    w.history = HistoryWriter(tmp_path / "producer-2.bin", worker=2)
    w.counters = {"acked": 0, "errors": 0}
    return w


def test_acks_are_recorded_one_by_one_or_in_one_write_and_invalid_offsets_never(tmp_path):
    import array
    w = worker(tmp_path)
    w.acked(5, 1, 40)
    w.acked(6, 1, -1)   # no offset: not an acknowledgement
    w.acked_many(array.array("q", [7, 0, 10, 8, 2, -1001, 9, 2, 11]))   # librdkafka's invalid offset
    w.failed(10, 1)
    ev = history.read_file(tmp_path / "producer-2.bin")
    assert [(e["kind"], e["pid"], e["seq"], e["partition"], e["offset"], e["worker"]) for e in ev] == [
        (ACK, 2, 5, 1, 40, 2), (ACK, 2, 7, 0, 10, 2), (ACK, 2, 9, 2, 11, 2), (ERROR, 2, 10, -1, -1, 2)]
    assert w.counters == {"acked": 3, "errors": 1}


def test_with_acks_0_nothing_is_recorded_as_acknowledged(tmp_path):
    import array
    w = worker(tmp_path, acks0=True)
    w.acked(5, 1, 40)
    w.acked_many(array.array("q", [7, 0, 10]))
    assert len(history.read_file(tmp_path / "producer-2.bin")) == 0


def test_the_driver_is_chosen_by_client():
    assert producer.driver_class("kafka-python") is producer_kafka.KafkaPythonDriver
    assert producer.driver_class("confluent-kafka") is producer_confluent.ConfluentDriver


class Msg:
    """What a librdkafka delivery report carries (confluent_kafka.Message cannot be made by hand)."""

    def __init__(self, value, partition, offset):
        self._v, self._p, self._o = value, partition, offset

    def value(self):
        return self._v

    def partition(self):
        return self._p

    def offset(self):
        return self._o


def test_confluent_reports_become_one_write_of_acks_and_acks_0_reports_none(tmp_path):
    import array
    import threading
    w = worker(tmp_path)
    encode, w.seq_of = history.value_codec("0123456789abcdef", 2, 100)
    d = producer_confluent.ConfluentDriver.__new__(producer_confluent.ConfluentDriver)
    d.sink, d._acks, d._lock = w, array.array("q"), threading.Lock()
    d._report(None, Msg(encode(4, 0), 1, 17))
    d._report(None, Msg(encode(5, 0), 0, None))   # acks=0: librdkafka reports no offset
    d._report(KafkaError(KafkaError._MSG_TIMED_OUT), Msg(encode(6, 0), 2, None))
    d._write_acks()
    ev = history.read_file(tmp_path / "producer-2.bin")
    assert [(e["kind"], e["seq"], e["partition"], e["offset"], e["flags"]) for e in ev] == [
        (ERROR, 6, -1, -1, history.ERROR_NAMES.index("timeout")), (ACK, 4, 1, 17, 0)]


def test_a_librdkafka_fencing_error_names_its_real_cause_too():
    why = 'commit_transaction failed: KafkaException: KafkaError{code=PRODUCER_FENCED,val=90,str="fenced"}'
    assert "another producer with the same transactional.id" in producer.real_cause(why, 0.3, 10.0)
    assert "past transaction_timeout 10 s" in producer.real_cause(why, 12.0, 10.0)


class InstantDriver:
    """A client library whose every send is acknowledged at once, transactions included (the loop's bookkeeping only)."""

    Error = RuntimeError

    def __init__(self, bootstrap, config, sink):
        self.sink, self.offset = sink, 0

    def send(self, topic, value, seq):
        self.sink.acked(seq, 0, self.offset)
        self.offset += 1

    def serve(self):
        pass

    def wait(self, seconds):
        time.sleep(seconds)

    def flush(self, timeout):
        pass

    init_transactions = commit_transaction = abort_transaction = close = flush

    def begin_transaction(self):
        pass


def test_a_producer_far_behind_its_rate_still_cuts_transactions_of_txn_size(tmp_path, monkeypatch):
    """A burst (the producer behind its rate) must not put more than txn_size records into one transaction: the
    first batch of a transaction is bounded too, else the transaction never ends and sending stalls."""
    import json
    import time
    from kafka_chaos.workload import SETTINGS
    txn = {"transactional_id": "t", "timeout": 10, "txn_size": 100, "abort_ratio": 0.0, "seed": 1}
    (tmp_path / SETTINGS).write_text(json.dumps({
        "topic": "t", "run_id": "0123456789abcdef", "rate": 0, "counts": {"0": 450}, "deadline": time.time() + 30,
        "producer_config": {}, "value_size": 100, "txn": txn, "bootstrap": "127.0.0.1:9", "flush_timeout": 5}))
    monkeypatch.setattr(producer, "driver_class", lambda client: InstantDriver)
    producer.Producer(tmp_path, 0).run()
    ev = history.read_file(tmp_path / "history" / "producer-0.bin")
    txns = ev[ev["kind"] == history.TXN]
    assert [(int(e["seq"]), int(e["offset"]), int(e["flags"])) for e in txns] == [
        (0, 99, 1), (100, 199, 1), (200, 299, 1), (300, 399, 1), (400, 449, 1)]
    assert (ev["kind"] == ACK).sum() == 450
