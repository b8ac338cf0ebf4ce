"""The verifier gives the same counts and evidence as the verifier of before the streaming rewrite (golden
verdicts in tests/data/verify_golden.json, made by tests/verify_cases.py), in memory and from a run directory."""

import json

import pytest

from kafka_chaos import history
from kafka_chaos.verify import verify, verify_run_dir
from verify_cases import GOLDEN, cases

CASES = cases()
GOLDEN_VERDICTS = json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_verdict_as_the_golden_one(name):
    assert json.loads(json.dumps(verify(**CASES[name]).to_dict())) == GOLDEN_VERDICTS[name]


def write_run(run_dir, kw):
    """A run directory holding case `kw`; None when a scenario cannot express its effects."""
    effects, txn = kw.get("effects"), kw.get("transactional", False)
    scenario = {"name": "golden", "expect": kw["expect"],
                "producer": {"semantic": "transactional" if txn else "at-least-once"}}
    audit = {"complete": kw["audited"]}
    if effects:
        if effects.get("promise") is not None:
            if txn:
                return None
            scenario["producer"]["semantic"] = "outbox"
            audit["outbox"] = {"complete": True}
        section = "copier" if effects["stream"] == history.OUTPUT else "sink"
        scenario[section] = {"dedup": effects["per_id"]}
        audit["output" if section == "copier" else "effects"] = {"complete": effects["complete"]}
    (run_dir / "history").mkdir()
    for i, (role, events) in enumerate(kw["histories"].items()):
        events.tofile(run_dir / "history" / f"{role}-{i}.bin")
    (run_dir / "scenario.json").write_text(json.dumps(scenario))
    (run_dir / "meta.json").write_text(json.dumps({"t0": kw.get("t0", 0.0)}))
    (run_dir / "audit.json").write_text(json.dumps(audit))
    (run_dir / "timeline.jsonl").write_text("".join(json.dumps(e) + "\n" for e in kw["timeline"]))
    (run_dir / "warnings.txt").write_text("".join(w + "\n" for w in kw.get("warnings", [])))
    return sorted(kw["histories"])   # the order a run directory's files are read in


@pytest.mark.parametrize("name", [n for n in sorted(CASES) if n.startswith("seed-")][::3])
def test_a_run_directory_gives_the_in_memory_verdict(tmp_path, name):
    kw = dict(CASES[name])
    order = write_run(tmp_path, kw)
    if order is None:
        pytest.skip("a scenario cannot declare an outbox with transactions")
    kw["histories"] = {role: kw["histories"][role] for role in order}
    want = verify(**kw).to_dict()
    assert verify_run_dir(tmp_path, max_evidence=kw["max_evidence"]).to_dict() == want
