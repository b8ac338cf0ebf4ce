"""The HTML and PNG report on hand-built run directories: the series, every fault and anomaly on the page,
hostile strings escaped, nothing loaded from the network, and a real headless browser drawing it offline."""

import json
import os
import re
import shutil
import subprocess
from html import escape, unescape

import numpy as np
import pytest

from kafka_chaos.history import ACK, LOG, OUTPUT, POLL, PROCESS, SEND, HistoryWriter, events
from kafka_chaos.report import evidence_line, html, png, series
from kafka_chaos.verify import verify_run_dir

T0 = 1000.0
HOSTILE = "<script>alert(1)</script>"
PAUSE = {"event": "apply", "seq": 0, "action": "pause", "target": "leader(chaos,0)", "resolved": "broker 2",
         "brokers": [2], "ok": True, "t_started": T0 + 1.0, "t_applied": T0 + 1.1}
UNPAUSE = {"event": "heal", "seq": 1, "heal_of": 0, "action": "unpause", "resolved": "unpause broker 2", "ok": True,
           "t_started": T0 + 3.0, "t_applied": T0 + 3.0}
FENCE = {"event": "apply", "seq": 2, "action": "fence-producer", "target": "producer", "resolved": "started producer-1",
         "ok": True, "t_started": T0 + 4.0, "t_applied": T0 + 4.2}
KILL = {"event": "apply", "seq": 3, "action": "kill", "target": "broker(3)", "resolved": "broker 3", "ok": True,
        "t_started": T0 + 4.5, "t_applied": T0 + 4.5}
FAILED = {"event": "apply", "seq": 4, "action": "isolate", "target": "controller", "ok": False,
          "error": "no helper image", "t_started": T0 + 5.0, "t_applied": T0 + 5.1}
FINAL = {"event": "heal", "action": "heal", "resolved": "start broker 3", "ok": True, "t_applied": T0 + 6.0,
         "final": True}
TIMELINE = [PAUSE, UNPAUSE, FENCE, KILL, FAILED, FINAL]


def write_run(run, name="hand-built", timeline=TIMELINE, description="a run built by hand"):
    """Seqs 0-5 sent at +0.5 s and acked at +1.2 s, seqs 6-9 sent at +2.5 s and acked at +2.7 s; every seq but 7
    processed at +3.5 s and seq 2 again at +4.5 s (reprocessed); seq 7 in the log, never processed (lost). A send
    of the copier's output stream at +0.5 s must not count."""
    seqs = np.arange(10)
    p = HistoryWriter(run / "history" / "producer-0.bin")
    p.append_many(events(SEND, 1, seqs[:6], T0 + 0.5))
    p.append_many(events(ACK, 1, seqs[:6], T0 + 1.2, 0, seqs[:6]))
    p.append_many(events(SEND, 1, seqs[6:], T0 + 2.5))
    p.append_many(events(ACK, 1, seqs[6:], T0 + 2.7, 0, seqs[6:]))
    p.append_many(events(SEND, 1, [0], T0 + 0.5, stream=OUTPUT))
    c = HistoryWriter(run / "history" / "consumer-0.bin")
    done = seqs[seqs != 7]
    c.append_many(events(POLL, 1, done, T0 + 3.4, 0, done))
    c.append_many(events(PROCESS, 1, done, T0 + 3.5, 0, done))
    c.append_many(events(PROCESS, 1, [2], T0 + 4.5, 0, [2]))
    a = HistoryWriter(run / "history" / "audit-0.bin")
    a.append_many(events(LOG, 1, seqs, T0 + 10, 0, seqs))
    for w in (p, c, a):
        w.close()
    (run / "audit.json").write_text(json.dumps({"complete": True}))
    (run / "meta.json").write_text(json.dumps({"t0": T0}))
    (run / "scenario.json").write_text(json.dumps({"name": name, "description": description,
                                                   "producer": {"semantic": "at-least-once"},
                                                   "consumer": {"mode": "commit-after-process"},
                                                   "expect": {"lost": 0, "reprocessed": None}}))
    (run / "timeline.jsonl").write_text("".join(json.dumps(e) + "\n" for e in timeline))
    return run


@pytest.fixture
def run_dir(tmp_path):
    return write_run(tmp_path / "run")


