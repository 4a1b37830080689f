"""Many machines: 3 worker processes share one PostgreSQL run, one killed with SIGKILL after
a third of the submits, beside one healthy worker alone (issue 14).

Throughput is bounded by the run-wide `concurrency` by design, so what the figure shows is
what a lost machine costs (its tasks wait out its lease before a peer adopts them), and
that the promises hold under faults: no duplicate creation, the run's concurrency never
exceeded at the gateway, every request settled once.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
import time
import warnings
from collections import Counter
from typing import Any

import anyio

from luma_async._stores import make_store
from tests.machines.harness import EmulatorProcess, kill, start_worker

from ._common import Section, Settings, table

__all__ = ["run"]

CONCURRENCY = 32


def _rows(url: str, run: str) -> list[Any]:
    async def read() -> list[Any]:
        store = make_store(url, run=run, reader=True)
        await store.open()
        try:
            return list(await store.rows())
        finally:
            await store.close()

    return anyio.run(read)


def _scenario(
    url: str, count: int, workers: int, kill_one: bool, tmp: pathlib.Path
) -> dict[str, Any]:
    """One shared run; its wall time, outcomes and what the gateway saw."""
    emu = EmulatorProcess()
    run = f"bench-{workers}-{kill_one}-{os.getpid()}-{time.monotonic_ns()}"
    outs = [tmp / f"{run}-{n}.jsonl" for n in range(workers)]
    started = time.monotonic()
    processes = [start_worker(emu.base_url, url, run, count, CONCURRENCY, out) for out in outs]
    try:
        if kill_one:
            while emu.stats()["creations"] < count // 3:
                time.sleep(0.05)
            kill(processes[0])
        for process in processes[1 if kill_one else 0 :]:
            if process.wait(1800) != 0:
                assert process.stderr is not None
                raise RuntimeError(process.stderr.read().decode()[-2000:])
        wall = time.monotonic() - started
        stats = emu.stats()
    finally:
        for process in processes:
            if process.poll() is None:
                kill(process)
            if process.stderr is not None:
                process.stderr.close()
        emu.close()
    rows = _rows(url, run)
    states = Counter(r.state for r in rows)
    return {
        "wall": wall,
        "requests": len(rows),
        "completed": states["completed"],
        "failed": states["failed"],
        "uncertain": states["uncertain"],
        "unsettled": len(rows) - sum(states[s] for s in ("completed", "failed", "uncertain")),
        "duplicates": sum(n - 1 for n in stats["creates_by_body"].values()),
        "max_in_flight": stats["max_in_flight"],
        "lost": len(set(stats["tasks"]) - {r.task_id for r in rows if r.task_id}),
    }


def run(settings: Settings) -> Section:
    """Both scenarios on one PostgreSQL from pgserver (or LUMA_TEST_POSTGRES_URL)."""
    count = settings.pick(2000, 60)
    data_dir = tempfile.mkdtemp(prefix="luma-bench-pg-")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="luma-bench-machines-"))
    server = None
    try:
        url = os.environ.get("LUMA_TEST_POSTGRES_URL")
        if not url:
            import pgserver

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = pgserver.get_server(data_dir, cleanup_mode="stop")
            url = server.get_uri()
        results = {
            "3 workers, one killed": _scenario(url, count, 3, True, tmp),
            "1 healthy worker": _scenario(url, count, 1, False, tmp),
        }
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    headers = [
        "scenario",
        "requests",
        "wall s",
        "completed",
        "failed",
        "uncertain",
        "unsettled",
        "duplicates",
        "lost",
        f"max in flight (concurrency {CONCURRENCY})",
    ]
    rows = [
        [
            name,
            r["requests"],
            f"{r['wall']:.1f}",
            r["completed"],
            r["failed"],
            r["uncertain"],
            r["unsettled"],
            r["duplicates"],
            r["lost"],
            r["max_in_flight"],
        ]
        for name, r in results.items()
    ]
    text = (
        f"{count} requests against the emulator in its own process (faults: 3 % 429, 2 % 500, "
        "1 % resets on every route; tasks 0.6-1.8 s), official dialect, one PostgreSQL, "
        f"run-wide concurrency {CONCURRENCY}, lease 2 s. The killed worker gets SIGKILL once "
        "a third of the run is created; its tasks are adopted once its lease expires.\n\n"
        + table(headers, rows, "l")
    )
    return Section("machines", "Many machines: a shared run, one worker killed", text, results)
