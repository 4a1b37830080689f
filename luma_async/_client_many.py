"""`generate_many`, `wait` and `run` on `LumaClient`: the pipeline and the poller driven by
the client's own operations (submit, download, poll), with journal stores and download sinks.
"""

from __future__ import annotations

import abc
import functools
import os
import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import anyio

from ._creates import Creates
from ._download import download_into
from ._errors import LumaError, NotFoundError
from ._models import AnyRequest, Generation, JobResult, State
from ._options import AspectRatio, Duration, ImageInput, Resolution, VideoModel
from ._pipeline import DEFAULT_CONCURRENCY, Pipeline, run_pipeline
from ._pipeline_journal import JournaledPipeline
from ._poller import PollStream
from ._sinks import open_sink
from ._stores import DEFAULT_RUN, make_store
from ._submitter import DEFAULT_SUBMIT_DEADLINE, one_request, read_requests
from ._transport import Transport
from ._updates import OnUpdate
from .dialects import Dialect

__all__ = ["ManyOperations"]


class ManyOperations(abc.ABC):
    """Many requests and one-call helpers; `LumaClient` supplies submit, download and poll."""

    dialect: Dialect
    transport: Transport
    _creates: Creates

    @abc.abstractmethod
    async def submit(self, request: AnyRequest) -> Generation:
        """Create a generation from any request struct."""

    @abc.abstractmethod
    async def get(self, task_id: str) -> Generation:
        """What the gateway says about `task_id` now."""

    @abc.abstractmethod
    async def download(
        self,
        generation_or_id: Generation | str,
        dest: str | os.PathLike[str],
        *,
        overwrite: bool = False,
    ) -> pathlib.Path:
        """Stream a generation's file to `dest`."""

    @abc.abstractmethod
    def _poll(
        self,
        task_ids: Iterable[str],
        *,
        timeout: float | None = None,
        interval: float | None = None,
        on_update: OnUpdate | None = None,
        hold: bool = False,
    ) -> AbstractAsyncContextManager[PollStream]:
        """A poll stream over the client's own status source."""

    @abc.abstractmethod
    async def _prepared(self, request: AnyRequest) -> AnyRequest:
        """`request` with local files read into data URIs."""

    def generate_many(
        self,
        requests: Iterable[AnyRequest | str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        submits_per_minute: float | None = None,
        download_to: str | os.PathLike[str] | None = None,
        journal: str | os.PathLike[str] | None = None,
        run: str | None = None,
        lease: float = 30.0,
        interval: float | None = None,
        submit_deadline: float | None = DEFAULT_SUBMIT_DEADLINE,
        on_update: OnUpdate | None = None,
    ) -> AbstractAsyncContextManager[AsyncIterator[JobResult]]:
        """Submit, poll and (optionally) download many requests; one `JobResult` each.

        The input is read in full and checked first (`TypeError` naming the index).
        `concurrency` is the number of generations in flight (submitted, not finished).
        A submit that met 429 or a refused connection is queued again with backoff for up to
        `submit_deadline` seconds. With `journal=PATH` the run is resumable: run it again
        with the same input and journal after a crash, and nothing submitted is resubmitted.
        `journal="postgresql://..."` lets any number of workers share the run named `run`
        (default `"default"`); a dead worker's tasks are adopted once its `lease` expires.
        """
        return self._generate_many(
            read_requests(requests),
            concurrency=concurrency,
            submits_per_minute=submits_per_minute,
            download_to=download_to,
            journal=journal,
            run=run,
            lease=lease,
            interval=interval,
            submit_deadline=submit_deadline,
            on_update=on_update,
        )

    def _generate_many(
        self,
        requests: Sequence[AnyRequest],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        submits_per_minute: float | None = None,
        download_to: str | os.PathLike[str] | None = None,
        journal: str | os.PathLike[str] | None = None,
        run: str | None = None,
        lease: float = 30.0,
        interval: float | None = None,
        submit_deadline: float | None = DEFAULT_SUBMIT_DEADLINE,
        on_update: OnUpdate | None = None,
        timeout: float | None = None,
    ) -> AbstractAsyncContextManager[AsyncIterator[JobResult]]:
        """`generate_many` on checked requests; `timeout` bounds the run's polling (for `run`)."""
        transport = self.transport
        download = self._run_download(download_to) if download_to is not None else None
        # One path for every journal backend: a SQLite file or a shared PostgreSQL run.
        make: Callable[..., Pipeline] = (
            functools.partial(
                JournaledPipeline, store=make_store(journal, run=run or DEFAULT_RUN, lease=lease)
            )
            if journal is not None
            else Pipeline
        )
        pipeline = make(
            self.submit,
            download,
            concurrency=concurrency,
            submits_per_minute=submits_per_minute,
            recover=self._recover,
            answered=lambda: transport.answered,
            submit_deadline=submit_deadline,
            submit_timeout=transport.timeout.for_submit,
            on_update=on_update,
        )
        poll = self._poll(
            (),
            timeout=timeout,
            interval=interval,
            hold=True,
            on_update=pipeline.on_poll_update if on_update is not None else None,
        )
        return run_pipeline(pipeline, requests, poll)

    async def wait(
        self,
        task_or_id: Generation | str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the contract's name (API.md)
    ) -> Generation:
        """The task once terminal (completed with its link, or failed), on the poller's schedule.

        Raises `PollTimeoutError` once `timeout` seconds have passed without that.
        """
        if isinstance(task_or_id, Generation):
            if task_or_id.ok or task_or_id.state is State.FAILED:
                return task_or_id
            task_or_id = task_or_id.id
        async with self._poll([task_or_id], timeout=timeout) as stream:
            async for generation in stream:
                return generation
        # A stream of one ends after yielding it, by its deadline, or on a fatal error, and
        # the last two raise: getting here would be a poller bug, not the gateway's doing.
        raise RuntimeError(f"the poll stream of task {task_or_id} ended without it")

    async def run(
        self,
        prompt_or_request: AnyRequest | str,
        *,
        download_to: str | os.PathLike[str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a PollTimeoutError result, not a cancel
        aspect_ratio: AspectRatio | None = None,
        model: VideoModel | None = None,
        resolution: Resolution | None = None,
        duration: Duration | None = None,
        loop: bool | None = None,
        expand_prompt: bool | None = None,
        start_image: ImageInput | None = None,
        end_image: ImageInput | None = None,
        concepts: Sequence[str] | None = None,
        callback_url: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> JobResult:
        """Generate, wait and (with `download_to`, a folder) download: one call, one result.

        Exactly the result `generate_many([request], download_to=...)` gives: the generation,
        the file's path, or the error; past `timeout` seconds the error is a `PollTimeoutError`.
        """
        options: dict[str, Any] = {
            "aspect_ratio": aspect_ratio,
            "model": model,
            "resolution": resolution,
            "duration": duration,
            "loop": loop,
            "expand_prompt": expand_prompt,
            "start_image": start_image,
            "end_image": end_image,
            "concepts": list(concepts) if concepts is not None else None,
            "callback_url": callback_url,
            "extra_body": extra_body,
        }
        request = one_request(prompt_or_request, options)
        async with self._generate_many(
            [request], concurrency=1, download_to=download_to, timeout=timeout
        ) as results:
            async for result in results:
                return result
        raise RuntimeError("generate_many ended without the result of its one request")

    def _run_download(
        self, download_to: str | os.PathLike[str]
    ) -> Callable[[Generation], Awaitable[pathlib.Path | str]]:
        """`generate_many`'s download: into the folder `download_to` (made on first use;
        a file there of the same task is its video, so it is overwritten)."""
        text = os.fspath(download_to)
        if isinstance(text, str) and "://" in text and not text.startswith("file://"):
            open_sink(text)  # an unknown scheme or a missing extra fails now, not per file
            return functools.partial(self._download_into, text)
        folder = pathlib.Path(download_to)

        async def download(generation: Generation) -> pathlib.Path | str:
            await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
            return await self.download(generation, folder, overwrite=True)

        return download

    async def _download_into(self, destination: str, generation: Generation) -> str:
        """Stream a completed generation into an object store; its URL once committed."""
        if not generation.link:
            generation = await self.get(generation.id)
        task_id, kind, url = generation.id, generation.kind, generation.link
        if not url:
            raise NotFoundError(f"task {task_id} has no {kind} to download", status=404)

        async def fresh_link() -> str:
            again = await self.get(task_id)
            if not again.link:
                raise NotFoundError(f"task {task_id} no longer has a {kind} link", status=404)
            return again.link

        sink = open_sink(destination)
        try:
            return await download_into(
                self.transport,
                url,
                sink,
                task_id,
                media=kind,
                refresh=fresh_link,
                retry=self.transport._retry,
            )
        finally:
            with anyio.CancelScope(shield=True):
                await sink.close()

    async def _recover(self, request: AnyRequest, since: datetime) -> Generation | None:
        """The task an interrupted submit of `request` made, where the dialect can tell."""
        if not self.dialect.supports("list"):
            return None
        try:
            sent = self.dialect.create(await self._prepared(request))
        except LumaError:
            return None
        return await self._creates.reconcile(sent, since)
