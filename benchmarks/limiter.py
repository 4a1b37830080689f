"""Behind a gateway's rate limit: 429s met, requests, wall time and results lost.

A few hundred videos with realistic, time-scaled lifetimes on an emulator without a batch
route that allows 20 requests a second per key (scaled like everything else) and answers 429
beyond. luma_async without and with `max_requests_per_second=18`, beside a naive script that
polls every 5 s and simply tries again on the next tick after a 429.
"""

from __future__ import annotations

from typing import Any

import anyio

from ._common import Section, Settings, interleave, median_rows, table
from ._realistic import LUMA_INTERVAL, Contender, Scale, lifetimes, measure, raw_fixed, tracked
from ._server import EmulatorProcess

__all__ = ["CAPPED", "LIMIT", "NAIVE", "UNCAPPED", "run"]

#: The gateway's limit and the cap given to luma_async, in real requests a second.
LIMIT = 20.0
CAP = 18.0
NAIVE_EVERY = 5.0
UNCAPPED = "luma_async, no max_requests_per_second"
CAPPED = f"luma_async, max_requests_per_second={CAP:g}"
NAIVE = f"naive script, GET every {NAIVE_EVERY:g} s, 429 -> next tick"


async def _run(settings: Settings, scale: Scale) -> dict[str, Any]:
    n = settings.pick(300, 20)
    rounds = settings.repeats(3)
    limit = scale(4 * 182.0) + 60.0
    emu: EmulatorProcess
    with EmulatorProcess(
        dialect="anyapi",
        quirks=frozenset({"no_batch_route"}),
        time_scale=scale.factor,
        eta=False,
        rate_limit=LIMIT / scale.factor,
    ) as emu:
        luma = tracked(scale(LUMA_INTERVAL))
        contenders: dict[str, tuple[Contender, float | None]] = {
            UNCAPPED: (luma, None),
            CAPPED: (luma, CAP / scale.factor),
            NAIVE: (raw_fixed(scale(NAIVE_EVERY), emu.api_key), None),
        }

        async def one(name: str, round_: int) -> dict[str, float]:
            contender, cap = contenders[name]
            await anyio.sleep(1.5)  # the limiter's one-second window forgets the last run
            return await measure(
                emu,
                contender,
                lifetimes(n, scale, seed=1000 + round_),
                max_requests_per_second=cap,
                time_limit=limit,
            )

        runs = await interleave(list(contenders), rounds, one)
    rows = {name: median_rows(r) for name, r in runs.items()}
    return {"n": n, "rounds": rounds, "rows": rows, "scale": scale.factor}


def run(settings: Settings) -> Section:
    """Measure and render."""
    scale = Scale.of(settings)
    data: dict[str, Any] = anyio.run(_run, settings, scale)
    s = scale.factor
    rows: dict[str, dict[str, float]] = data["rows"]
    lines = [
        (
            name,
            f"{r['videos']:,.0f} / {r['tasks']:,.0f}",
            f"{r['lost']:.0f}",
            f"{r['requests']:,.0f}",
            f"{r['rate_limited']:,.0f}",
            f"{r['per_video']:.1f}",
            f"{r['rps'] * s:.1f}",
            f"{r['p50'] / s:.1f}",
            f"{r['p95'] / s:.1f}",
            f"{r['wall'] / s:.0f}",
        )
        for name, r in rows.items()
    ]
    header = (
        "contender",
        "videos handed out",
        "lost",
        "requests",
        "429s met",
        "requests/video",
        "requests/s (real)",
        "p50 lag (real s)",
        "p95 lag (real s)",
        "wall (real s)",
    )
    intro = (
        f"{data['n']} videos created at once in an AnyAPI-dialect emulator (own process, "
        "`no_batch_route`, no ETA, realistic lifetimes as in the real-time section) that "
        f"allows {LIMIT:g} requests a second per key (`rate_limit`, a sliding one-second "
        "window, as new-api does it) and answers 429 with Retry-After beyond. Time-scaled by "
        f"{scale.label} like the real-time section: lifetimes and intervals times {s:g}, so "
        f"the limit is {LIMIT / s:g} requests per emulated second and luma_async's cap "
        f"`max_requests_per_second={CAP / s:g}` ({CAP:g} real). Two things are not scaled: "
        "the window (one emulated second, 20 s real) and Retry-After, which HTTP gives in "
        "whole seconds (at least 1, so a 429 costs a client that honours it 20 s real): "
        "harsher than a real gateway. luma_async starts from no remembered timing "
        "(`timing_cache=False`), the most requests it would ever want. The naive script is "
        "bare aiohttp (only URLs and decoding from luma_async's adapter), one loop per task; "
        f"a 429 is skipped until the next tick. Medians of {data['rounds']} interleaved "
        "rounds; lost = videos not handed out (must be 0)."
    )
    capped, uncapped, naive = rows[CAPPED], rows[UNCAPPED], rows[NAIVE]
    reading = (
        f"With the cap luma_async met {capped['rate_limited']:.0f} 429s "
        f"({uncapped['rate_limited']:,.0f} without it, {naive['rate_limited']:,.0f} for the "
        f"naive script) and lost {capped['lost'] + uncapped['lost']:.0f} videos; p95 lag "
        f"{capped['p95'] / s:.1f} s capped, {uncapped['p95'] / s:.1f} s uncapped, "
        f"{naive['p95'] / s:.1f} s naive (real)."
    )
    markdown = "\n\n".join([intro, table(header, lines, "l"), reading])
    return Section("limiter", "Behind a rate limit", markdown, data)
