"""Verifier speed and peak memory on a synthetic run directory with injected anomalies of known counts.

    PYTHONPATH=$PWD taskset -c 0 .venv/bin/python benchmarks/verify_bench.py [RECORDS ...] [--code DIR]

(default sizes: 1000000 10000000; --code DIR verifies with the kafka_chaos found in DIR, e.g. another
worktree, to compare before/after in the same minute.) Each record gets a SEND, an ACK, a POLL, a PROCESS
and a LOG event (5 events, 200 bytes on disk) over 3 partitions; anomalies of every class an audited,
non-transactional run counts are injected in known numbers. The history is written to a temporary run
directory in chunks, then verified by `verify_run_dir` in a fresh process (its time and peak RSS are the
figures: building the history does not count). Prints injected vs found per class (MISMATCH if they
differ) and the ratio to the targets of issue 9 (10 s, 1 GB for 10M records).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from kafka_chaos import history
from kafka_chaos.history import ACK, ERROR, FOREIGN_PID, LOG, POLL, PROCESS, SEND

PARTS = 3
CHUNK = 1_000_000
TARGET_S, TARGET_BYTES = 10.0, 1 << 30


def injected(n: int) -> dict[str, int]:
    """How many of each anomaly the history holds (k per class, scaled to the run)."""
    k = max(1, n // 100_000)
    return {"lost_from_log": k, "lost_in_log": k, "unread": k, "log_duplicates": k, "reprocessed": k,
            "reordered": k, "inconsistent_offsets": k, "phantoms": k, "foreign": k, "errors": 2 * k,
            "unacked_present": k, "unacked_missing": k}


def write_run(run_dir: Path, n: int) -> None:
    """A run directory of n records with injected() anomalies, written CHUNK records at a time."""
    k = injected(n)["lost_from_log"]
    h = run_dir / "history"
    h.mkdir(parents=True)
    files = {role: open(h / f"{role}-1.bin", "wb") for role in ("producer", "consumer", "audit")}
    per_part = -(-n // PARTS)
    for lo in range(0, n, CHUNK):
        seq = np.arange(lo, min(n, lo + CHUNK))
        part, off = seq % PARTS, seq // PARTS
        t = 1000.0 + seq / 1000.0
        # reordered: k pairs of neighbours in partition 0 swap offsets (every event agrees)
        swap = (part == 0) & (off % 100 == 10) & (off // 100 < k)
        nxt = (part == 0) & (off % 100 == 11) & (off // 100 < k)
        off = np.where(swap, off + 1, np.where(nxt, off - 1, off))
        band = lambda m: m & (off // 100 < k)   # noqa: E731  (k records of each kind, spread out)
        failed = band((part == 1) & (off % 100 == 20)) | band((part == 1) & (off % 100 == 21))
        present = band((part == 1) & (off % 100 == 20))   # failed sends found in the log anyway
        gone = band((part == 1) & (off % 100 == 30))       # lost from the log (processed first)
        skipped = band((part == 1) & (off % 100 == 40))    # polled, never processed: lost in the log
        tail = (part == 2) & (off >= per_part - 1 - k)      # never reached by the consumer: unread
        again = band((part == 1) & (off % 100 == 50))      # processed twice
        ok = ~failed
        files["producer"].write(history.events(SEND, 1, seq, t).tobytes())
        files["producer"].write(history.events(ERROR, 1, seq[failed], t[failed] + 0.1, flags=1).tobytes())
        files["producer"].write(history.events(ACK, 1, seq[ok], t[ok] + 0.01, part[ok], off[ok]).tobytes())
        seen = ~failed & ~tail
        files["consumer"].write(history.events(POLL, 1, seq[seen], t[seen] + 1, part[seen], off[seen]).tobytes())
        done = seen & ~skipped
        files["consumer"].write(history.events(PROCESS, 1, seq[done], t[done] + 1.1, part[done], off[done]).tobytes())
        files["consumer"].write(history.events(PROCESS, 1, seq[again], t[again] + 2, part[again], off[again]).tobytes())
        logged = (ok | present) & ~gone
        files["audit"].write(history.events(LOG, 1, seq[logged], t[logged] + 60, part[logged], off[logged]).tobytes())
    # past the end of partition 1 (the consumer's reach there stays below): log duplicates, foreign records,
    # phantoms; a poll of partition 0 that saw another record than the audit (inconsistent offsets)
    end = per_part + 10
    dup = (np.arange(k) * 100 + 60) * PARTS + 1   # records of partition 1 at offsets j*100+60: no other anomaly
    files["audit"].write(history.events(LOG, 1, dup, 2000.0, 1, end + np.arange(k)).tobytes())
    files["audit"].write(history.events(LOG, FOREIGN_PID, np.full(k, -1), 2000.0, 1, end + k + np.arange(k)).tobytes())
    files["audit"].write(history.events(LOG, 1, n + np.arange(k), 2000.0, 1, end + 2 * k + np.arange(k)).tobytes())
    files["consumer"].write(history.events(POLL, 1, 2 * n + np.arange(k), 1500.0, 0, np.arange(k) * 100 + 50).tobytes())
    for f in files.values():
        f.close()
    (run_dir / "scenario.json").write_text(json.dumps({"name": "bench", "expect": {}}))
    (run_dir / "meta.json").write_text(json.dumps({"t0": 1000.0}))
    (run_dir / "audit.json").write_text(json.dumps({"complete": True}))


CHILD = """
import json, resource, sys, time
from kafka_chaos import verify
start = time.perf_counter()
v = verify.verify_run_dir(sys.argv[1])
took = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"s": took, "rss": rss, "counts": v.counts, "where": verify.__file__}))
"""


def measure(run_dir: Path, code: str) -> dict:
    """Verify run_dir in a fresh process with the kafka_chaos of `code`: its time, peak RSS and counts."""
    env = dict(os.environ, PYTHONPATH=code)
    out = subprocess.run([sys.executable, "-c", CHILD, str(run_dir)], env=env, check=True, cwd=run_dir,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main(sizes: list[int], code: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kchaos-verify-bench-"))
    try:
        for n in sizes:
            run_dir = tmp / f"run-{n}"
            write_run(run_dir, n)
            events = sum(p.stat().st_size for p in (run_dir / "history").iterdir()) // history.EVENT.itemsize
            r = measure(run_dir, code)
            print(f"{n:>10,} records {events:>11,} events  verify {r['s']:6.2f} s  {n / r['s']:>12,.0f} records/s  "
                  f"peak RSS {r['rss'] / (1 << 20):7.0f} MiB   ({r['where']})")
            print(f"{'':>10} vs targets (10M records: {TARGET_S:.0f} s, 1 GiB), scaled to {n:,}: time "
                  f"{r['s'] / (TARGET_S * n / 10_000_000):.2f}x, memory {r['rss'] / (TARGET_BYTES * n / 10_000_000):.2f}x")
            for name, want in injected(n).items():
                got = r["counts"][name]
                print(f"{'':>10} {name:<22} injected {want:>8}  found {got:>8}" +
                      ("" if got == want else "   MISMATCH"))
            shutil.rmtree(run_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    code = os.path.abspath(os.environ.get("PYTHONPATH", ".").split(os.pathsep)[0])
    if "--code" in args:
        i = args.index("--code")
        code = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    main([int(a) for a in args] or [1_000_000, 10_000_000], code)
