"""Poller efficiency: HTTP requests per finished video and detection lag, side by side.

Contenders poll the same task population (lifetimes drawn uniformly from a range, no ETA
given, as real relays send none) on emulators in separate processes:
luma_async's poller with the batch route, without it, and naive per-task polling every N s.
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from luma_async import Generation, LumaClient

from ._server import EmulatorProcess, now

Contender = Callable[[LumaClient, list[str], dict[str, float]], Awaitable[None]]


async def poller(client: LumaClient, ids: list[str], seen: dict[str, float]) -> None:
    """luma_async's task-group poller."""
    async with client.poll(ids) as stream:
        async for generation in stream:
            seen[generation.id] = now()


def naive(every: float) -> Contender:
    """One loop per task: GET, sleep `every`, until terminal."""

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


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of `values`."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if values else 0.0


async def measure(
    emu: EmulatorProcess, contender: Contender, tasks: list[tuple[float, float, str]]
) -> dict[str, Any]:
    """Run one contender on a fresh population; requests per video and lag percentiles."""
    async with LumaClient(emu.base_url, emu.api_key, emu.dialect, max_concurrency=64) as client:
        emu.reset()
        ids = emu.create(tasks)
        seen: dict[str, float] = {}
        await contender(client, ids, seen)
    finished = emu.finished(ids)
    lags = [seen[i] - f for i, f in zip(ids, finished, strict=True) if f is not None and i in seen]
    stats = emu.stats()
    return {
        "videos": len(seen),
        "requests": stats["requests"],
        "per_video": stats["requests"] / max(len(seen), 1),
        "p50": percentile(lags, 50),
        "p95": percentile(lags, 95),
    }


async def main(n: int, low: float, high: float, rounds: int) -> list[dict[str, Any]]:
    """Every contender, interleaved `rounds` times; one row per contender (medians)."""
    tasks = population(n, low, high, seed=1)
    rows: dict[str, list[dict[str, Any]]] = {}
    with (
        EmulatorProcess(dialect="anyapi") as batch,
        EmulatorProcess(dialect="anyapi", quirks=frozenset({"no_batch_route"})) as single,
    ):
        contenders: list[tuple[str, EmulatorProcess, Contender]] = [
            ("luma_async poll, batch route", batch, poller),
            ("luma_async poll, no batch route", single, poller),
            ("naive per-task GET every 1 s", single, naive(1.0)),
            ("naive per-task GET every 5 s", single, naive(5.0)),
        ]
        for _ in range(rounds):
            for name, emu, contender in contenders:
                rows.setdefault(name, []).append(await measure(emu, contender, tasks))
    return [
        {"contender": name, **{k: statistics.median(r[k] for r in runs) for k in runs[0]}}
        for name, runs in rows.items()
    ]


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the rows."""
    lines = [
        "| contender | videos | requests | requests/video | p50 lag (s) | p95 lag (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['contender']} | {r['videos']:.0f} | {r['requests']:.0f} | {r['per_video']:.3f} "
        f"| {r['p50']:.2f} | {r['p95']:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--low", type=float, default=1.0)
    parser.add_argument("--high", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(table(anyio.run(main, args.tasks, args.low, args.high, args.rounds)))
