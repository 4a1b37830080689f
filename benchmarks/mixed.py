"""Mixed kinds: N requests of every kind beside N videos, through generate_many with downloads.

The emulator (official dialect, a separate process) draws each task's lifetime from its
kind's range: videos, modifies and video reframes take one to three minutes, images and
image reframes five to twenty seconds (`REALISTIC_RUN_SECONDS`), all shortened by one
`time_scale`. Both populations run with the same client, concurrency and emulator, in
interleaved rounds. The critical path of a run is the longest lifetime the emulator drew
in it plus one submit/download round trip on an idle emulator (measured once, before the
rounds): no client can hand out every file sooner. Requests per result count the API
requests the emulator saw (downloads are not API requests) over the results that came out.
"""

from __future__ import annotations

import collections
import pathlib
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import anyio

from luma_async import JobResult, LumaClient
from luma_async._models import (
    AnyRequest,
    GenerateRequest,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframeVideoRequest,
)
from luma_async.emulator import REALISTIC_RUN_SECONDS

from ._common import Section, Settings, interleave, median_rows, ratio, table
from ._server import EmulatorProcess, now

__all__ = ["MIXED", "VIDEO_ONLY", "run"]

MIXED = "mixed kinds"
VIDEO_ONLY = "video only"
MAX_CONCURRENCY = 64
MEDIA = pathlib.Path(__file__).parents[1] / "luma_async" / "emulator" / "media"
VIDEO_URL = "https://example.com/in.mp4"
IMAGE_URL = "https://example.com/in.jpg"
MAGIC = {"mp4": b"ftyp", "jpg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}


def mixed(n: int) -> list[AnyRequest]:
    """`n` requests cycling through every kind and every way to give a source."""
    clip = MEDIA / "clip1.mp4"
    flavours: list[Callable[[int], AnyRequest]] = [
        lambda i: GenerateRequest(f"a short film, take {i}"),
        lambda i: ImageRequest(f"a still, take {i}"),
        lambda i: ImageRequest(f"a still, take {i}", format="png"),
        lambda i: ModifyVideoRequest(VIDEO_URL, "reimagine_1", prompt=f"watercolour {i}"),
        lambda i: ModifyVideoRequest(clip, "flex_2", prompt=f"at night {i}"),
        lambda i: ReframeVideoRequest(clip, "9:16", prompt=f"taller {i}"),
        lambda i: ReframeImageRequest(IMAGE_URL, "21:9", prompt=f"wider {i}"),
        lambda i: ReframeImageRequest(MEDIA / "still3.png", "1:1", format="png"),
    ]
    return [flavours[i % len(flavours)](i) for i in range(n)]


def videos(n: int) -> list[AnyRequest]:
    """`n` text-to-video requests."""
    return [GenerateRequest(f"a short film, take {i}") for i in range(n)]


POPULATIONS: dict[str, Callable[[int], list[AnyRequest]]] = {MIXED: mixed, VIDEO_ONLY: videos}


def right_file(result: JobResult) -> bool:
    """Whether the result's file has its kind's extension and that type's real bytes."""
    if result.path is None or result.generation is None:
        return False
    request = result.request
    if isinstance(request, ImageRequest | ReframeImageRequest):
        ext = request.format or "jpg"
    else:
        ext = "mp4"
    data = result.path.read_bytes()
    if ext == "mp4":
        good = data[4:8] == MAGIC["mp4"] and b"avc1" in data
    else:
        good = data.startswith(MAGIC[ext])
    return good and result.path.suffix == f".{ext}"


async def round_trip(emu: EmulatorProcess) -> float:
    """Seconds of one submit plus one download of a finished video, on an idle emulator."""
    async with LumaClient(emu.base_url, emu.api_key, emu.dialect) as client:
        trips = []
        for i in range(3):
            began = now()
            made = await client.submit(GenerateRequest(f"a warm-up film {i}"))
            submit = now() - began
            finished = await client.wait(made, timeout=600)
            with tempfile.TemporaryDirectory() as folder:
                began = now()
                await client.download(finished, folder)
                trips.append(submit + now() - began)
    return statistics.median(trips)


async def measure(
    emu: EmulatorProcess, requests: list[AnyRequest], trip: float
) -> dict[str, float]:
    """One generate_many of `requests`, every one in flight at once, downloaded."""
    n = len(requests)
    got: list[JobResult] = []
    with tempfile.TemporaryDirectory() as folder:
        async with LumaClient(
            emu.base_url, emu.api_key, emu.dialect, max_concurrency=MAX_CONCURRENCY
        ) as client:
            emu.reset()
            wall0, started = time.time(), now()
            async with client.generate_many(requests, concurrency=n, download_to=folder) as out:
                got = [result async for result in out]
            wall = now() - started
        files = sum(right_file(result) for result in got)
    generations = [r.generation for r in got if r.generation is not None]
    finished = emu.finished([g.id for g in generations])
    lifetimes = [
        f - (started + g.created_at.timestamp() - wall0)
        for g, f in zip(generations, finished, strict=True)
        if f is not None and g.created_at is not None
    ]
    ends = [f for f in finished if f is not None]
    longest = max(lifetimes, default=0.0)
    critical = longest + trip
    stats = emu.stats()
    ok = sum(result.ok for result in got)
    return {
        "n": n,
        "results": len({result.index for result in got}),
        "ok": ok,
        "files": files,
        "wall": wall,
        "longest": longest,
        "critical": critical,
        "last_finish": max(ends, default=started) - started,
        "overhead": ratio(wall, critical),
        "creations": stats["creations"],
        "per_result": stats["requests"] / max(len(got), 1),
    }


def options(settings: Settings) -> dict[str, Any]:
    """The emulator both populations share: realistic lifetimes per kind, scaled down."""
    return {
        "dialect": "official",
        "run_seconds_by_kind": REALISTIC_RUN_SECONDS,
        "time_scale": settings.pick(0.02, 0.004),
    }


async def _run(settings: Settings) -> dict[str, Any]:
    n = settings.pick(300, 30)
    emulator = options(settings)
    with EmulatorProcess(**emulator) as emu:
        trip = await round_trip(emu)

        async def one(name: str, _round: int) -> dict[str, float]:
            return await measure(emu, POPULATIONS[name](n), trip)

        runs = await interleave(list(POPULATIONS), settings.repeats(3), one)
    kinds = collections.Counter(type(r).__name__ for r in mixed(n))
    return {
        "n": n,
        "time_scale": emulator["time_scale"],
        "round_trip": trip,
        "kinds": dict(kinds),
        "rows": {name: median_rows(r) for name, r in runs.items()},
    }


def reading(rows: dict[str, dict[str, float]]) -> str:
    """One line saying what the numbers mean, from the numbers."""
    m, v = rows[MIXED], rows[VIDEO_ONLY]
    return (
        f"Reading: the mixed batch ends {m['wall'] - m['critical']:.2f} s after its critical "
        f"path (x{m['overhead']:.2f}), the video-only one {v['wall'] - v['critical']:.2f} s "
        f"(x{v['overhead']:.2f}); mixing kinds costs {m['per_result'] - v['per_result']:+.2f} "
        "API requests per result against videos alone."
    )


def run(settings: Settings) -> Section:
    """Measure, and render one table."""
    data = anyio.run(_run, settings)
    header = (
        "population",
        "requests",
        "results (ok)",
        "right files",
        "wall (s)",
        "longest task (s)",
        "critical path (s)",
        "wall / critical",
        "last finish (s)",
        "creates",
        "requests/result",
    )
    lines = [
        (
            name,
            f"{r['n']:,.0f}",
            f"{r['results']:,.0f} ({r['ok']:,.0f})",
            f"{r['files']:,.0f}",
            f"{r['wall']:.2f}",
            f"{r['longest']:.2f}",
            f"{r['critical']:.2f}",
            f"{r['overhead']:.3f}",
            f"{r['last_finish']:.2f}",
            f"{r['creations']:,.0f}",
            f"{r['per_result']:.2f}",
        )
        for name, r in data["rows"].items()
    ]
    scale = data["time_scale"]
    ranges = ", ".join(
        f"{kind} {lo * scale:.2f}-{hi * scale:.2f} s"
        for kind, (lo, hi) in REALISTIC_RUN_SECONDS.items()
        if kind not in ("upscale", "audio")
    )
    mix = ", ".join(f"{count} {kind}" for kind, count in sorted(data["kinds"].items()))
    trip = data["round_trip"] * 1000
    text = (
        f"{data['n']:,} requests per population, every one in flight at once "
        f"(`generate_many(concurrency=N, download_to=...)`, {MAX_CONCURRENCY} connections), "
        f"official emulator in its own process, realistic lifetimes x {scale} ({ranges}). "
        f"Mixed population: {mix} (URL and local `Path` sources, the paths sent as data "
        "URIs). Critical path = the longest lifetime (create to finish) the emulator drew "
        f"in the run + one submit/download round trip on an idle emulator ({trip:.0f} ms); "
        "last finish = first submit to the last task's finish, which adds the submit pacing. "
        "Right files: extension of the kind and real bytes (MP4 `ftyp` + `avc1`, JPEG, PNG "
        "magic). API requests only (downloads go to the CDN). Medians of interleaved rounds."
        "\n\n" + table(header, lines, "l") + "\n\n" + reading(data["rows"])
    )
    return Section("mixed", "Mixed kinds beside video only", text, data)
