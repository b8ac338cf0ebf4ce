"""The run's timeline as a PNG, drawn with matplotlib (Agg, no display) from the same series.Timeline as the page.

Why not plotly's own export: it needs kaleido, which drives a Chrome through the DevTools protocol and by
default downloads one; a PNG would then depend on a browser being installed and found. matplotlib renders
in-process, offline, with no browser, and the series are computed once, so the two pictures cannot differ
in data, only in style.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kafka_chaos.report.series import ANOMALY_COLORS, COLORS, FAILED_COLOR, FAULT_COLOR, LEADER_COLOR, Timeline

MAX_LABELS = 30   # fault bands labelled; past that the labels would cover each other


def draw(tl: Timeline, title: str) -> Figure:
    """Rates above, faults and anomaly types as lanes below, fault bands shaded across both."""
    fig = Figure(figsize=(12, 6.2), dpi=100, layout="constrained")
    rates, lanes = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1.4])
    for name, values in tl.rates.items():
        rates.step(tl.seconds, values, where="post", label=name, color=COLORS[name], linewidth=1.3)
    rates.set_ylabel("records/s")
    rates.set_ylim(bottom=0)
    rates.set_title(title, loc="left")
    kinds = sorted({m.type for m in tl.marks})
    names = ["faults"] + (["leaders"] if tl.leaders else []) + kinds
    for b in tl.bands:
        color = FAULT_COLOR if b.ok else FAILED_COLOR
        for ax in (rates, lanes):
            ax.axvspan(b.start, max(b.end, b.start + 0.3), color=color, alpha=0.15, linewidth=0)
    if tl.bands:
        lanes.scatter([b.start for b in tl.bands], [0] * len(tl.bands), marker="v", s=60,
                      c=[FAULT_COLOR if b.ok else FAILED_COLOR for b in tl.bands], label="faults", zorder=3)
    if len(tl.bands) <= MAX_LABELS:
        for b in tl.bands:
            lanes.annotate(b.label, (b.start, 0), xytext=(4, 6), textcoords="offset points", fontsize=8)
    if tl.leaders:
        lanes.scatter([c.t for c in tl.leaders], [1] * len(tl.leaders), marker="D", s=30, color=LEADER_COLOR,
                      label="leader changes", zorder=3)
    first = 2 if tl.leaders else 1
    for i, kind in enumerate(kinds, start=first):
        marks = [m for m in tl.marks if m.type == kind]
        lanes.scatter([m.t for m in marks], [i] * len(marks), marker="x", s=40, label=kind,
                      color=ANOMALY_COLORS[(i - first) % len(ANOMALY_COLORS)], zorder=3)
    lanes.set_yticks(range(len(names)), names)
    lanes.set_ylim(-0.6, len(names) - 0.2)
    lanes.invert_yaxis()
    lanes.set_xlim(0, tl.end + 1)
    lanes.set_xlabel("seconds since the workload started")
    lanes.set_title("faults at their start; anomalies at the send time of their first record", loc="left", fontsize=9)
    handles = [h for ax in (rates, lanes) for h in ax.get_legend_handles_labels()[0]]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(8, max(1, len(handles))), frameon=False)
    for ax in (rates, lanes):
        ax.grid(alpha=0.3)
    return fig


def write(path: Path, tl: Timeline, title: str) -> None:
    # Labels come from the run directory: never let a "$" start mathtext (data is never markup).
    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
        FigureCanvasAgg(draw(tl, title)).print_png(str(path))
