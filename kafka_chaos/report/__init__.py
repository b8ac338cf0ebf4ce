"""Renderers of a Verdict: the terminal verdict table and the machine-readable JSON report (JUnit XML and
Markdown live beside it in junit.py and markdown.py)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rich.markup import escape

from kafka_chaos.counts import COUNTS
from kafka_chaos.history import read_timeline
from kafka_chaos.errors import KchaosError, UsageError
from kafka_chaos.report import status
from kafka_chaos.rundir import read_object
from kafka_chaos.verify import Verdict

# Counts shown in the verdict table: every measured count, in the table's order; the breakdowns indented.
SHOWN = [(name, ("  " if name in ("lost_from_log", "lost_in_log", "log_duplicates", "reprocessed") else "") + meaning)
         for name, meaning in COUNTS.items()]
MAX_EVIDENCE_LINES = 12
MAX_NAMES = 60   # settings names shown per role


def load_json(path: Path, default):
    """A JSON object of the run directory (bounded; see rundir.read_object), or `default` if unreadable."""
    try:
        return read_object(Path(path), Path(path).name, required=False) or default
    except KchaosError:
        return default


def print_verdict(console: Console, verdict: Verdict, run_dir: Path, heals: list[str], scenario) -> None:
    """The verdict table, the documented claim, violations, evidence, warnings and the one-line outcome.
    Every string that comes from the scenario or the run directory is escaped (it may hold [markup])."""
    scenario_doc = load_json(Path(run_dir) / "scenario.json", {})
    name = scenario_name(run_dir, scenario_doc)
    table = Table(title=f"verdict: {escape(name)}", title_justify="left")
    for col in ("count", "value", "expect", "", "meaning"):
        table.add_column(col)
    marks = {PASS: "[green]✓[/]", FAIL: "[red]✗[/]", "": ""}
    for count, value, bound, mark, meaning in verdict_rows(verdict, scenario_doc):
        table.add_row(count, value, escape(bound), marks[mark], meaning)
    console.print(table)
    say = lambda text: console.print(text, highlight=False)  # noqa: E731
    for line in settings_lines(scenario_doc):
        say(escape(line))
    for line in documented_claims(scenario_doc):
        say(f"documented: {escape(line)}")
    for v in verdict.violations:
        say(f"[red]violated:[/] {escape(violation_line(v))}")
    if verdict.anomalies:
        say("evidence (first records of each anomaly run; full list in --json):")
        for a in verdict.anomalies[:MAX_EVIDENCE_LINES]:
            say("  " + escape(evidence_line(a)))
        if len(verdict.anomalies) > MAX_EVIDENCE_LINES:
            say(f"  … {len(verdict.anomalies) - MAX_EVIDENCE_LINES} more")
    for line in verdict.warnings:
        say(f"[yellow]warning:[/] {escape(line)}")
    skew = fault_skew(read_timeline(run_dir))
    if skew["faults"]:
        say(f"fault timing: {skew['faults']} applied, skew mean {skew['mean_s']:.2f} s, "
            f"max {skew['max_s']:.2f} s (applied minus scheduled)")
    if heals:
        say("healed: " + escape("; ".join(heals)))
    say(f"run directory: {escape(str(run_dir))}  (re-check: kchaos verify {escape(str(run_dir))})")
    for reason in verdict.incomplete:
        say(f"[yellow]incomplete:[/] {escape(reason)}")
    say(outcome(verdict))


OUTCOMES = {status.VIOLATED: "[red]FAILED[/]: an expectation was violated",
            status.INCOMPLETE: "[yellow]INCOMPLETE[/]: not every count could be measured, so this run proves "
                               "nothing (exit 3)",
            status.PASSED: "[green]PASSED[/]: every expectation met"}

PASS, FAIL = "✓", "✗"


def verdict_rows(verdict: Verdict, scenario_doc: dict) -> list[tuple[str, str, str, str, str]]:
    """(count, value, expected bound, PASS/FAIL/"" , meaning) per SHOWN count: the one source of every
    verdict table (terminal, HTML). The bound is the scenario's text, unescaped."""
    expect = expect_of(scenario_doc)
    violated = {v["count"] for v in verdict.violations}
    rows = []
    for count, meaning in SHOWN:
        bound = ("any" if expect[count] is None else str(expect[count])) if count in expect else ""
        mark = FAIL if count in violated else (PASS if count in expect else "")
        rows.append((count, str(verdict.counts.get(count, 0)), bound, mark, meaning))
    return rows


def outcome(verdict: Verdict) -> str:
    """The last line, decided by status.of (as the exit code is)."""
    return OUTCOMES[status.of(verdict)]


def scenario_name(run_dir: Path, scenario_doc: dict | None = None) -> str:
    """The scenario's name as the run directory recorded it (untrusted text), else the directory's name."""
    doc = load_json(Path(run_dir) / "scenario.json", {}) if scenario_doc is None else scenario_doc
    return str(doc.get("name") or Path(run_dir).name)


def expect_of(scenario_doc: dict) -> dict:
    """scenario.json's expect mapping ({} if it has another shape: the verifier already refused that)."""
    return scenario_doc.get("expect") if isinstance(scenario_doc.get("expect"), dict) else {}


def violation_line(v: dict) -> str:
    return f"{v['count']} = {v['value']} (expected at most {v['bound']})"


