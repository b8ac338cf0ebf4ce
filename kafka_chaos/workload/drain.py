"""When a reading worker (consumer, copier, sink) stops: once the runner wrote RUN_DIR/drain, as soon as its group
has read every partition to the end offset the runner captured when the writers were done, or at the drain
deadline written in that file, or at the hard deadline, whichever comes first. Each is recorded in the worker's
counters, so the runner can say a drain timed out. No idle wait: a reader at the ends stops at once."""

from __future__ import annotations

import json
import time
from pathlib import Path

from kafka import TopicPartition
from kafka.errors import KafkaError

from kafka_chaos.files import write_atomic
from kafka_chaos.workload import DRAIN_FLAG

RELAY_DRAIN = DRAIN_FLAG + "-relay"   # the outbox relay drains first, on its own flag
LOOK_EVERY = 0.05     # seconds between looks for the drain file (an open, failing until the runner wrote it;
                      # the drain starts within this)
COMMITTED_EVERY = 0.5   # seconds between asking the coordinator for the group's committed offsets
COMMITTED_WAIT = 5.0    # seconds one such request may take (kafka-python retries while the coordinator is away)


def write(path: Path, deadline: float, ends: dict[int, int] | None = None) -> None:
    """The drain file: the deadline and, for readers, {partition: end offset} (atomic: never read half-written)."""
    doc = {"deadline": deadline, **({"ends": {str(p): int(o) for p, o in ends.items()}} if ends is not None else {})}
    write_atomic(path, json.dumps(doc))


def drained(ends: dict[int, int], positions: dict[int, int | None], highwater: dict[int, int | None],
            committed: dict[int, int | None]) -> bool:
    """Whether a reader's group has read every partition to its end. A partition the reader owns (in
    `positions`) is done when its position reached both the end captured at the deadline and the last high
    watermark a fetch reported (a record acknowledged by the leader alone moves the high watermark only once
    the followers have it, which can be after the capture). A partition it does not own (a crashed member's
    not yet handed over, or another member's) is done when the group's committed offset reached the end."""
    for p, end in ends.items():
        if p in positions:
            if positions[p] is None or positions[p] < max(end, highwater.get(p) or 0):
                return False
        elif committed.get(p) is None or committed[p] < end:
            return False
    return True


class Drain:
    """The drain and hard deadlines of one worker; `counters` is the worker's own dict (updated in place)."""

    def __init__(self, run_dir: Path, settings: dict, counters: dict, flag: str = DRAIN_FLAG):
        self.flag = Path(run_dir) / flag
        self.hard_deadline = settings["hard_deadline"]
        self.counters = counters
        self._deadline: float | None = None
        self._ends: dict[int, int] | None = None
        self._next_look = 0.0
        self._committed: dict[int, int | None] = {}
        self._committed_at = 0.0

    def deadline(self) -> float | None:
        """The deadline in the drain file once the runner wrote it (looked for every LOOK_EVERY seconds)."""
        if self._deadline is None and time.time() >= self._next_look:
            self._next_look = time.time() + LOOK_EVERY
            try:
                doc = json.loads(self.flag.read_text())
                if not isinstance(doc, dict):   # a bare deadline (what `write` without ends once wrote)
                    doc = {"deadline": doc}
                ends = {int(p): int(o) for p, o in doc.get("ends", {}).items()}
                self._deadline, self._ends = float(doc["deadline"]), ends or None
            except (OSError, ValueError, TypeError, KeyError, AttributeError):
                pass
        return self._deadline

    def out_of_time(self) -> bool:
        """Past the drain deadline (checked on every record, not only after an empty poll) or the hard
        deadline."""
        deadline = self.deadline()
        now = time.time()
        if deadline is not None and now > deadline:
            self.counters["drain_timed_out"] = 1
            return True
        if now > self.hard_deadline:
            self.counters["hard_deadline"] = 1
            return True
        return False

    def caught_up(self, client, topic: str) -> bool:
        """Draining, and the group has read `topic` to the ends in the drain file (see `drained`). Costs no
        request while a partition this reader owns is behind; the committed offsets of partitions it does not
        own are asked for at most every COMMITTED_EVERY seconds. Without ends in the file (the runner could
        not read them) the reader takes the log's end offsets once itself."""
        if self.deadline() is None:
            return False
        try:
            if self._ends is None:
                parts = [TopicPartition(topic, p) for p in sorted(client.partitions_for_topic(topic) or [])]
                if not parts:
                    return False
                self._ends = {tp.partition: o for tp, o in client.end_offsets(parts).items()}
            mine = {tp.partition: tp for tp in client.assignment() if tp.topic == topic}
            positions = {p: client.position(tp) for p, tp in mine.items()}
            highwater = {p: client.highwater(tp) for p, tp in mine.items()}
            others = [p for p in self._ends if p not in mine]
            if not drained({p: self._ends[p] for p in mine if p in self._ends}, positions, highwater, {}):
                return False
            if others and time.time() >= self._committed_at:
                self._committed_at = time.time() + COMMITTED_EVERY
                wait_ms = int(1000 * max(0.1, min(COMMITTED_WAIT, self._deadline - time.time())))   # never past it
                self._committed = {p: client.committed(TopicPartition(topic, p), timeout_ms=wait_ms) for p in others}
            return drained(self._ends, positions, highwater, self._committed)
        except KafkaError:
            return False
