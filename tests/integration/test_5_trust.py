"""Verdicts you can trust on the real cluster: loss the consumer did not notice is still loss, and a run
killed before its audit claims nothing it did not measure.

1. (test_7_unclean.py, late in the suite: it recreates the brokers) Unclean leader election truncates
   acknowledged records *after* the consumer processed them.
2. kchaos SIGKILLed mid-workload (a broker paused, workers orphaned): `kchaos verify` says the run is
   incomplete (exit 3) and calls nothing lost; `kchaos heal` unpauses the broker and stops the workers.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest


from kafka_chaos.cluster import metadata
from kafka_chaos.faults import LEDGER, TIMELINE
from kafka_chaos.history import read_timeline
from kafka_chaos.workload import read_status

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose" / "kraft-3.yml"


def kchaos(*args, timeout):
    return subprocess.run([sys.executable, "-m", "kafka_chaos", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def keys(events: np.ndarray, kind: int) -> set[tuple[int, int]]:
    e = events[events["kind"] == kind]
    return set(zip(e["pid"].tolist(), e["seq"].tolist()))


KILLED = """
name: killed-before-audit
duration: 40s
cluster: {compose: %s}
topic: {name: chaos, partitions: 3, replication_factor: 3}
producer: {semantic: at-least-once, rate: 100}
consumer: {mode: commit-after-process, process_time: 1ms}
faults:
  - {at: 3s, action: pause, target: broker(3), duration: 60s}
""" % COMPOSE


def worker_pids(run_dir: Path) -> dict[str, int]:
    return {role: s["pid"] for role, s in read_status(run_dir).items() if "pid" in s}


def alive(pid: int) -> bool:
    """Running (a zombie left for init to reap counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_run_sigkilled_before_its_audit_is_incomplete_and_heal_leaves_nothing_behind(healthy, tmp_path):
    path = tmp_path / "killed-before-audit.yaml"
    path.write_text(KILLED)
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "kafka_chaos", "run", str(path), "--keep-cluster",
                             "--runs", str(runs)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    run_dir, deadline = None, time.time() + 150
    try:
        while time.time() < deadline:   # the pause is in place and records were acknowledged
            timelines = list(runs.glob(f"*/{TIMELINE}"))
            if timelines:
                run_dir = timelines[0].parent
                paused = [e for e in read_timeline(run_dir)
                          if e["event"] == "apply" and e["action"] == "pause" and e["ok"]]
                acked = sum(s.get("acked", 0) for role, s in read_status(run_dir).items()
                            if role.startswith("producer"))
                if paused and acked >= 100 and "consumer-0" in worker_pids(run_dir):
                    break
            if proc.poll() is not None:
                pytest.fail(f"kchaos ended before the fault was applied: {proc.stdout.read()}")
            time.sleep(0.5)
        else:
            pytest.fail("the pause was never applied with records acknowledged")
    finally:
        proc.kill()   # SIGKILL kchaos only: its workers run in their own sessions and live on
        proc.wait(timeout=30)
    pids = worker_pids(run_dir)
    assert any(alive(p) for p in pids.values()), f"the workers outlive kchaos: {pids}"
    assert healthy.state(3) == "paused"
    assert not (run_dir / "history" / "audit-0.bin").exists()

    healed = kchaos("heal", run_dir, timeout=120)
    assert healed.returncode == 0, healed.stdout + healed.stderr
    assert "unpause broker 3" in healed.stdout and "stop orphan worker" in healed.stdout, healed.stdout
    deadline = time.time() + 30
    while time.time() < deadline and any(alive(p) for p in pids.values()):
        time.sleep(0.2)
    assert not [r for r, p in pids.items() if alive(p)], "no orphan worker survives kchaos heal"
    assert all(healthy.state(b) == "running" for b in healthy.broker_ids)
    assert json.loads((run_dir / LEDGER).read_text()) == []

    # the history is final now (no worker writes to it): verify it without an audit
    report_path = tmp_path / "report.json"
    out = kchaos("verify", run_dir, "--json", report_path, timeout=120)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "incomplete" in out.stdout and "audit" in out.stdout, out.stdout
    report = json.loads(report_path.read_text())
    c = report["counts"]
    print(f"\nkilled-before-audit: counts {c}; incomplete {report['incomplete']}")
    assert report["complete"] is False and not report["passed"]
    assert any("audit" in reason for reason in report["incomplete"]), report["incomplete"]
    assert c["acked"] >= 100
    assert c["lost"] == 0 and c["lost_from_log"] == 0 and c["lost_in_log"] == 0, \
        "nothing is called lost without an audit of the log"
    assert c["unaudited"] >= 0
    assert report["violations"] == []
    metadata.wait_ready(healthy, timeout=120)
