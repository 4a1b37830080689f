"""Poller efficiency: HTTP requests per finished video and detection lag, side by side.

Contenders poll the same task population (lifetimes drawn uniformly from a range, no ETA
given, as real relays send none) on AnyAPI-dialect emulators in separate processes:
luma_async's poller with the batch route, without it, and naive per-task polling every N s.
Detection lag is the time from the emulator's finish (completed with a link) to the moment
the contender hands the task out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from luma_async import Generation, LumaClient

from ._common import Section, Settings, interleave, median_rows, percentile, table
from ._server import EmulatorProcess, now

__all__ = ["BATCH", "NAIVE_1S", "SINGLE", "naive", "poller", "population", "run"]

Contender = Callable[[LumaClient, list[str], dict[str, float]], Awaitable[None]]

BATCH = "luma_async poll, batch route"
SINGLE = "luma_async poll, no batch route"
NAIVE_1S = "naive per-task GET every 1 s"
#: Requests in flight for every contender (luma_async's poller runs as many workers).
MAX_CONCURRENCY = 64


async def poller(client: LumaClient, ids: list[str], seen: dict[str, float]) -> None:
    """luma_async's task-group poller."""
    async with client.poll(ids) as stream:
        async for generation in stream:
            seen[generation.id] = now()


def naive(every: float) -> Contender:
    """One loop per task: sleep `every`, GET, until terminal (what most scripts do)."""

    async def run(client: LumaClient, ids: list[str], seen: dict[str, float]) -> None:
        async def one(task_id: str) -> None:
            while True:
                await anyio.sleep(every)
                generation: Generation = await client.get(task_id)
                if generation.is_terminal and (generation.ok or generation.failure_reason):
                    seen[task_id] = now()
                    return

        async with anyio.create_task_group() as group:
            for task_id in ids:
                group.start_soon(one, task_id)

    return run


def population(n: int, low: float, high: float, seed: int) -> list[tuple[float, float, str]]:
    """Task lifetimes spread uniformly over [low, high], a third of each spent queued."""
    rng = random.Random(seed)
    tasks = []
    for _ in range(n):
        life = rng.uniform(low, high)
        tasks.append((life / 3, life * 2 / 3, "completed"))
    return tasks


async def measure(
    emu: EmulatorProcess, contender: Contender, tasks: list[tuple[float, float, str]]
) -> dict[str, float]:
    """Run one contender on a fresh population; requests per video, lag, load."""
    async with LumaClient(
        emu.base_url, emu.api_key, emu.dialect, max_concurrency=MAX_CONCURRENCY
    ) as client:
        emu.reset()
        ids = emu.create(tasks)
        seen: dict[str, float] = {}
        server, cpu, started = emu.cpu_seconds(), time.process_time(), now()
        await contender(client, ids, seen)
        wall = now() - started
        server, cpu = emu.cpu_seconds() - server, time.process_time() - cpu
    finished = emu.finished(ids)
    lags = [seen[i] - f for i, f in zip(ids, finished, strict=True) if f is not None and i in seen]
    requests = emu.stats()["requests"]
    return {
        "videos": len(seen),
        "requests": requests,
        "per_video": requests / max(len(seen), 1),
        "p50": percentile(lags, 50),
        "p95": percentile(lags, 95),
        "max": max(lags, default=0.0),
        "wall": wall,
        "rps": requests / wall,
        "client_load": cpu / wall,
        "server_load": server / wall,
    }


async def compare(
    tasks: list[tuple[float, float, str]],
    rounds: int,
    batch: EmulatorProcess,
    single: EmulatorProcess,
) -> dict[str, dict[str, float]]:
    """Every contender, interleaved `rounds` times; medians per contender."""
    contenders: dict[str, tuple[EmulatorProcess, Contender]] = {
        BATCH: (batch, poller),
        SINGLE: (single, poller),
        NAIVE_1S: (single, naive(1.0)),
        "naive per-task GET every 5 s": (single, naive(5.0)),
    }

    async def one(name: str, _round: int) -> dict[str, float]:
        emu, contender = contenders[name]
        return await measure(emu, contender, tasks)

    runs = await interleave(list(contenders), rounds, one)
    return {name: median_rows(r) for name, r in runs.items()}


async def _run(settings: Settings) -> dict[int, dict[str, dict[str, float]]]:
    low, high = settings.pick((1.0, 8.0), (0.3, 1.0))
    sizes = settings.pick({2_000: 3, 10_000: 2}, {200: 1})
    results = {}
    with (
        EmulatorProcess(dialect="anyapi") as batch,
        EmulatorProcess(dialect="anyapi", quirks=frozenset({"no_batch_route"})) as single,
    ):
        for n, rounds in sizes.items():
            tasks = population(n, low, high, seed=n)
            results[n] = await compare(tasks, settings.repeats(rounds), batch, single)
    return results


def run(settings: Settings) -> Section:
    """Measure, and render one table per population size."""
    low, high = settings.pick((1.0, 8.0), (0.3, 1.0))
    results: dict[int, dict[str, dict[str, Any]]] = anyio.run(_run, settings)
    parts = []
    for n, rows in results.items():
        lines = [
            (
                name,
                f"{r['videos']:,.0f}",
                f"{r['requests']:,.0f}",
                f"{r['per_video']:.3f}",
                f"{r['p50']:.2f}",
                f"{r['p95']:.2f}",
                f"{r['wall']:.1f}",
                f"{r['rps']:,.0f}",
                f"{r['client_load']:.2f}",
                f"{r['server_load']:.2f}",
            )
            for name, r in rows.items()
        ]
        header = (
            "contender",
            "videos",
            "requests",
            "requests/video",
            "p50 lag (s)",
            "p95 lag (s)",
            "wall (s)",
            "requests/s",
            "client CPU (cores)",
            "emulator CPU (cores)",
        )
        parts.append(
            f"**{n:,} tasks, lifetimes {low:g}-{high:g} s uniform, no ETA**\n\n"
            + table(header, lines, "l")
        )
    return Section("poller", "Poller efficiency", "\n\n".join(parts), {"rows": results})
