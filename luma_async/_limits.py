"""A sliding-window rate limit: at most N events in any window of `period` seconds."""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable

import anyio

__all__ = ["RateLimit"]


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
        return cls(round(rate), 1.0) if rate >= 1 else cls(1, 1.0 / rate)

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
