"""State shared by the API and CDN sites of one emulator: config, clock, tasks, stats, links."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from ._config import EmulatorConfig
from ._errors import Rejection
from ._limits import InFlight, SlidingWindow
from ._stats import Stats
from ._tasks import Task, TaskStore
from ._validate import Accepted

# Keys a duplicate check ignores: a client gives every task its own callback URL.
_HOOK_FIELDS = frozenset({"notify_hook", "callback_url"})


class Links:
    """Signed CDN links: `?expires=<unix>&sig=<hex>`, like the presigned links of DIALECTS.md §2."""

    def __init__(self, secret: bytes, ttl: float, wall: Callable[[], float]) -> None:
        """`wall` gives the emulated unix time, so a fake clock also moves link expiry."""
        self._secret = secret
        self._ttl = ttl
        self._wall = wall
        self.base = ""

    def _sig(self, path: str, expires: str) -> str:
        return hmac.new(self._secret, f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, path: str) -> str:
        """A full CDN URL for `path`, valid for the link TTL from now."""
        expires = str(math.ceil(self._wall() + self._ttl))
        return f"{self.base}{path}?expires={expires}&sig={self._sig(path, expires)}"

    def valid(self, path: str, expires: str | None, sig: str | None) -> bool:
        """Whether the signature matches the path and expiry."""
        if not expires or not sig or not expires.isdigit():
            return False
        return hmac.compare_digest(self._sig(path, expires), sig)

    def expired(self, expires: str) -> bool:
        """Whether the expiry time has passed."""
        return self._wall() > int(expires)

    def video(self, task_id: str) -> str:
        """The watermarked video."""
        return self.sign(f"/videos/{task_id}.mp4")

    def raw(self, task_id: str) -> str:
        """The clean (no-watermark) video."""
        return self.sign(f"/videos/{task_id}_raw.mp4")

    def thumbnail(self, task_id: str) -> str:
        """The thumbnail image."""
        return self.sign(f"/images/{task_id}_thumb.jpg")

    def still(self, task_id: str, ext: str) -> str:
        """The output of an image generation (`jpg` or `png`)."""
        return self.sign(f"/images/{task_id}.{ext}")

    def last_frame(self, task_id: str) -> str:
        """The last frame image."""
        return self.sign(f"/images/{task_id}_last_frame.jpg")

    def upload(self, upload_id: str) -> str:
        """An uploaded image."""
        return self.sign(f"/uploads/{upload_id}.jpg")


class Context:
    """Everything the handlers of one emulator share."""

    def __init__(self, config: EmulatorConfig) -> None:
        """Build the store, stats and seeded random streams from the config."""
        self.config = config
        self.clock = config.clock
        self._wall0 = time.time()
        self._clock0 = self.clock()
        self.store = TaskStore(config, self.clock)
        self.stats = Stats()
        secret = random.Random(f"{config.seed}:secret").randbytes(32)
        self.links = Links(secret, config.link_ttl, self.wall)
        self.fault_rng = random.Random(f"{config.seed}:faults")
        self.limiter = (
            SlidingWindow(config.rate_limit, config.rate_limit_window, self.clock)
            if config.rate_limit
            else None
        )
        self.in_flight = InFlight()
        self.credits_left = config.credits
        self.created: list[str] = []
        self.uploads: set[str] = set()
        self._seen: set[str] = set()
        self._request_seq = 0

    @property
    def relay(self) -> bool:
        """Whether the dialect is of the relay family."""
        return self.config.relay

    def now(self) -> float:
        """The emulator's clock."""
        return self.clock()

    def wall(self, at: float | None = None) -> float:
        """Unix time matching a clock time (now by default)."""
        return self._wall0 + ((self.clock() if at is None else at) - self._clock0)

    def iso(self, at: float) -> str:
        """`2024-07-19T07:35:13.498660Z`: UTC, microseconds, Z (DIALECTS.md §4)."""
        return datetime.fromtimestamp(self.wall(at), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def millis(self, at: float) -> int:
        """Epoch milliseconds, as AnyAPI's envelope has them (DIALECTS.md §3)."""
        return int(self.wall(at) * 1000)

    def request_id(self) -> str:
        """A new-api style request id: a timestamp and a counter."""
        self._request_seq += 1
        stamp = datetime.fromtimestamp(self.wall(), UTC).strftime("%Y%m%d%H%M%S%f")
        return f"{stamp}{self._request_seq:08d}"

    def known(self, task_id: str) -> bool:
        """Whether a task of this gateway has this id (a keyframe may reference it)."""
        return self.store.get(task_id) is not None

    def take_credit(self) -> None:
        """Spend one creation, or refuse with a quota error (the creation does not happen)."""
        if self.credits_left is None:
            return
        if self.credits_left <= 0:
            message = "user quota is not enough" if self.relay else "Insufficient credits"
            raise Rejection("quota", message)
        self.credits_left -= 1

    def create(
        self,
        accepted: Accepted,
        route: str,
        *,
        kind: str = "video",
        request: dict[str, Any] | None = None,
        parent: Task | None = None,
    ) -> Task:
        """Spend a credit, create a task over HTTP (unset fields from the parent), count it."""
        self.take_credit()
        task = self.store.create(
            accepted.prompt or (parent.prompt if parent else ""),
            kind=kind,
            aspect_ratio=accepted.aspect_ratio or (parent.aspect_ratio if parent else None),
            model=accepted.model or (parent.model if parent else None),
            request=accepted.body if request is None else request,
            callback_url=accepted.callback_url,
            parent_id=parent.id if parent else None,
        )
        self._record(task, route, accepted.body)
        return task

    def _record(self, task: Task, route: str, body: dict[str, Any]) -> None:
        """Count a creation made over HTTP, and whether the same request was already made."""
        self.stats.creations += 1
        self.created.append(task.id)
        essence = {k: v for k, v in body.items() if k not in _HOOK_FIELDS}
        key = json.dumps([route, task.parent_id, essence], sort_keys=True, default=str)
        if key in self._seen:
            self.stats.duplicate_prompts += 1
        self._seen.add(key)
        by_body = self.stats.creates_by_body
        by_body[key] = by_body.get(key, 0) + 1
        self.in_flight.add(task.created, task.finished)
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.in_flight.peak)

    def reset_stats(self) -> None:
        """Zero every counter (the in-flight peak restarts from the tasks in flight now)."""
        self.stats = Stats()
        self.in_flight.peak = 0


CTX: web.AppKey[Context] = web.AppKey("luma_emulator_context", Context)
