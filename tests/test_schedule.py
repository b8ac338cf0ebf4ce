"""The fault plan: every firing on time, automatic heals, all randomness from the seed."""

import pytest

from kafka_chaos import scenario, schedule

BASE = """
name: s
duration: 60s
cluster: {bootstrap: "127.0.0.1:19092", containers: {1: a, 2: b, 3: c}}
producer: {semantic: at-least-once}
consumer: {mode: commit-after-process}
faults:
"""


def plan(faults: str, seed=0):
    s = scenario.loads(BASE + faults)
    return schedule.plan(s.faults, s.duration, seed)


def test_at_with_duration_plans_the_heal_after_it():
    p = plan("  - {at: 10s, action: pause, target: broker(2), duration: 5s}\n")
    assert [(x.t, x.action, x.heal_of) for x in p] == [(10.0, "pause", -1), (15.0, "unpause", 0)]


def test_kill_heals_with_start_and_crash_with_a_worker_restart():
    p = plan("  - {at: 5s, action: kill, target: controller, duration: 3s}\n"
             "  - {at: 6s, action: crash, target: consumer, duration: 2s}\n")
    assert [(x.t, x.action) for x in p] == [(5.0, "kill"), (6.0, "crash"), (8.0, "start"), (8.0, "restart-worker")]
    assert p[2].heal_of == 0 and p[3].heal_of == 1


def test_every_repeats_within_duration_and_count():
    p = plan("  - {every: 15s, action: restart, target: random}\n")
    assert [x.t for x in p] == [15.0, 30.0, 45.0]
    p = plan("  - {every: 10s, count: 2, action: restart, target: random}\n")
    assert [x.t for x in p] == [10.0, 20.0]


def test_same_seed_same_timeline_other_seed_other_jitter():
    faults = "  - {every: 10s, jitter: 3s, action: pause, target: random, duration: 2s}\n"
    a, b, c = plan(faults, seed=1), plan(faults, seed=1), plan(faults, seed=2)
    assert a == b
    assert [x.t for x in a] != [x.t for x in c]
    assert all(7 <= x.t <= 13 for x in a[:1])


def test_heals_follow_their_fault_even_when_others_interleave():
    p = plan("  - {at: 10s, action: pause, target: broker(1), duration: 10s}\n"
             "  - {at: 12s, action: kill, target: broker(2), duration: 2s}\n")
    by_seq = {x.seq: x for x in p}
    for x in p:
        if x.heal_of >= 0:
            assert by_seq[x.heal_of].t + by_seq[x.heal_of].duration == x.t


NEMESIS = BASE.replace("faults:\n", "") + """nemesis:
  start: 5s
  interval: 10s
  jitter: 2s
  recovery: 3s
  faults:
    - {action: kill, target: random, duration: 4s}
    - {action: isolate, target: random, duration: 6s}
    - {action: pause, target: random, duration: 2s}
"""


def nemesis_plan(seed):
    s = scenario.loads(NEMESIS)
    return schedule.plan(s.faults, s.duration, seed, s.nemesis)


def test_same_seed_gives_the_same_nemesis_timeline():
    assert nemesis_plan(4) == nemesis_plan(4)
    assert [(p.t, p.action) for p in nemesis_plan(4)] != [(p.t, p.action) for p in nemesis_plan(5)]


def test_nemesis_faults_are_healed_and_separated_by_recovery():
    p = nemesis_plan(4)
    faults = [x for x in p if x.heal_of < 0]
    assert faults and faults[0].t >= 5.0 and all(x.t < 60 for x in faults)
    heals = {x.heal_of: x for x in p if x.heal_of >= 0}
    assert set(heals) == {x.seq for x in faults}
    for a, b in zip(faults, faults[1:]):
        assert b.t >= a.t + a.duration + 3.0 - 1e-9, "recovery gap after each heal"


def test_replay_plan_reproduces_recorded_actions_brokers_and_offsets():
    t0 = 1000.0
    timeline = [
        {"event": "apply", "seq": 0, "action": "kill", "target": "random", "brokers": [2], "t_applied": 1005.2,
         "spec": {"action": "kill", "target": "random", "at": None, "every": None, "count": None, "jitter": 0.0,
                  "duration": 4.0, "line": 3}},
        {"event": "apply", "seq": 1, "action": "split", "target": "", "brokers": [1, 2, 3], "groups": [[1], [2, 3]],
         "t_applied": 1007.0, "spec": {"action": "split", "target": "", "at": 7.0, "every": None, "count": None,
                                       "jitter": 0.0, "duration": None, "line": 4, "shape": "majority"}},
        {"event": "heal", "seq": 2, "heal_of": 0, "action": "start", "t_applied": 1009.3},
        {"event": "heal", "action": "heal", "final": True, "t_applied": 1020.0},
    ]
    p = schedule.replay(timeline, t0, lambda d: scenario.FaultSpec(**{**d, "groups": tuple(map(tuple, d["groups"])) if d.get("groups") else None}))
    assert [(x.action, x.fixed, round(x.t, 1), x.heal_of) for x in p] == [
        ("kill", (2,), 5.2, -1), ("split", (1, 2, 3), 7.0, -1), ("start", None, 9.3, 0)]
    assert p[1].spec.groups == ((1,), (2, 3)) and p[1].spec.shape is None


