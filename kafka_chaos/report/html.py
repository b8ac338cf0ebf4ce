"""The run as one self-contained HTML page: a plotly timeline (its JavaScript inlined: opens offline), the verdict
table, documented guarantees, evidence and settings. Every string from the run directory is HTML-escaped.

plotly draws the page (hover, zoom, no hand-made SVG); the PNG is drawn by report/png.py from the same
series.Timeline: see there why not plotly's own export.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots
from rich.text import Text

from kafka_chaos.errors import UsageError
from kafka_chaos.files import write_atomic
from kafka_chaos.report import (FAIL, PASS, documented_claims, load_json, outcome, scenario_name, status,
                                verdict_rows, violation_line)
from kafka_chaos.report.series import (ANOMALY_COLORS, COLORS, FAILED_COLOR, FAULT_COLOR, LEADER_COLOR, Timeline,
                                       build)
from kafka_chaos.verify import Verdict

MAX_LABELS = 40      # fault bands labelled in the plot; past that the labels would cover each other
MIN_WIDTH = 0.3      # seconds: an instant (a heal, a fence) is still a visible band
DIV_ID = "kchaos-timeline"
# After the plot is drawn: a marker that proves it ran, with the marks each trace rendered (the browser test reads it).
READY_JS = """
var gd = document.getElementById('{plot_id}'), drawn = {};
gd.querySelectorAll('.scatterlayer .trace').forEach(function (g) {
  var cd = g.__data__, name = cd && cd[0] && cd[0].trace ? cd[0].trace.name : '?';
  var line = g.querySelector('.js-line'), d = line ? line.getAttribute('d') || '' : '';
  var seen = drawn[name] || {points: 0, line: false};
  seen.points += g.querySelectorAll('.point').length;
  seen.line = seen.line || d.length > 1;
  drawn[name] = seen;
});
var ready = document.createElement('div');
ready.id = 'kchaos-ready';
ready.setAttribute('data-drawn', JSON.stringify(drawn));
ready.hidden = true;
document.body.appendChild(ready);
"""
CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto; max-width: 1200px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.outcome { font-size: 1.2em; font-weight: 600; } .passed { color: #1a7f37; } .violated { color: #cf222e; }
.incomplete { color: #9a6700; } .muted { color: #666; }
table { border-collapse: collapse; } td, th { padding: .2em .7em; border-bottom: 1px solid #ddd; text-align: left;
  vertical-align: top; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.violated td { background: #ffebe9; } td.mark-pass { color: #1a7f37; } td.mark-fail { color: #cf222e; }
pre { background: #f6f8fa; padding: .8em; overflow: auto; max-height: 40em; white-space: pre-wrap; }
ol.evidence li, ul li { font-family: ui-monospace, monospace; font-size: 12.5px; }
"""


