"""The producer worker: sends sequenced records at a bounded rate and records every send, ack and error.

One loop for both client libraries (scenario key producer.client): it talks to a driver, kafka-python's
(producer_kafka) or confluent-kafka's (producer_confluent), which hands records to the library and reports each
result back to the worker (`acked`, `acked_many`, `failed`).

Each record's value carries (run identity, producer id, sequence number, send time). The SEND events of a batch are
written before the batch is handed to the client library, so anything that reaches the log has a SEND.
The producer id is the worker instance number: a producer restarted after a crash is a new producer.

With settings["txn"] (semantic transactional) the seqs are cut into transactions of `txn_size` records, each
committed or, as a seeded draw decides, aborted; one TXN event per transaction records what commit or abort
returned. kafka-python's init/commit/abort wait without a timeout (confluent-kafka's take one), so each runs
under a watchdog: one that raises or hangs is recorded as TXN_UNKNOWN (the broker decides; all or nothing) and
ends the sending.
"""

from __future__ import annotations

import functools
import random
import sys
import threading
import time

import numpy as np

from kafka_chaos import history
from kafka_chaos.history import ACK, ERROR, SEND, TXN, TXN_ABORTED, TXN_COMMITTED, TXN_UNKNOWN
from kafka_chaos.workload import Worker
from kafka_chaos.workload.producer_kafka import KafkaPythonDriver

BATCH = 500  # records handed to the client per loop turn at most (their SEND events are one write)
WATCHDOG_GRACE = 15.0   # seconds a transaction call may take past transaction_timeout before it counts as hung
STOP_GRACE = 5.0        # after SIGTERM, seconds a transaction call still gets
# init_transactions retries on its own for max_block_ms (60 s): after a crash while a broker is down it waits for
# the coordinator and for the dead instance's open transaction to be aborted; the watchdog gives it that time
INIT_WAIT = 60.0


def driver_class(client: str):
    """The driver of client library `client` (semantics.PRODUCER_CLIENTS); confluent-kafka is imported only here."""
    if client == "confluent-kafka":
        from kafka_chaos.workload.producer_confluent import ConfluentDriver
        return ConfluentDriver
    return KafkaPythonDriver


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
        pid, topic, self.run_id = self.instance, s["topic"], s["run_id"]
        rate, total, deadline = s["rate"], s["counts"][str(self.instance)], s["deadline"]
        self.counters = {"sent": 0, "acked": 0, "errors": 0}
        # With acks=0 no broker answers; kafka-python still resolves futures with made-up offsets
        # (-1 + index in batch) and librdkafka reports offset -1001 (invalid): nothing may be recorded as acknowledged.
        self.acks0 = str(s["producer_config"].get("acks")) == "0"
        config = dict(s["producer_config"])
        txn = s.get("txn")
        if txn:
            config.update(transactional_id=transactional_id(txn, self.instance),
                          transaction_timeout_ms=int(txn["timeout"] * 1000))
            self.counters.update(txn_committed=0, txn_aborted=0, txn_unknown=0)
        self.txn_first, self.txn_failed = -1, False   # the open transaction's first seq; a send of it failed
        self.txn_began = time.time()
        encode, self.seq_of = history.value_codec(self.run_id, pid, s["value_size"])
        client = driver_class(s.get("producer_client", "kafka-python"))(s["bootstrap"], config, self)
        if txn:
            why = guarded_call(functools.partial(client.init_transactions, INIT_WAIT), "init_transactions", INIT_WAIT,
                               self)
            if why:
                client.close(5)
                raise SystemExit(f"producer-{self.instance}: {why}")
            plan = TxnPlan(txn["txn_size"], txn["abort_ratio"], txn["seed"], self.instance)
        start, seq = time.time(), 0
        first, abort = None, False   # the open transaction: its first seq, and whether it was drawn to abort
        try:
            while seq < total and time.time() < deadline and not self.stopping:
                self.history.check()   # an ack or error the sender thread could not record stops the run
                due = total if not rate else min(total, int((time.time() - start) * rate) + 1)
                n = min(BATCH, due - seq)
                if txn:   # a transaction holds txn_size records at most, its first batch too
                    n = min(n, plan.size if first is None else plan.room(first, seq))
                if n <= 0:
                    client.wait(min(0.01, 1.0 / rate))
                    continue
                if txn and first is None:
                    try:
                        client.begin_transaction()   # local: no request, no wait
                    except client.Error as exc:
                        print(f"producer-{self.instance}: begin_transaction failed: {exc!r}; sending stops", flush=True)
                        break
                    first, abort, self.txn_failed = seq, plan.draw_abort(), False
                    self.txn_first, self.txn_began = first, time.time()
                now = time.time()
                self.history.append_many(history.events(SEND, pid, range(seq, seq + n), now))
                send_ms = int(now * 1000)
                for i in range(seq, seq + n):
                    client.send(topic, encode(i, send_ms), i)
                seq += n
                self.counters["sent"] = seq
                client.serve()
                if txn and (plan.room(first, seq) <= 0 or self.txn_failed):
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
                    client.flush(s["flush_timeout"])
                except client.Error:   # sends still unacknowledged stay unacknowledged in the history
                    pass
            client.close(5)
            self.publish(force=True)

    def _end(self, client, pid: int, first: int, last: int, abort: bool, timeout: float) -> bool:
        """Commit or abort the open transaction (seqs first..last) and record its outcome; False when the
        outcome is unknown and the producer must stop sending."""
        if not abort and not self.txn_failed:
            # every send's result first (Java's commitTransaction flushes too): kafka-python 3.0's commit can
            # return while a batch of the transaction fails, the transaction then aborted by its coordinator
            guarded_call(functools.partial(client.flush, timeout), "flush", timeout, self)
        if not abort and not self.txn_failed:
            why = guarded_call(functools.partial(client.commit_transaction, timeout), "commit_transaction", timeout,
                               self)
            outcome = TXN_UNKNOWN if why else TXN_COMMITTED
        else:   # drawn to abort, or a send failed: abort (a failed send leaves the transaction abortable only)
            why = guarded_call(functools.partial(client.abort_transaction, timeout), "abort_transaction", timeout, self)
            outcome = TXN_UNKNOWN if why else TXN_ABORTED
        self.history.append(TXN, pid, first, time.time(), partition=-1, offset=last, flags=outcome)
        self.counters["txn_" + history.TXN_OUTCOMES[outcome]] += 1
        if why:
            print(f"producer-{self.instance}: transaction of seqs {first}..{last}: "
                  f"{real_cause(why, time.time() - self.txn_began, timeout)}; outcome unknown, sending stops",
                  flush=True)
        return not why

    # The driver reports each send's result here (from the library's thread, or from the loop's serve()).

    def acked(self, seq: int, partition: int, offset: int) -> None:
        if self.acks0 or offset is None or offset < 0:
            return
        self.history.append(ACK, self.instance, seq, time.time(), partition, offset)
        self.counters["acked"] += 1

    def acked_many(self, acks) -> None:
        """Acks as a flat buffer of int64 (seq, partition, offset, seq, ...) in one write; an offset below 0
        (acks=0) is no acknowledgement."""
        if self.acks0:
            return
        cols = np.frombuffer(acks, dtype="i8").reshape(-1, 3)
        cols = cols[cols[:, 2] >= 0]
        if len(cols):
            self.history.append_many(history.events(ACK, self.instance, cols[:, 0], time.time(), cols[:, 1],
                                                    cols[:, 2], worker=self.history.worker))
            self.counters["acked"] += len(cols)

    def failed(self, seq: int, code: int) -> None:
        self.history.append(ERROR, self.instance, seq, time.time(), flags=code)
        self.counters["errors"] += 1
        if seq >= self.txn_first >= 0:   # a record of the open transaction, not a late one of an aborted one
            self.txn_failed = True


