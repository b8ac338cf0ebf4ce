"""The producer worker's kafka-python driver: sends through KafkaProducer, results arrive on its sender thread.

Each result is written to the history by the sender thread as it arrives (one write per event), so an ack is on
disk before the next batch's response is read. kafka-python's transaction calls take no timeout: the worker runs
them under its watchdog.
"""

from __future__ import annotations

import functools
import time

from kafka import KafkaProducer
from kafka.errors import (InvalidProducerEpochError, KafkaConnectionError, KafkaError, KafkaTimeoutError,
                          LeaderNotAvailableError, MessageSizeTooLargeError, NotEnoughReplicasError,
                          NotEnoughReplicasAfterAppendError, NotLeaderForPartitionError,
                          OutOfOrderSequenceNumberError, ProducerFencedError, RequestTimedOutError)

from kafka_chaos import history
from kafka_chaos.clients import BOOTSTRAP_TIMEOUT_MS, bootstrapped, close_producer

# kafka-python exception -> history.ERROR_NAMES (anything else is "other"); the same failures get the same
# names as producer_confluent's table
_ERROR_CODES = [
    ((KafkaTimeoutError, RequestTimedOutError), "timeout"),
    ((NotLeaderForPartitionError, LeaderNotAvailableError), "not-leader"),
    ((NotEnoughReplicasError, NotEnoughReplicasAfterAppendError), "not-enough-replicas"),
    ((KafkaConnectionError,), "network"),
    ((OutOfOrderSequenceNumberError,), "out-of-order"),
    ((ProducerFencedError, InvalidProducerEpochError), "producer-fenced"),
    ((MessageSizeTooLargeError,), "record-too-large"),
]


def error_code(exc: BaseException) -> int:
    for types, name in _ERROR_CODES:
        if isinstance(exc, types):
            return history.ERROR_NAMES.index(name)
    return 0


class KafkaPythonDriver:
    """What the producer loop asks of a client library, done with kafka-python; `sink` gets each result."""

    Error = KafkaError

    def __init__(self, bootstrap: str, config: dict, sink):
        config = dict(config)
        timeout_ms = config.pop("bootstrap_timeout_ms", BOOTSTRAP_TIMEOUT_MS)
        self.client = bootstrapped(bootstrap, functools.partial(KafkaProducer, **config), timeout_ms)
        self.sink = sink

    def send(self, topic: str, value: bytes, seq: int) -> None:
        try:
            future = self.client.send(topic, value)
        except KafkaError as exc:
            self.sink.failed(seq, error_code(exc))
            return
        done = functools.partial(self._done, seq)   # one callable for both outcomes: one partial per record
        future.add_callback(done)
        future.add_errback(done)

    def _done(self, seq: int, result) -> None:
        if isinstance(result, BaseException):
            self.sink.failed(seq, error_code(result))
        else:
            self.sink.acked(seq, result.partition, result.offset)

    def serve(self) -> None:
        """Nothing to do: results are recorded on the sender thread as they arrive."""

    def wait(self, seconds: float) -> None:
        """Results arrive by themselves (the sender thread): only wait."""
        time.sleep(seconds)

    def flush(self, timeout: float) -> None:
        """Wait for every send's result; raises Error when some are still unknown after `timeout` s."""
        self.client.flush(timeout=timeout)

    def init_transactions(self, timeout: float) -> None:
        self.client.init_transactions()   # its own max_block_ms; the worker's watchdog bounds it

    def begin_transaction(self) -> None:
        self.client.begin_transaction()

    def commit_transaction(self, timeout: float) -> None:
        self.client.commit_transaction()

    def abort_transaction(self, timeout: float) -> None:
        flush_then_abort(self.client, timeout)

    def close(self, timeout: float) -> None:
        close_producer(self.client, timeout=timeout)


def flush_then_abort(client, timeout: float) -> None:
    """Abort the open transaction once its records reached the log (kafka-python's abort drops the batches
    not sent yet): an aborted transaction then leaves records that read_committed readers must skip."""
    try:
        client.flush(timeout=timeout)
    except KafkaError:   # still unsent: the abort drops them
        pass
    client.abort_transaction()
