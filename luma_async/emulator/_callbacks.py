"""Callback delivery, as the services do it (DIALECTS.md §7).

Official: a POST of the Generation object on each of `dreaming`, `completed` and `failed`,
retried a few times when the receiver fails. Relays: a POST of the task object on each state
change, once (their delivery is unconfirmed; this is the plainest reading). A seeded share of
deliveries can be dropped, since real ones get lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from typing import Any

import aiohttp

from ._context import Context
from ._official import generation
from ._relay_shapes import task_object
from ._tasks import Phase, Task

# The phases a callback announces (official: dreaming, completed, failed; relays: each change
# after the submit's own answer); a task still waiting for its link is not announced yet.
_ANNOUNCED = frozenset({Phase.PROCESSING, Phase.COMPLETED, Phase.FAILED})
_FINAL = frozenset({Phase.COMPLETED, Phase.FAILED})
_TICK = 0.02
_RETRIES = 3


class Notifier:
    """Watches tasks that carry a callback URL and posts each announced change once."""

    def __init__(self, ctx: Context) -> None:
        """Nothing runs until `start()`."""
        self._ctx = ctx
        self._rng = random.Random(f"{ctx.config.seed}:callbacks")
        self._announced: dict[str, Phase] = {}
        self._watched: dict[str, Task] = {}
        self._seen = 0
        self._runner: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        """Begin watching (in the running event loop)."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        self._runner = asyncio.get_running_loop().create_task(self._watch())

    async def close(self) -> None:
        """Stop watching and sending."""
        tasks = [t for t in (self._runner, *self._sending) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
        self._runner = self._session = None

    async def _watch(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(_TICK)

    def tick(self) -> None:
        """Start a delivery for every announced change since the last tick."""
        ctx = self._ctx
        for task_id in ctx.created[self._seen :]:
            task = ctx.store.get(task_id)
            if task is not None and task.callback_url:
                self._watched[task_id] = task
        self._seen = len(ctx.created)
        unknown = ctx.config.has("unknown_state")
        for task in list(self._watched.values()):
            url = task.callback_url
            phase = task.phase(ctx.now(), unknown_state=unknown)
            if phase is Phase.RENDERING:
                phase = Phase.PROCESSING
            if task.deleted or phase in _FINAL:
                del self._watched[task.id]  # nothing after this one
            if url is None or task.deleted or phase not in _ANNOUNCED:
                continue
            if self._announced.get(task.id) is phase:
                continue
            self._announced[task.id] = phase
            if self._rng.random() < ctx.config.callback_drop:
                ctx.stats.callbacks_dropped += 1
                continue
            body = task_object(ctx, task) if ctx.relay else generation(ctx, task)
            sender = asyncio.get_running_loop().create_task(self._deliver(url, body))
            self._sending.add(sender)
            sender.add_done_callback(self._sending.discard)

    async def _deliver(self, url: str, body: dict[str, Any]) -> None:
        session = self._session
        if session is None:
            return
        tries = 1 if self._ctx.relay else _RETRIES
        data = json.dumps(body).encode()
        for attempt in range(tries):
            try:
                async with session.post(
                    url, data=data, headers={"Content-Type": "application/json"}
                ) as resp:
                    if resp.status < 300:
                        self._ctx.stats.callbacks_sent += 1
                        return
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
                # A receiver that is gone, or a URL aiohttp will not send to: a failed try.
                pass
            self._ctx.stats.callbacks_failed += 1
            await asyncio.sleep(0.1 * (attempt + 1))
