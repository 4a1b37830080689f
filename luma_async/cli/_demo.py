"""`demo`: the whole pipeline offline, against the embedded emulator on 127.0.0.1.

A dozen video prompts (some with start or end images, one carrying the emulator's "[fail]"
marker), two Photon images and one reframe go through `generate_many` exactly as they would
through a real gateway: submit, poll, download. Only the gateway is pretend, and its clock can
be sped up with --time-scale. Dialects without images or reframes run the videos alone.
"""

from __future__ import annotations

import argparse
import base64
import pathlib
import secrets
import struct
import tempfile
import time
import zlib
from collections import Counter
from typing import Any

import anyio
from rich.table import Table
from rich.text import Text

from .. import emulator as _emulator_package
from .._client import LumaClient
from .._models import AnyRequest, GenerateRequest, ImageRequest, JobResult, ReframeVideoRequest
from .._options import WeightedImage
from ..dialects import DIALECTS, Dialect
from ..emulator import QUIRKS, Emulator, EmulatorConfig
from ._args import positive_float, positive_int
from ._errors import CliError, ExitCode, describe
from ._interrupt import Interrupt
from ._lines import label
from ._live import Board, live_view
from ._output import Output, state_text
from ._progress import Progress

__all__ = ["FAIL_MARKER", "add_parser", "png", "sample_requests"]

#: The official API: the one dialect with every kind (images, reframes) to show.
DEFAULT_DIALECT = "official"
DEFAULT_OUT = "luma-demo"
DEFAULT_CONCURRENCY = 6
#: The emulator fails any prompt that contains this (EmulatorConfig.fail_marker).
FAIL_MARKER = "[fail]"

#: (prompt, options); images are named: "sunrise", "sea" (files) or "dusk" (a data URI).
SAMPLES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("a red fox trotting through fresh snow at dawn", {"aspect_ratio": "16:9"}),
    ("a lighthouse in a storm, waves crashing, cinematic", {"aspect_ratio": "16:9"}),
    ("macro shot of a honeybee landing on lavender", {"aspect_ratio": "1:1"}),
    ("a paper boat drifting down a rainy city gutter", {"aspect_ratio": "9:16"}),
    ("clouds rolling over mountain peaks, time-lapse", {"loop": True}),
    ("the sun rises over the hills in this picture", {"start_image": "sunrise"}),
    ("the camera pushes slowly into the painting", {"start_image": "dusk"}),
    ("dawn turns into a calm blue sea", {"start_image": "sunrise", "end_image": "sea"}),
    ("a cat astronaut floating through a space station", {"aspect_ratio": "4:3"}),
    ("neon koi swimming through a night market", {"aspect_ratio": "3:4"}),
    (f"a scene the content filter will refuse {FAIL_MARKER}", {}),
    ("an old film reel of a carnival carousel", {"expand_prompt": True}),
)
#: Two Photon images (one following the style of a picture, as a PNG) and one reframe of a
#: short clip shipped with the emulator: `(kind, prompt or None, options)`.
MEDIA_SAMPLES: tuple[tuple[str, str | None, dict[str, Any]], ...] = (
    ("image", "a watercolour lighthouse on a cliff at dusk", {"aspect_ratio": "16:9"}),
    (
        "image",
        "a fox portrait in the style of this picture",
        {"style_ref": [("dusk", 0.6)], "format": "png", "aspect_ratio": "1:1"},
    ),
    ("reframe_video", None, {"aspect_ratio": "9:16", "prompt": "more sky above the scene"}),
)
#: The clip the demo reframes: a real MP4 that comes with the emulator.
CLIP = pathlib.Path(_emulator_package.__file__).parent / "media" / "clip0.mp4"
#: Two colours per image, top to bottom.
IMAGES = {
    "sunrise": ((250, 170, 60), (40, 30, 90)),
    "sea": ((120, 190, 250), (10, 60, 120)),
    "dusk": ((90, 40, 120), (250, 120, 80)),
}


