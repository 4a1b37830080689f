"""The sliding-window rate limit and the retry maths, on a fake clock."""

from __future__ import annotations

import pytest

from luma_async import RetryPolicy
from luma_async._limits import RateLimit
from luma_async._retry import retry_delay

pytestmark = pytest.mark.anyio


class FakeClock:
    """A clock the test moves; sleeping is replaced by moving it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_window_allows_a_burst_then_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three per minute: three at once, the fourth a minute after the first."""
    clock = FakeClock()

    async def fake_sleep(seconds: float) -> None:
        clock.now += seconds

    monkeypatch.setattr("luma_async._limits.anyio.sleep", fake_sleep)
    limit = RateLimit(3, 60.0, clock=clock)
    for _ in range(3):
        await limit.acquire()
    assert clock.now == 0.0
    await limit.acquire()
    assert clock.now == 60.0
    clock.now = 200.0
    await limit.acquire()
    assert clock.now == 200.0


def test_per_second_rates() -> None:
    """Rates below one become one event per 1/rate seconds."""
    assert (RateLimit.per_second(5).events, RateLimit.per_second(5).period) == (5, 1.0)
    assert (RateLimit.per_second(0.5).events, RateLimit.per_second(0.5).period) == (1, 2.0)
    with pytest.raises(ValueError, match="rate"):
        RateLimit.per_second(0)
    with pytest.raises(ValueError, match="events"):
        RateLimit(0, 1.0)


def test_backoff_is_full_jitter_up_to_the_cap() -> None:
    """Waits grow as base*2^n, capped, scaled by the random draw."""
    policy = RetryPolicy(base=0.5, cap=4.0)
    assert [retry_delay(n, policy, rand=lambda: 1.0) for n in range(1, 6)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        4.0,
    ]
    assert retry_delay(3, policy, rand=lambda: 0.0) == 0.0


def test_retry_after_is_a_floor_that_jitter_never_shortens() -> None:
    """The server's Retry-After is waited in full, plus a little spread."""
    policy = RetryPolicy(base=0.5, cap=4.0)
    assert retry_delay(1, policy, retry_after=3.0, rand=lambda: 0.0) == 3.0
    assert 3.0 <= retry_delay(5, policy, retry_after=3.0, rand=lambda: 1.0) <= 3.5
