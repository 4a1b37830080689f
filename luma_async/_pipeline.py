"""`generate_many`: submit, poll and download many requests, one `JobResult` per request."""

from __future__ import annotations

import math
import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._errors import FATAL_ERRORS, LumaError
from ._groups import task_group
from ._limits import RateLimit
from ._models import GenerateRequest, Generation, JobResult
from ._poller import PollStream

__all__ = ["DEFAULT_CONCURRENCY", "Pipeline", "run_pipeline"]

DEFAULT_CONCURRENCY = 8

Submit = Callable[[GenerateRequest], Awaitable[Generation]]
Download = Callable[[Generation, pathlib.Path], Awaitable[pathlib.Path]]


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
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self._submit = submit
        self._download = download
        self._slots = anyio.Semaphore(concurrency)
        self._pace = (
            RateLimit(max(1, math.floor(submits_per_minute)), 60.0) if submits_per_minute else None
        )
        self._download_to = download_to
        self._jobs: dict[str, list[tuple[int, GenerateRequest]]] = {}
        self._fatal: LumaError | None = None
        send, receive = anyio.create_memory_object_stream[JobResult](math.inf)
        self.results: MemoryObjectReceiveStream[JobResult] = receive
        self._send: MemoryObjectSendStream[JobResult] = send

    def _emit(self, result: JobResult) -> None:
        self._send.send_nowait(result)

    def _finish(self, result: JobResult) -> None:
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
        for index, item in enumerate(requests):
            request = GenerateRequest(item) if isinstance(item, str) else item
            if self._fatal is not None:
                self._emit(JobResult(index, request, error=self._fatal))
                continue
            await self._slots.acquire()
            if self._fatal is not None:  # it may have come while we waited for a slot
                self._finish(JobResult(index, request, error=self._fatal))
                continue
            if self._pace is not None:
                await self._pace.acquire()
            try:
                generation = await self._submit(request)
            except FATAL_ERRORS as exc:
                self._fatal = exc
                self._finish(JobResult(index, request, error=exc))
                continue
            except LumaError as exc:
                self._finish(JobResult(index, request, error=exc))
                continue
            self._jobs.setdefault(generation.id, []).append((index, request))
            stream.add(generation.id)

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
                    self._finish(JobResult(index, request, error=exc))

    async def _fetch(self, index: int, request: GenerateRequest, generation: Generation) -> None:
        assert self._download_to is not None
        try:
            path = await self._download(generation, self._download_to)
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
    with pipeline.results:
        async with poll as stream, task_group() as group:
            group.start_soon(pipeline.run, requests, stream)
            try:
                yield pipeline.results
            finally:
                group.cancel_scope.cancel()
