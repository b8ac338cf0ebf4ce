"""`kchaos matrix` on the real cluster: 2 scenarios × 2 settings are 4 cells, one violated on purpose, run two at a
time (--parallel 2: the second cluster, its own project and ports)."""

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from .conftest import ROOT

# an at-most-once consumer that dies right after a commit (its crash point), before processing the batch it
# committed: those records are lost in the log every run, so `expect.lost=0` fails
SKIPS = """name: skips
seed: 5
duration: 6s
cluster: {compose: compose/kraft-3.yml}
topic: {name: chaos, partitions: 3, replication_factor: 3, config: {min.insync.replicas: "2"}}
producer: {semantic: at-least-once, rate: 200}
consumer: {mode: commit-before-process, process_time: 1ms}
faults:
  - {at: 2s, action: crash, target: consumer, point: after-commit, duration: 1s}
expect: {lost: any}
"""
# no fault: nothing is lost whatever the bound
CALM = """name: calm
seed: 5
duration: 6s
cluster: {compose: compose/kraft-3.yml}
topic: {name: chaos, partitions: 3, replication_factor: 3, config: {min.insync.replicas: "2"}}
producer: {semantic: idempotent, rate: 200}
consumer: {mode: commit-after-process, process_time: 1ms}
expect: {lost: any}
"""


def matrix(tmp_path, tag, *extra):
    out_dir = tmp_path / tag
    out_dir.mkdir()
    args = [sys.executable, "-m", "kafka_chaos", "matrix", tmp_path / "skips.yaml", tmp_path / "calm.yaml",
            "--set", "expect.lost=0,any", "--keep-cluster", "--runs", out_dir / "runs",
            "--json", out_dir / "m.json", "--junit", out_dir / "m.xml", "--markdown", out_dir / "m.md", *extra]
    proc = subprocess.run(list(map(str, args)), cwd=ROOT, capture_output=True, text=True, timeout=600)
    cells = {(c["scenario"], c["settings"]): c for c in json.loads((out_dir / "m.json").read_text())}
    return proc, cells, out_dir


def verdicts(cells):
    return {k: (c["exit_code"], c["report"]["counts"]["lost"] > 0) for k, c in cells.items()}


def test_a_matrix_runs_every_cell_prints_a_grid_and_fails_when_one_cell_fails(healthy, second_cluster, tmp_path):
    """With --parallel 2: slot 1 runs on the second cluster (kchaos-1, ports 19192-19194), slot 0 on the first.
    (The serial path, --parallel 1, runs in conftest's `beside` matrix.)"""
    (tmp_path / "skips.yaml").write_text(SKIPS)
    (tmp_path / "calm.yaml").write_text(CALM)
    proc, cells, out_dir = matrix(tmp_path, "parallel", "--parallel", "2")
    log = proc.stdout + proc.stderr
    assert proc.returncode == 1, log
    assert verdicts(cells) == {("skips", "expect.lost=0"): (1, True), ("skips", "expect.lost=any"): (0, True),
                               ("calm", "expect.lost=0"): (0, False), ("calm", "expect.lost=any"): (0, False)}, log
    assert "FAIL lost" in log and log.count("PASS lost") >= 3, log
    suite = ET.parse(out_dir / "m.xml").getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) == 4 and len(suite.findall(".//failure")) == 1 and not suite.findall(".//error")
    assert "lost = " in suite.find(".//failure").get("message")
    assert (out_dir / "m.md").read_text().count("\n") > 10
    brokers = {json.loads((Path(c["report"]["run_dir"]) / "meta.json").read_text())["bootstrap"] for c in cells.values()}
    assert brokers == {second_cluster.bootstrap, "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"}, brokers
