"""The sink worker (inbox pattern): a consumer application that applies each polled batch to a database.

Settings: settings["sink"] = {"dsn", "prefix", "offsets": "database" | "kafka", "dedup": bool,
"process_time": s per record, "group" (optional; default settings["group"])}; isolation_level defaults to
read_committed.
  offsets "database"  each batch's effects and the partitions' next offsets in ONE transaction; on every
                      assignment the partitions are positioned at the stored offsets. Exactly-once effects,
                      as long as only the partitions' owner writes (a deposed owner still finishing a batch
                      can apply it twice: dedup catches that).
  offsets "kafka"     the effects in one transaction, then a Kafka commit: a crash between the two applies
                      the batch again after the restart (duplicate effects, unless dedup).
  dedup               a record whose (pid, seq) was applied before is skipped inside the same transaction.
Events: POLL (stream TOPIC) when fetched; PROCESS (stream EFFECTS) per record after the database commit,
flags SKIPPED for one dedup skipped; COMMIT per partition after the offsets were stored (stream EFFECTS) or
committed to Kafka (stream EFFECTS too: the topic's reconciliation counts the consumer group's commits only). A batch the database refused is not applied: its partitions are sought
back to the batch's first offsets and polled again. Drain as the consumer's (workload.drain).
"""

from __future__ import annotations

import functools
import sys
import time

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from kafka_chaos import history, store
from kafka_chaos.clients import BOOTSTRAP_TIMEOUT_MS, bootstrapped
from kafka_chaos.history import COMMIT, EFFECTS, POLL, PROCESS
from kafka_chaos.workload import Worker
from kafka_chaos.workload.consumer import METADATA_AGE_MS, POLL_MS, partitions, record_events
from kafka_chaos.workload.drain import Drain

OFFSETS = ("database", "kafka")
SKIPPED = 1       # flags of a PROCESS event whose record dedup skipped (applied before)


class Reposition(ConsumerRebalanceListener):
    """Pauses newly assigned partitions until the main loop has sought them to the stored offsets (the
    listener may run on the client's own thread; the database connection belongs to the main one)."""

    def __init__(self, client, pending: set):
        self.client, self.pending = client, pending

    def on_partitions_revoked(self, revoked):
        self.pending.difference_update(revoked)

    def on_partitions_assigned(self, assigned):
        if assigned:
            self.client.pause(*assigned)
            self.pending.update(assigned)


def _fetch_states(client) -> dict:
    """Partition -> why kafka-python would or would not fetch it, read from its internals for a diagnostic only
    (position valid, awaiting a reset, awaiting KIP-320 validation); {} where those internals differ."""
    try:
        states = client._subscription.assignment   # noqa: SLF001 - a diagnostic; never decides anything
        return {tp.partition: {"valid": bool(st.has_valid_position), "reset": bool(st.awaiting_reset),
                               "validating": bool(getattr(st, "_awaiting_validation", False)), "paused": bool(st.paused)}
                for tp, st in list(states.items())}
    except Exception:  # noqa: BLE001 - another kafka-python version: say nothing rather than fail the sink
        return {}


