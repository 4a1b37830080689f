"""The sliding-window rate limit and the retry maths, on a fake clock."""

from __future__ import annotations

import itertools

import pytest

from luma_async import RetryPolicy
from luma_async._limits import MIN_RATE, RateLimit, Throttle
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


# -- the adaptive buckets ------------------------------------------------------------------------


def throttle(clock: FakeClock, rand: float = 0.5) -> Throttle:
    """A Throttle on `clock` whose sleeps move it, with a fixed jitter draw."""

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    return Throttle("read", clock=clock, sleep=sleep, rand=lambda: rand)


async def test_unthrottled_acquire_never_waits() -> None:
    """Before any 429 a bucket lets everything out at once."""
    clock = FakeClock()
    bucket = throttle(clock)
    for _ in range(100):
        await bucket.acquire(patience=60.0)
    assert clock.now == 0.0
    assert bucket.rate is None


async def test_a_429_pauses_then_halves_the_rate_with_spread() -> None:
    """After a 429 the bucket waits out Retry-After, then lets requests out one by one."""
    clock = FakeClock()
    bucket = throttle(clock)
    for _ in range(8):  # 8 requests in this second: the rate that met the 429
        await bucket.acquire(patience=60.0)
    bucket.throttled(3.0, default=0.5)
    assert bucket.rate == 4.0
    starts = []
    for _ in range(4):
        await bucket.acquire(patience=60.0)
        starts.append(clock.now)
    assert starts[0] == 3.0  # the pause, honoured
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap > 0 for gap in gaps)  # nobody leaves together when the pause ends


async def test_jitter_spreads_the_resume() -> None:
    """The spacing after a pause is jittered between 0.5 and 1.5 times 1/rate."""
    for rand, expected in [(0.0, 0.5 / 4), (1.0, 1.5 / 4)]:
        clock = FakeClock()
        bucket = throttle(clock, rand=rand)
        for _ in range(8):
            await bucket.acquire(patience=60.0)
        bucket.throttled(1.0, default=0.5)
        await bucket.acquire(patience=60.0)
        first = clock.now
        await bucket.acquire(patience=60.0)
        assert clock.now - first == pytest.approx(expected)


async def test_the_rate_creeps_back_up_and_unpaces() -> None:
    """Each success adds 1/rate; past four times the rate that met the 429, pacing ends."""
    clock = FakeClock()
    bucket = throttle(clock)
    await bucket.acquire(patience=60.0)
    bucket.throttled(None, default=0.5)  # one request a second met a 429
    assert bucket.rate == 0.5
    assert bucket.paused_until == 0.5
    bucket.succeeded()
    assert bucket.rate == 2.5
    for _ in range(10):
        bucket.succeeded()
    assert bucket.rate is None


async def test_a_second_429_halves_again() -> None:
    """Multiplicative decrease: a 429 halves the rate, at most once a second, down to a floor."""
    clock = FakeClock()
    bucket = throttle(clock)
    for _ in range(10):
        await bucket.acquire(patience=60.0)
    bucket.throttled(0.0, default=0.5)
    for _ in range(31):  # the rest of a burst that met the same overload: no further halving
        bucket.throttled(0.0, default=0.5)
    assert bucket.rate == 5.0
    clock.now += 1.0
    bucket.throttled(0.0, default=0.5)
    assert bucket.rate == 2.5
    for _ in range(20):
        clock.now += 1.0
        bucket.throttled(0.0, default=0.5)
    assert bucket.rate == MIN_RATE


async def test_patience_bounds_the_wait() -> None:
    """A pause longer than the caller's budget is waited only as long as the budget."""
    clock = FakeClock()
    bucket = throttle(clock)
    bucket.throttled(65.0, default=0.5)
    await bucket.acquire(patience=2.0)
    assert clock.now == 2.0
