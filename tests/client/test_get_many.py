"""get_many: one listing pass on official, bounded single GETs, counted at the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import pytest

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio

T = TypeVar("T")


async def _max_tasks_during(coro_fn: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """Run `coro_fn()` while counting the asyncio tasks alive, every millisecond."""
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, len(asyncio.all_tasks()))
            await anyio.sleep(0.001)

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        await anyio.sleep(0.01)
        base = peak
        result = await coro_fn()
        group.cancel_scope.cancel()
    return result, peak - base


async def test_official_get_many_lists_once_then_gets_only_what_the_list_missed(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """250 recent ids: three list pages, no GET; 10 recent and 200 unknown ids: two pages and
    200 GETs by 8 workers."""
    emu = await emulator("official")
    c = await client(emu, max_concurrency=8)
    tasks = [emu.create_task(f"t{i}", run_seconds=0.0, queue_seconds=0.0) for i in range(250)]
    got = await c.get_many(tasks)
    assert [g.id for g in got] == tasks
    assert emu.stats.by_route["list"] == 3
    assert emu.stats.by_route["get"] == 0

    ghosts = [f"00000000-0000-4000-8000-{i:012d}" for i in range(200)]
    before = emu.stats.snapshot()
    got, extra_tasks = await _max_tasks_during(lambda: c.get_many([*tasks[-10:], *ghosts]))
    assert [g.id for g in got] == tasks[-10:]
    # The page after the one holding ours shows the list has gone past them: the pass ends.
    assert emu.stats.by_route["list"] - before.by_route["list"] == 2
    assert emu.stats.by_route["get"] - before.by_route["get"] == 200
    # 8 client workers, the emulator's handlers and connections for their requests: not 200.
    assert extra_tasks <= 3 * 8 + 4


async def test_old_official_tasks_stop_the_listing_once_it_has_gone_past_ours(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """Ours are the oldest 150 under 300 newer ones: the pass ends within the page budget
    and the rest come from single GETs; nothing is asked twice."""
    emu = await emulator("official")
    c = await client(emu)
    ours = [emu.create_task(f"o{i}", run_seconds=0.0, queue_seconds=0.0) for i in range(150)]
    for i in range(300):
        emu.create_task(f"n{i}", run_seconds=0.0, queue_seconds=0.0)
    got = await c.get_many(ours)
    assert sorted(g.id for g in got) == sorted(ours)
    assert emu.stats.by_route["list"] <= 2  # ceil(150 / 100) pages at most
    assert emu.stats.by_route["get"] == 150


async def test_relay_get_many_batches_then_fans_out_boundedly(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """anyapi: 250 ids in three batch requests; without a batch route, 250 GETs by 4 workers."""
    emu = await emulator("anyapi")
    c = await client(emu)
    tasks = [emu.create_task(f"t{i}", run_seconds=0.0, queue_seconds=0.0) for i in range(250)]
    assert len(await c.get_many(tasks)) == 250
    assert emu.stats.by_route["batch"] == 3
    assert emu.stats.by_route["get"] == 0

    bare = await emulator("gptge", quirks=frozenset({"no_batch_route"}))
    d = await client(bare, max_concurrency=4)
    ids = [bare.create_task(f"t{i}", run_seconds=0.0, queue_seconds=0.0) for i in range(250)]
    got, extra_tasks = await _max_tasks_during(lambda: d.get_many(ids))
    assert len(got) == 250
    assert bare.stats.by_route["get"] == 250
    assert extra_tasks <= 3 * 4 + 4
