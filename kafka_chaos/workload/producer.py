"""The producer worker: sends sequenced records at a bounded rate and records every send, ack and error.

Each record's value carries (run identity, producer id, sequence number, send time). The SEND events of a batch are
written before the batch is handed to the client library, so anything that reaches the log has a SEND.
The producer id is the worker instance number: a producer restarted after a crash is a new producer.

With settings["txn"] (semantic transactional) the seqs are cut into transactions of `txn_size` records, each
committed or, as a seeded draw decides, aborted; one TXN event per transaction records what commit or abort
returned. kafka-python's init/commit/abort wait without a timeout, so each runs under a watchdog: one that
raises or hangs is recorded as TXN_UNKNOWN (the broker decides; all or nothing) and ends the sending.
"""

from __future__ import annotations

import functools
import random
import sys
import threading
import time

from kafka import KafkaProducer
from kafka.errors import (KafkaError, KafkaTimeoutError, NotEnoughReplicasError,
                          NotEnoughReplicasAfterAppendError, NotLeaderForPartitionError,
                          OutOfOrderSequenceNumberError, RequestTimedOutError)

from kafka_chaos import history
from kafka_chaos.clients import BOOTSTRAP_TIMEOUT_MS, bootstrapped, close_producer
from kafka_chaos.history import ACK, ERROR, SEND, TXN, TXN_ABORTED, TXN_COMMITTED, TXN_UNKNOWN
from kafka_chaos.workload import Worker

BATCH = 50  # records handed to the client per loop turn at most
WATCHDOG_GRACE = 15.0   # seconds a transaction call may take past transaction_timeout before it counts as hung
STOP_GRACE = 5.0        # after SIGTERM, seconds a transaction call still gets
# init_transactions retries on its own for max_block_ms (60 s): after a crash while a broker is down it waits for
# the coordinator and for the dead instance's open transaction to be aborted; the watchdog gives it that time
INIT_WAIT = 60.0
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


class TxnPlan:
    """A producer's seqs cut into transactions of `size` records, and the seeded draw per transaction of
    whether to abort it on purpose (probability `abort_ratio`; the same seed and instance, the same draws)."""

    def __init__(self, size: int, abort_ratio: float, seed: int, instance: int):
        self.size, self.abort_ratio = size, abort_ratio
        self._draws = random.Random(f"{seed}-{instance}")

    def draw_abort(self) -> bool:
        return self._draws.random() < self.abort_ratio

    def room(self, first: int, seq: int) -> int:
        """Records the transaction that began at seq `first` still takes once `seq` is next."""
        return first + self.size - seq


def plan_transactions(total: int, size: int, abort_ratio: float, seed: int, instance: int = 0):
    """[(first seq, last seq, aborted)] of `total` records sent without interruption (tests, docs)."""
    plan, out = TxnPlan(size, abort_ratio, seed, instance), []
    for first in range(0, total, size):
        out.append((first, min(first + size, total) - 1, plan.draw_abort()))
    return out


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
        txn = s.get("txn")
        if txn:
            config.update(transactional_id=transactional_id(txn, self.instance),
                          transaction_timeout_ms=int(txn["timeout"] * 1000))
            self.counters.update(txn_committed=0, txn_aborted=0, txn_unknown=0)
        self.txn_first, self.txn_failed = -1, False   # the open transaction's first seq; a send of it failed
        self.txn_began = time.time()
        client = bootstrapped(s["bootstrap"], functools.partial(KafkaProducer, **config), timeout_ms)
        if txn:
            why = guarded_call(client.init_transactions, "init_transactions", INIT_WAIT, self)
            if why:
                close_producer(client, timeout=5)
                raise SystemExit(f"producer-{self.instance}: {why}")
            plan = TxnPlan(txn["txn_size"], txn["abort_ratio"], txn["seed"], self.instance)
        start, seq = time.time(), 0
        first, abort = None, False   # the open transaction: its first seq, and whether it was drawn to abort
        try:
            while seq < total and time.time() < deadline and not self.stopping:
                self.history.check()   # an ack or error the sender thread could not record stops the run
                due = total if not rate else min(total, int((time.time() - start) * rate) + 1)
                n = min(BATCH, due - seq)
                if txn and first is not None:
                    n = min(n, plan.room(first, seq))
                if n <= 0:
                    time.sleep(min(0.01, 1.0 / rate))
                    continue
                if txn and first is None:
                    try:
                        client.begin_transaction()   # local: no request, no wait
                    except KafkaError as exc:
                        print(f"producer-{self.instance}: begin_transaction failed: {exc!r}; sending stops", flush=True)
                        break
                    first, abort, self.txn_failed = seq, plan.draw_abort(), False
                    self.txn_first, self.txn_began = first, time.time()
                now = time.time()
                self.history.append_many(history.events(SEND, pid, range(seq, seq + n), now))
                for i in range(seq, seq + n):
                    self._send(client, topic, pid, i, size)
                seq += n
                self.counters["sent"] = seq
                if txn and (plan.room(first, seq) == 0 or self.txn_failed):
                    ended = self._end(client, pid, first, seq - 1, abort, txn["timeout"])
                    first = None
                    if not ended:
                        break
                self.publish()
        finally:
            if txn and first is not None:   # the deadline (or a stop) came mid-transaction: end it as drawn
                self._end(client, pid, first, seq - 1, abort, txn["timeout"])
            elif not txn:
                try:
                    client.flush(timeout=s["flush_timeout"])
                except KafkaError:   # sends still unacknowledged stay unacknowledged in the history
                    pass
            close_producer(client, timeout=5)
            self.publish(force=True)

    def _end(self, client, pid: int, first: int, last: int, abort: bool, timeout: float) -> bool:
        """Commit or abort the open transaction (seqs first..last) and record its outcome; False when the
        outcome is unknown and the producer must stop sending."""
        if not abort and not self.txn_failed:
            # every send's result first (Java's commitTransaction flushes too): kafka-python 3.0's commit can
            # return while a batch of the transaction fails, the transaction then aborted by its coordinator
            guarded_call(functools.partial(client.flush, timeout=timeout), "flush", timeout, self)
        if not abort and not self.txn_failed:
            why = guarded_call(client.commit_transaction, "commit_transaction", timeout, self)
            outcome = TXN_UNKNOWN if why else TXN_COMMITTED
        else:   # drawn to abort, or a send failed: abort (a failed send leaves the transaction abortable only)
            why = guarded_call(functools.partial(flush_then_abort, client, timeout), "abort_transaction", timeout, self)
            outcome = TXN_UNKNOWN if why else TXN_ABORTED
        self.history.append(TXN, pid, first, time.time(), partition=-1, offset=last, flags=outcome)
        self.counters["txn_" + history.TXN_OUTCOMES[outcome]] += 1
        if why:
            print(f"producer-{self.instance}: transaction of seqs {first}..{last}: "
                  f"{real_cause(why, time.time() - self.txn_began, timeout)}; outcome unknown, sending stops",
                  flush=True)
        return not why

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
        if seq >= self.txn_first >= 0:   # a record of the open transaction, not a late one of an aborted one
            self.txn_failed = True