def test_delay_heals_moves_only_the_heal_of_that_fault_and_keeps_time_order():
    from kafka_chaos.schedule import Planned, delay_heals
    pending = [Planned(5.0, "unpause", "", None, heal_of=0, seq=1),
               Planned(5.5, "pause", "broker(1)", 1.0, seq=2),
               Planned(6.5, "unpause", "", None, heal_of=2, seq=3)]
    out = delay_heals(pending, 0, 1.2)
    assert [(p.seq, p.t) for p in out] == [(2, 5.5), (1, 6.2), (3, 6.5)]
    assert delay_heals(pending, 7, 3.0) == pending


# -- the plan is bounded: validation counts what `plan` will do ------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(every=st.integers(1, 600).map(lambda n: n / 10), count=st.none() | st.integers(1, 50),
       length=st.none() | st.integers(1, 50), action=st.sampled_from(["pause", "restart", "crash", "loss"]),
       duration=st.integers(2, 120))
def test_validation_counts_exactly_the_actions_plan_makes(every, count, length, action, duration):
    if every >= duration or (action == "crash" and length is None):
        return
    target = {"crash": "producer"}.get(action, "random")
    extra = (f", count: {count}" if count else "") + (f", duration: {length}s" if length else "") + \
        (", probability: 0.5" if action == "loss" else "")
    s = scenario.loads(BASE.replace("60s", f"{duration}s") + f"  - {{every: {every}s, action: {action}, "
                                                             f"target: {target}{extra}}}\n")
    assert len(schedule.plan(s.faults, s.duration, 0)) == schedule.planned_actions(s.faults[0], s.duration)


@settings(max_examples=100, deadline=None)
@given(interval=st.integers(1, 300).map(lambda n: n / 10), jitter=st.integers(0, 100).map(lambda n: n / 100),
       recovery=st.integers(0, 50).map(lambda n: n / 10), length=st.integers(1, 100).map(lambda n: n / 10),
       seed=st.integers(0, 1000))
def test_the_nemesis_never_plans_more_than_validation_allowed_for(interval, jitter, recovery, length, seed):
    text = BASE.replace("faults:\n", "") + (f"nemesis: {{interval: {interval}s, jitter: {jitter * interval:.3f}s, "
                                            f"recovery: {recovery}s, faults: [{{action: kill, target: random, "
                                            f"duration: {length}s}}, {{action: pause, target: all, duration: "
                                            f"{length * 2}s}}]}}\n")
    s = scenario.loads(text)
    assert len(schedule.plan((), s.duration, seed, s.nemesis)) <= schedule.most_nemesis_actions(s.nemesis, s.duration)


def test_a_schedule_of_every_100ms_for_a_day_is_refused_before_it_is_planned():
    import pytest

    from kafka_chaos.errors import ScenarioError
    with pytest.raises(ScenarioError, match=r"faults\[0\]\.every: the faults so far plan 863999 actions"):
        scenario.loads(BASE.replace("60s", "24h") + "  - {every: 100ms, action: restart, target: random}\n")
    with pytest.raises(ScenarioError, match=r"faults\[0\]\.every: 1ms is shorter than 100ms"):
        scenario.loads(BASE.replace("60s", "80s") + "  - {every: 1ms, action: restart, target: random}\n")


def test_heals_and_network_actions_come_from_the_catalog():
    from kafka_chaos import catalog
    assert schedule.HEALS is catalog.HEALS and schedule.NETWORK_ACTIONS is catalog.NETWORK_ACTIONS


def test_the_runner_sleeps_until_the_next_action_is_due_and_never_past_its_tick():
    p = plan("  - {at: 10s, action: pause, target: broker(2), duration: 5s}\n")
    assert schedule.sleep_for(p, 9.95, 0.2) == pytest.approx(0.05)   # wakes exactly when it is due
    assert schedule.sleep_for(p, 5.0, 0.2) == 0.2                      # nothing due sooner: its other duties
    assert schedule.sleep_for(p, 10.3, 0.2) == 0.0                     # overdue: no sleep at all
    assert schedule.sleep_for([], 50.0, 0.2) == 0.2
