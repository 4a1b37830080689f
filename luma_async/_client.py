"""`LumaClient`: every operation is a dialect's request sent through the transport."""

from __future__ import annotations

import contextlib
import functools
import os
import pathlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from ssl import SSLContext
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import anyio
import msgspec

from ._callbacks import CallbackReceiver
from ._client_many import ManyOperations
from ._client_media import MediaOperations
from ._creates import Creates
from ._download import download_to, is_folder
from ._errors import (
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from ._http import HttpRequest, Timeout
from ._limits import RateLimit
from ._models import (
    REQUEST_TYPES,
    AnyRequest,
    GenerateRequest,
    Generation,
)
from ._options import (
    AspectRatio,
    Duration,
    ImageInput,
    Resolution,
    VideoModel,
)
from ._poller import DEFAULT_LINK_GRACE, DEFAULT_UNKNOWN_AFTER, PollStream, open_poll
from ._prepare import prepared
from ._retry import DEFAULT_RETRY, RetryPolicy
from ._schedule import Schedule
from ._source import ClientSource
from ._timing import Timing, TimingCacheOption
from ._timing import resolve as resolve_timing_cache
from ._transport import DEFAULT_MAX_DOWNLOADS, Transport
from ._updates import OnUpdate
from .dialects import KIND_OPERATIONS, Dialect, Official, get_dialect
from .dialects._errors import is_final

__all__ = ["DEFAULT_MAX_CONCURRENCY", "DEFAULT_TIMEOUT", "LumaClient"]

_R = TypeVar("_R", bound=AnyRequest)

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_CONCURRENCY = 32


class LumaClient(MediaOperations, ManyOperations):
    """An async client for one gateway: `async with LumaClient(...) as client: ...`.

    Arguments left as None come from `$LUMA_BASE_URL`, `$LUMA_API_KEY` and `$LUMA_DIALECT`,
    then from the dialect's public base URL (`luma-async dialects` lists them). `timeout` is
    a number (the total for one API request) or a `Timeout(total, connect, submit)`; `ssl` an
    `ssl.SSLContext` or False. `max_concurrency` bounds the API requests in flight and
    `max_requests_per_second` the requests that start in any one-second window (retries
    included); downloads have their own `max_downloads` slots. A 429 slows only the kind of
    request that met it (creates or reads), for the time the gateway asks.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        dialect: str | Dialect | None = None,
        *,
        timeout: float | Timeout = DEFAULT_TIMEOUT,
        ssl: SSLContext | Literal[False] | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        retry: RetryPolicy | None = None,
        retry_submits: bool = False,
        callbacks: CallbackReceiver | None = None,
        headers: Mapping[str, str] | None = None,
        trust_env: bool = False,
        max_requests_per_second: float | None = None,
        max_downloads: int = DEFAULT_MAX_DOWNLOADS,
        timing_cache: TimingCacheOption = None,
    ) -> None:
        self.dialect = get_dialect(dialect or os.environ.get("LUMA_DIALECT") or "official")
        base = base_url or os.environ.get("LUMA_BASE_URL") or self.dialect.default_base_url
        if not base:
            raise ValueError(
                f"the {self.dialect.name} dialect has no public base URL: "
                "pass base_url= or set LUMA_BASE_URL"
            )
        if max_concurrency < 1 or max_downloads < 1:
            raise ValueError("max_concurrency and max_downloads must be >= 1")
        rate = max_requests_per_second
        self.base_url = base.rstrip("/")
        self.retry_submits = retry_submits
        self.callbacks = callbacks
        self.transport = Transport(
            self.base_url,
            api_key if api_key is not None else os.environ.get("LUMA_API_KEY") or None,
            timeout=Timeout.of(timeout),
            max_concurrency=max_concurrency,
            retry=retry or DEFAULT_RETRY,
            headers=headers,
            trust_env=trust_env,
            rate_limit=RateLimit.per_second(rate) if rate is not None else None,
            ssl=ssl,
            max_downloads=max_downloads,
            final=is_final,
        )
        #: Set once a batch route answers 404/405: this gateway has none, poll singly.
        self.batch_unavailable = False
        # Resolved once: None is the user cache dir (or $LUMA_ASYNC_TIMING_CACHE), False off.
        self._timing_cache = resolve_timing_cache(timing_cache)
        self._creates = Creates(self.transport, self.dialect, self.callbacks, retry_submits)

    @classmethod
    def from_env(cls, **options: Any) -> Self:
        """A client configured from `$LUMA_BASE_URL`, `$LUMA_API_KEY`, `$LUMA_DIALECT`."""
        return cls(**options)

    def __repr__(self) -> str:
        return f"LumaClient(base_url={self.base_url!r}, dialect={self.dialect.name!r})"

    async def __aenter__(self) -> Self:
        await self.transport.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections; the client cannot be used afterwards."""
        await self.transport.close()

    # -- creating ------------------------------------------------------------------------

    async def generate(
        self,
        prompt: str,
        *,
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
    ) -> Generation:
        """Text- or image-to-video; `None` is not sent (the dialect fills what it requires)."""
        return await self.submit(
            GenerateRequest(
                prompt,
                aspect_ratio=aspect_ratio,
                model=model,
                resolution=resolution,
                duration=duration,
                loop=loop,
                expand_prompt=expand_prompt,
                start_image=start_image,
                end_image=end_image,
                concepts=list(concepts) if concepts is not None else None,
                callback_url=callback_url,
                extra_body=dict(extra_body) if extra_body is not None else None,
            )
        )

    async def submit(self, request: AnyRequest) -> Generation:
        """Create a generation from any request struct: video, image, modify or reframe."""
        if not isinstance(request, REQUEST_TYPES):
            raise TypeError(
                f"submit() takes a request struct ({', '.join(t.__name__ for t in REQUEST_TYPES)})"
                f", not {type(request).__name__}"
            )
        # Before reading files or fetching a source video: a dialect without the operation
        # refuses with nothing done.
        self.dialect.require(KIND_OPERATIONS[request.kind])
        ready = await self._prepared(request)
        return await self._create(
            lambda hook: self.dialect.create(_with_hook(ready, hook)), ready.callback_url
        )

    async def extend(
        self,
        task_id: str,
        prompt: str,
        *,
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
    ) -> Generation:
        """A new video continuing `task_id`; the options are `generate`'s (official: no
        `start_image`, the task is the start).
        """
        self.dialect.require("extend")
        request = GenerateRequest(
            prompt,
            aspect_ratio=aspect_ratio,
            model=model,
            resolution=resolution,
            duration=duration,
            loop=loop,
            expand_prompt=expand_prompt,
            start_image=start_image,
            end_image=end_image,
            concepts=list(concepts) if concepts is not None else None,
            callback_url=callback_url,
            extra_body=dict(extra_body) if extra_body is not None else None,
        )
        ready = await self._prepared(request)
        return await self._create(
            lambda hook: self.dialect.extend(task_id, _with_hook(ready, hook)), ready.callback_url
        )

    async def add_audio(
        self, task_id: str, prompt: str, *, negative_prompt: str | None = None
    ) -> Generation:
        """Generate a sound track for a finished video (official and rixapi)."""
        self.dialect.require("audio")
        return await self._create(
            lambda hook: self.dialect.audio(task_id, prompt, negative_prompt, hook)
        )

    async def upscale(self, task_id: str, resolution: Resolution) -> Generation:
        """Upscale a finished video (official only)."""
        dialect = self._official("upscale")
        return await self._create(lambda _: dialect.upscale(task_id, resolution), "")

    async def _prepared(self, request: _R) -> _R:
        """Local files read into data URIs; a source task given by id fetched (not billed)."""
        return await prepared(request, self.get)

    async def _create(
        self, build: Callable[[str | None], HttpRequest], callback_url: str | None = None
    ) -> Generation:
        return await self._creates.create(build, callback_url)

    # -- reading -------------------------------------------------------------------------

    async def get(self, task_id: str) -> Generation:
        """What the gateway says about `task_id` now."""
        response = await self.transport.send(self.dialect.get(task_id))
        return self.dialect.parse_task(response)

    async def get_many(self, task_ids: Iterable[str]) -> list[Generation]:
        """Many tasks at once: the batch route where there is one, else a bounded fan-out.

        Official: one pass over the list endpoint, then single GETs for what it did not hold.
        Ids the gateway does not know are left out; the order follows `task_ids`.
        """
        wanted = list(dict.fromkeys(task_ids))
        found = await self.batch_query(wanted)
        missing = [task_id for task_id in wanted if task_id not in found]
        found.update(await self._get_each(missing))
        return [found[task_id] for task_id in wanted if task_id in found]

    async def batch_query(self, task_ids: Sequence[str]) -> dict[str, Generation]:
        """The batch route alone, chunked; {} once the gateway turns out to have none."""
        found: dict[str, Generation] = {}
        if not self.dialect.supports("batch") or not task_ids:
            return found
        if self.dialect.batch_is_listing and isinstance(self.dialect, Official):
            return await self._listing_pass(task_ids)
        size = self.dialect.batch_size
        for start in range(0, len(task_ids), size):
            if self.batch_unavailable:
                break
            chunk = task_ids[start : start + size]
            response = await self.transport.send(self.dialect.batch(chunk))
            if response.status in (404, 405):
                self.batch_unavailable = True
                break
            wanted = set(chunk)
            found.update((g.id, g) for g in self.dialect.parse_batch(response) if g.id in wanted)
        return found

    async def _listing_pass(self, task_ids: Sequence[str]) -> dict[str, Generation]:
        """One walk down the newest-first list, page after page, while it still finds ours.

        It stops when every id is found, at the end of the list, once a page holds none of
        ours after one that did (the list has gone past them: they are older, or unknown),
        and after as many pages as the ids would fill; what it misses is fetched singly.
        """
        dialect = self._official("batch")
        size = dialect.batch_size  # the list endpoint's largest page
        wanted = set(task_ids)
        found: dict[str, Generation] = {}
        pages = -(-len(wanted) // size)
        for page in range(pages):
            # Full pages: a page of 100 costs what a page of 3 does and holds more of ours.
            response = await self.transport.send(dialect.listing(limit=size, offset=page * size))
            if response.status in (404, 405):
                self.batch_unavailable = True
                break
            listed = dialect.parse_batch(response)
            hits = [g for g in listed if g.id in wanted]
            found.update((g.id, g) for g in hits)
            if len(found) == len(wanted) or len(listed) < size or (found and not hits):
                break
        return found

    async def _get_each(self, task_ids: Sequence[str]) -> dict[str, Generation]:
        """Single GETs by a few workers (the client's concurrency), never a task per id."""
        found: dict[str, Generation] = {}
        queue = iter(task_ids)

        async def worker() -> None:
            for task_id in queue:  # shared: each id is taken by one worker
                with contextlib.suppress(NotFoundError):
                    found[task_id] = await self.get(task_id)

        async with anyio.create_task_group() as group:
            for _ in range(min(len(task_ids), self.transport.max_concurrency)):
                group.start_soon(worker)
        return found

    async def no_watermark_url(self, task_id: str) -> str:
        """A link to the clean file: the gateway's route, else the best link in the task."""
        request = self.dialect.no_watermark(task_id)
        if request is not None:
            try:
                return self.dialect.parse_url(await self.transport.send(request))
            except (NotFoundError, BadRequestError, PermissionDeniedError):
                pass  # no such route here, or VIP-only (403): the task's own links may do
        generation = await self.get(task_id)
        if not generation.link:
            raise NotFoundError(
                f"task {task_id} has no {generation.kind} link yet (state {generation.raw_state})",
                status=404,
            )
        return generation.link

    async def download(
        self,
        generation_or_id: Generation | str,
        dest: str | os.PathLike[str],
        *,
        overwrite: bool = False,
    ) -> pathlib.Path:
        """Stream the task's video or image to `dest`; returns the file's path.

        `dest` is a folder when it exists as one or ends with a separator: the file is then
        `<task id>.mp4` (`.jpg`/`.png` for an image, as its content says); any other `dest`
        is the file itself. An existing file is kept unless `overwrite=True`
        (`FileExistsError`); a partial file never appears under the final name.
        """
        generation = generation_or_id
        if isinstance(generation, str) or not generation.link:
            task_id = generation if isinstance(generation, str) else generation.id
            generation = await self.get(task_id)
        url = generation.link
        if not url:
            raise NotFoundError(
                f"task {generation.id} has no {generation.kind} to download "
                f"(state {generation.raw_state})",
                status=404,
            )
        task_id, kind = generation.id, generation.kind

        async def fresh_link() -> str:
            # Presigned links expire (an hour on relays): the task hands out a new one.
            again = await self.get(task_id)
            if not again.link:
                raise NotFoundError(f"task {task_id} no longer has a {kind} link", status=404)
            return again.link

        folder = is_folder(dest)
        return await download_to(
            self.transport,
            url,
            pathlib.Path(dest),
            name=task_id if folder else None,
            media=kind,
            overwrite=overwrite,
            refresh=fresh_link,
            # The client's own backoff curve (tests make it tiny); the tries are download's.
            retry=self.transport._retry,
        )

    # -- many tasks ----------------------------------------------------------------------

    def poll(
        self,
        task_ids: Iterable[str],
        *,
        timeout: float | None = None,
        interval: float | None = None,
        unknown_after: float | None = DEFAULT_UNKNOWN_AFTER,
        on_update: OnUpdate | None = None,
        link_grace: float = DEFAULT_LINK_GRACE,
    ) -> AbstractAsyncContextManager[PollStream]:
        """Watch many tasks; iterate the stream for each one as soon as it finishes.

        `async with client.poll(ids) as stream: async for generation in stream: ...`
        An id the gateway has not known for `unknown_after` seconds comes out FAILED (None:
        wait for ever); `on_update` (plain or async) is given an `Update` for every change.
        """
        return self._poll(
            task_ids,
            timeout=timeout,
            interval=interval,
            unknown_after=unknown_after,
            on_update=on_update,
            link_grace=link_grace,
        )

    @contextlib.asynccontextmanager
    async def _poll(
        self,
        task_ids: Iterable[str],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the stream's deadline, for the poller
        interval: float | None = None,
        unknown_after: float | None = DEFAULT_UNKNOWN_AFTER,
        on_update: OnUpdate | None = None,
        link_grace: float = DEFAULT_LINK_GRACE,
        hold: bool = False,
    ) -> AsyncIterator[PollStream]:
        schedule = Schedule(interval)
        timing = Timing(self._timing_cache, self.base_url, self.dialect.name)
        await timing.seed(schedule)
        try:
            async with open_poll(
                ClientSource(self),
                task_ids,
                hints=self.callbacks,
                time_limit=timeout,
                schedule=schedule,
                workers=self.transport.max_concurrency,
                link_grace=link_grace,
                unknown_after=unknown_after,
                hold=hold,
                on_update=on_update,
                kind_of=timing.kind_of,
                remember=functools.partial(timing.remember, schedule),
            ) as stream:
                yield stream
        finally:
            with anyio.CancelScope(shield=True):
                await timing.remember(schedule)

    # -- official only -------------------------------------------------------------------

    def _official(self, operation: str) -> Official:
        self.dialect.require(operation)
        assert isinstance(self.dialect, Official)
        return self.dialect

    async def list(self, limit: int = 100, offset: int = 0) -> list[Generation]:
        """Recent generations, newest first (official only)."""
        request = self._official("list").listing(limit=limit, offset=offset)
        return self.dialect.parse_batch(await self.transport.send(request))

    async def delete(self, task_id: str) -> None:
        """Delete a generation (official only)."""
        request = self._official("delete").delete(task_id)
        self.dialect.parse_empty(await self.transport.send(request))

    async def credits(self) -> float:
        """The account's balance in USD cents (official only)."""
        dialect = self._official("credits")
        return dialect.parse_credits(await self.transport.send(dialect.credits()))


def _with_hook(request: _R, hook: str | None) -> _R:
    if hook is None or hook == request.callback_url:
        return request
    return msgspec.structs.replace(request, callback_url=hook)
