"""The consumer worker: an application that polls, processes and commits as its mode prescribes.

Modes, each with the client library's own mechanism:
  auto-commit            enable_auto_commit=True; the library commits in poll() on its own timer
  commit-before-process  commit the polled batch, then process it (at-most-once)
  commit-after-process   process the batch, then commit it (at-least-once)
  read-committed         commit-after-process with isolation_level=read_committed (committed transactions only)
  read-uncommitted       commit-after-process with isolation_level=read_uncommitted (aborted and open ones too)
Processing is modelled as `process_time` seconds of work per record, then its PROCESS event: a crash
lands mid-batch, between commit and processing, as it does in real services. With process_time 0 there is no
work to land in: the batch is processed at one instant, its PROCESS events written in one append, so a crash
lands before or after the whole batch (commits stay where the mode puts them: before or after that instant).
Drain: once RUN_DIR/drain exists, the worker exits as soon as its group has read every partition to the end
offsets in that file, or at the drain deadline written there, whichever comes first (the deadline is checked
on every record, so a consumer that never catches up still stops on time); see drain.py.
"""

from __future__ import annotations

import functools
import sys
import threading
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from kafka_chaos import history, semantics
from kafka_chaos.clients import BOOTSTRAP_TIMEOUT_MS, bootstrapped
from kafka_chaos.errors import ClusterError
from kafka_chaos.history import COMMIT, POLL, PROCESS
from kafka_chaos.workload import Worker
from kafka_chaos.workload.drain import Drain

# A member that joins before its broker's metadata lists the topic gets no partitions until the next metadata
# refresh (kafka-python's default: 5 minutes); readers look again every 5 s, and wait for the topic first.
METADATA_AGE_MS = 5000
# A batch's records, by default: 100 keeps a batch of real work short (0.2 s at the default process_time), so a
# crashed consumer's partitions move on within seconds; with process_time 0 a batch costs no time and its
# synchronous commit (~3-10 ms here, replicated to __consumer_offsets) is the cost: 100 records a commit caps the
# consumer near 10k records/s, so it takes Kafka's own default, 500. Commits stay before/after every batch.
MAX_POLL_RECORDS, INSTANT_MAX_POLL_RECORDS = 100, 500
POLL_MS = 100   # an idle reader looks at the drain file this often; a poll returns at once when records are in
MODES = {name: mode.commit for name, mode in semantics.MODES.items() if not mode.reserved}  # name -> commit timing


class Consumer(Worker):
    role = "consumer"

    def run(self) -> None:
        s = self.settings
        timing = MODES[s["mode"]]
        config = {"session_timeout_ms": 6000, "heartbeat_interval_ms": 2000, "metadata_max_age_ms": METADATA_AGE_MS,
                  "max_poll_records": MAX_POLL_RECORDS if s["process_time"] else INSTANT_MAX_POLL_RECORDS,
                  "auto_offset_reset": "earliest", "client_id": f"kchaos-consumer-{self.instance}",
                  **s["consumer_config"], "enable_auto_commit": timing == "auto"}
        timeout_ms = config.pop("bootstrap_timeout_ms", BOOTSTRAP_TIMEOUT_MS)
        client = bootstrapped(s["bootstrap"], functools.partial(KafkaConsumer, s["topic"], group_id=s["group"], **config),
                              timeout_ms)
        partitions(client, s["topic"])   # the topic in the client's metadata before it joins its group
        self.counters = {"polled": 0, "processed": 0, "commits": 0, "commit_errors": 0}
        self.run_id = s["run_id"]
        self.drain = Drain(self.run_dir, s, self.counters)
        topic, pause = s["topic"], s["process_time"]
        try:
            while not self.stopping and not self.drain.out_of_time():
                self.history.check()
                if self.drain.caught_up(client, topic):
                    self.counters["caught_up"] = 1
                    break
                batch = client.poll(timeout_ms=POLL_MS)
                self.note_assignment(client)
                records = [r for part in batch.values() for r in part]
                if not records:
                    continue
                ids = history.decode_values([r.value for r in records], self.run_id)
                self.history.append_many(record_events(POLL, records, time.time(), self.run_id, self.instance, ids=ids))
                self.counters["polled"] += len(records)
                if timing == "before" and not self._commit(client):
                    continue  # at-most-once: never process what could not be committed first
                process(records, ids, pause, self.history, self.drain.out_of_time, self.counters, self.publish,
                        self.instance, midway=lambda: self.crash_point("mid-batch"))
                if timing == "after" and not self.drain.out_of_time():
                    self._commit(client)
                self.publish()
        finally:
            if timing == "auto":
                try:
                    client.close(autocommit=True, timeout_ms=5000)
                except KafkaError:
                    pass
            else:
                client.close(autocommit=False)
            self.publish(force=True)

    def _commit(self, client) -> bool:
        positions = {tp: client.position(tp) for tp in client.assignment()}
        try:
            client.commit()
        except KafkaError:  # e.g. CommitFailedError during a rebalance: the application carries on
            self.counters["commit_errors"] += 1
            return False
        now = time.time()
        for tp, offset in positions.items():
            self.history.append(COMMIT, 0, -1, now, tp.partition, offset)
        self.counters["commits"] += 1
        self.crash_point()   # committed: before processing (at-most-once) the batch is skipped for good
        return True


