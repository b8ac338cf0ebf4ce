"""The fault plan: every firing on time, automatic heals, all randomness from the seed."""

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
