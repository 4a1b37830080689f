"""Pipeline: N prompts end to end (submit, poll, hand out) against the emulator's critical path.

The emulator (AnyAPI dialect, a separate process) gives every task a lifetime drawn from
its `queue_seconds` + `run_seconds`. No client can finish before the last task does, so the
critical path is the time from the first submit to the last task's finish as the emulator
records it; it already includes the submit pacing (a task submitted later finishes later).
The overhead ratio is wall time over that critical path: 1.0 would be a perfect client.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from luma_async import Generation, LumaClient
from luma_async.emulator import Faults

from ._common import Section, Settings, interleave, median_rows, percentile, ratio, table
from ._server import EmulatorProcess, now

__all__ = ["GENERATE_MANY", "NAIVE", "run"]

#: (id, created at as time.time(), handed out at as time.monotonic())
Done = tuple[str, float, float]
Contender = Callable[[LumaClient, list[str]], Awaitable[list[Done]]]

GENERATE_MANY = "luma_async generate_many"
NAIVE = "naive: per prompt, submit then GET every 1 s"
MAX_CONCURRENCY = 64
#: Seconds a submit takes in the second scenario: a real gateway answers a create in 0.2-2 s.
SUBMIT_LATENCY = 0.2


def _created(generation: Generation | None) -> float:
    created = generation.created_at if generation is not None else None
    return created.timestamp() if created is not None else float("nan")


async def generate_many(client: LumaClient, prompts: list[str]) -> list[Done]:
    """`client.generate_many`, every prompt in flight at once."""
    done: list[Done] = []
    async with client.generate_many(prompts, concurrency=len(prompts)) as results:
        async for result in results:
            if result.generation is not None and result.ok:
                generation = result.generation
                done.append((generation.id, _created(generation), now()))
    return done


async def naive(client: LumaClient, prompts: list[str]) -> list[Done]:
    """Every prompt in its own task: submit, then GET every second until terminal."""
    done: list[Done] = []

    async def one(prompt: str) -> None:
        generation = await client.generate(prompt)
        while not generation.is_terminal:
            await anyio.sleep(1.0)
            generation = await client.get(generation.id)
        if generation.ok:
            done.append((generation.id, _created(generation), now()))

    async with anyio.create_task_group() as group:
        for prompt in prompts:
            group.start_soon(one, prompt)
    return done


CONTENDERS: dict[str, Contender] = {
    GENERATE_MANY: generate_many,
    NAIVE: naive,
}


async def measure(emu: EmulatorProcess, contender: Contender, n: int) -> dict[str, float]:
    """One end-to-end run of `n` prompts."""
    prompts = [f"a short film, take {i}" for i in range(n)]
    async with LumaClient(
        emu.base_url, emu.api_key, emu.dialect, max_concurrency=MAX_CONCURRENCY
    ) as client:
        emu.reset()
        wall0, started = time.time(), now()
        done = await contender(client, prompts)
        wall = now() - started
    ids = [task_id for task_id, _, _ in done]
    finished = emu.finished(ids)
    created = [started + (at - wall0) for _, at, _ in done]
    ends = [f for f in finished if f is not None]
    lifetimes = [f - c for f, c in zip(finished, created, strict=True) if f is not None]
    lags = [out - f for (_, _, out), f in zip(done, finished, strict=True) if f is not None]
    critical = max(ends, default=started) - started
    requests = emu.stats()["requests"]
    return {
        "videos": len(done),
        "wall": wall,
        "critical": critical,
        "submit_span": max(created, default=started) - started,
        "longest": max(lifetimes, default=0.0),
        "overhead": ratio(wall, critical),
        "extra": wall - critical,
        "requests": requests,
        "per_video": requests / max(len(done), 1),
        "p50": percentile(lags, 50),
        "p95": percentile(lags, 95),
    }


def scenarios(settings: Settings) -> dict[str, tuple[int, dict[str, Any]]]:
    """Title -> (prompts, emulator options): loopback speed, then a gateway's submit latency."""
    if settings.quick:
        fast = {"queue_seconds": (0.0, 0.1), "run_seconds": (0.3, 0.6)}
        slow = Faults(slow=1.0, slow_seconds=0.05, routes=frozenset({"submit"}))
        return {
            "30 prompts, queued 0-0.1 s, run 0.3-0.6 s": (30, fast),
            "5 prompts, 50 ms per submit": (5, {**fast, "faults": slow}),
        }
    fast = {"queue_seconds": (0.0, 0.5), "run_seconds": (1.0, 3.0)}
    slow = Faults(slow=1.0, slow_seconds=SUBMIT_LATENCY, routes=frozenset({"submit"}))
    return {
        "1,000 prompts, queued 0-0.5 s, run 1-3 s (uniform)": (1_000, fast),
        f"100 prompts, the same tasks, {SUBMIT_LATENCY * 1000:.0f} ms per submit "
        "(a gateway's round trip)": (100, {**fast, "faults": slow}),
    }


async def _run(settings: Settings) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for title, (n, options) in scenarios(settings).items():
        with EmulatorProcess(dialect="anyapi", time_scale=1.0, **options) as emu:

            async def one(
                name: str, _round: int, n: int = n, emu: EmulatorProcess = emu
            ) -> dict[str, float]:
                return await measure(emu, CONTENDERS[name], n)

            runs = await interleave(list(CONTENDERS), settings.repeats(3), one)
        rows = {name: median_rows(r) for name, r in runs.items()}
        results[title] = {"n": n, "rows": rows}
    return results


def run(settings: Settings) -> Section:
    """Measure, and render one table per scenario."""
    results = anyio.run(_run, settings)
    header = (
        "contender",
        "videos",
        "wall (s)",
        "critical path (s)",
        "of which submitting (s)",
        "longest task (s)",
        "wall / critical",
        "extra (s)",
        "requests/video",
        "p50 lag (s)",
        "p95 lag (s)",
    )
    parts = []
    for title, result in results.items():
        lines = [
            (
                name,
                f"{r['videos']:,.0f}",
                f"{r['wall']:.2f}",
                f"{r['critical']:.2f}",
                f"{r['submit_span']:.2f}",
                f"{r['longest']:.2f}",
                f"{r['overhead']:.3f}",
                f"{r['extra']:.2f}",
                f"{r['per_video']:.2f}",
                f"{r['p50']:.2f}",
                f"{r['p95']:.2f}",
            )
            for name, r in result["rows"].items()
        ]
        parts.append(f"**{title}**\n\n" + table(header, lines, "l"))
    return Section("pipeline", "Pipeline end to end", "\n\n".join(parts), results)
