"""The task-group poller: many task ids in, each finished `Generation` out as soon as it is.

Due times live in one heap served by a fixed pool of workers, so 100,000 tracked tasks cost a
small record each rather than a coroutine each. Tasks due together are grouped into batch
queries where the gateway has a batch route. The stream is handed out by an `async with`
(never yielded from inside the task group), so leaving early cancels everything cleanly.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

import anyio
import msgspec
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._errors import FATAL_ERRORS, LumaError, PollTimeoutError
from ._groups import task_group
from ._models import Generation, State
from ._schedule import Schedule

__all__ = ["DEFAULT_LINK_GRACE", "PollStream", "StatusSource", "open_poll"]

#: How long a task may say `completed` without a link before it is given up as failed.
DEFAULT_LINK_GRACE = 30.0
DEFAULT_WORKERS = 8
#: Tasks due within this share of the interval of the first one ride along in its batch.
_GROUPING = 0.5


class StatusSource(Protocol):
    """Where the poller gets task states from (the client provides one)."""

    batch_size: int
    #: The fewest ids worth a batch query (1 where a batch of one costs what a GET does).
    min_batch: int

    def can_batch(self) -> bool:
        """True while a batch query is worth trying."""

    async def batch(self, task_ids: Sequence[str]) -> dict[str, Generation]:
        """The tasks the gateway knows among `task_ids` (absent = unknown for now)."""

    async def one(self, task_id: str) -> Generation | None:
        """One task, or None when the gateway does not know it (yet)."""


class Hints(Protocol):
    """Callbacks, as the poller sees them (a `CallbackReceiver`)."""

    def has_callback(self, task_id: str) -> bool:
        """True when the gateway posts this task's changes."""

    def finished(self, task_id: str) -> bool:
        """True when a callback said this task ended."""

    def subscribe(self, stream: PollStream) -> None:
        """Wake `stream` on callbacks."""

    def unsubscribe(self, stream: PollStream) -> None:
        """Stop waking `stream`."""


class _Tracked:
    __slots__ = (
        "added",
        "attempts",
        "completed_at",
        "finished",
        "id",
        "rush",
        "state",
        "token",
    )

    def __init__(self, task_id: str, added: float) -> None:
        self.id = task_id
        self.added = added
        self.attempts = 0
        self.state = State.QUEUED
        self.completed_at: float | None = None
        self.finished = False
        #: The sequence number of this task's live heap entry; older entries are stale.
        self.token = -1
        #: A callback came while a look was under way: look again right after it.
        self.rush = False


