"""Progress events: `on_update` for `poll()` and `generate_many()` (the CLI's live view too)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Literal, TypeAlias

import msgspec

from ._models import State

__all__ = ["Event", "Notifier", "OnUpdate", "Update"]

logger = logging.getLogger("luma_async")

Event: TypeAlias = Literal["submitted", "state", "retried", "finished", "downloaded"]


class Update(msgspec.Struct, frozen=True, gc=False):
    """One change worth showing: a submit, a new state, a retry, a finish or a download.

    `index` is the input position in `generate_many` and `None` in `poll`.
    """

    index: int | None
    task_id: str | None
    state: State | None
    progress: float | None
    event: Event


#: What `on_update` accepts: a plain callable, or an async one.
OnUpdate: TypeAlias = Callable[[Update], Awaitable[None] | None]


class Notifier:
    """Calls the user's `on_update`; a raising callback is logged once and never stops a run."""

    __slots__ = ("_callback", "_failed")

    def __init__(self, callback: OnUpdate | None) -> None:
        self._callback = callback
        self._failed = False

    def __bool__(self) -> bool:
        return self._callback is not None

    async def __call__(self, update: Update) -> None:
        """Deliver `update` (awaiting an async callback); errors are logged, not raised."""
        if self._callback is None:
            return
        try:
            outcome = self._callback(update)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            if not self._failed:
                self._failed = True
                logger.warning(
                    "on_update raised on %s of task %s; further errors are not logged",
                    update.event,
                    update.task_id,
                    exc_info=True,
                )
