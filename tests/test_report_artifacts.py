"""CI artifacts of a verdict: JUnit XML and a Markdown summary, decided as the exit code is, inert to hostile text."""

import dataclasses
import json
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from kafka_chaos import history
from kafka_chaos.cli import app, verdict_exit
from kafka_chaos.history import ACK, LOG, POLL, PROCESS, SEND
from kafka_chaos.report import evidence_line, junit, markdown, run_seconds, status, write_json
from kafka_chaos.verify import verify_run_dir

HOSTILE = ("evil]]><script>alert(1)</script>\x00\x07\x1b[31m\ud800\ufffe | `tick` *b* _i_ [x](http://evil) "
           "![img](http://evil/i.png) <img src=x onerror=alert(1)> &amp; @someone #1 www.evil.com \u202e")


def write_run(run_dir, name="t", expect=None, lost=(), audited=True, warnings=(), end=1030.0):
    """A run directory: producer 4 sends and acks seqs 0-9 from t0=1000; the consumer processes and the audit
    finds all but the seqs in `lost`; the producer's last status at `end`."""
    prod = history.HistoryWriter(run_dir / "history" / "producer-0.bin")
    cons = history.HistoryWriter(run_dir / "history" / "consumer-0.bin")
    audit = history.HistoryWriter(run_dir / "history" / "audit-0.bin")
    for seq in range(10):
        prod.append(SEND, 4, seq, 1000.0 + seq)
        prod.append(ACK, 4, seq, 1000.5 + seq, partition=0, offset=seq)
        if seq not in lost:
            cons.append(POLL, 4, seq, 1002.0 + seq, partition=0, offset=seq)
            cons.append(PROCESS, 4, seq, 1002.1 + seq, partition=0, offset=seq)
            audit.append(LOG, 4, seq, 1100.0, partition=0, offset=seq)
    for w in (prod, cons, audit):
        w.close()
    scenario = {"name": name, "expect": {"lost": 0, "duplicates": None} if expect is None else expect,
                "producer": {"semantic": "at-least-once"}, "consumer": {"mode": "auto-commit"}}
    (run_dir / "scenario.json").write_text(json.dumps(scenario))
    (run_dir / "meta.json").write_text(json.dumps({"t0": 1000.0}))
    if audited:
        (run_dir / "audit.json").write_text(json.dumps({"complete": True}))
    if warnings:
        (run_dir / "warnings.txt").write_text("".join(w + "\n" for w in warnings), errors="surrogatepass")
    (run_dir / "status").mkdir()
    (run_dir / "status" / "producer-0.json").write_text(json.dumps({"sent": 10, "t": end}))
    return run_dir


def case(tmp_path, kind, **kw):
    """(name, verdict, run_dir) of a passed, violated or incomplete run."""
    run_dir = tmp_path / kind
    run_dir.mkdir()
    opts = {"passed": {}, "violated": {"lost": (7,)}, "incomplete": {"lost": (7,), "audited": False}}[kind]
    write_run(run_dir, kw.pop("name", kind), **opts, **kw)
    return (kind, verify_run_dir(run_dir), run_dir)


def parse(xml_text):
    return ET.fromstring(xml_text.encode("utf-8"))


def test_junit_of_a_passed_run_has_no_failure_and_shows_the_counts(tmp_path):
    name, verdict, run_dir = case(tmp_path, "passed")
    suite = parse(junit.render([(name, verdict, run_dir)]))
    assert suite.tag == "testsuite" and suite.get("tests") == "1"
    assert (suite.get("failures"), suite.get("errors"), suite.get("time")) == ("0", "0", "30.000")
    [tc] = suite
    assert (tc.get("name"), tc.get("classname"), tc.get("time")) == ("passed", "kchaos", "30.000")
    assert [child.tag for child in tc] == ["system-out"]
    out = tc.find("system-out").text.splitlines()
    assert "sent = 10" in out and "acked = 10" in out and "lost = 0" in out and f"run directory: {run_dir}" in out


