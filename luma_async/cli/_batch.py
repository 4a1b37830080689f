"""`batch FILE.jsonl`: one request per line in, one result per line out, Ctrl-C safe.

The results file is written as jobs end, each line whole (no half line, even on Ctrl-C), so
at every moment it is valid JSON lines. Interrupted, the run still accounts for every input
line: done, failed, still running on the gateway (with its task id), or not submitted.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import msgspec

from .._errors import FATAL_ERRORS, InvalidRequestError, UnsupportedFeatureError
from .._models import GenerateRequest, Generation, JobResult
from .._pipeline import DEFAULT_CONCURRENCY
from ..dialects import Dialect
from ._args import image_value, positive_float, positive_int
from ._config import Settings
from ._errors import CliError, ExitCode, describe, exit_code_for
from ._interrupt import Interrupt
from ._live import Board, live_view
from ._output import Output, line_ranges
from ._tasks import ready_folder

__all__ = ["Job", "add_parser", "parse_lines"]

#: Stands in for a local image file while the other fields are checked against the dialect.
_SOME_IMAGE = "data:image/png;base64,iVBORw0KGgo="


class _Line(msgspec.Struct, forbid_unknown_fields=True):
    """What one input line may hold: `GenerateRequest`'s fields, images as strings."""

    prompt: str
    aspect_ratio: str | None = None
    model: str | None = None
    resolution: str | None = None
    duration: str | int | None = None
    loop: bool | None = None
    expand_prompt: bool | None = None
    start_image: str | None = None
    end_image: str | None = None
    callback_url: str | None = None
    extra_body: dict[str, Any] | None = None


_decode_line = msgspec.json.Decoder(_Line).decode


