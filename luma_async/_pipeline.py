"""`generate_many`: submit, poll and download many requests, one `JobResult` per request.

With a journal (a `Store`), every request goes one way, whatever the backend: it is claimed
(its intent written, within the run-wide limits), submitted, its task id written right
after, polled, and its result written before it is yielded (`if await store.finished(...)`).
What a worker that stopped left behind (an earlier process on SQLite, a peer whose lease
expired on PostgreSQL) is adopted: polled, reconciled or reported uncertain, never resent.
"""

from __future__ import annotations

import logging
import math
import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._errors import (
    FATAL_ERRORS,
    BadRequestError,
    InvalidRequestError,
    LumaError,
    SubmissionUncertainError,
    TransportError,
    UnsupportedFeatureError,
)
from ._groups import task_group
from ._limits import RateLimit
from ._models import AnyRequest, Generation, JobResult, State
from ._poller import PollStream
from ._submitter import DEFAULT_SUBMIT_DEADLINE, Shields, requeue_delay
from ._updates import Notifier, OnUpdate, Update

__all__ = ["DEFAULT_CONCURRENCY", "Pipeline", "run_pipeline"]

logger = logging.getLogger("luma_async")

DEFAULT_CONCURRENCY = 8
#: Submits in flight at once at most (each also holds a generation slot).
_MAX_SUBMITTERS = 16
#: Submit errors a rerun would meet again (or that may hide a created task): final.
_FINAL_SUBMIT_ERRORS = (
    BadRequestError,
    InvalidRequestError,
    SubmissionUncertainError,
    UnsupportedFeatureError,
)

Submit = Callable[[AnyRequest], Awaitable[Generation]]
#: Downloads a completed generation into the run's destination: where its file now is.
Download = Callable[[Generation], Awaitable[pathlib.Path | str]]
Recover = Callable[[AnyRequest, datetime], Awaitable[Generation | None]]