def add_parser(commands: Any, output_flags: argparse.ArgumentParser) -> None:
    """Register `demo`."""
    p = commands.add_parser(
        "demo",
        parents=[output_flags],
        help="run videos, images and a reframe through an emulated gateway, offline",
        description=(
            "Start the embedded emulator on 127.0.0.1, run a dozen video prompts, two "
            "images and a reframe through generate_many with a live progress view, and save "
            "the files (.mp4, .jpg, .png). Dialects without images run the videos alone. "
            "Nothing leaves this machine; no API key is needed."
        ),
    )
    p.add_argument(
        "--dialect",
        choices=sorted(DIALECTS),
        default=argparse.SUPPRESS,
        help=f"the gateway to emulate (default: {DEFAULT_DIALECT})",
    )
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help="default: ./luma-demo")
    p.add_argument("--concurrency", type=positive_int, default=DEFAULT_CONCURRENCY, metavar="N")
    p.add_argument(
        "--time-scale",
        type=positive_float,
        default=1.0,
        metavar="X",
        help="the emulator's clock: 0.1 makes every video ten times quicker (default 1)",
    )
    p.add_argument("--quirks", default="", help=f"emulator quirks: {', '.join(sorted(QUIRKS))}")
    p.add_argument("--seed", type=int, default=0, help="the emulator's random seed")
    p.set_defaults(run=demo)