def test_rates_are_records_per_second_of_the_topic_bucketed_from_t0(run_dir):
    tl = series.build(run_dir, verify_run_dir(run_dir))
    assert tl.bucket == 1.0 and tl.end == 6.0
    assert tl.seconds.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert tl.rates["send"].tolist() == [6, 0, 4, 0, 0, 0, 0]      # the output stream's send is not counted
    assert tl.rates["ack"].tolist() == [0, 6, 4, 0, 0, 0, 0]
    assert tl.rates["process"].tolist() == [0, 0, 0, 9, 1, 0, 0]


def test_events_with_absurd_times_are_not_drawn_and_size_nothing():
    ev = events(SEND, 1, [0, 1, 2, 3], [T0 + 1.5, T0 + 1e12, np.nan, T0 - 50])
    tl = series.timeline({"producer": ev}, [], [], T0)
    assert tl.rates["send"].tolist() == [0, 1]


def test_a_long_run_is_bucketed_so_a_line_has_at_most_max_buckets_points():
    ev = events(SEND, 1, np.arange(3), [T0, T0 + 5000, T0 + 10_000])
    tl = series.timeline({"producer": ev}, [], [], T0)
    assert tl.bucket == 2.0 and len(tl.seconds) <= series.MAX_BUCKETS
    assert tl.rates["send"].sum() * tl.bucket == 3


def test_each_fault_is_a_band_from_its_start_to_its_heal(run_dir):
    bands = series.build(run_dir, verify_run_dir(run_dir)).bands
    got = [(b.label, b.resolved, round(b.start, 1), round(b.end, 1), b.ok, b.note) for b in bands]
    assert got == [
        ("pause leader(chaos,0)", "broker 2", 1.0, 3.0, True, "healed by unpause: unpause broker 2"),
        ("fence-producer producer", "started producer-1", 4.0, 4.2, True, ""),         # no heal: an instant
        ("kill broker(3)", "broker 3", 4.5, 6.0, True, "healed at the end of the run"),
        ("isolate controller", "", 5.0, 5.1, False, "no helper image"),
        ("heal", "start broker 3", 6.0, 6.0, True, "end-of-run heal")]
    assert bands[0].text() == "pause leader(chaos,0) -> broker 2, +1.0s to +3.0s; healed by unpause: unpause broker 2"


def test_a_fault_never_healed_lasts_to_the_end_and_the_bands_are_capped():
    kill = dict(KILL, t_started=T0 + 2, t_applied=T0 + 2)
    tl = series.timeline({"producer": events(SEND, 1, [0], T0 + 9.5)}, [kill], [], T0)
    [b] = tl.bands
    assert (b.end, b.note) == (9.5, "never healed in the timeline")
    many = [dict(FENCE, seq=i, t_applied=T0 + i) for i in range(series.MAX_FAULTS + 7)]
    tl = series.timeline({}, many + [{"event": "apply", "t_applied": "soon"}, {}], [], T0)
    assert (len(tl.bands), tl.more_bands) == (series.MAX_FAULTS, 7)


def test_anomaly_marks_are_capped_at_the_first_by_time(run_dir):
    verdict = verify_run_dir(run_dir)
    a = dict(verdict.anomalies[0])
    many = [dict(a, t=float(i)) for i in range(series.MAX_MARKS + 3, 0, -1)]
    tl = series.timeline({}, [], many, T0)
    assert len(tl.marks) == series.MAX_MARKS and tl.more_marks == 3 and tl.marks[0].t == 1.0


def test_the_page_holds_every_fault_and_anomaly_with_its_evidence(run_dir):
    verdict = verify_run_dir(run_dir)
    assert {a["type"] for a in verdict.anomalies} == {"lost", "reprocessed"}
    tl = series.build(run_dir, verdict)
    fig = html.figure(tl, "t")
    traces = {t.name: t for t in fig.data}
    assert set(traces) == {"send", "ack", "process", "faults", "lost", "reprocessed"}
    assert list(traces["faults"].hovertext) == [escape(b.text()) for b in tl.bands]
    assert len(fig.layout.shapes) == len(tl.bands)
    for m in tl.marks:
        assert escape(m.evidence) in traces[m.type].hovertext
    page = html.page(verdict, run_dir, tl)
    for b in tl.bands:
        assert json.dumps(escape(b.text()))[1:-1] in page     # in the plot's data (hover)
        assert f"<td>{escape(b.label)}</td>" in page           # and in the faults table
    for a in verdict.anomalies:
        assert f"<li>{escape(evidence_line(a))}</li>" in page
    assert "Leader changes per partition: not recorded" in page


