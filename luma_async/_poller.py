"""The task-group poller: many task ids in, each finished `Generation` out as soon as it is.

Due times live in one heap served by a fixed pool of workers, so 100,000 tracked tasks cost a
small record each rather than a coroutine each, and the most overdue task is always served
first (which is what matters under a request budget). Tasks due together are grouped into
batch queries where the gateway has a batch route. The stream is handed out by an `async with`
(never yielded from inside the task group), so leaving early cancels everything cleanly. A
finished task leaves no record behind: a stream held open for weeks does not grow.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._errors import (
    FATAL_ERRORS,
    LumaError,
    PollTimeoutError,
    RateLimitError,
    UnreachableHostError,
)
from ._groups import task_group
from ._models import Generation, State
from ._schedule import Schedule
from ._source import Hints, StatusSource
from ._tracked import Tracked, UpdateQueue
from ._updates import OnUpdate

__all__ = [
    "DEFAULT_BUFFER",
    "DEFAULT_LINK_GRACE",
    "DEFAULT_UNKNOWN_AFTER",
    "PollStream",
    "StatusSource",
    "open_poll",
]

logger = logging.getLogger("luma_async")

#: Errors that end a poll stream: the key is refused, or the host never answered at all.
_ENDING: tuple[type[LumaError], ...] = (*FATAL_ERRORS, UnreachableHostError)
#: How long a task may say `completed` without a link before it is given up as failed.
DEFAULT_LINK_GRACE = 30.0
#: How long an id the gateway never knew is polled before it is given up as failed.
DEFAULT_UNKNOWN_AFTER = 600.0
DEFAULT_WORKERS = 8
#: Finished tasks waiting for the reader; past it the workers wait too (backpressure).
DEFAULT_BUFFER = 256
#: How often a long-lived stream hands what it learnt to the timing cache (also at its end).
_REMEMBER_EVERY = 300.0
#: Tasks due within this share of the interval of the first one ride along in its batch.
_GROUPING = 0.5
#: A Retry-After is stretched by up to this share, so that pushed-back tasks do not return at once.
_RETRY_AFTER_SPREAD = 0.25


class PollStream:
    """The async iterator `client.poll(...)` hands out; see `LumaClient.poll`."""

    def __init__(
        self,
        source: StatusSource,
        *,
        schedule: Schedule,
        workers: int = DEFAULT_WORKERS,
        link_grace: float = DEFAULT_LINK_GRACE,
        unknown_after: float | None = DEFAULT_UNKNOWN_AFTER,
        clock: Callable[[], float] = time.monotonic,
        hints: Hints | None = None,
        on_update: OnUpdate | None = None,
        buffer: int = DEFAULT_BUFFER,
        kind_of: Callable[[object], str | None] | None = None,
        speed: float = 1.0,
        remember: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._source = source
        self._remember = remember
        #: Clock units per real second: tests inject a clock that runs faster than the wall.
        self._speed = speed
        self._hints = hints
        self._schedule = schedule
        self._workers = max(1, workers)
        self._link_grace = link_grace
        self._unknown_after = unknown_after
        self._clock = clock
        self._kind_of = kind_of
        self._tracked: dict[str, Tracked] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._wake = anyio.Event()
        self._holds = 0
        self._error: BaseException | None = None
        self._scope = anyio.CancelScope()
        self._live: Counter[State] = Counter()
        self._done: Counter[State] = Counter()
        self._updates = UpdateQueue(on_update)
        send, receive = anyio.create_memory_object_stream[Generation](max(1, buffer))
        self._send: MemoryObjectSendStream[Generation] = send
        self._receive: MemoryObjectReceiveStream[Generation] = receive

    # -- the public face -----------------------------------------------------------------

    def add(self, *task_ids: str, kind: str | None = None) -> None:
        """Track more tasks; ids already tracked are ignored (each is yielded once).

        `kind` is the timing key of the request that made them (`kind_of(request)`): their
        lifetimes are then learnt and remembered for tasks like them.
        """
        now = self._clock()
        for task_id in task_ids:
            if task_id in self._tracked:
                continue
            tracked = self._tracked[task_id] = Tracked(task_id, now, kind)
            self._live[State.QUEUED] += 1
            if self._hints is not None and self._hints.finished(task_id):
                self._push(tracked, now)  # its callback came before we were told of it
                continue
            self._push(tracked, now + self._delay(tracked, 0.0, State.QUEUED, None))
        self._wake.set()

    def kind_of(self, request: object) -> str | None:
        """The timing key for tasks made by `request` (pass it to `add(..., kind=...)`)."""
        return self._kind_of(request) if self._kind_of is not None else None

    @property
    def counts(self) -> dict[State, int]:
        """Tasks per state right now; finished ones are running totals since the stream opened."""
        return {state: n for state, n in (self._live + self._done).items() if n}

    @property
    def pending(self) -> list[str]:
        """Ids not yet yielded."""
        return list(self._tracked)

    def __aiter__(self) -> AsyncIterator[Generation]:
        return self

    async def __anext__(self) -> Generation:
        try:
            return await self._receive.receive()
        except anyio.EndOfStream:
            if self._error is not None:
                raise self._error from None
            raise StopAsyncIteration from None

    def close(self) -> None:
        """Release the stream's channels (done for you by `client.poll`)."""
        self._send.close()
        self._receive.close()

    # -- for the pipeline ------------------------------------------------------------------

    def hold(self) -> None:
        """Keep the stream open while empty: more ids are coming."""
        self._holds += 1

    def release(self) -> None:
        """Undo one `hold`; the stream ends once nothing is pending and nothing holds it."""
        self._holds -= 1
        self._wake.set()

    def wake(self, task_id: str) -> None:
        """Look at `task_id` now (a callback said it changed)."""
        tracked = self._tracked.get(task_id)
        if tracked is None or tracked.token == -2:
            return  # unknown, or being yielded
        if tracked.token == -1:
            tracked.rush = True  # a look is under way; its answer may predate the callback
            return
        self._push(tracked, self._clock())
        self._wake.set()

    # -- the machinery -------------------------------------------------------------------

    def _push(self, tracked: Tracked, due: float) -> None:
        tracked.token = next(self._seq)
        heapq.heappush(self._heap, (due, tracked.token, tracked.id))

    def _fail(self, error: BaseException) -> None:
        """End the stream with `error` once what already finished has been read."""
        if self._error is None:
            self._error = error
        self._scope.cancel()

    @staticmethod
    async def _remember_often(remember: Callable[[], Awaitable[None]]) -> None:
        """A stream open for days still writes the timing cache now and then."""
        while True:
            await anyio.sleep(_REMEMBER_EVERY)
            await remember()

    async def run(self, time_limit: float | None) -> None:
        """Poll until every task is yielded, the deadline passes, or a fatal error."""
        send_jobs, receive_jobs = anyio.create_memory_object_stream[list[str]](0)
        try:
            async with anyio.create_task_group() as outer:
                if self._updates:
                    outer.start_soon(self._updates.deliver)
                if self._remember is not None:
                    outer.start_soon(self._remember_often, self._remember)
                with self._scope, anyio.move_on_after(time_limit) as deadline, send_jobs:
                    async with anyio.create_task_group() as group:
                        with receive_jobs:
                            for _ in range(self._workers):
                                group.start_soon(self._worker, receive_jobs.clone())
                        await self._dispatch(send_jobs, group)
                outer.cancel_scope.cancel()
            await self._updates.flush()  # what finished is told before the stream ends
            if deadline.cancelled_caught and self._error is None:
                pending = self.pending
                self._error = PollTimeoutError(
                    f"{len(pending)} task(s) still pending after {time_limit:g} s", pending=pending
                )
        finally:
            self._send.close()

    async def _dispatch(self, jobs: MemoryObjectSendStream[list[str]], group: TaskGroup) -> None:
        while True:
            if not self._tracked and self._holds <= 0:
                group.cancel_scope.cancel()
                return
            now = self._clock()
            if not self._heap or self._heap[0][0] > now:
                wait = (self._heap[0][0] - now) / self._speed if self._heap else math.inf
                self._wake = anyio.Event()
                with anyio.move_on_after(wait):
                    await self._wake.wait()
                continue
            for job in self._due_jobs(now):
                await jobs.send(job)

    def _batching(self) -> bool:
        # A lone task is looked at on the single-task interval: batching it saves nothing.
        return len(self._tracked) > 1 and self._source.can_batch()

    def _due_jobs(self, now: float) -> list[list[str]]:
        """Pop the tasks due now, most overdue first (and those due soon after, to share a
        batch), as jobs; at most what the workers can take at once, so that tasks pushed
        meanwhile are ordered with the rest."""
        batching = self._source.can_batch()
        horizon = now + self._schedule.batch_interval * _GROUPING if batching else now
        due: list[str] = []
        limit = self._source.batch_size * self._workers if batching else self._workers
        while self._heap and self._heap[0][0] <= horizon:
            _, token, task_id = heapq.heappop(self._heap)
            tracked = self._tracked.get(task_id)
            if tracked is None or tracked.token != token:
                continue  # a stale entry: the task was rescheduled or finished since
            tracked.token = -1  # in flight: no live entry until the look is done
            due.append(task_id)
            if len(due) >= limit:
                break
        if not batching or len(due) < self._source.min_batch:
            return [[task_id] for task_id in due]
        size = self._source.batch_size
        return [due[i : i + size] for i in range(0, len(due), size)]

    async def _worker(self, jobs: MemoryObjectReceiveStream[list[str]]) -> None:
        async with jobs:
            async for job in jobs:
                await self._look(job)

    async def _look(self, job: list[str]) -> None:
        found: dict[str, Generation] = {}
        trouble: dict[str, LumaError] = {}
        try:
            if len(job) >= self._source.min_batch and self._source.can_batch():
                found = await self._source.batch(job)
        except _ENDING as exc:
            self._fail(exc)
            return
        except LumaError as exc:
            # Transient trouble (the transport already retried): keep every task, look later.
            trouble = dict.fromkeys(job, exc)
            missing: list[str] = []
        else:
            # Absent from a batch answer (an early 404, or a task the official list is too
            # short to hold), or never batched: ask for each alone, side by side.
            missing = [task_id for task_id in job if task_id not in found]
        if len(missing) == 1:
            await self._look_alone(missing[0], found, trouble)  # no task group for the common case
        elif missing:
            async with anyio.create_task_group() as group:
                for task_id in missing:
                    group.start_soon(self._look_alone, task_id, found, trouble)
        limited = [e for e in trouble.values() if isinstance(e, RateLimitError)]
        if limited:
            logger.info(
                "rate limited while polling %d task(s) (task %s first): waiting %s s",
                len(limited),
                next(iter(trouble)),
                limited[0].retry_after if limited[0].retry_after is not None else "a while",
            )
        for task_id in job:
            await self._update(task_id, found.get(task_id), trouble.get(task_id))

    async def _look_alone(
        self, task_id: str, found: dict[str, Generation], trouble: dict[str, LumaError]
    ) -> None:
        try:
            generation = await self._source.one(task_id)
        except _ENDING as exc:
            self._fail(exc)
            return
        except LumaError as exc:
            trouble[task_id] = exc  # transient: this task keeps its place, looked at later
            return
        if generation is not None:
            found[task_id] = generation

    async def _update(
        self, task_id: str, generation: Generation | None, error: LumaError | None
    ) -> None:
        tracked = self._tracked.get(task_id)
        if tracked is None:
            return
        now = self._clock()
        tracked.attempts += 1
        if error is not None:
            self._updates.emit("retried", tracked)
            delay = self._delay(tracked, now - tracked.added, tracked.state, None)
            if isinstance(error, RateLimitError) and error.retry_after:
                # The gateway said when: wait it out, spread so the tasks do not return at once.
                spread = 1.0 + _RETRY_AFTER_SPREAD * self._schedule.rand()
                delay = max(delay, error.retry_after * spread)
            self._push(tracked, now + delay)
            self._wake.set()
            return
        if generation is None:
            given_up = tracked.unknown_too_long(now, self._unknown_after)
            if given_up is not None:
                await self._finish(tracked, given_up, now)
                return
        else:
            tracked.known = True
            generation = self._observe(tracked, generation, now)
            if generation.ok or generation.state is State.FAILED:
                await self._finish(tracked, generation, now)
                return
        eta = generation.estimate_wait_seconds if generation is not None else None
        delay = self._delay(tracked, now - tracked.added, tracked.state, eta)
        if tracked.rush:
            tracked.rush, delay = False, 0.0
        self._push(tracked, now + delay)
        self._wake.set()

    def _observe(self, tracked: Tracked, generation: Generation, now: float) -> Generation:
        """Take in what the gateway said: counts, events, the link grace."""
        state = generation.state
        changed = state is not tracked.state or generation.progress != tracked.progress
        if state is not tracked.state:
            self._live[tracked.state] -= 1
            self._live[state] += 1
            tracked.state = state
        tracked.progress = generation.progress
        if changed:
            self._updates.emit("state", tracked)
        return tracked.linkless_too_long(generation, now, self._link_grace)

    def _delay(self, tracked: Tracked, age: float, state: State, eta: float | None) -> float:
        return self._schedule.delay(
            age=age,
            state=state,
            eta=eta,
            attempts=tracked.attempts,
            batched=self._batching(),
            hinted=self._hints is not None and self._hints.has_callback(tracked.id),
            kind=tracked.kind,
        )

    async def _finish(self, tracked: Tracked, generation: Generation, now: float) -> None:
        tracked.token = -2  # finishing: no callback may put it back in the heap
        if generation.ok:
            self._schedule.observe(now - tracked.added, tracked.kind)
        await self._send.send(generation)  # waits while the reader is behind: backpressure
        # Yielded: nothing about it is kept (adding the id again polls it again).
        del self._tracked[tracked.id]
        self._live[tracked.state] -= 1
        self._done[generation.state] += 1
        if self._hints is not None:
            self._hints.forget(tracked.id)
        self._updates.emit("finished", tracked, generation.state)
        self._wake.set()


