"""A compact Markdown summary of verdicts for a pull-request comment.

Every string from the scenario or the run directory goes through `text`: control characters become
spaces, `& < >` become entities and every ASCII punctuation character Markdown gives a meaning is
backslash-escaped, so a hostile name renders as the characters it holds, never as a link, an image, HTML,
a table cell, a mention or a heading.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Iterable

from kafka_chaos.counts import COUNTS
from kafka_chaos.report import (documented_claims, evidence_line, expect_of, load_json, status, violation_line,
                                write_text)

MAX_EVIDENCE = 5
MAX_TEXT = 300   # characters of one untrusted string: a comment stays short whatever the run directory holds
ALWAYS = ("sent", "acked", "consumed")   # shown with the expected counts: how much the run moved
HEADERS = {status.PASSED: "✅ PASSED", status.VIOLATED: "❌ FAILED", status.INCOMPLETE: "⚠️ INCOMPLETE"}
# C0/C1 controls, zero-width and bidi controls (they reorder what a reader sees), line and paragraph
# separators, lone surrogates (not encodable), U+FFFE/U+FFFF: none may reach the comment
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
# CommonMark lets any ASCII punctuation be backslash-escaped; these mean nothing inside a line (& < > become entities)
PLAIN = "&<>,;=\"'%/?"
ESCAPED = {c: "\\" + c for c in string.punctuation if c not in PLAIN}
ESCAPED.update({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
TABLE = str.maketrans(ESCAPED)


def text(value) -> str:
    """`value` as inert Markdown: shown as written, cut to MAX_TEXT characters, on one line."""
    s = CONTROL.sub(" ", str(value))
    if len(s) > MAX_TEXT:
        s = s[:MAX_TEXT] + "…"
    return s.translate(TABLE)


def section(name: str, verdict, run_dir: Path) -> list[str]:
    """The lines of one case: header, counts table, violations, evidence, documented claims, run directory."""
    doc = load_json(Path(run_dir) / "scenario.json", {})
    expect = expect_of(doc)
    violated = {v["count"] for v in verdict.violations}
    table = ["| count | value | expected | ok |", "|---|---:|---|---|"]
    for count in COUNTS:   # the table's order; keys of expect no count has were refused by the verifier
        if count in expect or count in ALWAYS:
            bound = ("any" if expect[count] is None else text(expect[count])) if count in expect else ""
            mark = "❌" if count in violated else ("✅" if count in expect else "")
            table.append(f"| `{count}` | {int(verdict.counts.get(count, 0))} | {bound} | {mark} |")
    said = [f"- **violated:** {text(violation_line(v))}" for v in verdict.violations]
    said += [f"- **incomplete:** {text(reason)}" for reason in verdict.incomplete]
    said += [f"- **warning:** {text(w)}" for w in verdict.warnings]
    evidence = [f"- {text(evidence_line(a))}" for a in verdict.anomalies[:MAX_EVIDENCE]]
    if len(verdict.anomalies) > MAX_EVIDENCE:
        evidence.append(f"- … {len(verdict.anomalies) - MAX_EVIDENCE} more (full list in the JSON report)")
    claims = [f"- {text(c)}" for c in documented_claims(doc)]
    blocks = [[f"### {HEADERS[status.of(verdict)]}: {text(name)}"], table, said,
              ["Evidence (first records of each anomaly run):", ""] + evidence if evidence else [],
              ["Documented:", ""] + claims if claims else [], [f"Run directory: {text(run_dir)}"]]
    return [line for block in blocks if block for line in [*block, ""]]


def render(rows: Iterable[tuple[str, object, Path]]) -> str:
    """One section per row; with more than one row (a matrix), a table of every case's outcome first."""
    rows = [(name, verdict, Path(run_dir)) for name, verdict, run_dir in rows]
    lines = []
    if len(rows) > 1:
        outcomes = [status.of(v) for _, v, _ in rows]
        tally = ", ".join(f"{outcomes.count(o)} {o}" for o in (status.PASSED, status.VIOLATED, status.INCOMPLETE))
        worst = next((o for o in (status.VIOLATED, status.INCOMPLETE) if o in outcomes), status.PASSED)
        lines += [f"## {HEADERS[worst].split()[0]} kchaos: {len(rows)} cases ({tally})", "",
                  "| case | outcome | violated or incomplete |", "|---|---|---|"]
        for (name, verdict, _), outcome in zip(rows, outcomes):
            why = [violation_line(v) for v in verdict.violations] or list(verdict.incomplete)
            lines.append(f"| {text(name)} | {HEADERS[outcome]} | {text('; '.join(why))} |")
        lines.append("")
    for name, verdict, run_dir in rows:
        lines += section(name, verdict, run_dir)
    return "\n".join(lines)


def write(path: Path, rows: Iterable[tuple[str, object, Path]]) -> None:
    """Write render(rows) to `path` as UTF-8 (a path that cannot be written: exit 2 naming --markdown)."""
    write_text(path, render(rows), "--markdown")
