"""JUnit XML of verdicts: one testsuite, one testcase per (case name, verdict, run directory) row, so CI test
views show a violated expectation as a failure and an incomplete verdict as an error.

Written with xml.etree (it escapes); characters XML 1.0 forbids are removed from every string first, since
names, reasons and evidence come from a run directory that may be hostile.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable
from xml.etree import ElementTree as ET

from kafka_chaos.report import (MAX_EVIDENCE_LINES, evidence_line, run_seconds, status, violation_line,
                                write_text)

CLASSNAME = "kchaos"
# XML 1.0 Char: tab, newline, carriage return and the planes without surrogates, U+FFFE and U+FFFF
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text) -> str:
    """`text` as a string XML 1.0 can hold (forbidden characters removed)."""
    return NOT_XML.sub("", str(text))


def testcase(name: str, verdict, run_dir: Path) -> ET.Element:
    """One testcase: <failure> naming each violated expectation, <error> naming each incomplete reason, and
    <system-out> with the counts, warnings and run directory."""
    case = ET.Element("testcase", name=clean(name), classname=CLASSNAME)
    seconds = run_seconds(run_dir)
    if seconds is not None:
        case.set("time", f"{seconds:.3f}")
    outcome = status.of(verdict)
    if outcome == status.VIOLATED:
        failure = ET.SubElement(case, "failure", type="violated",
                                message=clean("; ".join(violation_line(v) for v in verdict.violations)))
        failure.text = clean(evidence_text(verdict.anomalies))
    elif outcome == status.INCOMPLETE:
        ET.SubElement(case, "error", type="incomplete",
                      message=clean("; ".join(verdict.incomplete) or "the verdict is incomplete"))
    out = [f"{count} = {value}" for count, value in verdict.counts.items()]
    out += [f"warning: {w}" for w in verdict.warnings] + [f"run directory: {run_dir}"]
    ET.SubElement(case, "system-out").text = clean("\n".join(out))
    return case


def evidence_text(anomalies: list[dict]) -> str:
    lines = [evidence_line(a) for a in anomalies[:MAX_EVIDENCE_LINES]]
    if len(anomalies) > MAX_EVIDENCE_LINES:
        lines.append(f"… {len(anomalies) - MAX_EVIDENCE_LINES} more (full list in --json)")
    return "\n".join(lines)


def render(rows: Iterable[tuple[str, object, Path]], suite: str = CLASSNAME) -> str:
    """The XML document of one testsuite with a testcase per row (a run: one row; a matrix: one per cell)."""
    cases = [testcase(name, verdict, Path(run_dir)) for name, verdict, run_dir in rows]
    root = ET.Element("testsuite", name=clean(suite), tests=str(len(cases)),
                      failures=str(sum(c.find("failure") is not None for c in cases)),
                      errors=str(sum(c.find("error") is not None for c in cases)), skipped="0")
    times = [float(c.get("time")) for c in cases if c.get("time") is not None]
    if times:
        root.set("time", f"{sum(times):.3f}")
    root.extend(cases)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write(path: Path, rows: Iterable[tuple[str, object, Path]]) -> None:
    """Write render(rows) to `path` as UTF-8 (a path that cannot be written: exit 2 naming --junit)."""
    write_text(path, render(rows), "--junit")
