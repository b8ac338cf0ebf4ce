"""The producer worker's confluent-kafka driver: librdkafka sends on its own threads, results wait in its queue.

Delivery reports run only inside poll()/flush() (or a transaction call, which flushes), on the thread that calls
them; this driver collects the acks one such call serves and writes them in one write when it returns. An ack
sat in librdkafka's queue until then anyway: a kill before that write loses it as a kill before the poll would,
and nothing the history holds is ever taken back. Errors are written at once (rare, and each may end a
transaction). Transaction calls take a timeout here; the worker's watchdog still bounds them.
"""

from __future__ import annotations

import array
import threading

from confluent_kafka import KafkaError, KafkaException, Producer

from kafka_chaos import history, semantics

# librdkafka error code -> history.ERROR_NAMES (anything else is "other")
_ERROR_CODES = {
    KafkaError._MSG_TIMED_OUT: "timeout", KafkaError._TIMED_OUT: "timeout", KafkaError.REQUEST_TIMED_OUT: "timeout",
    KafkaError._TIMED_OUT_QUEUE: "timeout",
    KafkaError.NOT_LEADER_FOR_PARTITION: "not-leader", KafkaError.LEADER_NOT_AVAILABLE: "not-leader",
    KafkaError.NOT_ENOUGH_REPLICAS: "not-enough-replicas",
    KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND: "not-enough-replicas",
    KafkaError._TRANSPORT: "network", KafkaError._ALL_BROKERS_DOWN: "network", KafkaError.NETWORK_EXCEPTION: "network",
    KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER: "out-of-order",
    KafkaError.PRODUCER_FENCED: "producer-fenced", KafkaError._FENCED: "producer-fenced",
    KafkaError.INVALID_PRODUCER_EPOCH: "producer-fenced",
    KafkaError.MSG_SIZE_TOO_LARGE: "record-too-large",
}
FULL_WAIT = 0.05   # seconds to serve delivery reports when librdkafka's queue is full before producing again


def error_code(code: int) -> int:
    return history.ERROR_NAMES.index(_ERROR_CODES[code]) if code in _ERROR_CODES else 0


def _code(exc: BaseException) -> int:
    err = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
    return err.code() if err is not None else KafkaError.UNKNOWN


class ConfluentDriver:
    """What the producer loop asks of a client library, done with confluent-kafka; `sink` gets each result."""

    Error = KafkaException

    def __init__(self, bootstrap: str, config: dict, sink):
        # one delivery callback for every record (a callable per record costs more than the produce): the
        # record's seq is read back from its value (sink.seq_of)
        self.client = Producer({**semantics.librdkafka_settings(config), "bootstrap.servers": bootstrap,
                                "on_delivery": self._report})
        self.sink = sink
        self._acks = array.array("q")   # seq, partition, offset of each ack served and not yet written
        self._lock = threading.Lock()   # a transaction call may serve reports on the watchdog's thread

    def send(self, topic: str, value: bytes, seq: int) -> None:
        while True:
            try:
                self.client.produce(topic, value)
                return
            except BufferError:   # queue.buffering.max.messages in flight: serve reports until there is room
                if self.sink.stopping:
                    self.sink.failed(seq, 0)
                    return
                self.wait(FULL_WAIT)
            except KafkaException as exc:
                self.sink.failed(seq, error_code(_code(exc)))
                return

    def _report(self, err, msg) -> None:
        if err is None:
            offset = msg.offset()   # None with acks=0: no broker answered, nothing was acknowledged
            if offset is not None:
                with self._lock:
                    self._acks.extend((self.sink.seq_of(msg.value()), msg.partition(), offset))
        else:
            self.sink.failed(self.sink.seq_of(msg.value()), error_code(err.code()))

    def _write_acks(self) -> None:
        if self._acks:
            with self._lock:
                acks, self._acks = self._acks, array.array("q")
            self.sink.acked_many(acks)

    def serve(self) -> None:
        """Run the delivery reports waiting in librdkafka's queue and write their acks."""
        self.client.poll(0)
        self._write_acks()

    def wait(self, seconds: float) -> None:
        """Wait up to `seconds` serving delivery reports."""
        self.client.poll(seconds)
        self._write_acks()

    def flush(self, timeout: float) -> None:
        """Wait for every send's result; raises Error when some are still unknown after `timeout` s."""
        left = self.client.flush(timeout)
        self._write_acks()
        if left:
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT, f"{left} sends unresolved after {timeout:g} s"))

    def init_transactions(self, timeout: float) -> None:
        self.client.init_transactions(timeout)

    def begin_transaction(self) -> None:
        self.client.begin_transaction()

    def commit_transaction(self, timeout: float) -> None:
        try:
            self.client.commit_transaction(timeout)   # flushes: delivery reports run here
        finally:
            self._write_acks()

    def abort_transaction(self, timeout: float) -> None:
        """Abort once the transaction's records reached the log (librdkafka's abort purges what is unsent), as the
        kafka-python driver does: an aborted transaction leaves records read_committed readers must skip."""
        try:
            self.flush(timeout)
        except KafkaException:   # still unsent: the abort purges them
            pass
        try:
            self.client.abort_transaction(timeout)
        finally:
            self._write_acks()

    def close(self, timeout: float) -> None:
        """Wait `timeout` s for pending sends, then purge them: they fail through their reports (as with
        kafka-python's forced close) instead of staying unknown."""
        if self.client.flush(timeout):
            self.client.purge()
            self.client.flush(timeout)
        self._write_acks()
