"""`generate_many`: submit, poll and download many requests, one `JobResult` per request."""

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
from ._journal import Entry, Journal
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
#: Submit errors a rerun would meet again (or that may hide a created task): journaled.
_FINAL_SUBMIT_ERRORS = (
    BadRequestError,
    InvalidRequestError,
    SubmissionUncertainError,
    UnsupportedFeatureError,
)

Submit = Callable[[AnyRequest], Awaitable[Generation]]
Download = Callable[[Generation, pathlib.Path], Awaitable[pathlib.Path]]
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
        download: Download,
        *,
        concurrency: int,
        submits_per_minute: float | None,
        download_to: pathlib.Path | None,
        journal: Journal | None = None,
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
        self._journal = journal
        self._recover = recover
        self._answered = answered
        self._submit_deadline = submit_deadline
        self._notify = Notifier(on_update)
        self._shields = Shields(submit_timeout)
        self._slots = anyio.Semaphore(concurrency)
        self._submitters = min(concurrency, _MAX_SUBMITTERS)
        self._one_went_through = anyio.Event()
        self._pace = (
            RateLimit(max(1, math.floor(submits_per_minute)), 60.0) if submits_per_minute else None
        )
        self._download_to = download_to
        self._jobs: dict[str, list[tuple[int, AnyRequest]]] = {}
        self._fatal: BaseException | None = None
        #: Set with `_fatal`: wakes requeued submits, which then end with that error.
        self._stopped = anyio.Event()
        #: Set once the poll stream has ended on an error: a task submitted after it is
        #: handed over with that error instead of joining a stream nobody polls.
        self._stream_error: BaseException | None = None
        send, receive = anyio.create_memory_object_stream[JobResult](concurrency)
        self.results: MemoryObjectReceiveStream[JobResult] = receive
        self._send: MemoryObjectSendStream[JobResult] = send

    def close(self) -> None:
        """Close the journal, if any."""
        if self._journal is not None:
            self._journal.close()

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

    async def _finish(self, result: JobResult, *, record: bool = True) -> None:
        """Hand over the result of a job that holds a slot, and free the slot."""
        try:
            if record and self._journal is not None:
                self._journal.finished(result)
            await self._hand_over(result)
        finally:
            self._slots.release()

    async def run(self, requests: Sequence[AnyRequest], stream: PollStream) -> None:
        """Submit everything, then wait for every job to finish; closes `results` at the end."""
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._consume, stream, group)
                try:
                    await self._submit_all(requests, stream)
                finally:
                    stream.release()
        finally:
            self._send.close()

    async def _submit_all(self, requests: Sequence[AnyRequest], stream: PollStream) -> None:
        # Several submitters share one iterator: a submit's round trip (hundreds of ms on a
        # real gateway) must not gate the next one. The slots and the pace still bound them.
        # Only one submits until a submit has succeeded: a bad key, an empty account or an
        # unreachable gateway then costs one refused request, not one per submitter.
        numbered = enumerate(requests)
        async with anyio.create_task_group() as guarded:
            guarded.start_soon(self._shields.guard)
            async with anyio.create_task_group() as group:
                group.start_soon(self._submitter, numbered, stream, True)
                for _ in range(self._submitters - 1):
                    group.start_soon(self._submitter, numbered, stream, False)
            guarded.cancel_scope.cancel()  # submits done: the guard has nothing to bound

    async def _submitter(
        self, numbered: Iterator[tuple[int, AnyRequest]], stream: PollStream, first: bool
    ) -> None:
        if not first:
            await self._one_went_through.wait()
        try:
            await self._submit_from(numbered, stream)
        finally:
            self._one_went_through.set()  # nothing left to take: let the others see that

    async def _submit_from(
        self, numbered: Iterator[tuple[int, AnyRequest]], stream: PollStream
    ) -> None:
        for index, request in numbered:
            entry = self._journal.lookup(index, request) if self._journal else None
            if entry is not None and entry.result is not None:
                await self._hand_over(entry.result)  # finished earlier: replayed, not redone
                continue
            if self._fatal is not None:
                # Never attempted, so not journaled: a resumed run tries it again.
                await self._hand_over(JobResult(index, request, error=self._fatal))
                continue
            await self._slots.acquire()
            if self._fatal is not None:  # it may have come while we waited for a slot
                await self._finish(JobResult(index, request, error=self._fatal), record=False)
            elif entry is not None:
                await self._resume(index, request, entry, stream)
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
            if self._journal is not None:
                self._journal.intend(index, request)
            try:
                generation = await self._send_submit(index, request)
            except LumaError as exc:
                delay = self._retry_in(index, exc, tries, started)
                if delay is None:
                    await self._failed(index, request, exc)
                    return
                if self._journal is not None:
                    self._journal.forget(index, request)  # nothing was created
                await self._notify(Update(index, None, None, None, "retried"))
                with anyio.move_on_after(delay):  # outside any shield: a cancel ends it
                    await self._stopped.wait()
                if self._fatal is not None:
                    await self._finish(JobResult(index, request, error=self._fatal), record=False)
                    return
                continue
            self._one_went_through.set()
            await self._notify(
                Update(index, generation.id, generation.state, generation.progress, "submitted")
            )
            await self._track(index, request, generation, stream)
            return

    async def _send_submit(self, index: int, request: AnyRequest) -> Generation:
        if self._journal is None:
            return await self._submit(request)  # no journal: nothing to write down, no shield

        async def submit_and_record() -> Generation:
            generation = await self._submit(request)
            assert self._journal is not None
            self._journal.submitted(index, request, generation.id)
            return generation

        # With a journal, a submit under way may finish while the run is being left, so
        # that its task id is written down instead of an uncertain intent (bounded: Shields).
        return await self._shields.run(submit_and_record)

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

    def _stop(self, error: LumaError) -> None:
        if self._fatal is None:
            self._fatal = error
            self._stopped.set()
            logger.warning("no further submits in this run: %s", error)

    async def _failed(self, index: int, request: AnyRequest, error: LumaError) -> None:
        """A submit that failed. Journaled only when a rerun would get the same answer (the
        request is wrong) or a task may exist; otherwise a resumed run tries it again."""
        final = isinstance(error, _FINAL_SUBMIT_ERRORS)
        if not final and self._journal is not None:
            self._journal.forget(index, request)
        await self._finish(JobResult(index, request, error=error), record=final)

    async def _track(
        self, index: int, request: AnyRequest, generation: Generation, stream: PollStream
    ) -> None:
        if self._stream_error is not None:
            # Nobody polls any more: hand it over with its id (it was billed) and the error.
            # Not journaled as finished: a resumed run polls the task again.
            result = JobResult(index, request, generation, error=self._stream_error)
            await self._finish(result, record=False)
            return
        self._jobs.setdefault(generation.id, []).append((index, request))
        stream.add(generation.id, kind=stream.kind_of(request))

    async def _resume(
        self, index: int, request: AnyRequest, entry: Entry, stream: PollStream
    ) -> None:
        """A request an earlier run submitted: poll its task, never submit it again."""
        if entry.task_id is not None:
            known = Generation(entry.task_id, State.UNKNOWN)  # its state comes from polling
            await self._track(index, request, known, stream)
            return
        # The earlier run died mid-submit: a task may exist. Find it where the dialect can.
        found = await self._recover(request, entry.intent_at) if self._recover else None
        if found is not None:
            logger.info("request %d: recovered task %s of an interrupted submit", index, found.id)
            if self._journal is not None:
                self._journal.submitted(index, request, found.id)
            await self._track(index, request, found, stream)
            return
        logger.warning(
            "request %d: an earlier run stopped mid-submit and no task could be matched; "
            "left uncertain, not resent",
            index,
        )
        error = SubmissionUncertainError(
            f"request {index} was being submitted when an earlier run stopped; its task may "
            "exist and is not resent, to avoid paying twice",
            cause=LumaError("interrupted run"),
        )
        await self._finish(JobResult(index, request, error=error))

    async def _consume(self, stream: PollStream, group: TaskGroup) -> None:
        try:
            async for generation in stream:
                for index, request in self._jobs.pop(generation.id, []):
                    if self._download_to is not None and generation.ok:
                        group.start_soon(self._fetch, index, request, generation)
                    else:
                        await self._finish(JobResult(index, request, generation))
        except LumaError as exc:
            # The poll stream ended on an error (fatal, or its timeout): nothing in flight
            # can finish now, and nothing more is worth submitting.
            self._stream_error = exc
            if self._fatal is None:
                self._fatal = exc
                self._stopped.set()
            for task_id in list(self._jobs):
                for index, request in self._jobs.pop(task_id):
                    # Not journaled: the task exists and a resumed run polls it again.
                    result = JobResult(
                        index, request, Generation(task_id, State.UNKNOWN), error=exc
                    )
                    await self._finish(result, record=False)

    async def _fetch(self, index: int, request: AnyRequest, generation: Generation) -> None:
        assert self._download_to is not None
        try:
            # download_to is always a folder: made here, so that it reads as one, and the
            # download names the file by its task id and its kind (.mp4, .jpg, .png).
            await anyio.Path(self._download_to).mkdir(parents=True, exist_ok=True)
            path = await self._download(generation, self._download_to)
        except (LumaError, OSError) as exc:
            await self._finish(JobResult(index, request, generation, error=exc))
            return
        await self._notify(
            Update(index, generation.id, generation.state, generation.progress, "downloaded")
        )
        await self._finish(JobResult(index, request, generation, path=path))


@asynccontextmanager
async def run_pipeline(
    pipeline: Pipeline,
    requests: Sequence[AnyRequest],
    poll: AbstractAsyncContextManager[PollStream],
) -> AsyncIterator[MemoryObjectReceiveStream[JobResult]]:
    """Run `pipeline` beside its (held open) poll stream for the duration of the `async with`."""
    try:
        with pipeline.results:
            async with poll as stream, task_group() as group:
                group.start_soon(pipeline.run, requests, stream)
                try:
                    yield pipeline.results
                finally:
                    group.cancel_scope.cancel()
    finally:
        pipeline.close()