def test_junit_of_a_violated_run_is_a_failure_naming_value_bound_and_evidence(tmp_path):
    name, verdict, run_dir = case(tmp_path, "violated")
    [tc] = parse(junit.render([(name, verdict, run_dir)]))
    failure = tc.find("failure")
    assert failure.get("message") == "lost = 1 (expected at most 0)" and failure.get("type") == "violated"
    assert failure.text.splitlines()[0] == evidence_line(verdict.anomalies[0])
    assert tc.find("error") is None


def test_junit_of_an_incomplete_run_is_an_error_naming_each_reason(tmp_path):
    name, verdict, run_dir = case(tmp_path, "incomplete", warnings=["the consumer did not catch up"])
    [tc] = parse(junit.render([(name, verdict, run_dir)]))
    error = tc.find("error")
    assert error.get("type") == "incomplete" and error.get("message") == "; ".join(verdict.incomplete)
    assert error.get("message").startswith("no complete audit of the log")
    assert tc.find("failure") is None
    assert "warning: the consumer did not catch up" in tc.find("system-out").text


def test_every_report_decides_as_the_exit_code_does(tmp_path):
    rows = [case(tmp_path, kind) for kind in ("passed", "violated", "incomplete")]
    assert [verdict_exit(v) for _, v, _ in rows] == [0, 1, 3]
    assert [status.of(v) for _, v, _ in rows] == [status.PASSED, status.VIOLATED, status.INCOMPLETE]
    suite = parse(junit.render(rows))   # a matrix: one testcase per row
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    assert [[c.tag for c in tc][0] for tc in suite] == ["system-out", "failure", "error"]
    md = markdown.render(rows)
    assert md.startswith("## ❌ kchaos: 3 cases (1 passed, 1 violated, 1 incomplete)")
    assert "### ✅ PASSED: passed" in md and "### ❌ FAILED: violated" in md and "### ⚠️ INCOMPLETE: incomplete" in md


def test_markdown_of_a_violated_run(tmp_path):
    name, verdict, run_dir = case(tmp_path, "violated")
    md = markdown.render([(name, verdict, run_dir)]).splitlines()
    assert md[0] == "### ❌ FAILED: violated"
    table = [line for line in md if line.startswith("| `")]
    assert [row.split("|")[1].strip() for row in table] == ["`sent`", "`acked`", "`consumed`", "`lost`",
                                                            "`duplicates`"]   # ALWAYS + expected, table order
    assert "| `lost` | 1 | 0 | ❌ |" in md and "| `duplicates` | 0 | any | ✅ |" in md and "| `sent` | 10 |  |  |" in md
    assert f"- **violated:** {markdown.text('lost = 1 (expected at most 0)')}" in md
    assert any(line.startswith("- lost \\(from\\_log\\)\\: producer 4 seq 7") for line in md)
    assert any("at\\-least\\-once" in line for line in md)   # the documented claim of the producer's semantic
    assert md[-1] == f"Run directory: {markdown.text(run_dir)}"


def test_markdown_shows_at_most_5_evidence_lines(tmp_path):
    name, verdict, run_dir = case(tmp_path, "violated")
    verdict = dataclasses.replace(verdict, anomalies=verdict.anomalies * 8)
    md = markdown.render([(name, verdict, run_dir)])
    assert md.count("- lost \\(from\\_log\\)") == 5 and "- … 3 more" in md


def test_hostile_strings_stay_inert_in_junit(tmp_path):
    name, verdict, run_dir = case(tmp_path, "violated", name=HOSTILE, warnings=[HOSTILE])
    verdict.incomplete.append(HOSTILE)   # incomplete reasons and evidence are run-directory text too
    verdict.anomalies[0]["near_fault"] = HOSTILE
    xml_text = junit.render([(HOSTILE, verdict, run_dir)])
    assert "<script" not in xml_text and "<img" not in xml_text and "]]>" not in xml_text
    suite = parse(xml_text)   # well-formed: no forbidden character survived
    [tc] = suite
    assert tc.get("name") == junit.clean(HOSTILE) and "\x00" not in tc.get("name") and "\ud800" not in tc.get("name")
    assert "<script>alert(1)</script>" in tc.get("name")   # the text, not an element
    assert not list(suite.iter("script")) and not list(suite.iter("img"))
    assert junit.clean(HOSTILE) in tc.find("failure").text   # the evidence line's fault
    assert "warning: evil]]><script>alert(1)</script>[31m\ufffd" in tc.find("system-out").text   # undecodable: U+FFFD
    (tmp_path / "j.xml").write_text(xml_text, encoding="utf-8")
    ET.parse(tmp_path / "j.xml")


