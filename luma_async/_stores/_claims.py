"""Waiting for room under the run-wide limits, the same way for every backend."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from ._base import Claim

__all__ = ["Room", "wait_for_claim"]

#: Longest wait between two looks at the run's counts (other workers free room unannounced).
MAX_WAIT = 1.0


class Room:
    """Wakes claimers of this process when one of its own jobs frees room."""

    def __init__(self) -> None:
        # Made on first wait: an anyio.Event needs a running event loop.
        self._event: anyio.Event | None = None

    def freed(self) -> None:
        """Something finished or was forgotten here: let waiting claimers look again."""
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, seconds: float) -> None:
        """Until room is freed here, or `seconds` have passed."""
        if self._event is None:
            self._event = anyio.Event()
        with anyio.move_on_after(seconds):
            await self._event.wait()


async def wait_for_claim(
    attempt: Callable[[], Awaitable[Claim | float | None]], room: Room, *, max_wait: float
) -> Claim | None:
    """Call `attempt` (a claim, None when nothing is left, or seconds to wait) until it gives
    a claim or None."""
    while True:
        # Shielded: a claim committed in the database must reach its caller, or a cancel
        # landing meanwhile would leave an intent nobody submits (uncertain for ever).
        with anyio.CancelScope(shield=True):
            outcome = await attempt()
        if outcome is None or isinstance(outcome, Claim):
            return outcome
        await room.wait(min(max(outcome, 0.01), max_wait))