def test_the_verdict_table_shows_the_same_marks_as_the_terminal(run_dir):
    page = html.page(verify_run_dir(run_dir), run_dir, series.build(run_dir, verify_run_dir(run_dir)))
    table = page.split('<table id="verdict">')[1].split("</table>")[0]
    assert ('<tr class="violated"><td>lost</td><td class="n">1</td><td class="n">0</td><td class="mark-fail">✗</td>'
            in table)
    assert '<td>reprocessed</td><td class="n">1</td><td class="n">any</td><td class="mark-pass">✓</td>' in table
    assert "documented: at-least-once" in page and "violated: lost = 1 (expected at most 0)" in page


def test_hostile_strings_from_the_run_directory_render_as_text(tmp_path):
    img = "<img src=x onerror=alert(2)>"
    timeline = [dict(PAUSE, target=img, resolved="</script><script>alert(3)</script>"), UNPAUSE,
                dict(FENCE, action="$\\frac{1}{0}$ & <b>")]
    benign = write_run(tmp_path / "benign")
    run = write_run(tmp_path / "hostile", name=HOSTILE, timeline=timeline, description="</pre><b>bold</b>")
    page = html.page(verify_run_dir(run), run, series.build(run, verify_run_dir(run)))
    plain = html.page(verify_run_dir(benign), benign, series.build(benign, verify_run_dir(benign)))
    for raw in (HOSTILE, img, "alert(3)</script>", "</pre><b>bold</b>", "<b>"):
        assert raw not in page
    assert page.count("<script") == plain.count("<script") and page.count("<img") == plain.count("<img") == 0
    assert "<title>kchaos: &lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    assert escape(img) in page and escape("</pre><b>bold</b>") in page
    png.write(tmp_path / "hostile.png", series.build(run, verify_run_dir(run)), HOSTILE)   # "$" is no mathtext


def test_the_page_loads_nothing_from_the_network(run_dir):
    page = html.page(verify_run_dir(run_dir), run_dir, series.build(run_dir, verify_run_dir(run_dir)))
    refs = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page, re.I)
    assert refs == []
    assert "Plotly.newPlot" in page and len(page) > 1_000_000   # plotly.js itself is inlined


def test_the_picture_is_a_png(run_dir, tmp_path):
    out = tmp_path / "r.png"
    html.write(verify_run_dir(run_dir), run_dir, png=out)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


# ------------------------------------------------------------------ a real browser, offline
def chromium() -> str:
    """The headless browser; skipped when absent, except in CI (KCHAOS_REQUIRE_CLUSTER), which must run it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("KCHAOS_REQUIRE_CLUSTER"):
            pytest.fail("chromium is not installed (scripts/install.sh installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


def test_a_headless_browser_without_network_draws_every_fault_and_anomaly(tmp_path):
    browser = chromium()
    run = write_run(tmp_path / "run", name=HOSTILE)
    verdict = verify_run_dir(run)
    out = tmp_path / "report.html"
    html.write(verdict, run, html=out)
    # a proxy nobody answers: any request the page made would fail (and the marks would not be drawn)
    proc = subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--proxy-server=127.0.0.1:9",
                           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
                           "--v=0", "--virtual-time-budget=3000", "--dump-dom", out.as_uri()],
                          capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert console == []                                       # no JavaScript error, nothing logged
    ready = re.search(r'<div id="kchaos-ready" data-drawn="([^"]*)"', dom)
    assert ready, "the plot never finished drawing"
    drawn = json.loads(unescape(ready.group(1)))
    tl = series.build(run, verdict)
    assert all(drawn[name]["line"] for name in tl.rates)        # the timeline's rate lines
    assert drawn["faults"]["points"] == len(tl.bands) == 5
    assert sum(drawn[kind]["points"] for kind in {m.type for m in tl.marks}) == len(tl.marks) == len(verdict.anomalies)
    labels = re.findall(r'<g class="textpoint"[^>]*><text[^>]*>(.*?)</text>', dom)
    assert sorted(unescape(re.sub("<[^>]+>", "", t)) for t in labels) == sorted(b.label for b in tl.bands)
    for a in verdict.anomalies:
        assert escape(evidence_line(a)) in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