def test_hostile_strings_stay_inert_in_markdown(tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    name, verdict, run_dir = case(tmp_path, "violated", name=HOSTILE, warnings=[HOSTILE])
    verdict.incomplete.append(HOSTILE)
    verdict.anomalies[0]["near_fault"] = HOSTILE
    md = markdown.render([(HOSTILE, verdict, run_dir), (HOSTILE, verdict, run_dir)])   # in table cells too
    md.encode("utf-8")   # no lone surrogate
    assert "<" not in md and "http:" not in md and "www." not in md and "\x1b" not in md and "\u202e" not in md
    for line in md.splitlines():
        if line.startswith("|"):   # a hostile | never adds a cell
            assert line.replace("\\|", "").count("|") in (4, 5)
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    for tag in ("<a ", "<script", "<img", "<em>", "<strong>b", "<code>tick"):
        assert tag not in html, tag
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "[x](http://evil)" in html
    assert html.count("<h3>") == 2 and html.count("<table>") == 3   # the matrix table and one per case


def test_json_report_includes_the_runs_warnings(tmp_path):
    name, verdict, run_dir = case(tmp_path, "passed", warnings=["the consumer did not catch up within drain_timeout"])
    write_json(tmp_path / "r.json", verdict, run_dir)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["warnings"] == ["the consumer did not catch up within drain_timeout"]
    assert report["passed"] is True and report["scenario"] == "passed"


def test_run_seconds_is_unknown_without_t0_or_an_end(tmp_path):
    _, _, run_dir = case(tmp_path, "passed")
    assert run_seconds(run_dir) == 30.0
    (run_dir / "timeline.jsonl").write_text(json.dumps({"event": "heal", "t_applied": 1042.5, "final": True}) + "\n")
    assert run_seconds(run_dir) == 42.5   # the final heal came after the last status
    (run_dir / "meta.json").unlink()
    assert run_seconds(run_dir) is None
    [tc] = parse(junit.render([("x", verify_run_dir(run_dir), run_dir)]))
    assert tc.get("time") is None


@pytest.mark.parametrize("kind, code", [("passed", 0), ("violated", 1), ("incomplete", 3)])
def test_verify_writes_junit_and_markdown_and_keeps_the_exit_code(tmp_path, kind, code):
    _, _, run_dir = case(tmp_path, kind)
    xml, md = tmp_path / "kchaos.xml", tmp_path / "summary.md"
    result = CliRunner().invoke(app, ["verify", str(run_dir), "--junit", str(xml), "--markdown", str(md),
                                      "--json", str(tmp_path / "r.json")])
    assert result.exit_code == code, result.output
    [tc] = ET.parse(xml).getroot()
    assert tc.get("name") == kind
    assert {0: None, 1: "failure", 3: "error"}[code] == next((c.tag for c in tc if c.tag != "system-out"), None)
    assert md.read_text(encoding="utf-8").startswith(f"### {markdown.HEADERS[kind]}: {kind}")
    assert json.loads((tmp_path / "r.json").read_text())["passed"] is (code == 0)


def test_a_report_path_that_cannot_be_written_is_exit_2_naming_the_flag(tmp_path):
    _, _, run_dir = case(tmp_path, "passed")
    result = CliRunner().invoke(app, ["verify", str(run_dir), "--junit", str(tmp_path)])   # a directory
    assert result.exit_code == 2 and "--junit" in result.output and "internal error" not in result.output
