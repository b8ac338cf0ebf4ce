"""Workload workers: each runs as its own OS process (so a fault can SIGKILL it) and writes its own history.

A worker is started as `python -m kafka_chaos.workload.<role> RUN_DIR INSTANCE`; it reads its settings
from RUN_DIR/workers.json, appends events to RUN_DIR/history/<role>-<instance>.bin and publishes
counters to RUN_DIR/status/<role>-<instance>.json for the progress display.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from kafka_chaos.errors import KchaosError
from kafka_chaos.files import read_json, write_atomic
from kafka_chaos.history import HistoryWriter

SETTINGS = "workers.json"
DRAIN_FLAG = "drain"
CRASH_POINT = "crash-point-{role}"   # present: the worker kills itself at its next crash point (see crash_point)


def write_status(run_dir: Path, role: str, instance: int, values: dict) -> None:
    """RUN_DIR/status/<role>-<instance>.json (atomic rename): a worker's counters and pid, read by the progress
    display, the runner and `kchaos heal`."""
    folder = Path(run_dir) / "status"
    folder.mkdir(exist_ok=True)
    write_atomic(folder / f"{role}-{instance}.json", json.dumps(values))


class Worker:
    """What every worker shares: settings, its history writer, a stop flag set by SIGTERM, counters."""

    role = "worker"

    def __init__(self, run_dir: Path, instance: int):
        self.run_dir = Path(run_dir)
        self.instance = instance
        self.settings = json.loads((self.run_dir / SETTINGS).read_text())
        self.history = HistoryWriter(self.run_dir / "history" / f"{self.role}-{instance}.bin", worker=instance)
        self.counters: dict[str, int] = {}
        self.stopping = False
        self._status_at = 0.0
        signal.signal(signal.SIGTERM, self._on_term)
        self.publish(force=True)   # the pid is known at once (kchaos heal stops orphaned workers by it)

    def _on_term(self, *_):
        self.stopping = True

    def note_assignment(self, client) -> None:
        """Publish, once, that the client has partitions: the runner starts the clock on it (every reader)."""
        if "assigned" not in self.counters and client.assignment():
            self.counters["assigned"] = len(client.assignment())
            self.publish(force=True)

    def crash_point(self, point: str = "after-commit") -> None:
        """Die here (SIGKILL, nothing flushed) if the runner asked for a crash at `point`: a fault `crash` with
        `point: after-commit` lands exactly between a worker's commit and what must follow it (the consumer's
        processing or next poll, the copier's offsets commit, the sink's Kafka commit, the relay's marking rows
        sent); `point: mid-batch` between the consumer's processing of half a batch and its commit. Those are
        windows a random crash may miss (a consumer waiting in a rebalance has nothing uncommitted)."""
        flag = self.run_dir / CRASH_POINT.format(role=self.role)
        if flag.exists() and _read(flag) == point:   # the launcher writes the point it asks for
            flag.unlink(missing_ok=True)
            print(f"{self.role}-{self.instance}: crash point {point} reached: SIGKILL", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    def publish(self, force: bool = False) -> None:
        """Write counters for the progress display at most twice a second (atomic rename)."""
        now = time.time()
        if not force and now - self._status_at < 0.5:
            return
        self._status_at = now
        write_status(self.run_dir, self.role, self.instance, {**self.counters, "t": now, "pid": os.getpid()})


def read_status(run_dir: Path) -> dict[str, dict]:
    """Latest counters of every worker instance, keyed by file stem (producer-0, consumer-1, …)."""
    out = {}
    for path in sorted((Path(run_dir) / "status").glob("*.json")):
        try:
            data = read_json(path, 1 << 16, "worker status")
        except KchaosError:   # being replaced, or not ours: the next look will do
            continue
        if isinstance(data, dict):
            out[path.stem] = data
    return out


def _read(flag: Path) -> str:
    """A crash point flag's text; "" while the launcher is still writing it or once it is gone."""
    try:
        return flag.read_text(errors="replace")[:40]
    except OSError:
        return ""
