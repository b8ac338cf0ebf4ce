"""Partition leaders and ISR kept fresh for the fault engine by one admin client for the whole run.

A thread asks the cluster for the states of the topics the run's targets name every REFRESH seconds (one
Metadata request on a warm connection, a few ms) and reconnects after a failure; a target is resolved from
a sample at most MAX_AGE seconds old, so `leader(T,P)` is still the leader it was within MAX_AGE (about the
time a broker itself takes to learn a new leader from the controller) without a new client, its bootstrap
and its 5 s timeouts at fire time. When no sample is that fresh (a fault keeps the client waiting), the
caller waits for the next one, at most WAIT seconds, and gets a ClusterError after that; it never gets an
older answer. Each broker applies a new topic's metadata on its own: a fresh "no such topic" is taken only
after UNKNOWN_WAIT seconds without a sample from a broker that knows it.
"""

from __future__ import annotations

import threading
import time

from kafka_chaos.errors import ClusterError

REFRESH = 0.2      # seconds between samples
MAX_AGE = 1.0      # a target is resolved from a sample that began at most this long ago
WAIT = 10.0        # seconds a caller waits for a fresh sample before giving up
UNKNOWN_WAIT = 3.0  # seconds a caller waits for a broker that knows a topic before taking "no such topic"
TIMEOUT_MS = 700   # per request: a paused broker costs at most this before that sampler reconnects elsewhere
SAMPLERS = 2       # independent clients: while one waits on a paused or cut-off broker, the other answers


def fresh(began: float | None, now: float, max_age: float = MAX_AGE) -> bool:
    """A sample that began at monotonic time `began` may answer at `now` (None: there is none)."""
    return began is not None and 0.0 <= now - began <= max_age


class MetadataCache:
    """partitions(topic) -> [PartitionState] from a sample at most MAX_AGE old. start() it, close() it.
    `connect(n)` makes an admin client, the n-th connection attempt of a sampler (the engine aims attempt n at
    bootstrap address n modulo their number, so a reconnect after a failure goes to the next broker)."""

    def __init__(self, connect, refresh: float = REFRESH, max_age: float = MAX_AGE, wait: float = WAIT,
                 clock=time.monotonic, samplers: int = SAMPLERS, unknown_wait: float = UNKNOWN_WAIT):
        self._connect, self.refresh, self.max_age, self.wait, self.clock = connect, refresh, max_age, wait, clock
        self.unknown_wait = unknown_wait
        self._topics: list[str] = []
        self._samples: dict[str, tuple[float, list]] = {}   # topic -> (monotonic time the request began, states)
        self._cond = threading.Condition()
        self._stop = False
        self._error = ""
        self._threads = [threading.Thread(target=self._loop, args=(i,), name=f"metadata-cache-{i}", daemon=True)
                         for i in range(samplers)]

    def start(self) -> "MetadataCache":
        for thread in self._threads:
            thread.start()
        return self

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=5)

    def watch(self, *topics: str) -> None:
        """Keep `topics` sampled from now on (a target names them before it fires)."""
        with self._cond:
            for t in topics:
                if t not in self._topics:
                    self._topics.append(t)
            self._cond.notify_all()

    def partitions(self, topic: str) -> list:
        """The states of `topic`'s partitions from a sample at most max_age old (waits for one if needed)."""
        self.watch(topic)
        start = self.clock()
        deadline = start + self.wait
        with self._cond:
            while True:
                began, states = self._samples.get(topic, (None, []))
                if fresh(began, self.clock(), self.max_age) and (states or self.clock() - start >= self.unknown_wait):
                    return states
                left = deadline - self.clock()
                if left <= 0 or self._stop:
                    raise ClusterError(f"no metadata of {topic} newer than {self.max_age:.1f} s within "
                                       f"{self.wait:.0f} s ({self._error or 'no answer'})")
                self._cond.wait(min(left, self.refresh))

    def _loop(self, first: int) -> None:
        client, attempt = None, first
        while True:
            with self._cond:
                if self._stop:
                    break
                topics = list(self._topics)
            if topics:
                began = self.clock()
                try:
                    if client is None:
                        attempt += 1
                        client = self._connect(attempt)
                    described = client.describe_topics(topics)
                    states = _states(described)
                    with self._cond:
                        for t in topics:   # the newest sample wins, whichever sampler took it
                            if t in states and began >= self._samples.get(t, (-1e18, None))[0]:
                                self._samples[t] = (began, states[t])
                        self._error = ""
                        self._cond.notify_all()
                except Exception as exc:   # noqa: BLE001 - a broker down: reconnect and try again
                    self._error = f"{type(exc).__name__}: {exc}"[:200]
                    _close(client)
                    client = None
            with self._cond:
                if not self._stop:
                    self._cond.wait(self.refresh)
        _close(client)


def _states(described) -> dict[str, list]:
    from kafka_chaos.cluster.metadata import PartitionState

    out = {}
    for topic in described:
        if topic.get("error_code"):   # e.g. it does not exist (yet): no partitions, as the answer says
            out[topic["name"]] = []
            continue
        out[topic["name"]] = sorted((PartitionState(topic["name"], p["partition_index"], p["leader_id"],
                                                    tuple(p["replica_nodes"]), tuple(p["isr_nodes"]))
                                     for p in topic["partitions"]), key=lambda s: s.partition)
    return out


def _close(client) -> None:
    if client is not None:
        try:
            client.close()
        except Exception:   # noqa: BLE001 - best effort: a new client replaces it
            pass
