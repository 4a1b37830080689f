"""When to look at a task next. Pure: no I/O, no clock of its own, randomness injected.

Real relays give no ETA, so the schedule learns from the run itself: the lifetimes of tasks
that already finished say when the others are likely to start finishing, and a task younger
than that is left alone until then. From there on it is looked at every `interval` (a
cheaper `batch_interval` where looks are batched), since a task's own finish cannot be told
apart from its neighbours'. Only a task that outlives the run's slow ones by far is looked at
less and less often. A gateway's `estimate_wait_seconds`, when given, replaces the guess.

Lifetimes remembered from earlier runs (`_timing`) seed the sample, so this holds from the
first task of a new run. The finished sample is biased short early in a run (only quick
tasks have finished), so it only ever shortens waits at the start and never lengthens them
inside the band.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable

from ._models import State

__all__ = ["DEFAULT_INTERVAL", "HINTED_SLOWDOWN", "Schedule"]

#: The base time between two looks at one task inside the likely-finish band.
DEFAULT_INTERVAL = 1.0
#: The same where looks are batched (100 tasks a request): looking twice as often is cheap.
DEFAULT_BATCH_INTERVAL = 0.5
#: How much sparser polling is for a task whose gateway posts callbacks, when the caller gave no
#: `interval` (an explicit one is the safety-net period itself).
HINTED_SLOWDOWN = 10.0
#: A task this many times older than the run's 95th percentile is overdue: looks thin out.
_OVERDUE = 3.0
DEFAULT_FLOOR = 0.2
DEFAULT_CEILING = 30.0
#: Lifetimes kept for learning, per kind; older ones are dropped first when the sample is full.
_SAMPLE_SIZE = 512
#: Finished tasks needed before their lifetimes are trusted.
_MIN_SAMPLE = 8
#: Kinds learnt at once; the least recently fed one is dropped first (a service must not grow).
_MAX_KINDS = 64
#: Lifetimes of this run kept for the timing cache until it is written.
_MAX_FRESH = 4096


class _Sample:
    """Lifetimes in arrival order and sorted, bounded to `_SAMPLE_SIZE`."""

    __slots__ = ("arrival", "sorted")

    def __init__(self) -> None:
        self.sorted: list[float] = []
        self.arrival: list[float] = []

    def add(self, lifetime: float) -> None:
        if len(self.arrival) >= _SAMPLE_SIZE:
            oldest = self.arrival.pop(0)
            del self.sorted[bisect.bisect_left(self.sorted, oldest)]
        self.arrival.append(lifetime)
        bisect.insort(self.sorted, lifetime)

    def quantile(self, q: float) -> float | None:
        if len(self.sorted) < _MIN_SAMPLE:
            return None
        return self.sorted[min(int(q * len(self.sorted)), len(self.sorted) - 1)]

    def opening(self) -> float | None:
        """When the first tasks may finish: the fastest one seen, less the gap expected below it.

        Looks before the first finish are paid by every task still running and find nothing;
        a task that finishes sooner than any seen waits for the band. Of n lifetimes the
        fastest lies, on average, one n-th of their spread above the true minimum: opening that
        much earlier leaves about one task in n waiting, and then briefly.
        """
        if len(self.sorted) < _MIN_SAMPLE:
            return None
        fastest, median = self.sorted[0], self.sorted[len(self.sorted) // 2]
        return max(0.0, fastest - (median - fastest) / len(self.sorted))


class Schedule:
    """Delays between looks at a task, from its state, age, ETA hint and the run so far.

    Lifetimes are learnt per kind (an opaque key, see `_timing.kind_key`) and overall (`kind`
    None); a kind with too few lifetimes of its own uses the overall ones.
    """

    def __init__(
        self,
        interval: float | None = None,
        *,
        floor: float = DEFAULT_FLOOR,
        ceiling: float = DEFAULT_CEILING,
        jitter: float = 0.1,
        rand: Callable[[], float] = random.random,
    ) -> None:
        #: True when the caller chose the interval: it is then the callbacks' safety-net period too.
        self.explicit = interval is not None
        self.interval = interval if interval is not None else DEFAULT_INTERVAL
        self.batch_interval = interval if interval is not None else DEFAULT_BATCH_INTERVAL
        self.floor = min(floor, self.interval, self.batch_interval)
        self.ceiling = max(ceiling, self.interval)
        self.jitter = jitter
        #: The randomness behind the jitter (injected in tests), in [0, 1).
        self.rand = rand
        self._samples: dict[str | None, _Sample] = {None: _Sample()}
        #: Lifetimes of tasks with a kind, finished in this run, for the timing cache.
        self.fresh: list[tuple[str, float]] = []

    def observe(self, lifetime: float, kind: str | None = None) -> None:
        """Learn from a task that finished `lifetime` seconds after it was first seen."""
        if lifetime < 0 or lifetime != lifetime:
            return
        self._samples[None].add(lifetime)
        if kind is not None:
            self._sample(kind).add(lifetime)
            if len(self.fresh) < _MAX_FRESH:
                self.fresh.append((kind, lifetime))

    def seed(self, kind: str | None, lifetimes: list[float]) -> None:
        """Start from lifetimes remembered from earlier runs (the timing cache)."""
        sample = self._samples[None] if kind is None else self._sample(kind)
        for lifetime in lifetimes[-_SAMPLE_SIZE:]:
            if lifetime >= 0:
                sample.add(lifetime)

    def _sample(self, kind: str) -> _Sample:
        sample = self._samples.pop(kind, None)
        if sample is None:
            sample = _Sample()
            if len(self._samples) > _MAX_KINDS:
                oldest = next(k for k in self._samples if k is not None)
                del self._samples[oldest]
        self._samples[kind] = sample  # re-inserted: the most recently fed kind is last
        return sample

    def quantile(self, q: float, kind: str | None = None) -> float | None:
        """The `q` quantile of lifetimes seen so far, or None while too few have finished."""
        return self._known(kind).quantile(q)

    def opening(self, kind: str | None = None) -> float | None:
        """The age at which tasks of `kind` start finishing (see `_Sample.opening`), or None."""
        return self._known(kind).opening()

    def _known(self, kind: str | None) -> _Sample:
        """The kind's own sample once it is large enough, else the overall one."""
        if kind is not None:
            sample = self._samples.get(kind)
            if sample is not None and len(sample.sorted) >= _MIN_SAMPLE:
                return sample
        return self._samples[None]

    def delay(
        self,
        *,
        age: float,
        state: State = State.QUEUED,
        eta: float | None = None,
        attempts: int = 0,
        batched: bool = False,
        hinted: bool = False,
        kind: str | None = None,
    ) -> float:
        """Seconds until the next look at a task `age` seconds old, looked at `attempts` times.

        `hinted` tasks post callbacks: polling is only their safety net, so it is sparse
        (`HINTED_SLOWDOWN` times the default) unless the caller chose the interval.
        """
        base = self.batch_interval if batched else self.interval
        if hinted and not self.explicit:
            base *= HINTED_SLOWDOWN
        return self._bounded(self._raw_delay(base, age, state, eta, attempts, kind))

    def _raw_delay(
        self,
        base: float,
        age: float,
        state: State,
        eta: float | None,
        attempts: int,
        kind: str | None,
    ) -> float:
        if state is State.COMPLETED:
            return base  # completed without a link: the link is expected any moment
        if eta is not None and eta > 0:
            # Look just after the promised time, then fall back to the band logic.
            return eta + base / 4
        early, late = self.opening(kind), self.quantile(0.95, kind)
        if early is None or late is None:
            return base  # nothing learnt yet
        if age < early - base / 2:
            # Almost no task has finished this young: sleep until the band opens.
            return max(early - age, base)
        if age <= _OVERDUE * late or attempts < 3:
            return base
        # Far past the run's slow ones (stuck, or a different kind of job): back off.
        growth: float = 1.5 ** min((age - _OVERDUE * late) / max(late, base), 20.0)
        return base * growth

    def _bounded(self, delay: float) -> float:
        spread = 1.0 + self.jitter * (2.0 * self.rand() - 1.0)
        return min(max(delay * spread, self.floor), self.ceiling)
