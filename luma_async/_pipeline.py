"""`generate_many`: submit, poll and download many requests, one `JobResult` per request."""

from __future__ import annotations

import math
import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._download import safe_filename
from ._errors import (
    FATAL_ERRORS,
    BadRequestError,
    InvalidRequestError,
    LumaError,
    SubmissionUncertainError,
    UnsupportedFeatureError,
)
from ._groups import task_group
from ._journal import Entry, Journal
from ._limits import RateLimit
from ._models import GenerateRequest, Generation, JobResult
from ._poller import PollStream

__all__ = ["DEFAULT_CONCURRENCY", "Pipeline", "run_pipeline"]

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

Submit = Callable[[GenerateRequest], Awaitable[Generation]]
Download = Callable[[Generation, pathlib.Path], Awaitable[pathlib.Path]]
Recover = Callable[[GenerateRequest, datetime], Awaitable[Generation | None]]


class Pipeline:
    """One run of `generate_many`: a submitter feeding the poll stream, a consumer of it."""

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
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self._submit = submit
        self._download = download
        self._journal = journal
        self._recover = recover
        self._slots = anyio.Semaphore(concurrency)
        self._submitters = min(concurrency, _MAX_SUBMITTERS)
        self._one_went_through = anyio.Event()
        self._pace = (
            RateLimit(max(1, math.floor(submits_per_minute)), 60.0) if submits_per_minute else None
        )
        self._download_to = download_to
        self._jobs: dict[str, list[tuple[int, GenerateRequest]]] = {}
        self._fatal: LumaError | None = None
        send, receive = anyio.create_memory_object_stream[JobResult](math.inf)
        self.results: MemoryObjectReceiveStream[JobResult] = receive
        self._send: MemoryObjectSendStream[JobResult] = send

    def close(self) -> None:
        """Close the journal, if any."""
        if self._journal is not None:
            self._journal.close()

    def _emit(self, result: JobResult) -> None:
        self._send.send_nowait(result)

    def _finish(self, result: JobResult, *, record: bool = True) -> None:
        if record and self._journal is not None:
            self._journal.finished(result)
        self._emit(result)
        self._slots.release()

    async def run(self, requests: Iterable[GenerateRequest | str], stream: PollStream) -> None:
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

    async def _submit_all(
        self, requests: Iterable[GenerateRequest | str], stream: PollStream
    ) -> None:
        # Several submitters share one iterator: a submit's round trip (hundreds of ms on a
        # real gateway) must not gate the next one. The slots and the pace still bound them.
        # Only one submits until a submit has succeeded: a bad key, an empty account or an
        # unreachable gateway then costs one refused request, not one per submitter.
        numbered = enumerate(requests)
        async with anyio.create_task_group() as group:
            group.start_soon(self._submitter, numbered, stream, True)
            for _ in range(self._submitters - 1):
                group.start_soon(self._submitter, numbered, stream, False)

    async def _submitter(
        self,
        numbered: Iterator[tuple[int, GenerateRequest | str]],
        stream: PollStream,
        first: bool,
    ) -> None:
        if not first:
            await self._one_went_through.wait()
        try:
            await self._submit_from(numbered, stream)
        finally:
            self._one_went_through.set()  # nothing left to take: let the others see that

    async def _submit_from(
        self, numbered: Iterator[tuple[int, GenerateRequest | str]], stream: PollStream
    ) -> None:
        for index, item in numbered:
            request = GenerateRequest(item) if isinstance(item, str) else item
            entry = self._journal.lookup(index, request) if self._journal else None
            if entry is not None and entry.result is not None:
                self._emit(entry.result)  # finished in an earlier run: replayed, not redone
                continue
            if self._fatal is not None:
                # Never attempted, so not journaled: a resumed run tries it again.
                self._emit(JobResult(index, request, error=self._fatal))
                continue
            await self._slots.acquire()
            if self._fatal is not None:  # it may have come while we waited for a slot
                self._finish(JobResult(index, request, error=self._fatal), record=False)
                continue
            if entry is not None:
                await self._resume(index, request, entry, stream)
                continue
            if self._pace is not None:
                await self._pace.acquire()
            if self._journal is not None:
                self._journal.intend(index, request)
            try:
                # With a journal, a submit under way finishes even if the run is being left:
                # its task id is then written down instead of leaving an uncertain intent.
                with anyio.CancelScope(shield=self._journal is not None):
                    generation = await self._submit(request)
                    if self._journal is not None:
                        self._journal.submitted(index, request, generation.id)
            except LumaError as exc:
                if isinstance(exc, FATAL_ERRORS):
                    self._fatal = exc
                self._failed(index, request, exc)
                continue
            self._one_went_through.set()
            self._track(index, request, generation.id, stream)

    def _failed(self, index: int, request: GenerateRequest, error: LumaError) -> None:
        """A submit that failed. Journaled only when a rerun would get the same answer (the
        request is wrong) or a task may exist; otherwise a resumed run tries it again."""
        final = isinstance(error, _FINAL_SUBMIT_ERRORS)
        if not final and self._journal is not None:
            self._journal.forget(index, request)
        self._finish(JobResult(index, request, error=error), record=final)

    def _track(
        self, index: int, request: GenerateRequest, task_id: str, stream: PollStream
    ) -> None:
        self._jobs.setdefault(task_id, []).append((index, request))
        stream.add(task_id)

    async def _resume(
        self, index: int, request: GenerateRequest, entry: Entry, stream: PollStream
    ) -> None:
        """A request an earlier run submitted: poll its task, never submit it again."""
        if entry.task_id is not None:
            self._track(index, request, entry.task_id, stream)
            return
        # The earlier run died mid-submit: a task may exist. Find it where the dialect can.
        found = await self._recover(request, entry.intent_at) if self._recover else None
        if found is not None:
            if self._journal is not None:
                self._journal.submitted(index, request, found.id)
            self._track(index, request, found.id, stream)
            return
        error = SubmissionUncertainError(
            f"request {index} was being submitted when an earlier run stopped; its task may "
            "exist and is not resent, to avoid paying twice",
            cause=LumaError("interrupted run"),
        )
        self._finish(JobResult(index, request, error=error))

    async def _consume(self, stream: PollStream, group: TaskGroup) -> None:
        try:
            async for generation in stream:
                for index, request in self._jobs.pop(generation.id, []):
                    if self._download_to is not None and generation.ok:
                        group.start_soon(self._fetch, index, request, generation)
                    else:
                        self._finish(JobResult(index, request, generation))
        except LumaError as exc:
            # The poll stream ended on a fatal error: nothing in flight can finish now.
            self._fatal = self._fatal or exc
            for task_id in list(self._jobs):
                for index, request in self._jobs.pop(task_id):
                    # Not journaled: the task exists and a resumed run polls it again.
                    self._finish(JobResult(index, request, error=exc), record=False)

    async def _fetch(self, index: int, request: GenerateRequest, generation: Generation) -> None:
        assert self._download_to is not None
        try:
            # download_to is a folder, made or not: name the file here so it never reads as one.
            target = self._download_to / safe_filename(generation.id)
            path = await self._download(generation, target)
        except LumaError as exc:
            self._finish(JobResult(index, request, generation, error=exc))
        except OSError as exc:
            self._finish(JobResult(index, request, generation, error=exc))
        else:
            self._finish(JobResult(index, request, generation, path=path))


@asynccontextmanager
async def run_pipeline(
    pipeline: Pipeline,
    requests: Iterable[GenerateRequest | str],
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
