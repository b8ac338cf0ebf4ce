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


def gate(repo: Path, out: Path):
    env = {**os.environ, "KCHAOS": str(KCHAOS), "KCHAOS_OUT": str(out)}
    # --keep-cluster: the suite's cluster stays for the tests after this one (a CI job lets it go)
    proc = subprocess.run(["bash", str(repo / "examples" / "ci" / "gate.sh"), "--keep-cluster"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=420)
    return proc, json.loads((out / "report.json").read_text())


def test_the_ci_gate_passes_the_shipped_settings_and_blocks_acks_1(healthy, tmp_path):
    repo = tmp_path / "app-repo"
    shutil.copytree(ROOT / "examples" / "ci", repo / "examples" / "ci")
    proc, report = gate(repo, tmp_path / "main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["counts"]["lost"] == 0 and report["counts"]["acked"] > 3000, report["counts"]
    assert "settings: producer from app/producer.properties (acks" in proc.stdout
    assert ET.parse(tmp_path / "main" / "kchaos.xml").getroot().find(".//failure") is None

    props = repo / "examples" / "ci" / "app" / "producer.properties"
    props.write_text(props.read_text().replace("acks=all", "acks=1"))   # the pull request
    proc, report = gate(repo, tmp_path / "pr")
    log = proc.stdout + proc.stderr
    assert proc.returncode == 1, log
    assert report["counts"]["lost"] > 100, report["counts"]
    summary = (tmp_path / "pr" / "summary.md").read_text()
    assert summary.lstrip().startswith("❌") or "❌" in summary.splitlines()[0], summary[:300]
    assert "lost" in summary and "expected at most 0" in summary, summary
    failure = ET.parse(tmp_path / "pr" / "kchaos.xml").getroot().find(".//failure")
    assert failure is not None and "lost = " in failure.get("message"), failure
