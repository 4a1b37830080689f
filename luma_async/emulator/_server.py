"""The Emulator: an API site and a separate CDN site over one shared task store."""

from __future__ import annotations

from types import TracebackType
from typing import Literal

from aiohttp import web

from ._callbacks import Notifier
from ._cdn import build_cdn_app
from ._config import EmulatorConfig
from ._context import CTX, Context
from ._gate import ROUTE_NAMES, gate
from ._official import BASE_PATH, DEFAULT_MODEL, add_official_routes
from ._relay import add_relay_routes
from ._relay_shapes import phase_of
from ._stats import Stats
from ._tasks import OFFICIAL_WORDS, RELAY_WORDS, Phase, Task

DEFAULT_IMAGE_MODEL = "photon-1"
# Base64 of a 10 MB image, with room for the rest of the JSON body.
MAX_BODY_BYTES = 32 * 1024 * 1024
SHUTDOWN_TIMEOUT = 1.0


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class Emulator:
    """A fake Luma gateway on 127.0.0.1 speaking one dialect, with task timing, quirks, faults."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        """Prepare the emulator; nothing listens until `start()` (or `async with`)."""
        self._config = config or EmulatorConfig()
        self._ctx = Context(self._config)
        self._runners: list[web.AppRunner] = []
        self._notifier = Notifier(self._ctx)
        self._base_url: str | None = None
        self._cdn_url: str | None = None

    @property
    def config(self) -> EmulatorConfig:
        """The configuration it runs with."""
        return self._config

    @property
    def base_url(self) -> str:
        """The client's base URL (relay: host + prefix; official: .../dream-machine/v1)."""
        if self._base_url is None:
            raise RuntimeError("the emulator is not started")
        return self._base_url

    @property
    def cdn_url(self) -> str:
        """Where the video links point."""
        if self._cdn_url is None:
            raise RuntimeError("the emulator is not started")
        return self._cdn_url

    @property
    def stats(self) -> Stats:
        """A copy of the counters now."""
        return self._ctx.stats.snapshot()

    def reset_stats(self) -> None:
        """Zero every counter (tasks are kept)."""
        self._ctx.reset_stats()

    def tasks_created(self) -> list[str]:
        """Ids of the tasks created over HTTP, in order."""
        return list(self._ctx.created)

    async def _serve(self, app: web.Application, port: int) -> str:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, self._config.host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        return f"http://{_url_host(self._config.host)}:{bound_port}"

    async def start(self) -> None:
        """Start the CDN site, then the API site."""
        if self._runners:
            raise RuntimeError("the emulator is already started")
        try:
            self._cdn_url = await self._serve(build_cdn_app(self._ctx), self._config.cdn_port)
            self._ctx.links.base = self._cdn_url
            root = await self._serve(self._api_app(), self._config.port)
        except BaseException:
            await self.close()
            raise
        cfg = self._config
        self._base_url = root + cfg.prefix + ("" if cfg.relay else BASE_PATH)
        self._notifier.start()

    def _api_app(self) -> web.Application:
        app = web.Application(middlewares=[gate], client_max_size=MAX_BODY_BYTES)
        app[CTX] = self._ctx
        app[ROUTE_NAMES] = {}
        if self._config.relay:
            add_relay_routes(app, self._ctx)
        else:
            add_official_routes(app, self._ctx)
        return app

    async def close(self) -> None:
        """Stop both sites; safe to call twice."""
        await self._notifier.close()
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()
        self._base_url = self._cdn_url = None

    async def __aenter__(self) -> Emulator:
        """Start, and hand back the emulator."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        await self.close()

    def create_task(
        self,
        prompt: str,
        *,
        run_seconds: float | None = None,
        queue_seconds: float | None = None,
        outcome: str | None = None,
        aspect_ratio: str = "16:9",
        kind: Literal["video", "image"] = "video",
        image_format: Literal["jpg", "png"] = "jpg",
    ) -> str:
        """Create a task without HTTP (not a request, no credit); given durations are not scaled.

        `kind="image"` (official dialect only) makes a Photon image generation in `image_format`.
        """
        request: dict[str, object] = {"prompt": prompt, "aspect_ratio": aspect_ratio}
        model = None
        if kind == "image":
            if self._config.relay:
                raise ValueError("image generations exist on the official dialect only")
            model = DEFAULT_IMAGE_MODEL
            request = {"generation_type": "image", "model": model, **request}
            request["format"] = image_format
        elif not self._config.relay:
            model = DEFAULT_MODEL
            request = {"generation_type": "video", "model": model, **request}
        task = self._ctx.store.create(
            prompt,
            kind=kind,
            aspect_ratio=aspect_ratio,
            model=model,
            request=request,
            via_http=False,
            queue_seconds=queue_seconds,
            run_seconds=run_seconds,
            outcome=outcome,
        )
        return task.id

    def _task(self, task_id: str) -> Task:
        task = self._ctx.store.get(task_id)
        if task is None:
            raise KeyError(task_id)
        return task

    def task_state(self, task_id: str) -> str:
        """The dialect's word for the task's state now (raises KeyError for an unknown id)."""
        phase = phase_of(self._ctx, self._task(task_id))
        return (RELAY_WORDS if self._config.relay else OFFICIAL_WORDS)[phase]

    def finished_at(self, task_id: str) -> float | None:
        """Clock time the task became terminal (completed with a link, or failed), else None."""
        task = self._task(task_id)
        if phase_of(self._ctx, task) in (Phase.COMPLETED, Phase.FAILED):
            return task.finished
        return None
