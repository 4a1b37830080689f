"""Ctrl-C as a cancel scope: the command stops what it does, then reports what it got."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import anyio

__all__ = ["Interrupt"]


class Interrupt:
    """Turns SIGINT into the cancellation of `scope`, so the code after it can still report.

    Where no handler can be installed (a thread other than the main one, or Windows' event
    loop), Ctrl-C stays a `KeyboardInterrupt` and the command exits 130 without a report.
    """

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        #: True once Ctrl-C was pressed.
        self.hit = False

    @contextmanager
    def catching(self) -> Iterator[None]:
        """Run the body inside `scope`, with SIGINT cancelling it."""
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, self._fire)
        except (RuntimeError, NotImplementedError):  # not the main thread; not on Windows
            installed = False
        else:
            installed = True
        try:
            with self.scope:
                yield
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGINT)

    def _fire(self) -> None:
        self.hit = True
        self.scope.cancel()
