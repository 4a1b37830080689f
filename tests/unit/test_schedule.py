"""The pure polling schedule: floors, ceilings, ETAs and learning from the run."""

from __future__ import annotations

import pytest

from luma_async._models import State
from luma_async._schedule import DEFAULT_INTERVAL, Schedule


def still(interval: float | None = None, **options: float) -> Schedule:
    """A schedule without jitter, so delays are exact."""
    return Schedule(interval, jitter=0.0, rand=lambda: 0.5, **options)


def test_without_data_looks_come_every_interval() -> None:
    """Before any task finished, every look is one interval after the last."""
    schedule = still(1.0)
    assert {schedule.delay(age=float(n), attempts=n) for n in range(12)} == {1.0}


def test_batched_looks_use_the_batch_interval() -> None:
    """Batched looks are cheap, so they come twice as often by default."""
    assert still().delay(age=0.0, batched=True) == 0.5
    assert still(2.0).delay(age=0.0, batched=True) == 2.0


def test_default_interval() -> None:
    """None means the schedule's own base interval."""
    assert Schedule().interval == DEFAULT_INTERVAL


def test_an_eta_is_followed() -> None:
    """A gateway's estimate sets the next look just after it."""
    schedule = still(1.0, ceiling=100.0)
    assert schedule.delay(age=0.0, eta=20.0) == pytest.approx(20.25)


def test_floor_and_ceiling_bound_every_delay() -> None:
    """No delay below the floor or above the ceiling, whatever the inputs."""
    schedule = still(1.0, floor=0.5, ceiling=10.0)
    assert schedule.delay(age=0.0, eta=0.01) == 0.5
    assert schedule.delay(age=0.0, eta=1000.0) == 10.0


def test_learnt_lifetimes_skip_the_quiet_start_and_thin_out_the_tail() -> None:
    """Young tasks wait for the band where others finished; old ones are looked at less."""
    schedule = still(1.0, ceiling=60.0)
    for lifetime in range(20, 41):  # tasks of this run take 20..40 s
        schedule.observe(float(lifetime))
    # The band opens at the fastest lifetime less the gap expected below it: 20 - (30 - 20) / 21.
    assert schedule.opening() == pytest.approx(20.0 - 10.0 / 21)
    young = schedule.delay(age=0.0, state=State.PROCESSING)
    assert young == pytest.approx(20.0 - 10.0 / 21)
    inside = schedule.delay(age=30.0, state=State.PROCESSING, attempts=5)
    assert inside == 1.0
    assert schedule.delay(age=100.0, attempts=5) == 1.0  # slow, but not yet overdue
    late = schedule.delay(age=150.0, attempts=5)
    assert late > 1.0
    assert schedule.delay(age=300.0, attempts=5) > late
    assert schedule.delay(age=300.0, attempts=1) == 1.0  # a task met late gets a few looks


def test_completed_without_link_is_looked_at_every_interval() -> None:
    """The link is expected any moment."""
    schedule = still(0.7)
    assert schedule.delay(age=500.0, state=State.COMPLETED, attempts=50) == 0.7


def test_the_sample_is_bounded_and_ignores_nonsense() -> None:
    """Old lifetimes leave the sample first; negative ones are ignored."""
    schedule = still(1.0)
    schedule.observe(-5.0)
    assert schedule.quantile(0.5) is None
    for _ in range(600):
        schedule.observe(100.0)
    for _ in range(512):
        schedule.observe(1.0)
    assert schedule.quantile(0.99) == 1.0


def test_jitter_spreads_delays_both_ways() -> None:
    """Jitter of 10% moves a delay within +-10%."""
    low = Schedule(1.0, jitter=0.1, rand=lambda: 0.0).delay(age=0.0)
    high = Schedule(1.0, jitter=0.1, rand=lambda: 1.0).delay(age=0.0)
    assert low == pytest.approx(0.9)
    assert high == pytest.approx(1.1)


def test_an_explicit_interval_is_the_callbacks_safety_net_period() -> None:
    """With callbacks, a chosen interval is kept; only the default one is made ten times sparser."""
    assert still(2.0).delay(age=0.0, hinted=True) == 2.0
    assert still(2.0).delay(age=0.0, hinted=True, batched=True) == 2.0
    assert still(ceiling=100.0).delay(age=0.0, hinted=True) == pytest.approx(10 * DEFAULT_INTERVAL)


def test_lifetimes_are_learnt_per_kind_with_the_overall_record_as_fallback() -> None:
    """A seeded kind waits for its own band; an unseen kind and plain ids use the overall one."""
    schedule = still(1.0, ceiling=100.0)
    schedule.seed("h|anyapi|video|ray-2|1080p|9s", [float(x) for x in range(60, 81)])
    schedule.seed(None, [float(x) for x in range(20, 41)])
    slow = schedule.delay(age=0.0, kind="h|anyapi|video|ray-2|1080p|9s")
    assert slow == pytest.approx(60.0 - 10.0 / 21)
    overall = 20.0 - 10.0 / 21
    assert schedule.delay(age=0.0, kind="h|anyapi|video|ray-2|540p|5s") == pytest.approx(overall)
    assert schedule.delay(age=0.0) == pytest.approx(overall)


def test_only_lifetimes_of_a_known_kind_are_kept_for_the_cache_and_kinds_are_bounded() -> None:
    """Plain ids teach the run but are not remembered; at most 64 kinds are held at once."""
    schedule = still(1.0)
    schedule.observe(5.0)
    schedule.observe(7.0, "k")
    assert schedule.fresh == [("k", 7.0)]
    for i in range(200):
        schedule.observe(1.0, f"kind-{i}")
    assert len(schedule._samples) <= 66
