"""What the real-time sections share: scaled lifetimes, contenders, one measured run.

Lifetimes are shaped like real generations (a 5 s 720p video queues for 0.5-1.5 s and runs
one to three minutes, `REALISTIC_RUN_SECONDS["video"]`) and scaled by `Scale.factor`; so is
every interval: luma_async's own (`interval=1 s * factor`, its default) and the fixed ones.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import anyio

from luma_async import GenerateRequest, LumaClient, LumaError
from luma_async._http import HttpResponse
from luma_async._timing import TimingCacheOption
from luma_async.dialects import get_dialect
from luma_async.emulator import REALISTIC_RUN_SECONDS, EmulatorConfig

from ._common import Settings, percentile
from ._server import EmulatorProcess, now

__all__ = [
    "LUMA_INTERVAL",
    "REQUEST",
    "Contender",
    "Scale",
    "fixed",
    "lifetimes",
    "measure",
    "raw_fixed",
    "realistic_emulator",
    "tracked",
]

#: A contender polls `ids` and records in `seen` when it handed out each completed one.
Contender = Callable[[LumaClient, list[str], dict[str, float]], Awaitable[None]]
#: The request the tasks stand for: its timing key is what the cache remembers them under.
REQUEST = GenerateRequest("benchmark", model="ray-2", resolution="720p", duration="5s")
#: luma_async's default interval between looks at a task in its likely-finish band (seconds).
LUMA_INTERVAL = 1.0
#: Requests in flight at most, for every contender.
MAX_CONCURRENCY = 64


@dataclasses.dataclass(frozen=True)
class Scale:
    """Real seconds times `factor` = emulated seconds."""

    factor: float

    @classmethod
    def of(cls, settings: Settings) -> Scale:
        """1/20 in the full suite; 1/200 with --quick (it only proves the code runs)."""
        return cls(settings.pick(1 / 20, 1 / 200))

    def __call__(self, seconds: float) -> float:
        return seconds * self.factor

    @property
    def label(self) -> str:
        """ "1/20" for the text."""
        return f"1/{round(1 / self.factor)}"


def lifetimes(n: int, scale: Scale, seed: int) -> list[tuple[float | None, float | None, str]]:
    """`n` tasks of (queue, run, "completed"): realistic video lifetimes, scaled."""
    rng = random.Random(seed)
    queue = EmulatorConfig().queue_seconds
    run = REALISTIC_RUN_SECONDS["video"]
    return [(scale(rng.uniform(*queue)), scale(rng.uniform(*run)), "completed") for _ in range(n)]


def realistic_emulator(scale: Scale, **options: Any) -> EmulatorProcess:
    """An AnyAPI-dialect emulator without a batch route, realistic lifetimes, no ETA."""
    return EmulatorProcess(
        dialect="anyapi",
        quirks=frozenset({"no_batch_route"}),
        time_scale=scale.factor,
        run_seconds_by_kind=REALISTIC_RUN_SECONDS,
        eta=False,
        **options,
    )


def tracked(interval: float) -> Contender:
    """luma_async's poller, the tasks added with their timing key (so it learns and remembers)."""

    async def run(client: LumaClient, ids: list[str], seen: dict[str, float]) -> None:
        async with client.poll([], interval=interval) as stream:
            stream.hold()
            stream.add(*ids, kind=stream.kind_of(REQUEST))
            stream.release()
            async for generation in stream:
                if generation.ok:
                    seen[generation.id] = now()

    return run


def fixed(every: float) -> Contender:
    """One loop per task: sleep `every`, `client.get`, until it is done (what most scripts do)."""

    async def run(client: LumaClient, ids: list[str], seen: dict[str, float]) -> None:
        async def one(task_id: str) -> None:
            while True:
                await anyio.sleep(every)
                generation = await client.get(task_id)
                if generation.ok:
                    seen[task_id] = now()
                    return
                if generation.is_terminal and generation.failure_reason:
                    return

        async with anyio.create_task_group() as group:
            for task_id in ids:
                group.start_soon(one, task_id)

    return run


def raw_fixed(every: float, api_key: str) -> Contender:
    """A naive script on bare aiohttp: GET every `every` s; a 429 is skipped, not waited out.

    Only the URL and the decoding come from luma_async's AnyAPI adapter (sans-IO), so that
    no pacing, retry or Retry-After handling of ours helps it.
    """

    async def run(client: LumaClient, ids: list[str], seen: dict[str, float]) -> None:
        dialect = get_dialect(client.dialect.name)
        headers = {"Authorization": f"Bearer {api_key}"}
        connector = aiohttp.TCPConnector(limit=MAX_CONCURRENCY)
        async with aiohttp.ClientSession(headers=headers, connector=connector) as session:

            async def one(task_id: str) -> None:
                request = dialect.get(task_id)
                while True:
                    await anyio.sleep(every)
                    async with session.get(client.base_url + request.path) as resp:
                        body = await resp.read()
                        if resp.status != 200:
                            continue  # 429 (or anything else): try again next tick
                        answer = HttpResponse(resp.status, dict(resp.headers), body)
                    generation = dialect.parse_task(answer)
                    if generation.ok:
                        seen[task_id] = now()
                        return
                    if generation.is_terminal and generation.failure_reason:
                        return

            async with anyio.create_task_group() as group:
                for task_id in ids:
                    group.start_soon(one, task_id)

    return run


async def measure(
    emu: EmulatorProcess,
    contender: Contender,
    tasks: list[tuple[float | None, float | None, str]],
    *,
    timing_cache: TimingCacheOption = False,
    max_requests_per_second: float | None = None,
    time_limit: float = 600.0,
) -> dict[str, float]:
    """One contender on a fresh population: requests, 429s, lag, wall time, results lost."""
    async with LumaClient(
        emu.base_url,
        emu.api_key,
        emu.dialect,
        max_concurrency=MAX_CONCURRENCY,
        timing_cache=timing_cache,
        max_requests_per_second=max_requests_per_second,
    ) as client:
        emu.reset()
        ids = emu.create(tasks)
        seen: dict[str, float] = {}
        cpu, started = time.process_time(), now()
        errors = 0
        with anyio.move_on_after(time_limit):
            try:
                await contender(client, ids, seen)
            except* LumaError:
                errors = 1  # what it had not handed out by then is lost
        wall = now() - started
        cpu = time.process_time() - cpu
    finished = emu.finished(ids)
    lags = [seen[i] - f for i, f in zip(ids, finished, strict=True) if f is not None and i in seen]
    stats = emu.stats()
    requests = stats["requests"]
    return {
        "tasks": len(ids),
        "videos": len(seen),
        "lost": len(ids) - len(seen),
        "errors": errors,
        "requests": requests,
        "rate_limited": stats["rate_limited"],
        "per_video": requests / max(len(seen), 1),
        "p50": percentile(lags, 50),
        "p95": percentile(lags, 95),
        "max": max(lags, default=0.0),
        "wall": wall,
        "rps": requests / wall if wall else 0.0,
        "client_load": cpu / wall if wall else 0.0,
    }
