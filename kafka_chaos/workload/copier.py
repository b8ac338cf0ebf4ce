"""The copier worker: consume-transform-produce, exactly once (Kafka's TransactionalMessageCopier, in Python).

It reads the run's topic (read_committed, auto-commit off) and copies each record, value unchanged (so its
(pid, seq) identity travels with it), to the output topic inside a transaction that also carries the input
offsets (`send_offsets_to_transaction` with the consumer's group metadata, so the broker fences a zombie
copier, KIP-447). A seeded fraction `abort_ratio` of its transactions is aborted on purpose, so the abort
path runs in every run. After an abort it seeks back to the last committed positions; without that the
aborted inputs are skipped for good (KAFKA-17582: the client keeps its position after an abort).

Broken variants, to show what they cost:
  on_abort: no-seek         keep the position after an abort (the aborted inputs are never copied)
  offsets: after-commit     no offsets in the transaction; the consumer commits them after the transaction
                            committed (a crash between the two copies the batch again)

History: POLL events of the input records (stream TOPIC), SEND/ACK of each copy (stream OUTPUT, the input
record's identity, the copy's output position), one TXN event per transaction (stream OUTPUT, pid = the
copier instance, seq = the transaction's number, flags its outcome). Whether each input record has exactly
one committed copy is judged on the read_committed audit of the output topic, not on this history.
"""

from __future__ import annotations

import functools
import random
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from kafka_chaos import history
from kafka_chaos.clients import BOOTSTRAP_TIMEOUT_MS, bootstrapped, close_producer
from kafka_chaos.history import ACK, COMMIT, ERROR, OUTPUT, POLL, SEND, TXN, TXN_ABORTED, TXN_COMMITTED, TXN_UNKNOWN
from kafka_chaos.workload import Worker
from kafka_chaos.workload.consumer import METADATA_AGE_MS, POLL_MS, partitions, record_events
from kafka_chaos.workload.drain import Drain
from kafka_chaos.workload.producer import guarded_call
from kafka_chaos.workload.producer_kafka import error_code, flush_then_abort

INIT_TRY = 20.0   # seconds one client's init_transactions may take before a new client tries
INIT_TRIES = 3


