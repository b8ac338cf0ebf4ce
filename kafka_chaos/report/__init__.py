"""Renderers of a Verdict: the terminal verdict table and the machine-readable JSON report."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kafka_chaos.history import read_timeline
from kafka_chaos.verify import Verdict

# Counts shown in the verdict table, in order, with what they mean.
SHOWN = [
    ("sent", "records handed to the producer"),
    ("acked", "acknowledged by a broker"),
    ("consumed", "processed by the consumer application"),
    ("lost", "acked, never processed"),
    ("lost_from_log", "  of which gone from the log (broker-side loss)"),
    ("lost_in_log", "  of which in the log, skipped by the consumer"),
    ("duplicates", "log duplicates + reprocessed"),
    ("log_duplicates", "same record at two offsets (producer retries)"),
    ("reprocessed", "same offset processed again (consumer redelivery)"),
    ("reordered", "higher seq at a lower offset, per producer and partition"),
    ("phantoms", "processed, never sent"),
    ("unacked_present", "not acked but in the log (allowed)"),
    ("unacked_missing", "not acked, not in the log (allowed)"),
]
MAX_EVIDENCE_LINES = 12


def load_json(path: Path, default):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return default


def print_verdict(console: Console, verdict: Verdict, run_dir: Path, heals: list[str], scenario) -> None:
    scenario_doc = load_json(Path(run_dir) / "scenario.json", {})
    expect = scenario_doc.get("expect", {})
    name = scenario_doc.get("name", Path(run_dir).name)
    violated = {v["count"] for v in verdict.violations}
    table = Table(title=f"verdict: {name}", title_justify="left")
    for col in ("count", "value", "expect", "", "meaning"):
        table.add_column(col)
    for count, meaning in SHOWN:
        bound = expect.get(count, "—") if count in expect else ""
        bound = "any" if bound is None else str(bound)
        mark = "[red]✗[/]" if count in violated else ("[green]✓[/]" if count in expect else "")
        table.add_row(count, str(verdict.counts.get(count, 0)), bound, mark, meaning)
    console.print(table)
    for line in documented_claims(scenario_doc):
        console.print(f"documented: {line}", highlight=False)
    for v in verdict.violations:
        console.print(f"[red]violated:[/] {v['count']} = {v['value']} (expected at most {v['bound']})")
    if verdict.anomalies:
        console.print("evidence (first records of each anomaly run; full list in --json):")
        for a in verdict.anomalies[:MAX_EVIDENCE_LINES]:
            console.print("  " + evidence_line(a), highlight=False)
        if len(verdict.anomalies) > MAX_EVIDENCE_LINES:
            console.print(f"  … {len(verdict.anomalies) - MAX_EVIDENCE_LINES} more")
    warnings = Path(run_dir) / "warnings.txt"
    if warnings.exists():
        for line in warnings.read_text().splitlines():
            console.print(f"[yellow]warning:[/] {line}", highlight=False)
    skew = fault_skew(read_timeline(run_dir))
    if skew["faults"]:
        console.print(f"fault timing: {skew['faults']} applied, skew mean {skew['mean_s']:.2f} s, "
                      f"max {skew['max_s']:.2f} s (applied minus scheduled)", highlight=False)
    if heals:
        console.print("healed: " + "; ".join(heals), highlight=False)
    console.print(f"run directory: {run_dir}  (re-check: kchaos verify {run_dir})", highlight=False)
    console.print("[green]PASSED[/]: every expectation met" if verdict.passed
                  else "[red]FAILED[/]: an expectation was violated")


def documented_claims(scenario_doc: dict) -> list[str]:
    """What Kafka documents for the run's producer semantic and consumer mode (to compare with the counts)."""
    from kafka_chaos.semantics import GUARANTEES

    keys = [(scenario_doc.get("producer") or {}).get("semantic"), (scenario_doc.get("consumer") or {}).get("mode")]
    return [f"{k}: {GUARANTEES[k]}" for k in keys if k in GUARANTEES]


def fault_skew(entries: list[dict]) -> dict:
    """How late faults were applied compared with their schedule (target resolution, docker calls)."""
    skews = [e["t_applied"] - e["t_scheduled"] for e in entries
             if e.get("event") == "apply" and "t_scheduled" in e and "t_applied" in e]
    return {"faults": len(skews), "mean_s": sum(skews) / len(skews) if skews else 0.0,
            "max_s": max(skews, default=0.0)}


def evidence_line(a: dict) -> str:
    seqs = f"seq {a['seq_first']}" + (f"-{a['seq_last']}" if a["seq_last"] != a["seq_first"] else "")
    where = f" p{a['partition']}" if a.get("partition", -1) is not None and a.get("partition", -1) >= 0 else ""
    if a.get("offsets"):
        o = a["offsets"]
        where += f" offsets {o[0]}" + (f"-{o[1]}" if o[1] != o[0] else "")
    kind = a["type"] + (f" ({a['where']})" if a.get("where") else "")
    near = f"; near {a['near_fault']}" if a.get("near_fault") else ""
    return f"{kind}: producer {a['pid']} {seqs} ({a['records']} record{'' if a['records'] == 1 else 's'}){where} at +{a['t']:.1f}s{near}"


def to_dict(verdict: Verdict, run_dir: Path) -> dict:
    scenario_doc = load_json(Path(run_dir) / "scenario.json", {})
    timeline = read_timeline(run_dir)
    return {"scenario": scenario_doc.get("name", ""), "run_dir": str(run_dir), "passed": verdict.passed,
            "counts": verdict.counts, "expect": scenario_doc.get("expect", {}),
            "violations": verdict.violations, "faults": timeline,
            "fault_skew": fault_skew(timeline), "anomalies": verdict.anomalies}


def write_json(path: Path, verdict: Verdict, run_dir: Path) -> None:
    Path(path).write_text(json.dumps(to_dict(verdict, run_dir), indent=2, default=str) + "\n")
