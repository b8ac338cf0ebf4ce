"""Progress lines print what happened as it is, whatever characters a target or an error holds."""

from io import StringIO
from types import SimpleNamespace

from rich.console import Console

from kafka_chaos.faults import Ledger
from kafka_chaos.progress import Progress


def test_a_fault_event_with_markup_characters_prints_as_it_is(tmp_path):
    out = StringIO()
    progress = Progress(Console(file=out, width=300), tmp_path, 30.0, 100.0, SimpleNamespace(ledger=Ledger(tmp_path)))
    progress.event({"event": "apply", "action": "isolate", "target": "leader([/x],0)", "resolved": "broker [2]",
                    "ok": True, "t_applied": 108.3})
    progress.event({"event": "apply", "action": "kill", "target": "broker(1)", "ok": False,
                    "error": "[red]no such[/] container [/]", "t_applied": 110.0})
    text = out.getvalue()
    assert "+  8.3s apply isolate leader([/x],0) -> broker [2] ok" in text
    assert "failed: [red]no such[/] container [/]" in text


def test_the_progress_line_lists_active_faults(tmp_path):
    Ledger(tmp_path).add({"id": "0-2", "action": "pause", "broker": 2, "container": "k2", "heal": "unpause"})
    out = StringIO()
    progress = Progress(Console(file=out, width=300), tmp_path, 30.0, 0.0, SimpleNamespace(ledger=Ledger(tmp_path)))
    progress.__exit__(None, None, None)
    assert "active faults: pause broker 2" in out.getvalue() and "sent 0 acked 0" in out.getvalue()
