"""`kchaos matrix` on the real cluster: 2 scenarios × 2 settings are 4 cells, one violated on purpose; the
same matrix with --parallel 2 (a second cluster on its own project and ports) gives the same verdicts."""

import json
import subprocess
import sys
from xml.etree import ElementTree as ET

from kafka_chaos.cluster import ComposeCluster

from .conftest import COMPOSE, ROOT

# an at-most-once consumer crashed while it is always mid-batch (it processes 200 records/s, as many as are
# produced): the records committed but not processed are lost in the log every run, so `expect.lost=0` fails
SKIPS = """name: skips
seed: 5
duration: 10s
drain_timeout: 60s
cluster: {compose: compose/kraft-3.yml}
topic: {name: chaos, partitions: 3, replication_factor: 3, config: {min.insync.replicas: "2"}}
producer: {semantic: at-least-once, rate: 200}
consumer: {mode: commit-before-process, process_time: 5ms}
faults:
  - {at: 4s, action: crash, target: consumer, duration: 2s}
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
SLOT_1 = ("kchaos-1", 19192)   # where --parallel 2 puts its second cluster (matrix.placements)


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


def test_a_matrix_runs_every_cell_prints_a_grid_and_fails_when_one_cell_fails(healthy, tmp_path):
    (tmp_path / "skips.yaml").write_text(SKIPS)
    (tmp_path / "calm.yaml").write_text(CALM)
    proc, cells, out_dir = matrix(tmp_path, "serial")
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

    try:
        proc2, cells2, _ = matrix(tmp_path, "parallel", "--parallel", "2")
        assert proc2.returncode == 1, proc2.stdout + proc2.stderr
        assert verdicts(cells2) == verdicts(cells), proc2.stdout + proc2.stderr
        assert {c["report"]["run_dir"].split("/")[-1].split("-", 2)[-1] for c in cells2.values()} == {"skips", "calm"}
    finally:
        ComposeCluster(COMPOSE, project=SLOT_1[0], port_base=SLOT_1[1]).down()
