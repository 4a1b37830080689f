"""Real-time polling: realistic lifetimes, remembered timing against fixed-interval polling.

(a) A population of videos on a gateway without a batch route: luma_async's first run (an
empty timing cache in a temporary file), a second run with the timing it remembered (the same
file), and fixed-interval polling at the interval that gives the second run's p95 lag.
(b) One task alone: requests spent by luma_async (first run and remembered) against fixed 5 s
and 3 s polling. Everything is time-scaled (see `_realistic`).
"""

from __future__ import annotations

import contextlib
import pathlib
import tempfile
from collections.abc import Callable
from typing import Any

import anyio

from luma_async._timing import TimingCacheOption

from ._common import Section, Settings, median_rows, ratio, table
from ._realistic import (
    LUMA_INTERVAL,
    Contender,
    Scale,
    fixed,
    lifetimes,
    measure,
    realistic_emulator,
    tracked,
)
from ._server import EmulatorProcess

__all__ = ["FIRST", "SECOND", "run"]

FIRST = "luma_async, first run (empty timing cache)"
SECOND = "luma_async, second run (remembered timing)"
REMEMBERED = "luma_async, remembered timing"
#: The real seconds of the fixed intervals of part (b).
ALONE_INTERVALS = (5.0, 3.0)
Row = dict[str, float]


def _time_limit(scale: Scale) -> float:
    return scale(4 * 182.0) + 30.0


async def _luma_runs(
    emu: EmulatorProcess, scale: Scale, n: int, rounds: int, folder: pathlib.Path
) -> tuple[list[Row], list[Row]]:
    """First and second runs, each round with its own cache file and fresh populations."""
    first: list[Row] = []
    second: list[Row] = []
    limit = _time_limit(scale)
    for round_ in range(rounds):
        cache = folder / f"timing-{round_}.json"
        luma = tracked(scale(LUMA_INTERVAL))
        pop_a, pop_b = lifetimes(n, scale, 2 * round_), lifetimes(n, scale, 2 * round_ + 1)
        first.append(await measure(emu, luma, pop_a, timing_cache=cache, time_limit=limit))
        second.append(await measure(emu, luma, pop_b, timing_cache=cache, time_limit=limit))
    return first, second


async def _fixed_at(emu: EmulatorProcess, scale: Scale, n: int, rounds: int, every: float) -> Row:
    """Fixed-interval polling every `every` (emulated) seconds, on the second runs' tasks."""
    runs = [
        await measure(
            emu, fixed(every), lifetimes(n, scale, 2 * r + 1), time_limit=_time_limit(scale)
        )
        for r in range(rounds)
    ]
    return {**median_rows(runs), "interval": every}


def _at_lag(points: list[Row], target: float) -> float:
    """Fixed polling's requests/video at p95 lag `target`, linear between the two points."""
    a, b = sorted(points, key=lambda p: p["p95"])[:2]
    if b["p95"] == a["p95"]:
        return (a["per_video"] + b["per_video"]) / 2
    slope = (b["per_video"] - a["per_video"]) / (b["p95"] - a["p95"])
    return a["per_video"] + slope * (target - a["p95"])


async def _population(settings: Settings, scale: Scale, folder: pathlib.Path) -> dict[str, Any]:
    n = settings.pick(40, 8)
    rounds = settings.repeats(3)
    with realistic_emulator(scale) as emu:
        first, second = await _luma_runs(emu, scale, n, rounds, folder)
        rows: dict[str, Row] = {FIRST: median_rows(first), SECOND: median_rows(second)}
        target = rows[SECOND]["p95"]
        # With a fixed interval I the lag is about uniform(0, I): its p95 is 0.95 I. Then one
        # correction for what the first guess missed (request latency, queueing).
        every = target / 0.95
        found = [await _fixed_at(emu, scale, n, rounds, every)]
        if found[0]["p95"] > 0:
            every = min(max(every * target / found[0]["p95"], every / 3), every * 3)
        found.append(await _fixed_at(emu, scale, n, rounds, every))
        # For context: the interval whose median lag is the second run's (about I / 2).
        median = await _fixed_at(emu, scale, n, rounds, 2 * rows[SECOND]["p50"])
    for row in found:
        rows[f"fixed every {row['interval'] / scale.factor:.2f} s"] = row
    rows[f"fixed every {median['interval'] / scale.factor:.2f} s (same p50 lag)"] = median
    equal = _at_lag(found, target)
    return {
        "n": n,
        "rounds": rounds,
        "rows": rows,
        "fixed_at_lag": equal,
        "target": target,
        "fixed_at_median": median["per_video"],
        "second_p95s": [r["p95"] for r in second],
    }