def png(width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A small RGB PNG fading from `top` to `bottom`: real image bytes, no imaging library."""
    rows = bytearray()
    for y in range(height):
        share = y / max(height - 1, 1)
        pixel = bytes(round(a + (b - a) * share) for a, b in zip(top, bottom, strict=True))
        rows += b"\x00" + pixel * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


async def _images(folder: pathlib.Path) -> dict[str, str | pathlib.Path]:
    """Two images as files in `folder` (the client reads them) and one as a data URI."""
    images: dict[str, str | pathlib.Path] = {}
    for name, (top, bottom) in IMAGES.items():
        data = png(64, 36, top, bottom)
        if name == "dusk":
            images[name] = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        else:
            path = folder / f"{name}.png"
            await anyio.Path(path).write_bytes(data)
            images[name] = path
    return images


def sample_requests(dialect: Dialect, images: dict[str, str | pathlib.Path]) -> list[AnyRequest]:
    """The sample prompts, each with the options this dialect has (others are left out), then
    the images and the reframe where the dialect has them.
    """
    requests: list[AnyRequest] = []
    for prompt, options in SAMPLES:
        fields: dict[str, Any] = {}
        for option, value in options.items():
            if option not in dialect.options:
                continue
            if option == "aspect_ratio" and value not in dialect.aspect_ratios:
                continue
            fields[option] = images[value] if option.endswith("_image") else value
        requests.append(GenerateRequest(prompt, **fields))
    for kind, text, options in MEDIA_SAMPLES:
        if not dialect.supports(kind):
            continue
        if kind == "image":
            styles: list[WeightedImage] = [
                (images[name], weight) for name, weight in options.get("style_ref", [])
            ]
            extra = {k: v for k, v in options.items() if k != "style_ref"}
            assert text is not None
            requests.append(ImageRequest(text, style_ref=styles or None, **extra))
        else:
            requests.append(ReframeVideoRequest(CLIP, **options))
    return requests


async def demo(args: argparse.Namespace, output: Output) -> int:
    """Emulator up, generate_many with a live view, a summary table."""
    dialect = getattr(args, "dialect", DEFAULT_DIALECT)
    out = pathlib.Path(args.out)
    key = secrets.token_urlsafe(24)
    output.secret = key
    try:
        config = EmulatorConfig(
            dialect=dialect,
            api_key=key,
            time_scale=args.time_scale,
            seed=args.seed,
            quirks=frozenset(q.strip() for q in args.quirks.split(",") if q.strip()),
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    started = time.monotonic()
    interrupt = Interrupt()
    results: dict[int, JobResult] = {}
    # Made first: a download_to folder that does not exist yet is taken for a file name.
    await anyio.Path(out).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="luma-demo-") as scratch:
        images = await _images(pathlib.Path(scratch))
        async with (
            Emulator(config) as emulator,
            LumaClient(emulator.base_url, key, dialect) as client,
        ):
            requests = sample_requests(client.dialect, images)
            output.note(
                f"luma-async demo: an emulated {dialect} gateway at {emulator.base_url}, "
                f"{len(requests)} requests, {args.concurrency} at a time, files into {out}/"
            )
            board = Board(output, title="demo", downloads=True, max_rows=len(requests))
            for index, request in enumerate(requests):
                board.add(index, f"#{index + 1}", label(request))
            progress = Progress(board, range(len(requests)), concurrency=args.concurrency)
            async with live_view(board):
                with interrupt.catching():
                    async with client.generate_many(
                        requests,
                        concurrency=args.concurrency,
                        download_to=out,
                        on_update=progress,
                    ) as stream:
                        async for result in stream:
                            results[result.index] = result
                            state, detail = _outcome(result)
                            board.finish(result.index, state, detail)
    seconds = time.monotonic() - started
    rows = _rows(requests, results, board)
    if output.json:
        output.data(
            {
                "dialect": dialect,
                "out": str(out),
                "seconds": round(seconds, 3),
                "interrupted": interrupt.hit,
                "results": rows,
            }
        )
    else:
        _show(output, rows, out, seconds, interrupted=interrupt.hit)
    if interrupt.hit:
        output.warn("interrupted")
        return ExitCode.INTERRUPTED
    planned = all(row["as_planned"] for row in rows)
    return ExitCode.OK if planned else ExitCode.FAILED


def _outcome(result: JobResult) -> tuple[str, str]:
    if result.ok:
        return "done", str(result.path or "")
    if result.error is not None:
        return "error", describe(result.error)
    reason = result.generation.failure_reason if result.generation else None
    return "failed", reason or "no reason given"


def _rows(
    requests: list[AnyRequest], results: dict[int, JobResult], board: Board
) -> list[dict[str, Any]]:
    rows = []
    for index, request in enumerate(requests):
        result = results.get(index)
        state, detail = _outcome(result) if result else ("interrupted", "")
        row = board.rows[index]
        expected_failure = FAIL_MARKER in (request.prompt or "")
        rows.append(
            {
                "index": index,
                "kind": request.kind,
                "prompt": label(request),
                "images": _images_in(request),
                "status": state,
                "id": row.task_id,
                "seconds": (
                    round(row.ended - row.started, 3)
                    if row.started is not None and row.ended is not None
                    else None
                ),
                "path": detail if state == "done" else None,
                "error": detail if state != "done" else None,
                "as_planned": state == ("failed" if expected_failure else "done"),
            }
        )
    return rows


def _images_in(request: AnyRequest) -> int:
    """How many pictures a request sends along (start/end images, style references)."""
    if isinstance(request, GenerateRequest):
        return sum(i is not None for i in (request.start_image, request.end_image))
    if isinstance(request, ImageRequest):
        return len(request.style_ref or ()) + len(request.image_ref or ())
    return 0


def _show(
    output: Output,
    rows: list[dict[str, Any]],
    out: pathlib.Path,
    seconds: float,
    *,
    interrupted: bool,
) -> None:
    table = Table(title="luma-async demo", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("state", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("task", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("prompt", overflow="fold")
    for row in rows:
        prompt = Text(row["prompt"])
        if row["images"]:
            prompt.append(f" (+{row['images']} image{'s' if row['images'] > 1 else ''})", "dim")
        if row["error"]:
            prompt.append("\n" + row["error"], style="red")
        table.add_row(
            str(row["index"] + 1),
            state_text(row["status"]),
            f"{row['seconds']:.1f}s" if row["seconds"] is not None else "",
            Text((row["id"] or "")[:8], style="dim"),
            row["kind"],
            prompt,
        )
    output.show(table)
    saved = Counter(
        pathlib.Path(row["path"]).suffix for row in rows if row["status"] == "done" and row["path"]
    )
    planned = [row for row in rows if row["status"] == "failed" and row["as_planned"]]
    files = ", ".join(f"{n} {suffix or 'other'}" for suffix, n in sorted(saved.items()))
    summary = (
        f"{saved.total()} files saved in {out}/ as <task id>.<kind> ({files}) in {seconds:.1f} s"
    )
    if planned:
        summary += f"; {len(planned)} failed as planned (its prompt has the {FAIL_MARKER} marker)"
    output.show(summary)
    if not interrupted:
        output.note(
            "Next: the same against a real gateway, e.g. "
            'LUMA_DIALECT=anyapi LUMA_API_KEY=... luma-async generate "a red fox" --wait'
        )
