"""Request pacing: a sliding-window rate limit, and adaptive buckets that learn from 429s."""

from __future__ import annotations

import collections
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Literal

import anyio

__all__ = ["BucketName", "RateLimit", "Throttle"]

#: The kinds of request that are slowed apart: a 429 on creates never delays status reads.
BucketName = Literal["create", "read", "download"]


class RateLimit:
    """At most `events` acquisitions in any `period` seconds (bursts allowed up to `events`).

    A sliding window rather than a token bucket: "20 creates a minute" must never become 40
    in one minute because the bucket was full at its start.
    """

    def __init__(
        self, events: int, period: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if events < 1 or period <= 0:
            raise ValueError("a rate limit needs events >= 1 and period > 0")
        self.events = events
        self.period = period
        self._clock = clock
        self._times: collections.deque[float] = collections.deque()
        self._lock = anyio.Lock()

    @classmethod
    def per_second(cls, rate: float) -> RateLimit:
        """`rate` events a second; below 1 it becomes one event every 1/rate seconds."""
        if rate <= 0 or math.isnan(rate):
            raise ValueError(f"rate must be > 0, not {rate}")
        # Rounded down: 1.5 a second must never let 2 start in one second.
        return cls(math.floor(rate), 1.0) if rate >= 1 else cls(1, 1.0 / rate)

    async def acquire(self) -> None:
        """Wait until one more event fits in the window, and count it."""
        async with self._lock:  # first come, first served
            while True:
                now = self._clock()
                while self._times and self._times[0] <= now - self.period:
                    self._times.popleft()
                if len(self._times) < self.events:
                    self._times.append(now)
                    return
                await anyio.sleep(self._times[0] + self.period - now)


#: Below this rate (requests a second) a throttled bucket slows no further.
MIN_RATE = 0.2
#: A recovered bucket is no longer paced once its rate is this many times the one that met 429.
RECOVERED = 4.0


class Throttle:
    """Adaptive pacing for one kind of request (AIMD): halved on a 429, +1/s per second of success.

    Unthrottled (the usual case) `acquire` costs a comparison and a counter. After a 429 the
    bucket pauses for the `Retry-After` the gateway asked, then lets requests out one by one
    at half the rate it had reached, each a little jittered, so a pause never ends in a burst;
    every success adds `1/rate` to the rate, which doubles it in about `rate` seconds.
    """

    def __init__(
        self,
        name: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        #: Requests a second allowed now; None: not paced.
        self.rate: float | None = None
        self.paused_until = 0.0
        self._ceiling = 0.0
        self._decreased_at = -math.inf
        self._next = 0.0
        self._lock = anyio.Lock()
        # Starts in the current and the previous second: what the rate was when a 429 came.
        self._second = 0
        self._count = 0
        self._last_count = 0

    def _count_start(self, now: float) -> None:
        second = int(now)
        if second != self._second:
            self._last_count = self._count if second == self._second + 1 else 0
            self._second, self._count = second, 0
        self._count += 1

    def ready(self) -> bool:
        """True, and counted, when a request may start now without waiting (the usual case)."""
        now = self._clock()
        if self.rate is None and now >= self.paused_until:
            self._count_start(now)
            return True
        return False

    async def acquire(self, *, patience: float) -> None:
        """Wait for this bucket's turn, but for a pause no longer than `patience` seconds.

        A pause longer than that is cut short: the request goes out and meets its own 429 if
        the gateway still refuses (a stored 429 is never handed to a request that did not
        meet it).
        """
        now = self._clock()
        if self.rate is None and now >= self.paused_until:
            self._count_start(now)
            return
        deadline = now + patience
        # Waiting for the lock counts against `patience` too: behind other waiters a request
        # must not wait out their pauses one after another, past its own retry budget.
        with anyio.move_on_after(patience):
            async with self._lock:  # paced requests leave one at a time, in arrival order
                now = self._clock()
                wait = min(max(self.paused_until - now, self._next - now), deadline - now)
                if wait > 0:
                    await self._sleep(wait)
                    now = self._clock()
                if self.rate is not None:
                    # Jitter: waiters a pause released do not all arrive at once.
                    self._next = now + (0.5 + self._rand()) / self.rate
                self._count_start(now)
                return
        self._count_start(self._clock())  # out of patience: it goes, and meets its own 429

    def throttled(self, retry_after: float | None, default: float) -> None:
        """A 429 came back: pause for `retry_after` (else `default`) and halve the rate."""
        now = self._clock()
        pause = retry_after if retry_after is not None else default
        self.paused_until = max(self.paused_until, now + pause)
        # Many requests in flight meet the same overload at once: one halving per second,
        # not one per answer (32 concurrent 429s must not divide the rate by 2**32).
        if now - self._decreased_at < 1.0:
            return
        self._decreased_at = now
        seen = max(self._count, self._last_count, 1)
        current = self.rate if self.rate is not None else float(seen)
        self._ceiling = max(self._ceiling if self.rate is not None else 0.0, RECOVERED * current)
        self.rate = max(MIN_RATE, current / 2)

    def succeeded(self) -> None:
        """An answer that was not a 429: the rate creeps back up."""
        rate = self.rate
        if rate is not None:
            rate += 1.0 / rate
            self.rate = None if rate > self._ceiling else rate