class PollStream:
    """The async iterator `client.poll(...)` hands out; see `LumaClient.poll`."""

    def __init__(
        self,
        source: StatusSource,
        *,
        schedule: Schedule,
        workers: int = DEFAULT_WORKERS,
        link_grace: float = DEFAULT_LINK_GRACE,
        clock: Callable[[], float] = time.monotonic,
        hints: Hints | None = None,
    ) -> None:
        self._source = source
        self._hints = hints
        self._schedule = schedule
        self._workers = max(1, workers)
        self._link_grace = link_grace
        self._clock = clock
        self._tracked: dict[str, _Tracked] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._wake = anyio.Event()
        self._holds = 0
        self._finished = 0
        self._error: BaseException | None = None
        self._scope = anyio.CancelScope()
        self._counts: Counter[State] = Counter()
        send, receive = anyio.create_memory_object_stream[Generation](math.inf)
        self._send: MemoryObjectSendStream[Generation] = send
        self._receive: MemoryObjectReceiveStream[Generation] = receive

    # -- the public face -----------------------------------------------------------------

    def add(self, *task_ids: str) -> None:
        """Track more tasks; ids already tracked are ignored (each is yielded once)."""
        now = self._clock()
        batched = self._source.can_batch()
        for task_id in task_ids:
            if task_id in self._tracked:
                continue
            tracked = self._tracked[task_id] = _Tracked(task_id, now)
            self._counts[State.QUEUED] += 1
            if self._hints is not None and self._hints.finished(task_id):
                self._push(tracked, now)  # its callback came before we were told of it
                continue
            self._push(tracked, now + self._delay(tracked, 0.0, State.QUEUED, None, batched))
        self._wake.set()

    @property
    def counts(self) -> dict[State, int]:
        """How many tracked tasks are in each state right now (finished ones included)."""
        return {state: n for state, n in self._counts.items() if n}

    @property
    def pending(self) -> list[str]:
        """Ids not yet yielded."""
        return [t.id for t in self._tracked.values() if not t.finished]

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
        if tracked is None or tracked.finished:
            return
        if tracked.token == -1:
            tracked.rush = True  # a look is under way; its answer may predate the callback
            return
        self._push(tracked, self._clock())
        self._wake.set()

    # -- the machinery -------------------------------------------------------------------

    def _push(self, tracked: _Tracked, due: float) -> None:
        tracked.token = next(self._seq)
        heapq.heappush(self._heap, (due, tracked.token, tracked.id))

    def _fail(self, error: BaseException) -> None:
        """End the stream with `error` once what already finished has been read."""
        if self._error is None:
            self._error = error
        self._scope.cancel()

    async def run(self, time_limit: float | None) -> None:
        """Poll until every task is yielded, the deadline passes, or a fatal error."""
        send_jobs, receive_jobs = anyio.create_memory_object_stream[list[str]](0)
        try:
            with self._scope, anyio.move_on_after(time_limit) as deadline, send_jobs:
                async with anyio.create_task_group() as group:
                    with receive_jobs:
                        for _ in range(self._workers):
                            group.start_soon(self._worker, receive_jobs.clone())
                    await self._dispatch(send_jobs, group)
            if deadline.cancelled_caught and self._error is None:
                pending = self.pending
                self._error = PollTimeoutError(
                    f"{len(pending)} task(s) still pending after {time_limit:g} s", pending=pending
                )
        finally:
            self._send.close()

    async def _dispatch(self, jobs: MemoryObjectSendStream[list[str]], group: TaskGroup) -> None:
        while True:
            if self._unfinished == 0 and self._holds <= 0:
                group.cancel_scope.cancel()
                return
            now = self._clock()
            if not self._heap or self._heap[0][0] > now:
                wait = self._heap[0][0] - now if self._heap else math.inf
                self._wake = anyio.Event()
                with anyio.move_on_after(wait):
                    await self._wake.wait()
                continue
            for job in self._due_jobs(now):
                await jobs.send(job)

    @property
    def _unfinished(self) -> int:
        return len(self._tracked) - self._finished

    def _due_jobs(self, now: float) -> list[list[str]]:
        """Pop the tasks due now (and those due soon after, to share a batch), as jobs."""
        horizon = now + self._schedule.batch_interval * _GROUPING
        batching = self._source.can_batch()
        due: list[str] = []
        limit = self._source.batch_size * self._workers if batching else self._workers
        while self._heap and self._heap[0][0] <= (horizon if batching else now):
            _, token, task_id = heapq.heappop(self._heap)
            tracked = self._tracked[task_id]
            if tracked.finished or tracked.token != token:
                continue  # a stale entry: the task was rescheduled since
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
        try:
            if len(job) >= self._source.min_batch and self._source.can_batch():
                found = await self._source.batch(job)
        except FATAL_ERRORS as exc:
            self._fail(exc)
            return
        except LumaError:
            # Transient trouble (the transport already retried): keep every task, look later.
            missing: list[str] = []
        else:
            # Absent from a batch answer (an early 404, or a task the official list is too
            # short to hold), or never batched: ask for each alone, side by side.
            missing = [task_id for task_id in job if task_id not in found]
        if len(missing) == 1:
            await self._look_alone(missing[0], found)  # no task group for the common case
        elif missing:
            async with anyio.create_task_group() as group:
                for task_id in missing:
                    group.start_soon(self._look_alone, task_id, found)
        for task_id in job:
            self._update(task_id, found.get(task_id))

    async def _look_alone(self, task_id: str, found: dict[str, Generation]) -> None:
        try:
            generation = await self._source.one(task_id)
        except FATAL_ERRORS as exc:
            self._fail(exc)
            return
        except LumaError:
            return  # transient: this task keeps its place and is looked at later
        if generation is not None:
            found[task_id] = generation

    def _update(self, task_id: str, generation: Generation | None) -> None:
        tracked = self._tracked.get(task_id)
        if tracked is None or tracked.finished:
            return
        now = self._clock()
        tracked.attempts += 1
        state = generation.state if generation is not None else tracked.state
        if state is not tracked.state:
            self._counts[tracked.state] -= 1
            self._counts[state] += 1
            tracked.state = state
        if generation is not None and generation.state is State.COMPLETED and not generation.ok:
            tracked.completed_at = tracked.completed_at or now
            if now - tracked.completed_at >= self._link_grace:
                reason = f"completed without a video link for {self._link_grace:g} s"
                generation = msgspec.structs.replace(
                    generation, state=State.FAILED, failure_reason=reason
                )
                self._counts[State.COMPLETED] -= 1
                self._counts[State.FAILED] += 1
        if generation is not None and (generation.ok or generation.state is State.FAILED):
            self._finish(tracked, generation, now)
            return
        eta = generation.estimate_wait_seconds if generation is not None else None
        delay = self._delay(tracked, now - tracked.added, state, eta, self._source.can_batch())
        if tracked.rush:
            tracked.rush, delay = False, 0.0
        self._push(tracked, now + delay)
        self._wake.set()

    def _delay(
        self, tracked: _Tracked, age: float, state: State, eta: float | None, batched: bool
    ) -> float:
        return self._schedule.delay(
            age=age,
            state=state,
            eta=eta,
            attempts=tracked.attempts,
            batched=batched,
            hinted=self._hints is not None and self._hints.has_callback(tracked.id),
        )

    def _finish(self, tracked: _Tracked, generation: Generation, now: float) -> None:
        tracked.finished = True
        self._finished += 1
        if generation.ok:
            self._schedule.observe(now - tracked.added)
        self._send.send_nowait(generation)
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
    clock: Callable[[], float] = time.monotonic,
    hold: bool = False,
    hints: Hints | None = None,
) -> AsyncIterator[PollStream]:
    """Run a `PollStream` in a task group for the duration of the `async with`.

    With `hold=True` the stream stays open while empty until `release()` is called.
    """
    stream = PollStream(
        source, schedule=schedule, workers=workers, link_grace=link_grace, clock=clock, hints=hints
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