def run_seconds(run_dir: Path) -> float | None:
    """How long the run lasted: meta.json's t0 to the last time the run directory recorded (a worker's
    status, a fault or heal in the timeline); None when either end is unknown."""
    from kafka_chaos.workload import read_status

    t0 = load_json(Path(run_dir) / "meta.json", {}).get("t0")
    ends = [e.get("t_applied") for e in read_timeline(run_dir)]
    ends += [s.get("t") for s in read_status(run_dir).values()]
    ends = [t for t in ends if _number(t)]
    if not _number(t0) or not ends or max(ends) < t0:
        return None
    return float(max(ends) - t0)


def write_text(path: Path, text: str, flag: str) -> None:
    """Write a report file; a path that cannot be written is a UsageError naming the flag (exit 2)."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{flag} {path}: cannot write ({e.strerror or e})") from None


def settings_lines(scenario_doc: dict) -> list[str]:
    """`settings: producer from FILE (keys)` for each role whose settings came from a config_file (names only,
    never values: no secret is shown); scenario.json is untrusted, so only short lists of text are shown."""
    lines = []
    for role in ("producer", "consumer"):
        section = scenario_doc.get(role)
        source = section.get("settings_file") if isinstance(section, dict) else None
        if not isinstance(source, dict) or not isinstance(source.get("path"), str):
            continue
        names = lambda key: [k for k in source.get(key) or [] if isinstance(k, str)][:MAX_NAMES]  # noqa: E731
        keys, ignored = names("keys"), names("ignored")
        line = f"settings: {role} from {source['path'][:200]} ({', '.join(keys) or 'no keys'})"
        lines.append(line + (f"; ignored (the run's own): {', '.join(ignored)}" if ignored else ""))
    return lines


def documented_claims(scenario_doc: dict) -> list[str]:
    """What Kafka documents for the run's producer semantic and consumer mode (to compare with the counts)."""
    from kafka_chaos.semantics import COPIER_CLAIMS, GUARANTEES, SINK_CLAIMS

    sections = [scenario_doc.get("producer"), scenario_doc.get("consumer")]
    keys = [s.get(k) for s, k in zip(sections, ("semantic", "mode")) if isinstance(s, dict)]
    claims = [f"{k}: {GUARANTEES[k]}" for k in keys if isinstance(k, str) and k in GUARANTEES]
    copier = scenario_doc.get("copier")
    text = lambda v: v if isinstance(v, str) else None  # noqa: E731 - scenario.json is untrusted: no lists as keys
    if isinstance(copier, dict):
        variant = (text(copier.get("on_abort")), text(copier.get("offsets")))
        claims.append("copier: " + COPIER_CLAIMS.get(variant, COPIER_CLAIMS[("seek", "transaction")]))
    sink = scenario_doc.get("sink")
    if isinstance(sink, dict):
        claims.append("sink: " + SINK_CLAIMS.get(text(sink.get("offsets")), SINK_CLAIMS["database"])
                      + (" (this sink dedups by record id)" if sink.get("dedup") is True else ""))
    return claims



def fault_skew(entries: list[dict]) -> dict:
    """How late faults were applied compared with their schedule (target resolution, docker calls)."""
    skews = [e["t_applied"] - e["t_scheduled"] for e in entries
             if e.get("event") == "apply" and _number(e.get("t_scheduled")) and _number(e.get("t_applied"))]
    return {"faults": len(skews), "mean_s": sum(skews) / len(skews) if skews else 0.0,
            "max_s": max(skews, default=0.0)}


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e15


def evidence_line(a: dict) -> str:
    seqs = f"seq {a['seq_first']}" + (f"-{a['seq_last']}" if a["seq_last"] != a["seq_first"] else "")
    where = f" p{a['partition']}" if a.get("partition", -1) is not None and a.get("partition", -1) >= 0 else ""
    if a.get("offsets"):
        o = a["offsets"]
        where += f" offsets {o[0]}" + (f"-{o[1]}" if o[1] != o[0] else "")
    if a.get("effect_offsets") and a.get("store") == "output topic":
        where += f" (copied again, to output p{a['effect_partition'][0]} offset {a['effect_offsets'][0]})"
    elif a.get("effect_offsets"):
        where += f" (applied again to the {a.get('store', 'store')})"
    kind = a["type"] + (f" ({a['where']})" if a.get("where") else "") + (f" ({a['detail']})" if a.get("detail") else "")
    near = f"; near {a['near_fault']}" if a.get("near_fault") else ""
    return f"{kind}: producer {a['pid']} {seqs} ({a['records']} record{'' if a['records'] == 1 else 's'}){where} at +{a['t']:.1f}s{near}"


def to_dict(verdict: Verdict, run_dir: Path) -> dict:
    scenario_doc = load_json(Path(run_dir) / "scenario.json", {})
    timeline = read_timeline(run_dir)
    return {"scenario": scenario_doc.get("name", ""), "run_dir": str(run_dir), "passed": verdict.passed,
            "complete": verdict.complete, "incomplete": verdict.incomplete, "warnings": verdict.warnings,
            "counts": verdict.counts, "expect": scenario_doc.get("expect", {}),
            "violations": verdict.violations, "faults": timeline,
            "fault_skew": fault_skew(timeline), "anomalies": verdict.anomalies}


def write_json(path: Path, verdict: Verdict, run_dir: Path) -> None:
    write_text(path, json.dumps(to_dict(verdict, run_dir), indent=2, default=str) + "\n", "--json")
