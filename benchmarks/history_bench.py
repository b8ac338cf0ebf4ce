"""HistoryWriter.append cost per event against the numpy writer it replaced: prints figures, asserts nothing.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/history_bench.py [EVENTS] [ROUNDS]    (default: 200000 5)

Each round appends EVENTS events to a file in a temporary folder, one write() per event, with
  reference  the old writer: fill a one-element numpy EVENT array under the lock, tobytes(), os.write
  now        HistoryWriter.append (struct pack, lock, one os.write, short-write check)
  floor      a bare os.write of 40 ready bytes (what no writer can go below)
and prints min/median/max microseconds per event, and the reference's median over now's.
"""

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from kafka_chaos import history
from kafka_chaos.history import CHECK, EVENT, PROCESS


class NumpyWriter:
    """The writer before struct: one structured scalar filled per event (as in commit c652293)."""

    def __init__(self, path: Path, worker: int = 0):
        self.worker = worker
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._one = np.zeros(1, dtype=EVENT)
        self._one["check"] = CHECK
        self._lock = threading.Lock()

    def append(self, kind, pid, seq, t, partition=-1, offset=-1, flags=0):
        with self._lock:
            e = self._one[0]
            e["kind"], e["worker"], e["flags"], e["pid"], e["seq"] = kind, self.worker, flags, pid, seq
            e["partition"], e["offset"], e["t"] = partition, offset, t
            os.write(self._fd, self._one.tobytes())

    def close(self):
        os.close(self._fd)


class Floor:
    def __init__(self, path: Path):
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._data = b"\0" * EVENT.itemsize

    def append(self, kind, pid, seq, t, partition=-1, offset=-1):
        os.write(self._fd, self._data)

    def close(self):
        os.close(self._fd)


def per_event(make, n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        w = make(Path(tmp) / "consumer-0.bin")
        append = w.append
        start = time.perf_counter()
        for i in range(n):
            append(PROCESS, 1, i, 1000.0, 2, i)
        took = time.perf_counter() - start
        w.close()
    return took / n * 1e6


def main(n: int, rounds: int) -> None:
    writers = {"reference": NumpyWriter, "now": history.HistoryWriter, "floor": Floor}
    times: dict[str, list[float]] = {name: [] for name in writers}
    for _ in range(rounds):   # interleaved, so a noisy moment hits every writer alike
        for name, make in writers.items():
            times[name].append(per_event(make, n))
    print(f"{n} events per round, {rounds} rounds; microseconds per event")
    print(f"{'writer':>10} {'min':>7} {'median':>7} {'max':>7}")
    for name, ts in times.items():
        print(f"{name:>10} {min(ts):7.2f} {statistics.median(ts):7.2f} {max(ts):7.2f}")
    ratio = statistics.median(times["reference"]) / statistics.median(times["now"])
    print(f"reference / now (medians): {ratio:.1f}x")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*(args + [200_000, 5][len(args):]))
