"""When a reading worker (consumer, sink) stops: once RUN_DIR/drain exists, at the log end after `idle`
seconds without new records, or at the drain deadline written in that file, or at the hard deadline,
whichever comes first. Each is recorded in the worker's counters, so the runner can say a drain timed out."""

from __future__ import annotations

import time
from pathlib import Path

from kafka.errors import KafkaError

from kafka_chaos.workload import DRAIN_FLAG

RELAY_DRAIN = DRAIN_FLAG + "-relay"   # the outbox relay drains first, on its own flag


class Drain:
    """The drain and hard deadlines of one worker; `counters` is the worker's own dict (updated in place)."""

    def __init__(self, run_dir: Path, settings: dict, counters: dict, flag: str = DRAIN_FLAG):
        self.flag = Path(run_dir) / flag
        self.idle = settings["idle"]
        self.hard_deadline = settings["hard_deadline"]
        self.counters = counters
        self._deadline: float | None = None
        self._next_look = 0.0

    def deadline(self) -> float | None:
        """The deadline in RUN_DIR/drain once the runner wrote it (looked for at most twice a second)."""
        if self._deadline is None and time.time() >= self._next_look:
            self._next_look = time.time() + 0.5
            try:
                self._deadline = float(self.flag.read_text().strip())
            except (OSError, ValueError):
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

    def caught_up(self, client, idle_since: float) -> bool:
        """Draining, nothing new for `idle` seconds, and at the end of every assigned partition: its log end,
        not only the last stable offset a read_committed consumer's end_offsets gives (an open transaction
        holds that back; the records behind it are still to come)."""
        if self.deadline() is None or time.time() - idle_since < self.idle:
            return False
        assigned = list(client.assignment())
        if not assigned:
            return False
        try:
            ends = client.end_offsets(assigned)
            return all(client.position(tp) >= max(ends[tp], client.highwater(tp) or 0) for tp in assigned)
        except KafkaError:
            return False