def guarded_call(call, what: str, timeout: float, worker, grace: float | None = None) -> str | None:
    """Run `call` on a daemon thread for at most `timeout` + `grace` (WATCHDOG_GRACE) seconds (STOP_GRACE once the
    worker got SIGTERM); None when it returned, else why not (it raised, or it hangs: the thread is left
    behind, which a daemon thread may be). kafka-python's transaction calls wait without a timeout, and
    a librdkafka call past its own timeout is bounded here too."""
    grace = WATCHDOG_GRACE if grace is None else grace
    failure: list[BaseException] = []

    def guarded():
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - any failure is an unknown outcome, reported
            failure.append(exc)

    thread = threading.Thread(target=guarded, name=f"kchaos-{what}", daemon=True)
    thread.start()
    limit = time.monotonic() + timeout + grace
    while thread.is_alive() and time.monotonic() < limit:
        if worker.stopping:
            limit = min(limit, time.monotonic() + STOP_GRACE)
        thread.join(0.2)
    if thread.is_alive():
        return f"{what} did not return within {timeout + grace:.0f} s"
    if failure:
        return f"{what} failed: {type(failure[0]).__name__}: {failure[0]}"
    return None


def real_cause(why: str, age: float, timeout: float) -> str:
    """`why` a transaction call failed, with the real cause where Kafka's error hides it: a transaction older
    than transaction_timeout was aborted by its coordinator, which the client reports as ProducerFencedError
    (or InvalidProducerEpochError), the same error a second producer with the same transactional.id gives."""
    fenced = any(name in why for name in ("ProducerFenced", "PRODUCER_FENCED", "_FENCED"))   # kafka-python, librdkafka
    if (fenced or "InvalidProducerEpoch" in why or "INVALID_PRODUCER_EPOCH" in why) and age > timeout:
        return (f"{why} (the transaction was {age:.1f} s old, past transaction_timeout {timeout:.0f} s: its "
                "coordinator aborted it; Kafka reports that as fencing)")
    if fenced:
        return f"{why} (another producer with the same transactional.id fenced this one)"
    if "BUMPING_PRODUCER_EPOCH" in why:   # kafka-python 3.0: fenced while it bumped its epoch to abort
        return f"{why} (the producer lost its epoch while aborting: fenced, or its transaction timed out)"
    return why


def transactional_id(txn: dict, instance: int) -> str:
    """The scenario's transactional_id as given (a restarted producer fences the crashed one, as a restarted
    application does), or the run's own prefix plus the producer instance (each instance its own id)."""
    return txn["transactional_id"] if txn.get("given") else f"{txn['transactional_id']}-{instance}"


if __name__ == "__main__":
    Producer(sys.argv[1], int(sys.argv[2])).run()
