"""Verifier speed and memory on a synthetic history: prints figures, asserts nothing.

    .venv/bin/python benchmarks/verify_bench.py [RECORDS ...]     (default: 100000 1000000)

Each record gets a SEND, an ACK, a POLL, a PROCESS and a LOG event (5 events, 200 bytes on disk);
0.1% are dropped from the consumer side and 0.1% processed twice, so every code path runs.
"""

import resource
import sys
import time

import numpy as np

from kafka_chaos import history, verify
from kafka_chaos.history import ACK, LOG, POLL, PROCESS, SEND


def synthetic(n: int, partitions: int = 3) -> dict[str, np.ndarray]:
    seq = np.arange(n)
    part = seq % partitions
    offset = seq // partitions
    t = 1000.0 + seq / 1000.0
    rng = np.random.default_rng(1)
    kept = rng.random(n) > 0.001
    again = rng.random(n) < 0.001
    producer = np.concatenate([history.events(SEND, 1, seq, t), history.events(ACK, 1, seq, t, part, offset)])
    consumer = np.concatenate([history.events(POLL, 1, seq[kept], t[kept], part[kept], offset[kept]),
                               history.events(PROCESS, 1, seq[kept], t[kept], part[kept], offset[kept]),
                               history.events(PROCESS, 1, seq[again], t[again], part[again], offset[again])])
    audit = history.events(LOG, 1, seq, t, part, offset)
    return {"producer": producer, "consumer": consumer, "audit": audit}


def main(sizes: list[int]) -> None:
    print(f"{'records':>10} {'events':>10} {'verify s':>9} {'records/s':>12} {'peak RSS MB':>12}  lost  reprocessed")
    for n in sizes:
        h = synthetic(n)
        events = sum(len(a) for a in h.values())
        start = time.perf_counter()
        v = verify.verify(h, [], {"lost": 0}, audited=True, t0=1000.0)
        took = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>10} {events:>10} {took:>9.2f} {n / took:>12,.0f} {rss:>12.0f}  {v.counts['lost']:>4}  "
              f"{v.counts['reprocessed']:>11}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
