"""The producer worker: sends sequenced records at a bounded rate and records every send, ack and error.

Each record's value carries (run identity, producer id, sequence number, send time). The SEND events of a batch are
written before the batch is handed to the client library, so anything that reaches the log has a SEND.
The producer id is the worker instance number: a producer restarted after a crash is a new producer.
"""

from __future__ import annotations

import functools
import sys
import time

from kafka import KafkaProducer
from kafka.errors import (KafkaError, KafkaTimeoutError, NotEnoughReplicasError,
                          NotEnoughReplicasAfterAppendError, NotLeaderForPartitionError,
                          OutOfOrderSequenceNumberError, RequestTimedOutError)

from kafka_chaos import history
from kafka_chaos.clients import BOOTSTRAP_TIMEOUT_MS, bootstrapped, close_producer
from kafka_chaos.history import ACK, ERROR, SEND
from kafka_chaos.workload import Worker

BATCH = 50  # records handed to the client per loop turn at most
_ERROR_CODES = [
    ((KafkaTimeoutError, RequestTimedOutError), "timeout"),
    ((NotLeaderForPartitionError,), "not-leader"),
    ((NotEnoughReplicasError, NotEnoughReplicasAfterAppendError), "not-enough-replicas"),
    ((OutOfOrderSequenceNumberError,), "out-of-order"),
]


def error_code(exc: BaseException) -> int:
    for types, name in _ERROR_CODES:
        if isinstance(exc, types):
            return history.ERROR_NAMES.index(name)
    return 0


class Producer(Worker):
    role = "producer"

    def run(self) -> None:
        s = self.settings
        pid, topic, size, self.run_id = self.instance, s["topic"], s["value_size"], s["run_id"]
        rate, total, deadline = s["rate"], s["counts"][str(self.instance)], s["deadline"]
        self.counters = {"sent": 0, "acked": 0, "errors": 0}
        # With acks=0 no broker answers; kafka-python still resolves futures with made-up offsets
        # (-1 + index in batch), so nothing may be recorded as acknowledged.
        self.acks0 = str(s["producer_config"].get("acks")) == "0"
        config = dict(s["producer_config"])
        timeout_ms = config.pop("bootstrap_timeout_ms", BOOTSTRAP_TIMEOUT_MS)
        client = bootstrapped(s["bootstrap"], functools.partial(KafkaProducer, **config), timeout_ms)
        start, seq = time.time(), 0
        try:
            while seq < total and time.time() < deadline and not self.stopping:
                self.history.check()   # an ack or error the sender thread could not record stops the run
                due = total if not rate else min(total, int((time.time() - start) * rate) + 1)
                n = min(BATCH, due - seq)
                if n <= 0:
                    time.sleep(min(0.01, 1.0 / rate))
                    continue
                now = time.time()
                self.history.append_many(history.events(SEND, pid, range(seq, seq + n), now))
                for i in range(seq, seq + n):
                    self._send(client, topic, pid, i, size)
                seq += n
                self.counters["sent"] = seq
                self.publish()
        finally:
            try:
                client.flush(timeout=s["flush_timeout"])
            except KafkaError:   # sends still unacknowledged stay unacknowledged in the history
                pass
            close_producer(client, timeout=5)
            self.publish(force=True)

    def _send(self, client, topic, pid, seq, size) -> None:
        value = history.encode_value(self.run_id, pid, seq, int(time.time() * 1000), size)
        try:
            future = client.send(topic, value)
        except KafkaError as exc:
            self._failed(pid, seq, exc)
            return
        future.add_callback(self._acked, pid, seq)
        future.add_errback(self._failed, pid, seq)

    def _acked(self, pid, seq, meta) -> None:
        if self.acks0 or meta.offset is None or meta.offset < 0:
            return
        self.history.append(ACK, pid, seq, time.time(), meta.partition, meta.offset)
        self.counters["acked"] += 1

    def _failed(self, pid, seq, exc) -> None:
        self.history.append(ERROR, pid, seq, time.time(), flags=error_code(exc))
        self.counters["errors"] += 1


if __name__ == "__main__":
    Producer(sys.argv[1], int(sys.argv[2])).run()