@dataclass(frozen=True)
class Job:
    """A good input line: its number (from 1) and the request it holds."""

    line: int
    request: GenerateRequest


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register `batch`."""
    p = commands.add_parser(
        "batch",
        parents=[common],
        help="generate every request of a JSON-lines file",
        description=(
            'One request per line, e.g. {"prompt": "a red fox", "aspect_ratio": "16:9"}; '
            "images may be URLs, data URIs or files relative to the input. One result per "
            "line goes to --out (default: FILE.results.jsonl) as each job ends."
        ),
    )
    p.add_argument("file", metavar="FILE.jsonl")
    p.add_argument("--concurrency", type=positive_int, default=DEFAULT_CONCURRENCY, metavar="N")
    p.add_argument(
        "--submits-per-minute", type=positive_float, metavar="N", help="pace the submits"
    )
    p.add_argument("--download", metavar="DIR", help="save each finished MP4 into DIR")
    p.add_argument("--out", metavar="RESULTS.jsonl", help="where the results go")
    p.add_argument(
        "--journal",
        metavar="RUN.sqlite",
        help="make the run resumable: run again with the same file and journal after a crash "
        "or Ctrl-C, and nothing already submitted is submitted again",
    )
    p.set_defaults(run=batch, gateway=True)


def parse_lines(
    text: str, *, base: pathlib.Path, dialect: Dialect
) -> tuple[list[Job], list[tuple[int, str]]]:
    """Good requests, and bad lines with what is wrong with them; blank lines are ignored.

    Each line is built into the dialect's own request (sans-IO: nothing is sent), so an
    option the dialect lacks or a value it refuses skips that line alone, before the run.
    """
    jobs: list[Job] = []
    bad: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            jobs.append(Job(number, _request(raw, base, dialect)))
        except msgspec.ValidationError as exc:
            bad.append((number, str(exc)))
        except msgspec.DecodeError as exc:
            bad.append((number, f"not JSON: {exc}"))
        except (InvalidRequestError, UnsupportedFeatureError, ValueError, TypeError) as exc:
            bad.append((number, str(exc)))
    return jobs, bad


def _request(raw: str, base: pathlib.Path, dialect: Dialect) -> GenerateRequest:
    """One line as a request, built by the dialect as it would be sent (and then dropped)."""
    line = _decode_line(raw)
    fields = msgspec.structs.asdict(line)
    checked = dict(fields)
    for name in ("start_image", "end_image"):
        if fields[name] is not None:
            image = image_value(fields[name], base)
            fields[name] = image
            if isinstance(image, pathlib.Path):
                if not image.is_file():
                    raise ValueError(f"{name}: no such file {image}")
                checked[name] = _SOME_IMAGE
    dialect.submit(GenerateRequest(**checked))
    return GenerateRequest(**fields)


async def _a_file(path: pathlib.Path, what: str) -> None:
    """Refuse a folder where a file is expected, with a sentence (exit 2) rather than a crash."""
    if await anyio.Path(path).is_dir():
        raise CliError(f"{what} {path} is a folder; name a file")
    parent = anyio.Path(path.parent)
    if await parent.exists() and not await parent.is_dir():
        raise CliError(f"{what} {path}: {path.parent} is a file, not a folder")


def _record(job: Job, result: JobResult) -> dict[str, Any]:
    """One results line."""
    generation = result.generation
    if result.ok:
        status, error = "done", None
    elif result.error is not None:
        status, error = "error", describe(result.error)
    else:
        status = "failed"
        error = (generation.failure_reason if generation else None) or "no reason given"
    return {
        "line": job.line,
        "status": status,
        "id": generation.id if generation else None,
        "state": generation.state.value if generation else None,
        "prompt": job.request.prompt,
        "video_url": (generation.video.best_url if generation and generation.video else None),
        "path": str(result.path) if result.path else None,
        "error": error,
    }


def _invalid(line: int, message: str) -> dict[str, Any]:
    """The line of a bad input line: skipped, with what is wrong with it."""
    return {
        "line": line,
        "status": "invalid",
        "id": None,
        "state": None,
        "prompt": None,
        "video_url": None,
        "path": None,
        "error": message,
    }


def _leftover(job: Job, generation: Generation | None) -> dict[str, Any]:
    """The line of a job the run did not see end: still running on the gateway, or never sent."""
    return {
        "line": job.line,
        "status": "interrupted" if generation else "not submitted",
        "id": generation.id if generation else None,
        "state": None,
        "prompt": job.request.prompt,
        "video_url": None,
        "path": None,
        "error": "still running on the gateway" if generation else "not submitted",
    }


class _Results:
    """The results file: each line written whole, flushed, and shielded from Ctrl-C."""

    def __init__(self, file: anyio.AsyncFile[str]) -> None:
        self._file = file
        self.records: dict[int, dict[str, Any]] = {}

    async def write(self, record: dict[str, Any]) -> None:
        with anyio.CancelScope(shield=True):
            await self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            await self._file.flush()
        self.records[record["line"]] = record


async def batch(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """Run every good line through `generate_many`; write and sum up the results."""
    source = pathlib.Path(args.file)
    started = time.monotonic()
    await _a_file(source, "the input")
    text = await anyio.Path(source).read_text(encoding="utf-8")
    out_path = pathlib.Path(args.out) if args.out else source.with_suffix(".results.jsonl")
    await _a_file(out_path, "--out")
    if args.journal is not None:
        await _a_file(pathlib.Path(args.journal), "--journal")
    if await anyio.Path(out_path).resolve() == await anyio.Path(source).resolve():
        raise CliError("--out must not be the input file")
    client = settings.client()
    jobs, bad = parse_lines(text, base=source.parent, dialect=client.dialect)
    for number, message in bad:
        output.warn(f"{source}:{number}: {message}; line skipped")
    if not jobs and not bad:
        raise CliError(f"{source} holds no requests")
    folder = await ready_folder(args.download) if args.download else None
    board = Board(output, title=source.name, downloads=folder is not None)
    for job in jobs:
        board.add(job.line, f"line {job.line}", job.request.prompt)
    submitted: dict[int, Generation] = {}
    position = {id(job.request): job for job in jobs}

    def on_submit(request: GenerateRequest, generation: Generation) -> None:
        job = position[id(request)]
        submitted[job.line] = generation
        board.submitted(job.line, generation)

    def feed() -> Iterator[GenerateRequest]:
        for job in jobs:
            if client.unreachable is not None:
                return  # every other submit would wait out its retries for nothing
            yield job.request

    client.on_submit, client.on_seen = on_submit, board.seen
    client.shield_submits = True
    interrupt = Interrupt()
    errors: list[BaseException] = []
    async with client, await anyio.open_file(out_path, "w", encoding="utf-8") as file:
        results = _Results(file)
        for number, message in bad:
            await results.write(_invalid(number, message))
        async with live_view(board):
            with interrupt.catching():
                async with client.generate_many(
                    feed(),
                    concurrency=args.concurrency,
                    submits_per_minute=args.submits_per_minute,
                    download_to=folder,
                    journal=args.journal,
                ) as stream:
                    async for result in stream:
                        job = jobs[result.index]
                        record = _record(job, result)
                        if result.error is not None:
                            errors.append(result.error)
                        board.finish(
                            job.line, record["status"], record["error"] or record["path"] or ""
                        )
                        await results.write(record)
            for job in jobs:
                if job.line not in results.records:
                    generation = submitted.get(job.line)
                    if generation is not None:
                        board.finish(job.line, "interrupted", "still running on the gateway")
                    await results.write(_leftover(job, generation))
    records = results.records
    _summary(output, source, out_path, records, time.monotonic() - started, interrupt.hit)
    if interrupt.hit:
        return ExitCode.INTERRUPTED
    if any(isinstance(exc, FATAL_ERRORS) for exc in errors):
        return exit_code_for(next(e for e in errors if isinstance(e, FATAL_ERRORS)))
    if client.unreachable is not None:
        output.warn(describe(client.unreachable))
        return ExitCode.NETWORK
    if all(r["status"] == "done" for r in records.values()):
        return ExitCode.OK
    return ExitCode.FAILED


def _summary(
    output: Output,
    source: pathlib.Path,
    out_path: pathlib.Path,
    records: dict[int, dict[str, Any]],
    seconds: float,
    interrupted: bool,
) -> None:
    by_status: dict[str, list[int]] = {}
    for line in sorted(records):
        by_status.setdefault(records[line]["status"], []).append(line)
    in_flight = [
        {"line": r["line"], "id": r["id"]}
        for r in sorted(records.values(), key=lambda r: r["line"])
        if r["status"] == "interrupted"
    ]
    if output.json:
        output.data(
            {
                "file": str(source),
                "out": str(out_path),
                "seconds": round(seconds, 3),
                "interrupted": interrupted,
                "counts": {status: len(lines) for status, lines in by_status.items()},
                "lines": by_status,
                "in_flight": in_flight,
            }
        )
        return
    counts = Counter({status: len(lines) for status, lines in by_status.items()})
    parts = ", ".join(f"{n} {status}" for status, n in counts.most_common())
    output.show(f"{source}: {len(records)} requests in {seconds:.1f} s: {parts}")
    for status in ("failed", "error", "invalid", "not submitted"):
        if status in by_status:
            lines = by_status[status]
            output.show(f"  {status}: line{'s' if len(lines) > 1 else ''} {line_ranges(lines)}")
    if in_flight:
        output.show("  still running on the gateway (submitted, paid for):")
        for item in in_flight:
            output.show(f"    line {item['line']}: {item['id']}")
        ids = " ".join(str(item["id"]) for item in in_flight)
        output.show(f"  follow them with: luma-async wait {ids}")
    if interrupted:
        output.show("  interrupted: nothing more was submitted")
    output.show(f"  results: {out_path}")