def guarded_call(call, what: str, timeout: float, worker) -> str | None:
    """Run `call` on a daemon thread for at most `timeout` + WATCHDOG_GRACE seconds (STOP_GRACE once the
    worker got SIGTERM); None when it returned, else why not (it raised, or it hangs: the thread is left
    behind, which a daemon thread may be). kafka-python's transaction calls wait without a timeout."""
    failure: list[BaseException] = []

    def guarded():
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - any failure is an unknown outcome, reported
            failure.append(exc)

    thread = threading.Thread(target=guarded, name=f"kchaos-{what}", daemon=True)
    thread.start()
    limit = time.monotonic() + timeout + WATCHDOG_GRACE
    while thread.is_alive() and time.monotonic() < limit:
        if worker.stopping:
            limit = min(limit, time.monotonic() + STOP_GRACE)
        thread.join(0.2)
    if thread.is_alive():
        return f"{what} did not return within {timeout + WATCHDOG_GRACE:.0f} s"
    if failure:
        return f"{what} failed: {type(failure[0]).__name__}: {failure[0]}"
    return None


def real_cause(why: str, age: float, timeout: float) -> str:
    """`why` a transaction call failed, with the real cause where Kafka's error hides it: a transaction older
    than transaction_timeout was aborted by its coordinator, which the client reports as ProducerFencedError
    (or InvalidProducerEpochError), the same error a second producer with the same transactional.id gives."""
    if ("ProducerFenced" in why or "InvalidProducerEpoch" in why) and age > timeout:
        return (f"{why} (the transaction was {age:.1f} s old, past transaction_timeout {timeout:.0f} s: its "
                "coordinator aborted it; Kafka reports that as fencing)")
    if "ProducerFenced" in why:
        return f"{why} (another producer with the same transactional.id fenced this one)"
    if "BUMPING_PRODUCER_EPOCH" in why:   # kafka-python 3.0: fenced while it bumped its epoch to abort
        return f"{why} (the producer lost its epoch while aborting: fenced, or its transaction timed out)"
    return why


def flush_then_abort(client, timeout: float) -> None:
    """Abort the open transaction once its records reached the log (kafka-python's abort drops the batches
    not sent yet): an aborted transaction then leaves records that read_committed readers must skip."""
    try:
        client.flush(timeout=timeout)
    except KafkaError:   # still unsent: the abort drops them
        pass
    client.abort_transaction()


def transactional_id(txn: dict, instance: int) -> str:
    """The scenario's transactional_id as given (a restarted producer fences the crashed one, as a restarted
    application does), or the run's own prefix plus the producer instance (each instance its own id)."""
    return txn["transactional_id"] if txn.get("given") else f"{txn['transactional_id']}-{instance}"


if __name__ == "__main__":
    Producer(sys.argv[1], int(sys.argv[2])).run()