def figure(tl: Timeline, title: str) -> go.Figure:
    """Rates (records/s) above, a lane of faults and one of each anomaly type below; fault bands across both."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.04)
    for name, values in tl.rates.items():
        fig.add_trace(go.Scatter(x=tl.seconds, y=values, name=name, mode="lines", line_shape="hv",
                                 line={"color": COLORS[name], "width": 1.6},
                                 hovertemplate=f"{name}: %{{y:.0f}} records/s at +%{{x}}s<extra></extra>"),
                      row=1, col=1)
    for b in tl.bands:
        fig.add_shape(type="rect", xref="x", yref="paper", x0=b.start, x1=max(b.end, b.start + MIN_WIDTH), y0=0, y1=1,
                      fillcolor=FAULT_COLOR if b.ok else FAILED_COLOR, opacity=0.18, line_width=0, layer="below")
    kinds = sorted({escape(m.type) for m in tl.marks})
    lanes = ["faults"] + (["leaders"] if tl.leaders else []) + kinds
    if tl.bands:
        labelled = len(tl.bands) <= MAX_LABELS
        fig.add_trace(go.Scatter(
            x=[b.start for b in tl.bands], y=["faults"] * len(tl.bands), name="faults",
            mode="markers+text" if labelled else "markers", marker={"symbol": "triangle-down", "size": 11,
                                                                    "color": [FAULT_COLOR if b.ok else FAILED_COLOR
                                                                              for b in tl.bands]},
            text=[escape(b.label) for b in tl.bands] if labelled else None, textposition="top right",
            textfont={"size": 10}, hovertext=[escape(b.text()) for b in tl.bands],
            hovertemplate="%{hovertext}<extra></extra>"), row=2, col=1)
    if tl.leaders:
        fig.add_trace(go.Scatter(
            x=[c.t for c in tl.leaders], y=["leaders"] * len(tl.leaders), name="leader changes", mode="markers",
            marker={"symbol": "diamond", "size": 9, "color": LEADER_COLOR},
            hovertext=[escape(c.text()) for c in tl.leaders], hovertemplate="%{hovertext}<extra></extra>"),
            row=2, col=1)
    for i, kind in enumerate(kinds):
        marks = [m for m in tl.marks if escape(m.type) == kind]
        fig.add_trace(go.Scatter(
            x=[m.t for m in marks], y=[kind] * len(marks), name=kind, mode="markers",
            marker={"symbol": "x", "color": ANOMALY_COLORS[i % len(ANOMALY_COLORS)],
                    "size": [min(16, 7 + m.records.bit_length()) for m in marks]},
            hovertext=[escape(m.evidence) for m in marks], hovertemplate="%{hovertext}<extra></extra>"), row=2, col=1)
    fig.update_layout(title={"text": escape(title)}, template="plotly_white", height=620, hovermode="closest",
                      legend={"orientation": "h", "y": -0.12}, margin={"l": 70, "r": 20, "t": 60, "b": 40})
    fig.update_yaxes(title_text="records/s", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=lanes, range=[len(lanes) - 0.4, -0.6],
                     row=2, col=1)
    fig.update_xaxes(title_text="seconds since the workload started", range=[0, tl.end + 1], row=2, col=1)
    return fig


def page(verdict: Verdict, run_dir: Path, tl: Timeline) -> str:
    """The whole page as a string (about 5 MB: plotly.js is inlined)."""
    scenario_doc = load_json(Path(run_dir) / "scenario.json", {})
    name = scenario_name(run_dir, scenario_doc)
    word = Text.from_markup(outcome(verdict)).plain
    plot = pio.to_html(figure(tl, title(verdict, scenario_doc, run_dir)), include_plotlyjs=True, full_html=False,
                       div_id=DIV_ID, post_script=READY_JS, config={"displaylogo": False, "responsive": True})
    out = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           f"<title>kchaos: {escape(name)}</title><style>{CSS}</style></head><body>",
           f"<h1>kchaos verdict: {escape(name)}</h1>",
           f"<p class=\"outcome {status.of(verdict)}\">{escape(word)}</p>",
           f"<p id=\"description\">{escape(str(scenario_doc.get('description') or ''))}</p>",
           f"<p class=\"muted\">run directory: {escape(str(run_dir))} (re-check: kchaos verify "
           f"{escape(str(run_dir))})</p>",
           "<h2>Timeline</h2>", plot,
           "<p class=\"muted\">Faults are shaded from start to heal; an anomaly sits at the send time of the "
           "first record of its evidence range (hover for the evidence).</p>",
           f"<p>Leader changes per partition: {escape(tl.leader_changes)}.</p>",
           ("<ul id=\"leaders\">" + "".join(f"<li class=\"leader\">{escape(c.text())}</li>" for c in tl.leaders)
            + "</ul>") if tl.leaders else "",
           _bands_table(tl), _verdict_table(verdict, scenario_doc), _claims(verdict, scenario_doc),
           _evidence(verdict, tl),
           "<h2>Settings</h2><p class=\"muted\">scenario.json as the run recorded it (secrets masked)</p>",
           f"<pre id=\"settings\">{escape(json.dumps(scenario_doc, indent=2, default=str))}</pre>",
           "</body></html>\n"]
    return "\n".join(out)


def _bands_table(tl: Timeline) -> str:
    if not tl.bands:
        return "<h2>Faults</h2><p>No fault in the run's timeline.</p>"
    rows = "".join(f"<tr class=\"fault\"><td>{escape(b.label)}</td><td>{escape(b.resolved)}</td>"
                   f"<td class=\"n\">+{b.start:.1f}s</td><td class=\"n\">+{b.end:.1f}s</td>"
                   f"<td>{'ok' if b.ok else 'FAILED'}</td><td>{escape(b.note)}</td></tr>" for b in tl.bands)
    more = f"<p class=\"muted\">… {tl.more_bands} more timeline entries not drawn</p>" if tl.more_bands else ""
    return ("<h2>Faults</h2><table id=\"faults\"><tr><th>fault</th><th>hit</th><th>from</th><th>to</th>"
            f"<th></th><th>how it ended</th></tr>{rows}</table>{more}")


def _verdict_table(verdict: Verdict, scenario_doc: dict) -> str:
    css = {PASS: "mark-pass", FAIL: "mark-fail", "": ""}
    violated = {FAIL: ' class="violated"'}
    rows = "".join(f"<tr{violated.get(mark, '')}><td>{count}</td><td class=\"n\">{value}</td>"
                   f"<td class=\"n\">{escape(bound)}</td><td class=\"{css[mark]}\">{mark}</td>"
                   f"<td>{escape(meaning)}</td></tr>"
                   for count, value, bound, mark, meaning in verdict_rows(verdict, scenario_doc))
    return ("<h2>Verdict</h2><table id=\"verdict\"><tr><th>count</th><th>value</th><th>expect</th><th></th>"
            f"<th>meaning</th></tr>{rows}</table>")


def _claims(verdict: Verdict, scenario_doc: dict) -> str:
    items = [f"<li>documented: {escape(line)}</li>" for line in documented_claims(scenario_doc)]
    items += [f"<li class=\"violated\">violated: {escape(violation_line(v))}</li>" for v in verdict.violations]
    items += [f"<li class=\"incomplete\">warning: {escape(w)}</li>" for w in verdict.warnings]
    items += [f"<li class=\"incomplete\">incomplete: {escape(r)}</li>" for r in verdict.incomplete]
    return "<h2>Guarantees</h2><ul id=\"claims\">" + "".join(items) + "</ul>" if items else ""


def _evidence(verdict: Verdict, tl: Timeline) -> str:
    if not tl.marks:
        return "<h2>Evidence</h2><p>No anomaly.</p>"
    items = "".join(f"<li>{escape(m.evidence)}</li>" for m in tl.marks)
    more = f"<p class=\"muted\">… {tl.more_marks} more (full list: --json)</p>" if tl.more_marks else ""
    return f"<h2>Evidence</h2><ol class=\"evidence\" id=\"evidence\">{items}</ol>{more}"


def title(verdict: Verdict, scenario_doc: dict, run_dir: Path) -> str:
    """'NAME: PASSED' (FAILED, INCOMPLETE): the plot's title, in the page and the picture alike."""
    return f"{scenario_name(run_dir, scenario_doc)}: {Text.from_markup(outcome(verdict)).plain.split(':')[0]}"


def write(verdict: Verdict, run_dir: Path, html: Path | None = None, png: Path | None = None) -> list[Path]:
    """Write the page and/or the picture of one run (the series computed once); returns what was written.
    A folder that does not exist or a file that cannot be written is a UsageError naming the flag."""
    from kafka_chaos.report import png as picture

    for path, flag in ((html, "--html"), (png, "--png")):
        if path is not None and not Path(path).parent.is_dir():
            raise UsageError(f"{flag}: {path}: its folder does not exist")
    tl = build(run_dir, verdict)
    written = []
    for path, flag in ((html, "--html"), (png, "--png")):
        if path is None:
            continue
        try:
            if flag == "--html":
                write_atomic(Path(path), page(verdict, run_dir, tl))
            else:
                picture.write(Path(path), tl, title(verdict, load_json(Path(run_dir) / "scenario.json", {}), run_dir))
        except OSError as exc:
            raise UsageError(f"{flag}: cannot write {path} ({exc.strerror or exc})") from None
        written.append(Path(path))
    return written