def process(records, ids, pause: float, writer: history.HistoryWriter, out_of_time, counters: dict,
            publish=lambda: None, worker: int = 0, midway=lambda: None) -> None:
    """The application's work on a polled batch, `ids` the records' decoded (pid, seq): `pause` seconds per
    record, then its PROCESS event and counters["processed"] += 1, until `out_of_time()` (the rest stays
    unprocessed, unread). With pause 0 each half of the batch is processed at one instant and recorded with one
    write (no sleep(0) per record: ~84 us each here). `midway()` runs once half a batch of 2 or more is
    processed (the crash point mid-batch)."""
    half = len(records) // 2 if len(records) >= 2 else -1
    if not pause:
        cut = max(half, 0)
        for lo, hi in ((0, cut), (cut, len(records))):
            if lo == half:
                midway()
            if lo < hi and not out_of_time():
                writer.append_many(record_events(PROCESS, records[lo:hi], time.time(), "", worker, ids=ids[lo:hi]))
                counters["processed"] += hi - lo
        return
    for i, (r, (pid, seq)) in enumerate(zip(records, ids)):
        if out_of_time():
            break   # the deadline holds mid-batch too
        if i == half:
            midway()
        time.sleep(pause)
        writer.append(PROCESS, pid, seq, time.time(), r.partition, r.offset)
        counters["processed"] += 1
        publish()


def record_events(kind: int, records, t: float, run_id: str, worker: int = 0, stream: int = history.TOPIC,
                  ids=None):
    """EVENT rows for consumed Kafka records, (pid, seq) decoded from their values (see decode_value) unless
    `ids` gives them already."""
    if ids is None:
        ids = history.decode_values([r.value for r in records], run_id)
    return history.events(kind, [i[0] for i in ids], [i[1] for i in ids], t,
                          [r.partition for r in records], [r.offset for r in records], worker=worker, stream=stream)


def partitions(client, topic: str, timeout: float = 30.0) -> list[TopicPartition]:
    """The partitions of `topic` from the client's metadata, asked again (bounded) while a restarted or
    just-started cluster's metadata does not list the topic yet."""
    deadline = time.time() + timeout
    while True:
        try:
            found = client.partitions_for_topic(topic)
        except KafkaError:
            found = None
        if found or time.time() > deadline:
            return [TopicPartition(topic, p) for p in sorted(found or [])]
        time.sleep(0.5)


def log_size(bootstrap: str, topic: str) -> int:
    """How many records `topic` holds now (end minus beginning offsets of every partition)."""
    client = bootstrapped(bootstrap, functools.partial(KafkaConsumer, enable_auto_commit=False, group_id=None,
                                                       client_id="kchaos-audit"))
    try:
        parts = partitions(client, topic)
        begins, ends = client.beginning_offsets(parts), client.end_offsets(parts)
        return sum(ends[tp] - begins[tp] for tp in parts)
    except KafkaError as exc:
        raise ClusterError(f"cannot read the offsets of topic {topic}: {exc}") from None
    finally:
        client.close(autocommit=False)


SETTLE = 0.3        # seconds between two reads of the high watermarks that must agree before the drain's ends
SETTLE_LIMIT = 10.0  # seconds the high watermarks may keep moving before the last read is taken


def high_watermarks(bootstrap: str, topic: str) -> dict[int, int]:
    """{partition: high watermark} of `topic` once it stopped moving: where the readers drain to, and below which
    the audit reads, once the writers are done. A record the leader alone acknowledged (acks=1) is above the high
    watermark until the followers fetched it: ends read at once could leave it out of the drain and the audit,
    a false loss. Read read_uncommitted on purpose: a read_committed client's end offsets are the last stable
    offsets, which an open transaction holds back below records still to come; a read_committed reader reaches
    the high watermark once every transaction below it has ended."""
    client = bootstrapped(bootstrap, functools.partial(KafkaConsumer, enable_auto_commit=False, group_id=None,
                                                       client_id="kchaos-drain", isolation_level="read_uncommitted"))
    try:
        parts = partitions(client, topic)
        return settled(lambda: {tp.partition: offset for tp, offset in client.end_offsets(parts).items()})
    except KafkaError as exc:
        raise ClusterError(f"cannot read the end offsets of topic {topic}: {exc}") from None
    finally:
        client.close(autocommit=False)


def settled(read, interval: float = SETTLE, limit: float = SETTLE_LIMIT, sleep=time.sleep) -> dict:
    """`read()` again every `interval` seconds until two reads in a row agree (at most `limit` seconds); the last."""
    last = read()
    for _ in range(round(limit / interval)):
        sleep(interval)
        now = read()
        if now == last:
            return now
        last = now
    return last


