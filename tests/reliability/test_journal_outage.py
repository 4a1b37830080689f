"""A journal held locked by another connection mid-run: the run waits for it (off the event
loop) and finishes; no raw `sqlite3` error ever reaches the caller (issue 14)."""

from __future__ import annotations

import pathlib
import sqlite3

import anyio
import pytest

from luma_async import JobResult

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


async def test_a_locked_journal_delays_the_run_and_loses_nothing(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    emu = await emulator("anyapi")
    c = await client(emu)
    journal = tmp_path / "run.sqlite"
    prompts = [f"locked scene {i}" for i in range(30)]
    results: list[JobResult] = []
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:  # counts event-loop turns while the lock is held
            await anyio.sleep(0.01)
            ticks += 1

    with anyio.fail_after(60):
        async with c.generate_many(prompts, concurrency=4, journal=journal, interval=0.05) as out:
            async for result in out:
                results.append(result)
                if len(results) == 5:
                    other = sqlite3.connect(journal, isolation_level=None)
                    other.execute("BEGIN EXCLUSIVE")  # a backup, a shell: the file is locked
                    async with anyio.create_task_group() as group:
                        group.start_soon(ticker)
                        await anyio.sleep(1.0)
                        group.cancel_scope.cancel()
                    other.execute("COMMIT")
                    other.close()
    assert sorted(r.index for r in results) == list(range(30))
    assert all(r.ok for r in results), [repr(r.error) for r in results if not r.ok]
    assert emu.stats.creations == 30
    assert emu.stats.duplicate_prompts == 0
    assert ticks >= 10  # the loop kept turning while the journal waited on its thread