async def _alone_series(
    emu: EmulatorProcess,
    scale: Scale,
    contender: Contender,
    tasks: list[tuple[float | None, float | None, str]],
    cache: Callable[[int], TimingCacheOption],
    out: list[Row],
) -> None:
    for i, task in enumerate(tasks):
        out.append(
            await measure(
                emu, contender, [task], timing_cache=cache(i), time_limit=_time_limit(scale)
            )
        )


async def _alone(settings: Settings, scale: Scale, folder: pathlib.Path) -> dict[str, Any]:
    k = settings.pick(6, 2)
    tasks = lifetimes(k, scale, seed=99)
    luma = tracked(scale(LUMA_INTERVAL))
    contenders: dict[str, tuple[Contender, Callable[[int], TimingCacheOption]]] = {
        # The first run starts from an empty cache for every task: it knows nothing.
        FIRST: (luma, lambda i: folder / f"alone-empty-{i}.json"),
        REMEMBERED: (luma, lambda i: folder / "timing-0.json"),  # filled by part (a)
    }
    for every in ALONE_INTERVALS:
        contenders[f"fixed every {every:g} s"] = (fixed(scale(every)), lambda i: False)
    results: dict[str, list[Row]] = {name: [] for name in contenders}
    # One emulator per contender, all at once: one task each, so they hardly compete for CPU.
    with contextlib.ExitStack() as stack:
        emus = [stack.enter_context(realistic_emulator(scale)) for _ in contenders]
        async with anyio.create_task_group() as group:
            for emu, (name, (contender, cache)) in zip(emus, contenders.items(), strict=True):
                group.start_soon(_alone_series, emu, scale, contender, tasks, cache, results[name])
    rows = {}
    for name, runs in results.items():
        lags = sorted(r["p50"] for r in runs)
        rows[name] = {
            "per_task": sum(r["requests"] for r in runs) / len(runs),
            "lag_median": lags[len(lags) // 2],
            "lag_max": lags[-1],
            "lost": sum(r["lost"] for r in runs),
        }
    lives = [(q or 0.0) + (r or 0.0) for q, r, _ in tasks]
    return {"k": k, "rows": rows, "lives": lives}


async def _run(settings: Settings, scale: Scale) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name:
        folder = pathlib.Path(name)
        population = await _population(settings, scale, folder)
        alone = await _alone(settings, scale, folder)
    return {"population": population, "alone": alone, "scale": scale.factor}


def _render_population(data: dict[str, Any], scale: Scale) -> str:
    rows: dict[str, Row] = data["rows"]
    s = scale.factor
    lines = [
        (
            name,
            f"{r['videos']:,.0f}",
            f"{r['per_video']:.1f}",
            f"{r['p50'] / s:.2f}",
            f"{r['p95'] / s:.2f}",
            f"{r['wall'] / s:.0f}",
            f"{r['client_load']:.2f}",
        )
        for name, r in rows.items()
    ]
    header = (
        "contender",
        "videos",
        "requests/video",
        "p50 lag (real s)",
        "p95 lag (real s)",
        "wall (real s)",
        "client CPU (cores)",
    )
    second = rows[SECOND]["per_video"]
    share = ratio(second, data["fixed_at_lag"])
    reading = (
        f"The second run spent {second:.1f} requests per video; fixed-interval polling at the "
        f"same p95 lag ({data['target'] / s:.2f} s real) spends {data['fixed_at_lag']:.1f} "
        f"(linear between the two fixed rows): **{share:.2f}x** (target <= 0.5x: "
        f"{'met' if share <= 0.5 else 'missed'}). At the same median lag "
        f"({rows[SECOND]['p50'] / s:.2f} s real) fixed polling spends "
        f"{data['fixed_at_median']:.1f}: "
        f"{ratio(second, data['fixed_at_median']):.2f}x. luma_async leaves a task alone "
        "until the fastest remembered lifetime (less the gap expected below it), then looks "
        "every second (p95 lag per round: "
        + " / ".join(f"{v / s:.1f}" for v in data["second_p95s"])
        + " s real). No schedule without an ETA does much better here: looking inside the "
        "band costs (lifetime - first finish) / interval, fixed polling lifetime / interval, "
        "and with lifetimes spread evenly over 60-180 s that is about (121 - 61) / 121 = 0.5."
    )
    return (
        f"**(a) {data['n']} videos at once, no batch route, realistic lifetimes, no ETA** "
        f"(medians of {data['rounds']} rounds)\n\n" + table(header, lines, "l") + "\n\n" + reading
    )


def _render_alone(data: dict[str, Any], scale: Scale) -> str:
    s = scale.factor
    lines = [
        (
            name,
            f"{r['per_task']:.1f}",
            f"{r['lag_median'] / s:.2f}",
            f"{r['lag_max'] / s:.2f}",
            f"{r['lost']:.0f}",
        )
        for name, r in data["rows"].items()
    ]
    header = ("contender", "requests/task", "lag, median (real s)", "lag, max (real s)", "lost")
    lives = ", ".join(f"{life / s:.0f}" for life in data["lives"])
    rows = data["rows"]
    remembered = rows[REMEMBERED]["per_task"]
    reading = (
        f"Remembered timing spends {remembered:.1f} requests a task against "
        f"{rows[FIRST]['per_task']:.1f} on a first run; fixed 5 s / 3 s polling spend "
        f"{rows['fixed every 5 s']['per_task']:.1f} / {rows['fixed every 3 s']['per_task']:.1f} "
        "with a lag of up to their interval."
    )
    return (
        f"**(b) one task alone, {data['k']} tasks one after the other** (lifetimes {lives} s "
        "real)\n\n" + table(header, lines, "l") + "\n\n" + reading
    )


def run(settings: Settings) -> Section:
    """Measure (a) and (b), and render them."""
    scale = Scale.of(settings)
    data: dict[str, Any] = anyio.run(_run, settings, scale)
    intro = (
        "Videos created in an AnyAPI-dialect emulator (own process) with the `no_batch_route` "
        "quirk and no ETA, with lifetimes shaped like real 5 s 720p generations (queued "
        "0.5-1.5 s, then running 60-180 s, `REALISTIC_RUN_SECONDS`), all time-scaled by "
        f"{scale.label}: the emulator's clock, luma_async's own interval (1 s real: "
        f"`interval={scale(LUMA_INTERVAL):g}`) and every fixed interval alike, so the "
        "comparison is the one at full scale. Times below are converted back to real seconds. "
        "Requests are counted by the emulator; lag is from the emulator's finish to the "
        "moment the contender hands the video out. The fixed contenders are one loop per "
        "task: sleep, `client.get`, until done. luma_async adds the tasks with their timing "
        "key (`stream.add(*ids, kind=stream.kind_of(request))`); its first run starts from "
        "an empty timing cache in a temporary file, the second from the same file. The "
        "fixed interval of (a) is the one whose p95 lag is the second run's: first p95/0.95 "
        "(the lag is about uniform over the interval), then one correction from what that "
        "gave."
    )
    parts = [
        intro,
        _render_population(data["population"], scale),
        _render_alone(data["alone"], scale),
    ]
    return Section("realtime", "Real-time polling (realistic lifetimes)", "\n\n".join(parts), data)
