"""Launch to first ack and whole-run overhead of `kchaos run`, warm and cold: prints figures, asserts nothing.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/run_overhead.py [--rounds 3] [--duration 20] [--cold] \
        [--project kchaos --port-base 19092]

Run it from the root of the checkout to measure. Each round runs a fault-free scenario of `--duration` seconds (3 partitions, RF 3, 200 records/s acks=all,
commit-after-process with process_time 0) as `python -m kafka_chaos run` in a fresh runs folder, and reads:
  launch to first ack   the first ACK event's time in the run's history minus the moment the command started
  overhead              the command's wall time minus the scenario's duration, split into
    start                 launch to the run's clock start (meta.json t0: cluster checked, topic made, consumer in its group)
    end                   the clock's deadline (t0 + duration) to the command's exit (heal, flush, drain, audit, verdict)
Warm (default): the cluster of --project/--port-base is brought up once before the first round and every run
keeps it (--keep-cluster). Cold (--cold): the cluster is taken down before each round and the run starts and
removes it, as `kchaos run` does by default. Prints min/median/max over the rounds, and the median wall time
over the duration (the reference: a run that cost nothing beyond its scenario would be 1.00x).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kafka_chaos import history

REPO = Path.cwd()   # the checkout measured: run from its root (its kafka_chaos is the one `-m` imports)
SCENARIO = """name: overhead
description: no faults, for timing what a run costs beyond its scenario
seed: 1
duration: {duration}s
drain_timeout: 60s
cluster:
  compose: {compose}
topic: {{name: overhead, partitions: 3, replication_factor: 3, config: {{min.insync.replicas: "2"}}}}
producer:
  semantic: at-least-once
  rate: 200
consumer:
  mode: commit-after-process
  process_time: 0
expect: {{lost: 0, phantoms: 0, duplicates: any, reordered: any}}
"""


def kchaos(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kafka_chaos", *args], cwd=REPO, **kw)


def one_round(scenario: Path, runs: Path, cluster: list[str], keep: bool) -> tuple[float, float, float, int]:
    """(launch to first ack s, wall s, launch to t0 s, exit code) of one `kchaos run`."""
    start = time.time()
    done = kchaos("run", str(scenario), "--runs", str(runs), *cluster, *(["--keep-cluster"] if keep else []),
                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.time() - start
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    acks = [ev["t"][ev["kind"] == history.ACK] for ev in map(history.read_file, (run_dir / "history").glob("producer-*.bin"))]
    first = min((float(a.min()) for a in acks if len(a)), default=float("nan"))
    t0 = json.loads((run_dir / "meta.json").read_text())["t0"]
    if done.returncode:
        print(f"  (exit {done.returncode}: {done.stderr.strip().splitlines()[-1:] or 'no output'})", flush=True)
    return first - start, wall, t0 - start, done.returncode


def spread(values: list[float]) -> str:
    return f"{min(values):7.2f} {statistics.median(values):7.2f} {max(values):7.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=20, help="scenario seconds")
    ap.add_argument("--cold", action="store_true", help="each run starts (and removes) the cluster")
    ap.add_argument("--project", default=None, help="compose project (default: kchaos's own default)")
    ap.add_argument("--port-base", type=int, default=None, help="first host port of the cluster")
    a = ap.parse_args()
    cluster = [*(["--project", a.project] if a.project else []),
               *(["--port-base", str(a.port_base)] if a.port_base else [])]
    with tempfile.TemporaryDirectory(prefix="kchaos-overhead-") as tmp:
        scenario = Path(tmp) / "overhead.yaml"
        scenario.write_text(SCENARIO.format(duration=a.duration, compose=REPO / "compose" / "kraft-3.yml"))
        if not a.cold:
            kchaos("cluster", "up", *cluster, check=True, stdout=subprocess.DEVNULL)
        firsts, walls, starts = [], [], []
        for i in range(a.rounds):
            if a.cold:
                kchaos("cluster", "down", *cluster, check=True, stdout=subprocess.DEVNULL)
            runs = Path(tmp) / f"runs-{i}"
            runs.mkdir()
            first, wall, begun, _ = one_round(scenario, runs, cluster, keep=not a.cold)
            print(f"round {i + 1}: launch to first ack {first:.2f} s, wall {wall:.2f} s, overhead "
                  f"{wall - a.duration:.2f} s (start {begun:.2f}, end {wall - begun - a.duration:.2f})", flush=True)
            firsts.append(first)
            walls.append(wall)
            starts.append(begun)
    kind = "cold (the run starts and removes the cluster)" if a.cold else "warm (cluster running)"
    print(f"{kind}, {a.duration} s scenario, {a.rounds} rounds; seconds")
    print(f"{'':>24} {'min':>7} {'median':>7} {'max':>7}")
    print(f"{'launch to first ack':>24} {spread(firsts)}")
    print(f"{'whole-run overhead':>24} {spread([w - a.duration for w in walls])}")
    print(f"{'  start (launch to t0)':>24} {spread(starts)}")
    print(f"{'  end (deadline to exit)':>24} {spread([w - b - a.duration for w, b in zip(walls, starts)])}")
    print(f"wall / duration (median): {statistics.median(walls) / a.duration:.2f}x")


if __name__ == "__main__":
    main()
