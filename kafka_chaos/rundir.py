"""What a run directory recorded, read back as untrusted input: its scenario, its start time, its fault timeline.

A run directory may come from elsewhere (a CI artifact, a shared runs/), so every file is read bounded and
only if it is a regular file, and anything of the wrong shape is a UsageError (exit 2) naming the file
and, for the timeline, the line.
"""

from __future__ import annotations

import json
from pathlib import Path

from kafka_chaos import files, scenario, schedule
from kafka_chaos.errors import KchaosError, UsageError

SCENARIO = "scenario.json"
META = "meta.json"
TIMELINE = "timeline.jsonl"
MAX_JSON = 16 * 2**20        # scenario.json, meta.json (which lists every planned fault), audit.json
MAX_TIMELINE = 256 * 2**20   # one line per applied fault or heal
WORKERS = ("producer", "consumer")   # what a crash fault kills (and its heal restarts)


def read_object(path: Path, what: str, required: bool = True) -> dict:
    """The JSON object in a run directory's file (bounded, a regular file only); {} when the file is absent
    and not required. Anything else is a UsageError naming the file."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        if required:
            raise UsageError(f"{path.parent}: not a kchaos run directory (no {path.name})")
        return {}
    data = files.read_json(path, MAX_JSON, what)
    if not isinstance(data, dict):
        raise UsageError(f"{path}: {what} must be a JSON object, not {type(data).__name__}")
    return data


def scenario_of(run_dir: Path):
    """The validated scenario a run directory recorded (secrets in it were masked when it was written)."""
    path = Path(run_dir) / SCENARIO
    data = read_object(path, "the scenario kchaos wrote")
    try:
        return scenario.from_dict(data, path=path)
    except KchaosError:
        raise
    except KeyError as e:
        raise UsageError(f"{path}: not a scenario kchaos wrote (missing field {e})") from None
    except (TypeError, ValueError, AttributeError) as e:
        raise UsageError(f"{path}: not a scenario kchaos wrote ({e})") from None


def start_time(run_dir: Path) -> float:
    """meta.json's t0: when the run's workload started, in seconds since the epoch."""
    path = Path(run_dir) / META
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"{run_dir}: not a kchaos run directory (no {META})")
    meta = files.read_json(path, MAX_JSON, META)
    t0 = meta.get("t0") if isinstance(meta, dict) else None   # any other shape: "t0 must be a number"
    if not _number(t0):
        raise UsageError(f"{path}: t0 must be a number (the start of the run, seconds since the epoch), not {t0!r}")
    return float(t0)


def compose_project(run_dir: Path, default: str) -> str:
    """meta.json's compose project (the run's --project), or `default` when the run recorded none; a name
    compose would refuse is exit 2 (it is only ever a label filter, never a command)."""
    from kafka_chaos.cluster.compose import PROJECT_RE

    path = Path(run_dir) / META
    meta = files.read_json(path, MAX_JSON, META) if path.is_file() else {}
    project = meta.get("project") if isinstance(meta, dict) else None
    if project is None:
        return default
    if not isinstance(project, str) or not PROJECT_RE.match(project):
        raise UsageError(f"{path}: project must be a compose project name, not {str(project)[:80]!r}")
    return project


def replay_timeline(run_dir: Path) -> list[dict]:
    """The timeline entries a replay reads, each checked for the fields and types it uses.

    A torn last line (the run was killed mid-write) is skipped; any other line that is not a JSON object,
    and any entry a replay would misread, is an error naming timeline.jsonl and the line.
    """
    path = Path(run_dir) / TIMELINE
    if not path.exists() and not path.is_symlink():
        return []
    raw = files.read_bounded(path, MAX_TIMELINE, TIMELINE)
    lines = raw.split(b"\n")
    out, applied = [], {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, RecursionError, json.JSONDecodeError) as e:
            if n == len(lines):   # no newline after it: the write was cut short
                continue
            raise UsageError(f"{path}:{n}: not a JSON line ({getattr(e, 'msg', None) or type(e).__name__})") from None
        if not isinstance(entry, dict):
            raise UsageError(f"{path}:{n}: a timeline entry must be a JSON object")
        if entry.get("final") or entry.get("seq") is None:
            continue   # the final heal-all and worker events are not replayed
        problem = _replay_problem(entry, applied)
        if problem:
            raise UsageError(f"{path}:{n}: {problem}")
        out.append(entry)
    return out


def _replay_problem(e: dict, applied: dict[int, str]) -> str | None:
    """What makes timeline entry `e` unfit for schedule.replay, or None; `applied` maps seq -> action so far."""
    if not _int(e["seq"]):
        return f"seq must be an integer, not {e['seq']!r}"
    if not _number(e.get("t_applied")) or ("t_started" in e and not _number(e["t_started"])):
        return "t_applied and t_started must be numbers of seconds"
    action = e.get("action")
    if e.get("event") == "apply":
        if action not in scenario.ACTIONS:
            return f"action {action!r} is not a fault action"
        if not isinstance(e.get("target", ""), str):
            return "target must be a string"
        if not isinstance(e.get("spec"), dict):
            return "spec must be the fault as a JSON object"
        if action == "crash" and not (e.get("target") in WORKERS and e["spec"].get("target") in WORKERS):
            return f"a crash targets one of {', '.join(WORKERS)}"
        try:
            scenario.fault_from_dict(e["spec"])
        except KchaosError as exc:
            return f"spec: {exc}"
        except (TypeError, ValueError, AttributeError) as exc:
            return f"spec is not a fault kchaos wrote ({exc})"
        for key, ok in (("brokers", _ints), ("groups", lambda g: isinstance(g, list) and all(map(_ints, g)))):
            if e.get(key) is not None and not ok(e[key]):
                return f"{key} must be {'a list of broker ids' if key == 'brokers' else 'lists of broker ids'}"
        applied[e["seq"]] = action
    elif e.get("event") == "heal":
        heal_of = e.get("heal_of")
        if heal_of is not None and not _int(heal_of):
            return f"heal_of must be an integer, not {heal_of!r}"
        if heal_of in applied and action != schedule.HEALS.get(applied[heal_of]):
            return f"action {action!r} does not heal a {applied[heal_of]} fault"
    else:
        return f"event must be apply or heal, not {e.get('event')!r}"
    return None


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ints(value) -> bool:
    return isinstance(value, list) and all(_int(v) for v in value)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e15   # no NaN, inf, 10**400
