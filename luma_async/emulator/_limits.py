"""Gateway limits and load figures: a per-key sliding-window rate limiter, tasks in flight."""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """new-api's in-memory limiter: at most `capacity` requests per key in any `window` seconds.

    As one-api/new-api do it, a refused request is not recorded, so a client that keeps asking
    is let in as soon as the oldest request leaves the window. A rate below one request per
    window widens the window instead (0.2 a second: one request in any five seconds).
    """

    def __init__(self, rate: float, window: float, clock: Callable[[], float]) -> None:
        """`rate` requests a second, counted over `window` seconds."""
        self.capacity = max(1, math.floor(rate * window + 1e-9))
        self.window = self.capacity / rate
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def take(self, key: str) -> int | None:
        """None when the request may pass, else the whole seconds until it would (at least 1)."""
        now = self._clock()
        times = self._seen.setdefault(key, deque())
        if len(times) < self.capacity:
            times.append(now)
            return None
        if now - times[0] >= self.window:
            times.popleft()
            times.append(now)
            return None
        return max(1, math.ceil(times[0] + self.window - now - 1e-9))


class InFlight:
    """Counts generations created and not yet terminal, and the most ever seen at once.

    Task states follow from the clock, so the count only rises at a creation: measuring right
    after each one gives the exact maximum.
    """

    def __init__(self) -> None:
        """Nothing in flight."""
        self._ends: list[float] = []
        self.peak = 0

    def add(self, now: float, finished: float) -> None:
        """A task created at `now` that becomes terminal at `finished`."""
        while self._ends and self._ends[0] <= now:
            heapq.heappop(self._ends)
        if finished > now:
            heapq.heappush(self._ends, finished)
        self.peak = max(self.peak, len(self._ends))