class Sink(Worker):
    role = "sink"

    def run(self) -> None:
        s, self.sink = self.settings, self.settings["sink"]
        if self.sink["offsets"] not in OFFSETS:
            raise SystemExit(f"sink-{self.instance}: sink.offsets must be one of {', '.join(OFFSETS)}")
        self.topic, self.run_id = s["topic"], s["run_id"]
        self.history.stream = EFFECTS
        self.db = store.Reconnecting(self.sink["dsn"], self.sink["prefix"])
        config = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 2000, "metadata_max_age_ms": METADATA_AGE_MS, "max_poll_records": 100,
                  "auto_offset_reset": "earliest", "client_id": f"kchaos-sink-{self.instance}",
                  **s.get("consumer_config", {}), "enable_auto_commit": False,
                  "isolation_level": "read_committed"}   # never the consumer mode's: a sink applies committed data
        timeout_ms = config.pop("bootstrap_timeout_ms", BOOTSTRAP_TIMEOUT_MS)
        client = bootstrapped(s["bootstrap"], functools.partial(
            KafkaConsumer, group_id=self.sink.get("group") or s["group"], **config), timeout_ms)
        self.pending: set = set()
        self.idle_at = None   # when _idle_report next speaks
        self.dropped: dict[int, int] = {}   # partition -> first offset of records dropped while pending
        partitions(client, self.topic)   # the topic in the client's metadata before it joins its group
        client.subscribe(topics=[self.topic], listener=Reposition(client, self.pending))
        self.counters = {"polled": 0, "processed": 0, "applied": 0, "skipped": 0, "commits": 0,
                         "commit_errors": 0, "db_errors": 0}
        self.drain = Drain(self.run_dir, s, self.counters)
        try:
            while not self.stopping and not self.drain.out_of_time():
                self.history.check()
                if self.pending and not self._reposition(client):
                    continue
                if not self.pending and self.drain.caught_up(client, self.topic):
                    self.counters["caught_up"] = 1   # the runner judges the effects only then
                    break
                batch = client.poll(timeout_ms=POLL_MS)
                self.note_assignment(client)
                self._idle_report(client)
                records = self._unpending(batch)
                if records:
                    self.history.append_many(record_events(POLL, records, time.time(), self.run_id,
                                                           self.instance))   # stream TOPIC: read from the log
                    self.counters["polled"] += len(records)
                    self._apply(client, records)
                self.publish()
        finally:
            client.close(autocommit=False)
            self.db.close()
            self.publish(force=True)

    def _idle_report(self, client) -> None:
        """Every 10 s while it has partitions and has polled nothing, say in its log what it waits on (ci29: a
        sink assigned all three partitions polled nothing for 80 s while the consumer beside it read them all)."""
        now = time.time()
        if self.counters["polled"] or not self.counters.get("assigned"):
            return
        if self.idle_at is not None and now >= self.idle_at:
            print(f"sink-{self.instance}: nothing polled yet; assigned {sorted(tp.partition for tp in client.assignment())}"
                  f", paused {sorted(tp.partition for tp in client.paused())}, pending "
                  f"{sorted(tp.partition for tp in self.pending)}; fetch states {_fetch_states(client)}", flush=True)
        if self.idle_at is None or now >= self.idle_at:
            self.idle_at = now + 10.0

    def _unpending(self, batch) -> list:
        """The batch's records, less those of partitions still to be positioned (kept out of the history:
        the partition is sought back to them, or to its stored offset, before it is read)."""
        records = []
        for tp, part in batch.items():
            if tp in self.pending:
                self.dropped[tp.partition] = min(self.dropped.get(tp.partition, part[0].offset), part[0].offset)
            else:
                records.extend(part)
        return records

    def _reposition(self, client) -> bool:
        """Seek the pending partitions to their stored offsets (none stored: the group's committed offset or
        auto_offset_reset decide) and resume them; False while the database cannot say."""
        try:
            stored = store.stored_offsets(self.db.get(), self.topic) if self.sink["offsets"] == "database" else {}
        except store.StoreError as exc:
            self._db_failed(exc)
            return False
        parts = set(self.pending)
        self.pending.difference_update(parts)
        parts &= client.assignment()
        for tp in parts:
            offset = stored.get(tp.partition, self.dropped.pop(tp.partition, None))
            if offset is not None:
                client.seek(tp, offset)
        client.resume(*parts)
        return True

    def _apply(self, client, records) -> None:
        """Process `records` (process_time each), apply them in one transaction, then record PROCESS events
        and store or commit the offsets. Out of time mid-batch: nothing of it is applied (it stays unread)."""
        pause = self.sink.get("process_time", 0.0)
        for _ in records if pause else records[:1]:   # no sleep(0) per record; the deadline is still checked
            if self.drain.out_of_time():
                return
            if pause:
                time.sleep(pause)
        ids = [history.decode_value(r.value, self.run_id) for r in records]
        rows = [(pid, seq, r.partition, r.offset) for (pid, seq), r in zip(ids, records)]
        by_db = self.sink["offsets"] == "database"
        try:
            applied = store.apply_batch(self.db.get(), self.topic, rows, dedup=bool(self.sink.get("dedup")),
                                        store_offsets=by_db)
        except store.StoreError as exc:
            self._db_failed(exc)
            firsts: dict[int, int] = {}
            for r in records:
                firsts[r.partition] = min(firsts.get(r.partition, r.offset), r.offset)
            for partition, offset in firsts.items():   # poll the batch again once the database answers
                tp = TopicPartition(self.topic, partition)
                if tp in client.assignment():
                    client.seek(tp, offset)
            return
        now = time.time()
        self.history.append_many(history.events(
            PROCESS, [i[0] for i in ids], [i[1] for i in ids], now, [r.partition for r in records],
            [r.offset for r in records], worker=self.instance, flags=[0 if a else SKIPPED for a in applied],
            stream=EFFECTS))
        self.counters["processed"] += len(records)
        self.counters["applied"] += sum(applied)
        self.counters["skipped"] += len(applied) - sum(applied)
        self.crash_point()   # applied; the offsets are stored with them, or not yet committed to Kafka
        ends: dict[int, int] = {}
        for r in records:
            ends[r.partition] = max(ends.get(r.partition, -1), r.offset + 1)
        if by_db:
            for partition, offset in sorted(ends.items()):
                self.history.append(COMMIT, 0, -1, now, partition, offset, stream=EFFECTS)
            self.counters["commits"] += 1
        else:
            self._commit(client, ends)

    def _commit(self, client, ends: dict[int, int]) -> None:
        """Commit the batch's next offsets (only its own partitions) to Kafka."""
        offsets = {TopicPartition(self.topic, p): OffsetAndMetadata(o, "", -1) for p, o in ends.items()}
        try:
            client.commit(offsets)
        except KafkaError:  # e.g. CommitFailedError during a rebalance: the batch will be applied again
            self.counters["commit_errors"] += 1
            return
        now = time.time()
        for partition, offset in sorted(ends.items()):
            self.history.append(COMMIT, 0, -1, now, partition, offset, stream=EFFECTS)   # not the consumer's
        self.counters["commits"] += 1

    def _db_failed(self, exc: store.StoreError) -> None:
        self.db.retry_later(exc, f"sink-{self.instance}", self.counters)


if __name__ == "__main__":
    Sink(sys.argv[1], int(sys.argv[2])).run()
