"""Task groups whose lone error comes out as itself.

anyio 4 wraps even the host's own exception in an `ExceptionGroup`; the public contract
is that a fatal error, a `PollTimeoutError` or the caller's own exception comes out unwrapped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from anyio.abc import TaskGroup

__all__ = ["task_group"]


def _lone(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The single leaf of a chain of one-exception groups, else the group itself."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


@asynccontextmanager
async def task_group() -> AsyncIterator[TaskGroup]:
    """`anyio.create_task_group()`, raising a lone error unwrapped."""
    error: BaseException | None = None
    try:
        async with anyio.create_task_group() as group:
            yield group
    except BaseExceptionGroup as exc:
        error = _lone(exc)
    if error is not None:
        # Raised outside the `except` so the group is not chained onto the caller's error.
        raise error
