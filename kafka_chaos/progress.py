"""Progress while a run is under way: elapsed time, send/ack/process counts and rates, active faults.

On a terminal it is a live panel; elsewhere (CI logs) a plain line every 10 seconds. Fault events are
printed as they happen in both cases.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from kafka_chaos.workload import read_status


class Progress:
    def __init__(self, console: Console, run_dir, duration: float, t0: float, engine):
        self.console = console
        self.run_dir = run_dir
        self.duration = duration
        self.t0 = t0
        self.engine = engine
        self.live = Live(console=console, refresh_per_second=4, transient=True) if console.is_terminal else None
        self._last_line = 0.0
        self._prev = (t0, 0, 0)

    def __enter__(self):
        if self.live:
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live:
            self.live.__exit__(*exc)
        self.console.print(self.line(time.time() - self.t0), highlight=False)

    def counts(self) -> dict[str, int]:
        total = {"sent": 0, "acked": 0, "errors": 0, "processed": 0}
        for name, values in read_status(self.run_dir).items():
            role = name.rsplit("-", 1)[0]   # what reaches the topic (producer or relay), what the consumer read
            for k in total:
                if role in (("consumer",) if k == "processed" else ("producer", "relay")):
                    total[k] += values.get(k, 0)
        return total

    def line(self, now: float) -> str:
        """The progress line, as rich markup (ledger strings such as container names are escaped)."""
        c = self.counts()
        t_prev, sent_prev, proc_prev = self._prev
        dt = max(1e-3, time.time() - t_prev)
        rates = f"{(c['sent'] - sent_prev) / dt:.0f}/s sent, {(c['processed'] - proc_prev) / dt:.0f}/s processed"
        self._prev = (time.time(), c["sent"], c["processed"])
        active = [f"{e['action']} broker {e['broker']}" for e in self.engine.ledger.entries()]
        return escape(f"[{min(now, self.duration):5.1f}/{self.duration:.0f}s] sent {c['sent']} acked {c['acked']} "
                      f"errors {c['errors']} processed {c['processed']} ({rates}); "
                      f"active faults: {', '.join(active) or 'none'}")

    def update(self, now: float) -> None:
        if self.live:
            if time.time() - self._last_line >= 0.5:
                self._last_line = time.time()
                table = Table.grid(padding=(0, 1))
                table.add_row("[bold]running[/]", self.line(now))
                self.live.update(table)
        elif time.time() - self._last_line >= 10:
            self._last_line = time.time()
            self.console.print(self.line(now), highlight=False)

    def event(self, entry: dict) -> None:
        at = entry.get("t_applied", time.time()) - self.t0
        status = "[green]ok[/]" if entry.get("ok") else f"[red]failed[/]: {escape(str(entry.get('error', '')))}"
        what = escape(f"{entry['event']} {entry['action']} {entry.get('target') or ''} -> {entry.get('resolved', '')}")
        self.console.print(f"  +{at:5.1f}s {what} {status}", highlight=False)
