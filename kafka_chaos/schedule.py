"""Turns a scenario's fault list into a timeline of planned actions, all randomness from the seed."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Planned:
    t: float              # seconds after the workload starts
    action: str
    target: str
    duration: float | None
    fault: int            # index in the scenario's `faults:` list
    heal_of: int = -1     # for automatic heals: the `seq` of the planned fault it undoes
    seq: int = 0          # position in the timeline


def plan(faults, duration: float, seed: int) -> list[Planned]:
    """Every firing of every fault within `duration`, sorted by time. `every` repeats (with seeded
    jitter) up to `count` times; a fault with `duration` gets its heal planned after it (crash heals are
    the restart of the worker, done by the runner)."""
    rng = random.Random(seed)
    firings = []
    for index, f in enumerate(faults):
        if f.at is not None:
            times = [f.at]
        else:
            times, t = [], f.every
            while t < duration and (f.count is None or len(times) < f.count):
                times.append(max(0.0, t + rng.uniform(-f.jitter, f.jitter)))
                t += f.every
        firings += [(t, index, f) for t in times]
    firings.sort(key=lambda x: (x[0], x[1]))
    out: list[Planned] = []
    for t, index, f in firings:
        out.append(Planned(t, f.action, f.target, f.duration, index, seq=len(out)))
    heals = [Planned(p.t + p.duration, HEALS[p.action], "", None, p.fault, heal_of=p.seq)
             for p in out if p.duration and p.action in HEALS]
    merged = sorted(out + heals, key=lambda p: (p.t, p.heal_of >= 0))
    new_seq = {p.seq: i for i, p in enumerate(merged) if p.heal_of < 0}
    return [Planned(p.t, p.action, p.target, p.duration, p.fault,
                    new_seq[p.heal_of] if p.heal_of >= 0 else -1, i) for i, p in enumerate(merged)]

# action -> the action that undoes it
HEALS = {"pause": "unpause", "kill": "start", "stop": "start", "crash": "restart-worker"}
