"""Ctrl-C as a cancel scope: the command stops what it does, then reports what it got.

The first Ctrl-C cancels the command's work (a submit the library shields for a journal may
still finish, bounded by its request timeout) and says how to resume. A second Ctrl-C stops
the process at once: `on_abort` says what may have gone through, then it exits 130.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio

__all__ = ["Interrupt"]

#: The exit status of a process stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_STATUS = 130


class Interrupt:
    """Turns SIGINT into the cancellation of `scope`, so the code after it can still report.

    Where no handler can be installed (a thread other than the main one, or Windows' event
    loop), Ctrl-C stays a `KeyboardInterrupt` and the command exits 130 without a report.
    """

    def __init__(
        self,
        *,
        on_first: Callable[[], None] | None = None,
        on_abort: Callable[[], None] | None = None,
    ) -> None:
        self.scope = anyio.CancelScope()
        #: True once Ctrl-C was pressed.
        self.hit = False
        #: Called at the first Ctrl-C: what stopping means and how to resume.
        self.on_first = on_first
        #: Called at the second Ctrl-C, just before the process exits: what may be lost.
        self.on_abort = on_abort

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
        if self.hit:
            self._abort()
            return
        self.hit = True
        if self.on_first is not None:
            self.on_first()
        self.scope.cancel()

    def _abort(self) -> None:
        """The second Ctrl-C: nothing waits any more, not even a shielded submit."""
        try:
            if self.on_abort is not None:
                self.on_abort()
            else:
                sys.stderr.write("luma-async: stopped at once\n")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            # Leaving through the event loop would wait for the shielded work we are told
            # to stop waiting for; the results file and the journal are already on disk.
            os._exit(INTERRUPTED_STATUS)
