"""`kchaos run` end to end on the real cluster: the verdicts Kafka's documentation predicts.

Both directions: no loss is reported where Kafka guarantees none, and loss is found where the
configuration allows it. Shipped scenarios that fault brokers are asserted in test_6_beside.py (they run on the
second cluster in the background, side by side with these tests).
"""

import json
import signal
import subprocess
import sys
import time

import pytest

from kafka_chaos import netfaults, runner, scenario
from kafka_chaos.cluster import metadata
from kafka_chaos.faults import LEDGER, TIMELINE, Ledger
from kafka_chaos.history import read_timeline
from kafka_chaos.workload import read_status

from .conftest import ROOT


def applied(timeline, action):
    return [e for e in timeline if e["event"] == "apply" and e["action"] == action and e["ok"]]


PAUSE_LONG = """
name: interrupted
duration: 40s
cluster: {compose: %s}
topic: {name: chaos, partitions: 3, replication_factor: 3}
producer: {semantic: at-least-once, rate: 50}
consumer: {mode: commit-after-process, process_time: 1ms}
faults:
  - {at: 1s, action: pause, target: broker(2), duration: 60s}
  - {at: 1s, action: isolate, target: broker(3)}
""" % (ROOT / "compose" / "kraft-3.yml")


def start_kchaos(tmp_path):
    path = tmp_path / "interrupted.yaml"
    path.write_text(PAUSE_LONG)
    proc = subprocess.Popen([sys.executable, "-m", "kafka_chaos", "run", str(path), "--keep-cluster",
                             "--runs", str(tmp_path / "runs")], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:   # both faults fully in place: their apply events are in the timeline
        timelines = list((tmp_path / "runs").glob(f"*/{TIMELINE}"))
        done = read_timeline(timelines[0].parent) if timelines else []
        if len(applied(done, "pause") + applied(done, "isolate")) == 2:
            return proc, timelines[0].parent
        time.sleep(0.5)
    proc.kill()
    pytest.fail(f"the faults were never applied: {proc.stdout.read()}")


def test_sigterm_mid_fault_heals_before_exit(healthy, tmp_path):
    proc, run_dir = start_kchaos(tmp_path)
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert healthy.state(2) == "running", out
    assert "KC" not in netfaults.listing(healthy.container_name(3)), out
    assert json.loads((run_dir / LEDGER).read_text()) == []
    assert "healed" in out


def test_kchaos_heal_restores_a_cluster_after_kchaos_was_sigkilled(healthy, tmp_path):
    proc, run_dir = start_kchaos(tmp_path)
    proc.kill()
    proc.wait()
    assert healthy.state(2) == "paused"
    assert "KC" in netfaults.listing(healthy.container_name(3))
    out = subprocess.run([sys.executable, "-m", "kafka_chaos", "heal", str(run_dir)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "stop orphan worker producer-0" in out.stdout and "stop orphan worker consumer-0" in out.stdout
    assert "2 fault(s) healed, 2 orphan worker(s) stopped" in out.stdout
    assert healthy.state(2) == "running"
    assert "KC" not in netfaults.listing(healthy.container_name(3)), "no iptables rule may be left"
    metadata.wait_ready(healthy, timeout=120)


LIVE = """
name: live-cluster
duration: 12s
cluster:
  bootstrap: %s
  containers: {1: %s, 2: %s, 3: %s}
topic: {name: chaos, partitions: 3, replication_factor: 3, config: {min.insync.replicas: "2"}}
producer: {semantic: at-least-once, rate: 200}
consumer: {mode: commit-after-process, process_time: 1ms}
faults:
  - {at: 2s, action: pause, target: "leader(chaos,0)", duration: 4s}
  - {at: 7s, action: isolate, target: "broker(3)", duration: 3s}
expect: {lost: 0, phantoms: 0}
"""


def test_run_against_live_containers_it_did_not_start(healthy, tmp_path, monkeypatch):
    """`cluster: {bootstrap, containers}`: kchaos faults and heals containers it was pointed at, and leaves them up."""
    monkeypatch.chdir(tmp_path)
    names = [healthy.container_name(b) for b in (1, 2, 3)]
    path = tmp_path / "live.yaml"
    path.write_text(LIVE % (healthy.bootstrap, *names))
    result = runner.run(scenario.load(path), runs_dir=tmp_path / "runs")   # no --keep-cluster: it is not ours
    timeline = read_timeline(result.run_dir)
    assert applied(timeline, "pause") and applied(timeline, "isolate"), timeline
    assert Ledger(result.run_dir).entries() == []
    c = result.verdict.counts
    assert c["acked"] > 1000 and c["lost"] == 0 and c["phantoms"] == 0, c
    assert result.verdict.passed
    assert all(healthy.state(b) == "running" for b in (1, 2, 3)), "a live cluster is never taken down"
    assert "KC" not in netfaults.listing(names[2])


RESTART_DURING_CUT = """
name: restart-during-cut
duration: 20s
cluster: {compose: %s}
topic: {name: chaos, partitions: 3, replication_factor: 3, config: {min.insync.replicas: "2"}}
producer: {semantic: at-least-once, rate: 100}
consumer: {mode: commit-after-process, process_time: 1ms}
faults:
  - {at: 2s, action: isolate-clients, target: broker(1), duration: 14s}
  - {at: 2s, action: isolate-clients, target: broker(2), duration: 14s}
  - {at: 3s, action: crash, target: producer, duration: 1s}
  - {at: 3s, action: crash, target: consumer, duration: 1s}
expect: {lost: 0, phantoms: 0}
""" % (ROOT / "compose" / "kraft-3.yml")


def test_workers_restarted_while_a_broker_is_cut_off_bootstrap_from_the_others(healthy, tmp_path, monkeypatch):
    """kafka-python bootstraps from one random address and fails if clients cannot reach that broker
    (here 2 of 3); the restarted workers must come up anyway: they try each address in turn."""
    monkeypatch.chdir(ROOT)
    path = tmp_path / "restart.yaml"
    path.write_text(RESTART_DURING_CUT)
    result = runner.run(scenario.load(path), runs_dir=tmp_path / "runs", keep_cluster=True)
    timeline = read_timeline(result.run_dir)
    restarts = [e for e in timeline if e["action"] == "restart-worker" and e["ok"]]
    assert len(restarts) == 2 and len(applied(timeline, "isolate-clients")) == 2, timeline
    status = read_status(result.run_dir)
    assert status["producer-1"]["acked"] > 0 and status["consumer-1"]["processed"] > 0, status
    assert result.verdict.counts["lost"] == 0 and result.verdict.passed
