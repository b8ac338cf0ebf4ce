"""Fault skew: how late each action lands (applied minus scheduled) over a scenario of many faults.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/fault_skew.py --project kchaos-f --port-base 19592 [--runs DIR]

Writes a scenario of 44 faults a second or so apart (pause, kill, isolate of leader(chaos,0), split,
loss, bandwidth, isolate-clients; each healed after its duration), runs it with `kchaos run
--keep-cluster` on that compose project (started if it is not up), reads the run's timeline.jsonl and
prints, per action (automatic heals included): count, failures, p50/p99/max of applied minus scheduled,
the engine's own time (applied minus started), and p99 over the target (100 ms for container actions,
250 ms for network faults). `--run-dir DIR` only reads an existing run. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CONTAINER = ("pause", "unpause", "kill", "stop", "start")
TARGET_S = {a: 0.100 for a in CONTAINER}   # every other (network) action: 0.250

# (action, target, extra fields, duration s); the cycle repeats, one fault every GAP seconds
CYCLE = [("pause", "random", "", 1.0),
         ("isolate", "leader(chaos,0)", "", 1.0),
         ("loss", "random", ", probability: 0.2", 1.0),
         ("split", None, ", groups: [[1], [2, 3]]", 1.0),
         ("bandwidth", "random", ", rate: 1mbit", 1.0),
         ("isolate-clients", "broker(2)", "", 1.0),
         ("pause", "leader(chaos,1)", "", 1.0),
         ("isolate", "leader(chaos,2)", "", 1.0),
         ("kill", "broker(3)", "", 2.0),
         ("loss", "leader(chaos,0)", ", probability: 0.1", 1.0),
         ("isolate", "random", "", 1.0)]
FAULTS, GAP, START = 44, 1.3, 3.0


def scenario_text() -> str:
    lines = []
    for i in range(FAULTS):
        action, target, extra, duration = CYCLE[i % len(CYCLE)]
        where = f", target: \"{target}\"" if target else ""
        lines.append(f"  - {{at: {START + i * GAP:.1f}s, action: {action}{where}{extra}, duration: {duration}s}}")
    duration = START + FAULTS * GAP + 3
    return (f"name: fault-skew\nseed: 1\nduration: {duration:.0f}s\n"
            f"cluster: {{compose: {ROOT / 'compose' / 'kraft-3.yml'}}}\n"
            "topic: {name: chaos, partitions: 3, replication_factor: 3, config: {min.insync.replicas: \"2\"}}\n"
            "producer: {semantic: at-least-once, rate: 50}\n"
            "consumer: {mode: commit-after-process, process_time: 1ms}\n"
            "faults:\n" + "\n".join(lines) + "\n"
            "expect: {lost: any, log_duplicates: any, reordered: any, phantoms: any, reprocessed: any}\n")


def run(project: str, port_base: int, runs: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fault-skew.yaml"
        path.write_text(scenario_text())
        before = set(runs.glob("*-fault-skew")) if runs.is_dir() else set()
        subprocess.run([sys.executable, "-m", "kafka_chaos", "run", str(path), "--runs", str(runs), "--keep-cluster",
                        "--project", project, "--port-base", str(port_base)], check=False)
    new = sorted(set(runs.glob("*-fault-skew")) - before)
    if not new:
        sys.exit("the run left no run directory")
    return new[-1]


def table(run_dir: Path) -> None:
    rows: dict[str, list[tuple[float, float, bool]]] = {}
    for line in (run_dir / "timeline.jsonl").read_text().splitlines():
        e = json.loads(line)
        if e.get("final") or "t_scheduled" not in e or "t_applied" not in e:
            continue
        rows.setdefault(e["action"], []).append((e["t_applied"] - e["t_scheduled"],
                                                 e["t_applied"] - e.get("t_started", e["t_scheduled"]), e["ok"]))
    print(f"run: {run_dir}")
    print(f"{'action':<16}{'n':>4}{'failed':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'engine p50':>11}"
          f"{'target ms':>10}{'p99/target':>11}")
    for action in sorted(rows):
        skew = np.array([r[0] for r in rows[action]]) * 1000
        own = np.array([r[1] for r in rows[action]]) * 1000
        target = TARGET_S.get(action, 0.250) * 1000
        p99 = np.percentile(skew, 99)
        print(f"{action:<16}{len(skew):>4}{sum(not r[2] for r in rows[action]):>7}{np.percentile(skew, 50):>9.0f}"
              f"{p99:>9.0f}{skew.max():>9.0f}{np.percentile(own, 50):>11.0f}{target:>10.0f}{p99 / target:>11.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default="kchaos-f")
    ap.add_argument("--port-base", type=int, default=19592)
    ap.add_argument("--runs", type=Path, default=Path(tempfile.gettempdir()) / "kchaos-fault-skew")
    ap.add_argument("--run-dir", type=Path, help="only read this run's timeline")
    a = ap.parse_args()
    table(a.run_dir or run(a.project, a.port_base, a.runs))


if __name__ == "__main__":
    main()