@asynccontextmanager
async def open_poll(
    source: StatusSource,
    task_ids: Iterable[str],
    *,
    time_limit: float | None,
    schedule: Schedule,
    workers: int = DEFAULT_WORKERS,
    link_grace: float = DEFAULT_LINK_GRACE,
    unknown_after: float | None = DEFAULT_UNKNOWN_AFTER,
    clock: Callable[[], float] = time.monotonic,
    hold: bool = False,
    hints: Hints | None = None,
    on_update: OnUpdate | None = None,
    kind_of: Callable[[object], str | None] | None = None,
    speed: float = 1.0,
    remember: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[PollStream]:
    """Run a `PollStream` in a task group for the duration of the `async with`.

    With `hold=True` the stream stays open while empty until `release()` is called.
    """
    stream = PollStream(
        source,
        schedule=schedule,
        workers=workers,
        link_grace=link_grace,
        unknown_after=unknown_after,
        clock=clock,
        hints=hints,
        on_update=on_update,
        kind_of=kind_of,
        speed=speed,
        remember=remember,
    )
    if hints is not None:
        hints.subscribe(stream)
    if hold:
        stream.hold()
    stream.add(*task_ids)
    try:
        async with task_group() as group:
            group.start_soon(stream.run, time_limit)
            try:
                yield stream
            finally:
                group.cancel_scope.cancel()
    finally:
        if hints is not None:
            hints.unsubscribe(stream)
        stream.close()
