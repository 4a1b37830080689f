"""The emulator in a separate process, steered over a pipe, so it does not share our CPU."""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import multiprocessing.connection
import os
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import anyio

from luma_async.emulator import Emulator, EmulatorConfig

__all__ = ["EmulatorProcess", "now"]


def _serve(conn: multiprocessing.connection.Connection, options: dict[str, Any]) -> None:
    async def main() -> None:
        async with Emulator(EmulatorConfig(**options)) as emu:
            conn.send((emu.base_url, emu.cdn_url))
            while True:
                command, args = await anyio.to_thread.run_sync(conn.recv)
                if command == "create":
                    ids = [
                        emu.create_task(
                            f"bench {i}", queue_seconds=queue, run_seconds=run, outcome=outcome
                        )
                        for i, (queue, run, outcome) in enumerate(args)
                    ]
                    conn.send(ids)
                elif command == "finished":
                    conn.send([emu.finished_at(task_id) for task_id in args])
                elif command == "stats":
                    conn.send(dataclasses.asdict(emu.stats))
                elif command == "reset":
                    emu.reset_stats()
                    conn.send(None)
                else:
                    conn.send(None)
                    return

    anyio.run(main)


class EmulatorProcess:
    """`with EmulatorProcess(dialect="anyapi", ...) as emu:` - an emulator in its own process.

    Options are `EmulatorConfig`'s fields. Its clock is `time.monotonic`, which on Linux is the
    same clock in every process, so finish times it reports compare with ours directly.
    """

    def __init__(self, **options: Any) -> None:
        options.setdefault("api_key", "bench-key")
        self.api_key: str = options["api_key"]
        self.dialect: str = options.get("dialect", "official")
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, options), daemon=True)
        self.base_url = self.cdn_url = ""

    def __enter__(self) -> Self:
        self._process.start()
        self.base_url, self.cdn_url = self._conn.recv()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Gone already? Then the error that brought us here is the one to see.
        with contextlib.suppress(EOFError, OSError):
            self._call("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()

    def _call(self, command: str, args: Any = None) -> Any:
        self._conn.send((command, args))
        return self._conn.recv()

    def create(self, tasks: Sequence[tuple[float | None, float | None, str]]) -> list[str]:
        """Tasks of (queue seconds, run seconds, outcome), created now; their ids.

        A duration of None is drawn by the emulator from its configuration (and scaled).
        """
        ids: list[str] = self._call("create", list(tasks))
        return ids

    def finished(self, task_ids: Sequence[str]) -> list[float | None]:
        """When each task finished (time.monotonic), or None."""
        times: list[float | None] = self._call("finished", list(task_ids))
        return times

    def stats(self) -> dict[str, Any]:
        """The emulator's counters."""
        stats: dict[str, Any] = self._call("stats")
        return stats

    def reset(self) -> None:
        """Zero the counters."""
        self._call("reset")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the emulator process has used so far.

        Read from /proc, so it costs the emulator nothing; it tells whether the server, not
        the client, was the bottleneck of a run (one core's worth per wall second = saturated).
        """
        pid = self._process.pid
        if pid is None:
            return 0.0
        try:
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rpartition(")")[2].split()
        except OSError:
            return 0.0
        # Fields 14 and 15 (utime, stime) of proc(5), counted after the command name.
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


def now() -> float:
    """The clock both processes share."""
    return time.monotonic()
