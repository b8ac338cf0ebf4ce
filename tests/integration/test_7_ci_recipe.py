"""docs/ci.md's recipe, exactly as written: examples/ci/gate.sh on the application's producer.properties as
shipped (acks=all: exit 0) and as a pull request changes it (acks=1: exit 1, the summary says what was lost)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from .conftest import ROOT

KCHAOS = Path(sys.executable).parent / "kchaos"


def gate(repo: Path, out: Path, *where: str) -> subprocess.Popen:
    env = {**os.environ, "KCHAOS": str(KCHAOS), "KCHAOS_OUT": str(out)}
    # --keep-cluster: the suite's clusters stay for the tests after this one (a CI job lets them go)
    return subprocess.Popen(["bash", str(repo / "examples" / "ci" / "gate.sh"), "--keep-cluster", *where], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finished(proc: subprocess.Popen, out: Path):
    log, _ = proc.communicate(timeout=420)
    return proc.returncode, log, json.loads((out / "report.json").read_text())


def test_the_ci_gate_passes_the_shipped_settings_and_blocks_acks_1(healthy, second_cluster, tmp_path):
    main, pr = tmp_path / "main-repo", tmp_path / "pr-repo"
    for repo in (main, pr):
        shutil.copytree(ROOT / "examples" / "ci", repo / "examples" / "ci")
    props = pr / "examples" / "ci" / "app" / "producer.properties"
    props.write_text(props.read_text().replace("acks=all", "acks=1"))   # the pull request
    # the two gates side by side, each on its own cluster (the pull request's on the second one)
    running = [gate(main, tmp_path / "main"),
               gate(pr, tmp_path / "pr", "--project", second_cluster.project, "--port-base", str(second_cluster.port_base))]
    code, log, report = finished(running[0], tmp_path / "main")
    assert code == 0, log
    assert report["counts"]["lost"] == 0 and report["counts"]["acked"] > 2000, report["counts"]
    assert "settings: producer from app/producer.properties (acks" in log
    assert ET.parse(tmp_path / "main" / "kchaos.xml").getroot().find(".//failure") is None

    code, log, report = finished(running[1], tmp_path / "pr")
    assert code == 1, log
    assert report["counts"]["lost"] > 100, report["counts"]
    summary = (tmp_path / "pr" / "summary.md").read_text()
    assert summary.lstrip().startswith("❌") or "❌" in summary.splitlines()[0], summary[:300]
    assert "lost" in summary and "expected at most 0" in summary, summary
    failure = ET.parse(tmp_path / "pr" / "kchaos.xml").getroot().find(".//failure")
    assert failure is not None and "lost = " in failure.get("message"), failure