class Pipeline:
    """One run of `generate_many`: submitters feeding the poll stream, a consumer of it.

    Memory stays bounded by `concurrency`: a generation holds its slot until its result is
    in the results stream, and that stream holds `concurrency` results at most, so a
    consumer that stops reading stops the submits rather than letting results pile up.
    """

    def __init__(
        self,
        submit: Submit,
        download: Download | None,
        *,
        concurrency: int,
        submits_per_minute: float | None,
        recover: Recover | None = None,
        answered: Callable[[], bool] = lambda: True,
        submit_deadline: float | None = DEFAULT_SUBMIT_DEADLINE,
        submit_timeout: float = 30.0,
        on_update: OnUpdate | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if submit_deadline is not None and submit_deadline < 0:
            raise ValueError("submit_deadline must be >= 0 (or None: no deadline)")
        self._submit = submit
        self._download = download
        self._recover = recover
        self._answered = answered
        self._submit_deadline = submit_deadline
        self._notify = Notifier(on_update)
        self._shields = Shields(submit_timeout)
        self._concurrency = concurrency
        self._submits_per_minute = submits_per_minute
        self._slots = anyio.Semaphore(concurrency)
        self._submitters = min(concurrency, _MAX_SUBMITTERS)
        self._one_went_through = anyio.Event()
        self._pace = (
            RateLimit(max(1, math.floor(submits_per_minute)), 60.0) if submits_per_minute else None
        )
        self._jobs: dict[str, list[tuple[int, AnyRequest]]] = {}
        #: Indexes whose job holds one of this worker's slots (adopted ones do not).
        self._held: set[int] = set()
        #: Jobs this worker owns and has not settled (claimed, adopted, downloading).
        self._open = 0
        self._fatal: BaseException | None = None
        #: Set with `_fatal`: wakes requeued submits, which then end with that error.
        self._stopped = anyio.Event()
        #: Set once the poll stream has ended on an error: a task submitted after it is
        #: handed over with that error instead of joining a stream nobody polls.
        self._stream_error: BaseException | None = None
        send, receive = anyio.create_memory_object_stream[JobResult](concurrency)
        self.results: MemoryObjectReceiveStream[JobResult] = receive
        self._send: MemoryObjectSendStream[JobResult] = send

    async def open(self, requests: Sequence[AnyRequest]) -> None:
        """Get ready to run `requests` (a journal opens and joins its run here)."""

    async def close(self) -> None:
        """Let go of what `open` took."""

    async def on_poll_update(self, update: Update) -> None:
        """Forward a poll stream's `"state"` update as this run's, with the request index.

        Give it to the poll stream as its `on_update`; other events are the pipeline's own.
        """
        if update.event != "state" or update.task_id is None:
            return
        for index, _ in self._jobs.get(update.task_id, ()):
            await self._notify(
                Update(index, update.task_id, update.state, update.progress, "state")
            )

    async def _hand_over(self, result: JobResult) -> None:
        """Into the results stream; waits while the consumer has `concurrency` unread."""
        if self._notify:
            generation = result.generation
            await self._notify(
                Update(
                    result.index,
                    generation.id if generation else None,
                    generation.state if generation else None,
                    generation.progress if generation else None,
                    "finished",
                )
            )
        await self._send.send(result)

    async def _finish(self, result: JobResult, *, record: bool = True, retry: bool = False) -> None:
        """Settle a job this worker owns: journal the result, then hand it over, unless
        another worker settled it first (then it is theirs to yield)."""
        try:
            if not record or await self._record(result, retry=retry):
                await self._hand_over(result)
        finally:
            self._open -= 1
            if result.index in self._held:
                self._held.discard(result.index)
                self._slots.release()

    async def _record(self, result: JobResult, *, retry: bool) -> bool:
        """Write `result` down before it is handed over; False: not this worker's to give."""
        return True

    async def run(self, requests: Sequence[AnyRequest], stream: PollStream) -> None:
        """Submit everything, then wait for every job to finish; closes `results` at the end."""
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._consume, stream, group)
                try:
                    await self._drive(requests, stream, group)
                finally:
                    stream.release()
        finally:
            self._send.close()

    async def _drive(
        self, requests: Sequence[AnyRequest], stream: PollStream, group: TaskGroup
    ) -> None:
        """Submit the input, in order."""
        numbered = enumerate(requests)
        await self._submit_all(lambda: self._submit_from(numbered, stream))

    async def _submit_all(self, submit_from: Callable[[], Awaitable[None]]) -> None:
        # Several submitters share one source: a submit's round trip (hundreds of ms on a
        # real gateway) must not gate the next one. The slots and the pace still bound them.
        # Only one submits until a submit has succeeded: a bad key, an empty account or an
        # unreachable gateway then costs one refused request, not one per submitter.
        async with anyio.create_task_group() as guarded:
            guarded.start_soon(self._shields.guard)
            async with anyio.create_task_group() as group:
                for n in range(self._submitters):
                    group.start_soon(self._submitter, submit_from, n == 0)
            guarded.cancel_scope.cancel()  # submits done: the guard has nothing to bound

    async def _submitter(self, submit_from: Callable[[], Awaitable[None]], first: bool) -> None:
        if not first:
            await self._one_went_through.wait()
        try:
            await submit_from()
        finally:
            self._one_went_through.set()  # nothing left to take: let the others see that

    async def _submit_from(
        self, numbered: Iterator[tuple[int, AnyRequest]], stream: PollStream
    ) -> None:
        """Without a journal: take the input in order."""
        for index, request in numbered:
            self._open += 1
            if self._fatal is not None:
                await self._finish(JobResult(index, request, error=self._fatal))
                continue
            await self._slots.acquire()
            self._held.add(index)
            if self._fatal is not None:  # it may have come while we waited for a slot
                await self._finish(JobResult(index, request, error=self._fatal))
            else:
                await self._submit_one(index, request, stream)

    async def _submit_one(self, index: int, request: AnyRequest, stream: PollStream) -> None:
        """Submit one request, queueing it again while the gateway says "later"."""
        started = anyio.current_time()
        tries = 0
        while True:
            if self._pace is not None:
                await self._pace.acquire()
            tries += 1
            try:
                generation = await self._send_submit(index, request, tries)
            except LumaError as exc:
                delay = self._retry_in(index, exc, tries, started)
                if delay is None:
                    await self._failed(index, request, exc)
                    return
                await self._notify(Update(index, None, None, None, "retried"))
                with anyio.move_on_after(delay):  # outside any shield: a cancel ends it
                    await self._stopped.wait()
                if self._fatal is not None:
                    await self._finish(JobResult(index, request, error=self._fatal), retry=True)
                    return
                continue
            self._one_went_through.set()
            await self._notify(
                Update(index, generation.id, generation.state, generation.progress, "submitted")
            )
            await self._track(index, request, generation, stream)
            return

    async def _send_submit(self, index: int, request: AnyRequest, tries: int) -> Generation:
        """One submit (a journal writes its task id down right after)."""
        return await self._submit(request)

    def _retry_in(self, index: int, error: LumaError, tries: int, started: float) -> float | None:
        """Seconds until this failed submit is tried again, or None: it fails now.

        Sets the run's fatal error when no later submit can succeed (a bad key, no quota,
        or a refused connection before any answer came back: a wrong host).
        """
        if isinstance(error, FATAL_ERRORS):
            self._stop(error)
            return None
        if isinstance(error, TransportError) and not error.sent and not self._answered():
            self._stop(error)  # nothing ever answered: the base URL is wrong, not busy
            return None
        delay = requeue_delay(error, tries)
        if delay is None:
            return None
        waited = anyio.current_time() - started
        deadline = self._submit_deadline
        if deadline is not None and waited + delay > deadline:
            logger.warning(
                "request %d: giving up after %d submit tries in %.0f s (submit_deadline %g s): %s",
                index,
                tries,
                waited,
                deadline,
                error,
            )
            return None
        logger.info(
            "request %d: submit not taken (%s); queued again in %.1f s", index, error, delay
        )
        return delay

    def _stop(self, error: BaseException) -> None:
        if self._fatal is None:
            self._fatal = error
            self._stopped.set()
            logger.warning("no further submits in this run: %s", error)

    async def _failed(self, index: int, request: AnyRequest, error: LumaError) -> None:
        """A submit that failed. Final when a rerun would get the same answer (the request
        is wrong) or a task may exist; otherwise a later session of the run tries again."""
        final = isinstance(error, _FINAL_SUBMIT_ERRORS)
        await self._finish(JobResult(index, request, error=error), retry=not final)

    async def _track(
        self, index: int, request: AnyRequest, generation: Generation, stream: PollStream
    ) -> None:
        if self._stream_error is not None:
            # Nobody polls any more: hand it over with its id (it was billed) and the error.
            # Not journaled as finished: a resumed run (or a peer) polls the task again.
            result = JobResult(index, request, generation, error=self._stream_error)
            await self._finish(result, record=False)
            return
        self._jobs.setdefault(generation.id, []).append((index, request))
        stream.add(generation.id, kind=stream.kind_of(request))

    async def _consume(self, stream: PollStream, group: TaskGroup) -> None:
        try:
            async for generation in stream:
                for index, request in self._jobs.pop(generation.id, []):
                    if self._download is not None and generation.ok:
                        group.start_soon(self._fetch, index, request, generation)
                    else:
                        await self._finish(JobResult(index, request, generation))
        except LumaError as exc:
            # The poll stream ended on an error (fatal, or its timeout): nothing in flight
            # can finish now, and nothing more is worth submitting.
            self._stream_error = exc
            self._stop(exc)
            for task_id in list(self._jobs):
                for index, request in self._jobs.pop(task_id):
                    # Not journaled: the task exists and a resumed run polls it again.
                    result = JobResult(
                        index, request, Generation(task_id, State.UNKNOWN), error=exc
                    )
                    await self._finish(result, record=False)

    async def _fetch(self, index: int, request: AnyRequest, generation: Generation) -> None:
        assert self._download is not None
        try:
            where = await self._download(generation)
        except (LumaError, OSError) as exc:
            # The video link stays in the journal with the error: `journal show` lists it.
            await self._finish(JobResult(index, request, generation, error=exc))
            return
        await self._notify(
            Update(index, generation.id, generation.state, generation.progress, "downloaded")
        )
        # A local file has its `path`; every download has its `location` (path or URL).
        path = where if isinstance(where, pathlib.Path) else None
        result = JobResult(index, request, generation, path=path, location=str(where))
        await self._finish(result)


@asynccontextmanager
async def run_pipeline(
    pipeline: Pipeline,
    requests: Sequence[AnyRequest],
    poll: AbstractAsyncContextManager[PollStream],
) -> AsyncIterator[MemoryObjectReceiveStream[JobResult]]:
    """Run `pipeline` beside its (held open) poll stream for the duration of the `async with`."""
    await pipeline.open(requests)  # an unreachable journal fails here, before any submit
    try:
        with pipeline.results:
            async with poll as stream, task_group() as group:
                group.start_soon(pipeline.run, requests, stream)
                try:
                    yield pipeline.results
                finally:
                    group.cancel_scope.cancel()
    finally:
        await pipeline.close()
