"""What a poll stream keeps per task while it is pending, and its queue of progress events."""

from __future__ import annotations

import logging
from collections import deque

import anyio
import msgspec

from ._models import Generation, State
from ._updates import Event, Notifier, OnUpdate, Update

__all__ = ["Tracked", "UpdateQueue"]

logger = logging.getLogger("luma_async")

#: Progress events waiting for a slow `on_update`; past it "state"/"retried" ones are dropped.
UPDATE_BACKLOG = 4096


class Tracked:
    """What a stream keeps about one task until it is yielded (and nothing after)."""

    __slots__ = (
        "added",
        "attempts",
        "completed_at",
        "id",
        "kind",
        "known",
        "progress",
        "rush",
        "state",
        "token",
    )

    def __init__(self, task_id: str, added: float, kind: str | None) -> None:
        self.id = task_id
        self.added = added
        self.kind = kind
        self.attempts = 0
        self.state = State.QUEUED
        self.progress: float | None = None
        self.completed_at: float | None = None
        #: True once the gateway answered for this task (early 404s no longer count).
        self.known = False
        #: The sequence number of this task's live heap entry; older entries are stale.
        self.token = -1
        #: A callback came while a look was under way: look again right after it.
        self.rush = False

    def unknown_too_long(self, now: float, unknown_after: float | None) -> Generation | None:
        """The FAILED task to yield once the gateway has not known it for `unknown_after`."""
        if self.known or unknown_after is None or now - self.added < unknown_after:
            return None
        reason = f"the gateway has not known this task for {unknown_after:g} s"
        logger.warning("task %s: %s; given up as failed", self.id, reason)
        return Generation(self.id, State.FAILED, failure_reason=reason)

    def linkless_too_long(self, generation: Generation, now: float, grace: float) -> Generation:
        """`generation`, made FAILED once it has said completed without a link for `grace`."""
        if generation.state is not State.COMPLETED or generation.ok:
            return generation
        self.completed_at = self.completed_at or now
        if now - self.completed_at < grace:
            return generation
        reason = f"completed without a video link for {grace:g} s"
        logger.warning("task %s: %s; given up as failed", self.id, reason)
        return msgspec.structs.replace(generation, state=State.FAILED, failure_reason=reason)


class UpdateQueue:
    """`on_update` fed from the poller's hot path: queued there, delivered by one task.

    A slow (async) callback never stalls polling: events wait here, in order; past
    `UPDATE_BACKLOG` the "state" and "retried" ones are dropped (one WARNING), "finished" never.
    """

    def __init__(self, callback: OnUpdate | None) -> None:
        self._notify = Notifier(callback)
        self._queue: deque[Update] = deque()
        self._ready = anyio.Event()
        self.dropped = 0

    def __bool__(self) -> bool:
        return bool(self._notify)

    def emit(self, event: Event, tracked: Tracked, state: State | None = None) -> None:
        """Queue an update about `tracked` (never waits)."""
        if not self._notify:
            return
        if len(self._queue) >= UPDATE_BACKLOG and event != "finished":
            self.dropped += 1
            if self.dropped == 1:
                logger.warning("on_update is slow: progress events are being dropped")
            return
        update = Update(None, tracked.id, state or tracked.state, tracked.progress, event)
        self._queue.append(update)
        self._ready.set()

    async def deliver(self) -> None:
        """Hand queued updates to `on_update`, one at a time, in order, for ever."""
        while True:
            await self.flush()
            self._ready = anyio.Event()
            await self._ready.wait()

    async def flush(self) -> None:
        """Deliver what is queued now."""
        while self._queue:
            await self._notify(self._queue.popleft())
