"""Turns a scenario's faults, its nemesis or a recorded timeline into planned actions; randomness from the seed."""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass

from kafka_chaos import catalog

NETWORK_ACTIONS = catalog.NETWORK_ACTIONS
# action -> the action that undoes it (heals of a planned fault undo exactly the brokers it hit)
HEALS = catalog.HEALS
MAX_PLANNED = 10_000   # planned actions of one run, automatic heals included


@dataclass(frozen=True)
class Planned:
    t: float                          # seconds after the workload starts
    action: str
    target: str
    duration: float | None
    spec: object = None               # the FaultSpec it comes from (extra fields: probability, rate, …)
    heal_of: int = -1                 # for automatic heals: the seq of the planned fault it undoes
    seq: int = 0                      # position in the timeline
    fixed: tuple[int, ...] | None = None   # replay: brokers to hit instead of resolving the target


def delay_heals(pending: list[Planned], seq: int, by: float) -> list[Planned]:
    """Move the automatic heal of fault `seq` later by `by` seconds (the fault fired that late), so a
    fault always lasts its full `duration`; the result stays sorted by time."""
    moved = [dataclasses.replace(p, t=p.t + by) if p.heal_of == seq else p for p in pending]
    return sorted(moved, key=lambda p: p.t)


def sleep_for(pending: list[Planned], elapsed: float, tick: float) -> float:
    """Seconds the runner may sleep `elapsed` seconds into the workload: until the next planned action is due
    (so it fires on time, not on the next poll), at most `tick` (its other duties), never negative."""
    if not pending:
        return tick
    return max(0.0, min(tick, pending[0].t - elapsed))


def _with_heals(firings: list[Planned]) -> list[Planned]:
    """Add the automatic heal after every firing with a duration, sort, and number the timeline."""
    firings = [dataclasses.replace(p, seq=i) for i, p in enumerate(sorted(firings, key=lambda p: p.t))]
    heals = [Planned(p.t + p.duration, HEALS[p.action], "", None, p.spec, heal_of=p.seq)
             for p in firings if p.duration and p.action in HEALS]
    merged = sorted(firings + heals, key=lambda p: (p.t, p.heal_of >= 0))
    new_seq = {p.seq: i for i, p in enumerate(merged) if p.heal_of < 0}
    return [dataclasses.replace(p, seq=i, heal_of=new_seq[p.heal_of] if p.heal_of >= 0 else -1)
            for i, p in enumerate(merged)]


def plan(faults, duration: float, seed: int, nemesis=None) -> list[Planned]:
    """Every firing of every fault within `duration`, sorted by time. `every` repeats (with seeded
    jitter) up to `count` times; the nemesis draws faults at random; a fault with `duration` gets its
    heal planned after it (crash heals are the restart of the worker, done by the runner)."""
    rng = random.Random(seed)
    firings = []
    for f in faults:
        if f.at is not None:
            times = [f.at]
        else:
            times = [max(0.0, k * f.every + rng.uniform(-f.jitter, f.jitter))
                     for k in range(1, _repeats(f.every, duration, f.count) + 1)]
        firings += [Planned(t, f.action, f.target, f.duration, f) for t in times]
    if nemesis is not None:
        firings += nemesis_firings(nemesis, duration, seed)
    return _with_heals(firings)


def _repeats(every: float, duration: float, count: int | None) -> int:
    """How many of every, 2 * every, ... fall before `duration` (at most `count`), without looping over them."""
    n = max(0, math.ceil(duration / every) - 1)
    while (n + 1) * every < duration:   # float rounding either way
        n += 1
    while n and n * every >= duration:
        n -= 1
    return n if count is None else min(n, count)


def planned_actions(fault, duration: float) -> int:
    """How many actions `plan` gives one fault within `duration`: its firings, and their heals."""
    firings = 1 if fault.at is not None else _repeats(fault.every, duration, fault.count)
    return firings * (2 if fault.duration and fault.action in HEALS else 1)


def most_nemesis_actions(nemesis, duration: float) -> int:
    """At most how many actions the nemesis plans within `duration`, heals included: its faults are at
    least max(interval - jitter, shortest fault duration + recovery) apart."""
    gap = max(nemesis.interval - nemesis.jitter, min(f.duration or 0 for f in nemesis.faults) + nemesis.recovery)
    return 2 * (math.floor(max(0.0, duration - nemesis.start) / gap) + 1) if gap > 0 else math.inf   # +1: rounding


def nemesis_firings(nemesis, duration: float, seed: int) -> list[Planned]:
    """Random faults every `interval ± jitter`, each followed by `recovery` seconds without a fault
    of the nemesis; the same seed always gives the same timeline."""
    rng = random.Random(f"nemesis-{seed}")
    out, t = [], nemesis.start
    while True:
        t = max(t, 0.0)
        if t >= duration:
            return out
        f = rng.choice(nemesis.faults)
        out.append(Planned(round(t, 3), f.action, f.target, f.duration, f))
        t = max(t + (f.duration or 0) + nemesis.recovery,
                t + nemesis.interval + rng.uniform(-nemesis.jitter, nemesis.jitter))


def replay(timeline: list[dict], t0: float, make_spec) -> list[Planned]:
    """The recorded faults of a run, at the same offsets, on the brokers they hit then."""
    out, heal_of = [], {}
    for e in timeline:
        if e.get("final") or e.get("seq") is None:
            continue
        t = e.get("t_started", e["t_applied"]) - t0   # when it began; older timelines: when it ended
        if e["event"] == "apply":
            spec = make_spec(e["spec"]) if e.get("spec") else None
            if spec is not None and e.get("groups"):   # a drawn split shape replays as its groups
                spec = dataclasses.replace(spec, groups=tuple(tuple(g) for g in e["groups"]), shape=None)
            heal_of[e["seq"]] = len(out)
            fixed = tuple(e["brokers"]) if e.get("brokers") is not None else None
            out.append(Planned(t, e["action"], e.get("target", ""), None, spec, -1, len(out), fixed))
        elif e.get("heal_of") in heal_of:
            spec = out[heal_of[e["heal_of"]]].spec
            out.append(Planned(t, e["action"], "", None, spec, heal_of[e["heal_of"]], len(out)))
    return out
