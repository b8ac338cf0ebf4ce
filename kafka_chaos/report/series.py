"""What a run's timeline plots, computed once from its run directory: per-second rates, fault bands, anomaly marks.

Both renderers (report/html.py's plotly page and its matplotlib PNG) draw this and nothing else, so the
picture and the page cannot disagree. Cost: one read of the histories (bounded by history.read_dir) and a
numpy bincount per kind; whatever is drawn one mark per item (faults, anomalies) is capped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from kafka_chaos import history, leaders
from kafka_chaos.catalog import HEALS
from kafka_chaos.report import evidence_line
from kafka_chaos.verify import Verdict

RATES = (history.SEND, history.ACK, history.PROCESS)   # kinds plotted as records/s, named by history.KIND_NAMES
MAX_BUCKETS = 7200     # points per rate line: past two hours of run, a bucket spans more than a second
MAX_SPAN = 30 * 86400  # seconds after t0 an event may claim (a corrupt t must not size the arrays)
MAX_FAULTS = 500       # fault bands drawn; the rest are counted
MAX_MARKS = 500        # anomaly marks drawn (the first by time); the rest are counted
# One palette for both renderers, so the page and the picture read alike.
COLORS = {"send": "#1f77b4", "ack": "#2ca02c", "process": "#9467bd"}
FAULT_COLOR, FAILED_COLOR = "#d62728", "#7f7f7f"
ANOMALY_COLORS = ("#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#d62728")   # by anomaly type, sorted
LEADER_CHANGES = ("not recorded: this run directory has no leaders.jsonl (a run from before kchaos sampled "
                  "leaders, or a cluster that never answered); a fault aimed at leader(TOPIC,P) names the broker it hit")
LEADER_COLOR = "#17becf"
MAX_LEADER_MARKS = 500   # leader changes drawn (the first by time); the rest are counted


@dataclass(frozen=True)
class Band:
    """One timeline entry as drawn: a fault from when it started to when it was healed, or an instant."""
    action: str
    target: str      # as the scenario wrote it: leader(chaos,0), consumer, … ("" for a heal)
    resolved: str    # what it hit or did: "broker 2", "consumer-0 (pid 7) killed"
    start: float     # seconds since t0
    end: float       # == start for an instant (a heal, a fence); the end of the plot if never healed
    ok: bool
    note: str = ""   # how it ended, or why it failed

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.action, self.target) if p)

    def text(self) -> str:
        """One line: what, which target, from-to, how it ended (plain text; renderers escape it)."""
        span = f"+{self.start:.1f}s" + (f" to +{self.end:.1f}s" if self.end > self.start else "")
        hit = f" -> {self.resolved}" if self.resolved else ""
        return f"{self.label}{hit}, {span}{'' if self.ok else ' (FAILED)'}" + (f"; {self.note}" if self.note else "")


@dataclass(frozen=True)
class Mark:
    """One anomaly (an evidence range) at the send time of its first record."""
    t: float
    type: str
    records: int
    evidence: str    # report.evidence_line: what the terminal prints


@dataclass(frozen=True)
class LeaderChange:
    """A partition's leader differing from the previous sample (leaders.jsonl): -1 is no leader."""
    t: float         # seconds since t0
    partition: int
    old: int
    new: int

    def text(self) -> str:
        who = lambda b: "no leader" if b < 0 else f"broker {b}"  # noqa: E731
        return f"partition {self.partition}: {who(self.old)} -> {who(self.new)} at +{self.t:.1f}s"


@dataclass(frozen=True)
class Timeline:
    bucket: float                    # seconds per bucket (1 unless the run is longer than MAX_BUCKETS s)
    seconds: np.ndarray              # start of each bucket, seconds since t0
    rates: dict[str, np.ndarray]     # "send"/"ack"/"process" -> records per second in each bucket
    bands: list[Band]
    marks: list[Mark]
    more_bands: int = 0              # timeline entries past MAX_FAULTS, not drawn
    more_marks: int = 0              # anomalies past MAX_MARKS, not drawn
    leader_changes: str = LEADER_CHANGES
    end: float = 0.0                 # last second drawn
    notes: list[str] = field(default_factory=list)
    leaders: list[LeaderChange] = field(default_factory=list)


def run_t0(run_dir: Path, histories: dict[str, np.ndarray]) -> float:
    """meta.json's t0, else the first recorded event (as the verifier does)."""
    from kafka_chaos.report import load_json

    t0 = load_json(Path(run_dir) / "meta.json", {}).get("t0")
    if _num(t0):
        return float(t0)
    ts = [float(h["t"].min()) for h in histories.values() if len(h)]
    return min(ts) if ts else 0.0


def build(run_dir: Path, verdict: Verdict) -> Timeline:
    """The timeline of the run in `run_dir` (histories, timeline.jsonl, meta.json) and its verdict's anomalies."""
    histories = history.read_dir(Path(run_dir) / "history") if (Path(run_dir) / "history").is_dir() else {}
    t0 = run_t0(run_dir, histories)
    tl = timeline(histories, history.read_timeline(run_dir), verdict.anomalies, t0)
    return with_leaders(tl, leaders.read(run_dir), t0)


def with_leaders(tl: Timeline, samples: list[dict], t0: float) -> Timeline:
    """`tl` with the leader changes of the samples (leaders.read) inside its span, or saying none were recorded."""
    if not samples:
        return tl
    found = [LeaderChange(t - t0, p, old, new) for t, p, old, new in leaders.changes(samples)
             if 0 <= t - t0 <= tl.end]
    text = (f"{len(found)} change(s), sampled once a second (a change shorter than a second can be missed)"
            + (f"; the first {MAX_LEADER_MARKS} drawn" if len(found) > MAX_LEADER_MARKS else ""))
    return replace(tl, leaders=found[:MAX_LEADER_MARKS], leader_changes=text)