class Copier(Worker):
    role = "copier"

    def run(self) -> None:
        s, c = self.settings, self.settings["copier"]
        in_txn = c["offsets"] == "transaction"
        config = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 2000, "metadata_max_age_ms": METADATA_AGE_MS, "max_poll_records": c["txn_size"],
                  "auto_offset_reset": "earliest", "client_id": f"kchaos-copier-{self.instance}",
                  "isolation_level": "read_committed", "enable_auto_commit": False}
        self.run_id = s["run_id"]
        self.counters = {"polled": 0, "copied": 0, "txn_committed": 0, "txn_aborted": 0, "txn_unknown": 0}
        drain = Drain(self.run_dir, s, self.counters)
        consumer = bootstrapped(s["bootstrap"], functools.partial(KafkaConsumer, s["topic"], group_id=c["group"],
                                                                  **config), BOOTSTRAP_TIMEOUT_MS)
        partitions(consumer, s["topic"])   # the topic in the client's metadata before it joins its group
        make = functools.partial(
            bootstrapped, s["bootstrap"], functools.partial(
                KafkaProducer, transactional_id=c["transactional_id"], transaction_timeout_ms=int(c["timeout"] * 1000),
                client_id=f"kchaos-copier-{self.instance}", retry_backoff_ms=20), BOOTSTRAP_TIMEOUT_MS)   # as Java
        draws = random.Random(f"{s['seed']}-copier-{self.instance}")
        safe: dict = {}   # partition -> the next offset a committed transaction carried (where an abort goes back to)
        number = 0
        producer, why = self.initialized(make, drain)
        if why:
            consumer.close(autocommit=False)
            raise SystemExit(f"copier-{self.instance}: {why}")
        try:
            while not self.stopping and not drain.out_of_time():
                self.history.check()
                if drain.caught_up(consumer, s["topic"]):
                    self.counters["caught_up"] = 1
                    break
                batch = consumer.poll(timeout_ms=POLL_MS, max_records=c["txn_size"])
                self.note_assignment(consumer)
                records = [r for part in batch.values() for r in part]
                if not records:
                    continue
                self.history.append_many(record_events(POLL, records, time.time(), self.run_id, self.instance))
                self.counters["polled"] += len(records)
                abort = draws.random() < c["abort_ratio"]
                outcome, why = self._copy(producer, consumer, records, abort, in_txn, c)
                self.history.append(TXN, self.instance, number, time.time(), flags=outcome, stream=OUTPUT)
                number += 1
                self.counters["txn_" + history.TXN_OUTCOMES[outcome]] += 1
                if outcome == TXN_COMMITTED:
                    safe.update({tp: consumer.position(tp) for tp in consumer.assignment()})
                elif c["on_abort"] == "seek":   # back to the last committed positions, as Kafka's copier does
                    self._rewind(consumer, safe)
                if why:
                    print(f"copier-{self.instance}: transaction {number - 1}: {why}; the copier stops", flush=True)
                    break
                self.publish()
        finally:
            close_producer(producer, timeout=5)
            consumer.close(autocommit=False)
            self.publish(force=True)

    def initialized(self, make, drain) -> tuple:
        """(producer, None) once a producer from `make()` has run init_transactions, else (None, why). Restarted
        after a crash amid broker faults, kafka-python's init_transactions could wait out its 60 s and end the
        run without a verdict (ci23); a client whose init does not finish within INIT_TRY s is closed and a new
        one tries (each a fresh bootstrap and coordinator lookup; the broker keeps what the last one started),
        INIT_TRIES times at most."""
        why = None
        for attempt in range(1, INIT_TRIES + 1):
            producer = make()
            why = guarded_call(producer.init_transactions, "init_transactions", INIT_TRY, self, grace=0.0)
            if why is None:
                return producer, None
            close_producer(producer, timeout=5)
            print(f"copier-{self.instance}: attempt {attempt} of {INIT_TRIES}: {why}", flush=True)
            if self.stopping or drain.out_of_time():
                break
        return None, why

    def _copy(self, producer, consumer, records, abort: bool, in_txn: bool, c: dict) -> tuple[int, str | None]:
        """One transaction: copy `records`, carry their offsets (in_txn), then commit or abort it as drawn.
        Returns (outcome, why the outcome is unknown or None)."""
        try:
            producer.begin_transaction()
        except KafkaError as exc:
            return TXN_UNKNOWN, f"begin_transaction failed: {exc!r}"
        self.copy_failed = False
        ids = [history.decode_value(r.value, self.run_id) for r in records]
        self.history.append_many(history.events(SEND, [i[0] for i in ids], [i[1] for i in ids], time.time(),
                                                stream=OUTPUT, worker=self.instance))
        for r, (pid, seq) in zip(records, ids):
            try:
                future = producer.send(c["topic_out"], r.value)
            except KafkaError as exc:
                self._failed(pid, seq, exc)
                abort = True
                continue
            future.add_callback(self._acked, pid, seq)
            future.add_errback(self._failed, pid, seq)
        if in_txn:
            offsets = {}
            for r in records:
                tp = TopicPartition(r.topic, r.partition)
                offsets[tp] = OffsetAndMetadata(max(r.offset + 1, offsets[tp].offset if tp in offsets else 0), "", -1)
            why = guarded_call(functools.partial(producer.send_offsets_to_transaction, offsets,
                                                 consumer.group_metadata()),
                               "send_offsets_to_transaction", c["timeout"], self)
            if why:
                abort = True
        if abort:
            why = guarded_call(functools.partial(flush_then_abort, producer, c["timeout"]), "abort_transaction",
                               c["timeout"], self)
            return (TXN_UNKNOWN, why) if why else (TXN_ABORTED, None)
        # every copy's result first: kafka-python 3.0's commit can return while a batch of it fails
        guarded_call(functools.partial(producer.flush, timeout=c["timeout"]), "flush", c["timeout"], self)
        if self.copy_failed:
            why = guarded_call(functools.partial(flush_then_abort, producer, c["timeout"]), "abort_transaction",
                               c["timeout"], self)
            return (TXN_UNKNOWN, why) if why else (TXN_ABORTED, None)
        why = guarded_call(producer.commit_transaction, "commit_transaction", c["timeout"], self)
        if why:
            return TXN_UNKNOWN, why
        self.counters["copied"] += len(records)
        self.crash_point()   # committed; with offsets after-commit, the offsets are not yet
        if not in_txn:
            positions = {tp: consumer.position(tp) for tp in consumer.assignment()}
            try:
                consumer.commit()
            except KafkaError as exc:   # a rebalance: the next owner copies the batch again
                print(f"copier-{self.instance}: offsets commit failed: {exc!r}", flush=True)
            else:
                now = time.time()
                for tp, offset in positions.items():   # stream OUTPUT: not the consumer group's progress
                    self.history.append(COMMIT, 0, -1, now, tp.partition, offset, stream=OUTPUT)
        return TXN_COMMITTED, None

    @staticmethod
    def _rewind(consumer, safe: dict) -> None:
        for tp in consumer.assignment():
            if tp in safe:
                consumer.seek(tp, safe[tp])
                continue
            try:
                committed = consumer.committed(tp, timeout_ms=10000)
            except KafkaError:
                committed = None
            if committed is None:
                consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)

    def _acked(self, pid, seq, meta) -> None:
        self.history.append(ACK, pid, seq, time.time(), meta.partition, meta.offset, stream=OUTPUT)

    def _failed(self, pid, seq, exc) -> None:
        self.history.append(ERROR, pid, seq, time.time(), flags=error_code(exc), stream=OUTPUT)
        self.copy_failed = True   # the open transaction can only be aborted


if __name__ == "__main__":
    Copier(sys.argv[1], int(sys.argv[2])).run()
