"""Who leads each partition of the run's topic, sampled once a second while the run goes on: leaders.jsonl.

A thread of the runner asks the cluster (its own admin client, short timeouts) and appends a line only when a
partition's leader differs from the last sample: {"t": seconds since the epoch, "partition": P, "leader": B}
(-1: no leader). The first sample of each partition is written too, so a reader knows where it started. A
sample the cluster does not answer is skipped; a change shorter than the interval can be missed. The report
draws the changes; the verifier does not read them.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from kafka_chaos import files

FILE = "leaders.jsonl"
INTERVAL = 1.0            # seconds between samples
MAX_LINES = 20_000        # a run with more changes than this stops recording them (bounded on disk and to read)
MAX_BYTES = MAX_LINES * 100


class LeaderWatch:
    """Start with start(), stop with stop(); never raises into the run."""

    def __init__(self, bootstrap: str, topic: str, run_dir: Path):
        self.bootstrap, self.topic, self.path = bootstrap, topic, Path(run_dir) / FILE
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="leader-watch", daemon=True)
        self.lines = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        from kafka_chaos.cluster import metadata

        client, last = None, {}
        with open(self.path, "a") as out:
            while not self._stop.wait(INTERVAL) and self.lines < MAX_LINES:
                try:
                    if client is None:
                        client = metadata.admin(self.bootstrap, timeout_ms=2000, bootstrap_timeout_ms=2000)
                    now = time.time()
                    states = {p["partition_index"]: p["leader_id"]   # one try: no retrying while a broker is down
                              for t in client.describe_topics([self.topic]) for p in t["partitions"]}
                except Exception:   # noqa: BLE001 - a broker down or the topic not yet known: skip this sample
                    if client is not None:
                        try:
                            client.close()
                        except Exception:   # noqa: BLE001
                            pass
                    client = None
                    continue
                for partition, leader in sorted(states.items()):
                    if last.get(partition) != leader:
                        last[partition] = leader
                        out.write(json.dumps({"t": round(now, 3), "partition": partition, "leader": leader}) + "\n")
                        out.flush()
                        self.lines += 1
        if client is not None:
            try:
                client.close()
            except Exception:   # noqa: BLE001
                pass


def read(run_dir: Path) -> list[dict]:
    """The recorded samples, each checked ({t: finite number, partition: int >= 0, leader: int >= -1});
    malformed lines are skipped, the file is read bounded, and none at all gives []."""
    path = Path(run_dir) / FILE
    if not path.is_file():
        return []
    try:
        raw = files.read_bounded(path, MAX_BYTES, FILE).decode("utf-8", errors="replace")
    except Exception:   # noqa: BLE001 - too big or unreadable: nothing to draw
        return []
    out = []
    for line in raw.splitlines()[:MAX_LINES]:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if not isinstance(e, dict):
            continue
        t, p, b = e.get("t"), e.get("partition"), e.get("leader")
        if isinstance(t, (int, float)) and not isinstance(t, bool) and abs(t) < 1e15 and \
                isinstance(p, int) and not isinstance(p, bool) and 0 <= p < 1_000_000 and \
                isinstance(b, int) and not isinstance(b, bool) and -1 <= b < 2**31:
            out.append({"t": float(t), "partition": p, "leader": b})
    return out


def changes(samples: list[dict]) -> list[tuple[float, int, int, int]]:
    """(t, partition, old leader, new leader) for each sample that differs from its partition's previous one
    (the first sample of a partition is where it started, not a change)."""
    last, out = {}, []
    for e in sorted(samples, key=lambda e: e["t"]):
        p = e["partition"]
        if p in last and last[p] != e["leader"]:
            out.append((e["t"], p, last[p], e["leader"]))
        last[p] = e["leader"]
    return out
