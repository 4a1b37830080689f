"""Status-check throughput: how many task states a client reads per second, and at what CPU cost.

Every contender reads completed tasks from the same official-dialect emulator (a separate
process) with `concurrency` calls in flight for a fixed time. luma_async's `get` is fanned out
over an anyio task group; its `get_many` reads up to 100 tasks per request (the official
dialect's batch is the list endpoint). The official SDK runs with its default httpx transport
and with its aiohttp one; bare aiohttp GET + `json.loads` is the ceiling of this stack.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import aiohttp
import anyio
import lumaai

from luma_async import LumaClient

from ._common import Section, Settings, interleave, median_rows, ratio, table
from ._server import EmulatorProcess

__all__ = ["BASELINE", "CEILING", "CONTENDERS", "GET", "MANY", "run"]

#: One call of a contender: read the task(s) for index `i`, return how many states it read.
Op = Callable[[int], Coroutine[Any, Any, int]]
Contender = Callable[[EmulatorProcess, list[str], int], AbstractAsyncContextManager[Op]]

#: Tasks in the emulator; get_many asks for the newest 100, which the list endpoint holds.
POOL = 200
BATCH = 100
BASELINE = "lumaai SDK (httpx, default)"
GET = "luma_async get (fan-out)"
MANY = "luma_async get_many (100/request)"
CEILING = "bare aiohttp + json.loads"


@asynccontextmanager
async def luma_get(emu: EmulatorProcess, ids: list[str], concurrency: int) -> AsyncIterator[Op]:
    """luma_async: `await client.get(id)`, one task per call."""
    async with LumaClient(
        emu.base_url, emu.api_key, "official", max_concurrency=concurrency
    ) as client:

        async def op(i: int) -> int:
            await client.get(ids[i % len(ids)])
            return 1

        yield op


@asynccontextmanager
async def luma_get_many(
    emu: EmulatorProcess, ids: list[str], concurrency: int
) -> AsyncIterator[Op]:
    """luma_async: `await client.get_many(ids)`, 100 tasks per call (one list request)."""
    newest = ids[-BATCH:]
    async with LumaClient(
        emu.base_url, emu.api_key, "official", max_concurrency=concurrency
    ) as client:

        async def op(i: int) -> int:
            return len(await client.get_many(newest))

        yield op


def sdk(transport: str) -> Contender:
    """The official SDK: `await client.generations.get(id)`, with the named HTTP transport."""

    @asynccontextmanager
    async def contender(
        emu: EmulatorProcess, ids: list[str], concurrency: int
    ) -> AsyncIterator[Op]:
        http = lumaai.DefaultAioHttpClient() if transport == "aiohttp" else None
        async with lumaai.AsyncLumaAI(
            auth_token=emu.api_key, base_url=emu.base_url, http_client=http
        ) as client:

            async def op(i: int) -> int:
                await client.generations.get(ids[i % len(ids)])
                return 1

            yield op

    return contender


@asynccontextmanager
async def bare(emu: EmulatorProcess, ids: list[str], concurrency: int) -> AsyncIterator[Op]:
    """aiohttp GET + json.loads: no retries, no error mapping, no model. The ceiling."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        base = emu.base_url + "/generations/"

        async def op(i: int) -> int:
            async with session.get(base + ids[i % len(ids)]) as response:
                json.loads(await response.read())
            return 1

        yield op


CONTENDERS: dict[str, Contender] = {
    GET: luma_get,
    MANY: luma_get_many,
    BASELINE: sdk("httpx"),
    "lumaai SDK (aiohttp transport)": sdk("aiohttp"),
    CEILING: bare,
}


async def measure(
    emu: EmulatorProcess, contender: Contender, ids: list[str], concurrency: int, seconds: float
) -> dict[str, float]:
    """Checks per second, client CPU per check and the emulator's load, over `seconds`."""
    async with contender(emu, ids, concurrency) as op:
        # Warm up: open the connections and fill the caches before the clock starts.
        async with anyio.create_task_group() as group:
            for i in range(concurrency):
                group.start_soon(op, i)
        gc.collect()
        checks = 0
        deadline = time.perf_counter() + seconds

        async def worker(first: int) -> None:
            nonlocal checks
            i = first
            while time.perf_counter() < deadline:
                done = await op(i)  # not `checks += await ...`: that reads before the await
                checks += done
                i += concurrency

        server = emu.cpu_seconds()
        cpu, started = time.process_time(), time.perf_counter()
        async with anyio.create_task_group() as group:
            for first in range(concurrency):
                group.start_soon(worker, first)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        server = emu.cpu_seconds() - server
    return {
        "rate": checks / wall,
        "cpu_us": cpu / max(checks, 1) * 1e6,
        "client_load": cpu / wall,
        "server_load": server / wall,
    }


async def _run(settings: Settings) -> dict[int, dict[str, dict[str, float]]]:
    seconds = settings.pick(1.5, 0.15)
    rounds = settings.repeats(5)
    results: dict[int, dict[str, dict[str, float]]] = {}
    with EmulatorProcess(dialect="official") as emu:
        ids = emu.create([(0.0, 0.0, "completed")] * POOL)
        for concurrency in (1, 10, 100):

            async def one(name: str, _round: int, concurrency: int = concurrency) -> Any:
                return await measure(emu, CONTENDERS[name], ids, concurrency, seconds)

            runs = await interleave(list(CONTENDERS), rounds, one)
            results[concurrency] = {name: median_rows(r) for name, r in runs.items()}
    return results


def run(settings: Settings) -> Section:
    """Measure, and render the tables."""
    results = anyio.run(_run, settings)
    parts = []
    for concurrency, rows in results.items():
        base, ceiling = rows[BASELINE]["rate"], rows[CEILING]["rate"]
        lines = [
            (
                name,
                f"{row['rate']:,.0f}",
                f"{ratio(row['rate'], base):.2f}x",
                f"{ratio(row['rate'], ceiling):.2f}x",
                f"{row['cpu_us']:,.0f}",
                f"{row['client_load']:.2f}",
                f"{row['server_load']:.2f}",
            )
            for name, row in rows.items()
        ]
        parts.append(
            f"**Concurrency {concurrency}**\n\n"
            + table(
                (
                    "contender",
                    "checks/s",
                    "vs SDK (httpx)",
                    "vs bare aiohttp",
                    "client CPU µs/check",
                    "client CPU (cores)",
                    "emulator CPU (cores)",
                ),
                lines,
                "l",
            )
        )
    return Section("throughput", "Status-check throughput", "\n\n".join(parts), {"rows": results})