def record_committed(bootstrap: str, topic: str, group: str, writer: history.HistoryWriter) -> None:
    """The group's final committed offsets as COMMIT events: how far the application's group went, also
    for auto-commit, whose commits happen inside the library and are not in the consumer's history."""
    client = bootstrapped(bootstrap, functools.partial(KafkaConsumer, enable_auto_commit=False, group_id=group,
                                                       client_id="kchaos-audit"))
    try:
        now = time.time()
        for tp in partitions(client, topic):
            offset = client.committed(tp, timeout_ms=30000)
            if offset is not None:
                writer.append(COMMIT, 0, -1, now, tp.partition, offset)
    except KafkaError as exc:
        raise ClusterError(f"audit: cannot read the committed offsets of group {group}: {exc}") from None
    finally:
        client.close(autocommit=False)


def read_log(bootstrap: str, topic: str, writer: history.HistoryWriter, timeout: float, run_id: str,
             stream: int = history.TOPIC, stop: threading.Event | None = None) -> dict:
    """The audit: read every record of `topic` from the beginning up to today's log end, as LOG events.
    Runs after the workload, with no group and isolation_level=read_committed, so it sees exactly what the
    log holds for a read_committed reader (for records outside transactions: all of them). Its end is the
    last stable offset; while an open transaction holds that below the high watermark (a producer killed
    mid-transaction) it waits, within `timeout`, for the coordinator to abort it. Returns {"records": n,
    "ends": {partition: end offset}, "lso_wait_s": seconds waited} only when every partition was read to
    its end. Setting `stop` (the run failed meanwhile) ends it at its next poll, as if out of time."""
    stop = stop or threading.Event()
    client = bootstrapped(bootstrap, functools.partial(KafkaConsumer, enable_auto_commit=False, group_id=None,
                                                       client_id="kchaos-audit", max_poll_records=5000,
                                                       isolation_level="read_committed"))
    try:
        parts = partitions(client, topic)
        if not parts:   # auditing nothing would turn every acknowledged record into a false loss
            raise ClusterError(f"audit: no partitions of topic {topic} in the cluster's metadata")
        deadline = time.time() + timeout
        ends, waited = stable_ends(bootstrap, client, parts, deadline, stop)
        client.assign(parts)
        client.seek_to_beginning(*parts)
        seen = 0
        while time.time() < deadline and not stop.is_set() and any(client.position(tp) < ends[tp] for tp in parts):
            batch = client.poll(timeout_ms=500)
            records = [r for part in batch.values() for r in part if r.offset < ends[TopicPartition(topic, r.partition)]]
            if records:
                writer.append_many(record_events(history.LOG, records, time.time(), run_id, stream=stream))
                seen += len(records)
        behind = [f"partition {tp.partition} at offset {client.position(tp)} of {ends[tp]}"
                  for tp in parts if client.position(tp) < ends[tp]]
        if behind:   # a partial audit would report false losses from the log
            raise ClusterError(f"audit: could not read the whole log within {timeout:.0f}s ({', '.join(behind)})")
        return {"records": seen, "ends": {str(tp.partition): ends[tp] for tp in parts}, "lso_wait_s": round(waited, 3)}
    finally:
        client.close(autocommit=False)


def stable_ends(bootstrap: str, client, parts: list, deadline: float,
                stop: threading.Event | None = None) -> tuple[dict, float]:
    """({partition: last stable offset}, seconds waited) once every partition's last stable offset (`client`
    reads read_committed) reached its high watermark (read by a read_uncommitted client). Raises ClusterError
    naming each partition an open transaction still holds back at `deadline`."""
    other = bootstrapped(bootstrap, functools.partial(KafkaConsumer, enable_auto_commit=False, group_id=None,
                                                      client_id="kchaos-audit", isolation_level="read_uncommitted"))
    start = time.time()
    try:
        while True:
            try:
                lso, hw = client.end_offsets(parts), other.end_offsets(parts)
            except KafkaError as exc:
                raise ClusterError(f"audit: cannot read the end offsets of {parts[0].topic}: {exc}") from None
            held = [tp for tp in parts if lso[tp] < hw[tp]]
            if not held:
                return lso, time.time() - start
            if time.time() >= deadline or (stop is not None and stop.is_set()):
                raise ClusterError("audit: an open transaction still holds back the log (" + ", ".join(
                    f"partition {tp.partition}: last stable offset {lso[tp]}, high watermark {hw[tp]}" for tp in held)
                    + f") after {time.time() - start:.0f} s; the transaction coordinator never ended it")
            (stop or threading.Event()).wait(min(1.0, max(0.0, deadline - time.time())))
    finally:
        other.close(autocommit=False)


if __name__ == "__main__":
    Consumer(sys.argv[1], int(sys.argv[2])).run()