def timeline(histories: dict[str, np.ndarray], entries: list[dict], anomalies: list[dict], t0: float) -> Timeline:
    """Rates of the scenario's topic (stream TOPIC) bucketed by second since t0; fault bands; anomaly marks."""
    parts = [h[(h["stream"] == history.TOPIC) & np.isin(h["kind"], RATES)] for h in histories.values() if len(h)]
    ev = np.concatenate(parts) if parts else np.zeros(0, dtype=history.EVENT)
    rel = ev["t"] - t0
    keep = np.isfinite(rel) & (rel >= 0) & (rel <= MAX_SPAN)
    ev, rel = ev[keep], rel[keep]
    bands, more_bands = _bands(entries, t0)
    marks = [Mark(float(a["t"]), str(a.get("type", "?")), int(a.get("records", 1)), evidence_line(a))
             for a in sorted(anomalies, key=lambda a: a["t"])[:MAX_MARKS]]
    ends = [b.end for b in bands if b.end != math.inf]
    span = max([float(rel.max()) if len(rel) else 0.0] + ends + [m.t for m in marks] + [1.0])
    span = min(span, MAX_SPAN)
    bucket = float(max(1, math.ceil(span / MAX_BUCKETS)))
    n = int(span // bucket) + 1
    idx = (rel // bucket).astype(np.int64)
    rates = {history.KIND_NAMES[k]: np.bincount(idx[ev["kind"] == k], minlength=n)[:n] / bucket for k in RATES}
    bands = [replace(b, end=span) if b.end == math.inf else b for b in bands]   # never healed: to the end
    return Timeline(bucket=bucket, seconds=np.arange(n) * bucket, rates=rates, bands=bands, marks=marks,
                    more_bands=more_bands, more_marks=max(0, len(anomalies) - MAX_MARKS), end=span)


def _bands(entries: list[dict], t0: float) -> tuple[list[Band], int]:
    """Applied faults as bands to their heal (a heal_of entry, else the end-of-run heal, else open: end inf);
    heals that close no band drawn as instants. Entries with no usable time are skipped."""
    heals = {e["heal_of"]: e for e in entries if e.get("event") == "heal" and _int(e.get("heal_of"))}
    final = sorted(t for e in entries if e.get("event") == "heal" and e.get("final") and _num(t := _at(e)))
    paired = set()
    out = []
    for e in entries:
        at = _at(e)
        if not _num(at) or e.get("event") not in ("apply", "heal"):
            continue
        start = float(e["t_started"]) if _num(e.get("t_started")) else float(at)
        ok = e.get("ok", True) is not False
        note = str(e["error"]) if e.get("error") else ""
        action, target = _text(e.get("action", "?")), _text(e.get("target", ""))
        if e["event"] == "heal":
            if _int(e.get("heal_of")) and e["heal_of"] in paired:
                continue
            out.append(Band(action, "", _text(e.get("resolved", "")), at - t0, at - t0, ok,
                            note or ("end-of-run heal" if e.get("final") else "")))
            continue
        end = float(at)
        if ok and HEALS.get(action):   # a fault that lasts until something heals it (action as text: a list in
            # the file is no key)
            heal = heals.get(e.get("seq")) if _int(e.get("seq")) else None
            if heal is not None and _num(_at(heal)):
                paired.add(e["seq"])
                end = float(_at(heal))
                note = f"healed by {_text(heal.get('action', '?'))}: {_text(heal.get('resolved', ''))}".rstrip(": ")
            elif (undo := _undone_by(e, entries)) is not None:   # a scheduled start/unpause of its brokers
                end = float(_at(undo))
                note = f"ended by {_text(undo.get('action', '?'))}: {_text(undo.get('resolved', ''))}".rstrip(": ")
            else:
                later = [t for t in final if t >= at]
                end, note = ((later[0], "healed at the end of the run") if later
                             else (math.inf, "never healed in the timeline"))
        out.append(Band(action, target, _text(e.get("resolved", "")), start - t0, end - t0, ok, note))
    out.sort(key=lambda b: b.start)
    return out[:MAX_FAULTS], max(0, len(out) - MAX_FAULTS)


def _undone_by(fault: dict, entries: list[dict]) -> dict | None:
    """The first later apply of the action that undoes `fault` (kill -> start, pause -> unpause) on one of the
    brokers it hit: a scenario that schedules `start killed` itself, not through the fault's duration."""
    undo, hit = HEALS.get(_text(fault.get("action"))), fault.get("brokers")
    if not undo or not isinstance(hit, list):
        return None
    for e in entries:
        later = _at(e)
        if (e.get("event") == "apply" and e.get("action") == undo and e.get("ok", True) is not False and _num(later)
                and later >= _at(fault) and isinstance(e.get("brokers"), list)
                and any(b in hit for b in e["brokers"] if isinstance(b, int))):
            return e
    return None


def _at(e: dict):
    return e.get("t_applied", e.get("t_scheduled"))


def _text(v) -> str:
    """A timeline value as a short string (the file is untrusted: anything may be there)."""
    s = v if isinstance(v, str) else str(v)
    return s if len(s) <= 300 else s[:300] + "…"


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e15   # not NaN or inf either; no
    # math.isfinite: it raises on an integer too large for a float
