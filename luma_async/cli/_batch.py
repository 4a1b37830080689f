"""`batch FILE.jsonl`: one request per line in, one result per line out, Ctrl-C safe.

The results file is written as jobs end, each line whole (no half line, even on Ctrl-C), so
at every moment it is valid JSON lines. Interrupted, the run still accounts for every input
line: done, failed, still running on the gateway (with its task id), or not submitted.
"""

from __future__ import annotations

import argparse
import pathlib
import time
from collections import Counter
from typing import Any

import anyio

from .._errors import FATAL_ERRORS
from .._pipeline import DEFAULT_CONCURRENCY
from .._stores import redact
from ._args import positive_float, positive_int
from ._config import Settings
from ._errors import CliError, ExitCode, describe, exit_code_for
from ._interrupt import Interrupt
from ._lines import Job, label, parse_lines
from ._live import Board, live_view
from ._output import Output, line_ranges
from ._progress import Progress, unreachable
from ._results import Results, invalid, job_record, leftover
from ._tasks import ready_folder

__all__ = ["Job", "add_parser", "parse_lines"]  # the last two from _lines


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register `batch`."""
    p = commands.add_parser(
        "batch",
        parents=[common],
        help="generate every request of a JSON-lines file",
        description=(
            'One request per line, e.g. {"prompt": "a red fox", "aspect_ratio": "16:9"}; '
            '"kind" makes it an "image", "modify_video", "reframe_video" or "reframe_image" '
            "(default: video), the other keys being that request's fields. Images may be "
            "URLs, data URIs or files relative to the input. One result per line goes to "
            "--out (default: FILE.results.jsonl) as each job ends."
        ),
    )
    p.add_argument("file", metavar="FILE.jsonl")
    p.add_argument("--concurrency", type=positive_int, default=DEFAULT_CONCURRENCY, metavar="N")
    p.add_argument(
        "--submits-per-minute", type=positive_float, metavar="N", help="pace the submits"
    )
    p.add_argument(
        "--download", metavar="DIR", help="save each finished file (MP4, JPEG, PNG) into DIR"
    )
    p.add_argument("--out", metavar="RESULTS.jsonl", help="where the results go")
    p.add_argument(
        "--journal",
        metavar="RUN.sqlite",
        help="make the run resumable: run again with the same file and journal after a crash "
        "or Ctrl-C, and nothing already submitted is submitted again; a postgresql:// URL "
        "lets workers on many machines share the run",
    )
    p.add_argument("--run", dest="run_name", metavar="NAME", help='the run\'s name ("default")')
    p.set_defaults(run=batch, gateway=True)


async def _a_file(path: pathlib.Path, what: str) -> None:
    """Refuse a folder where a file is expected, with a sentence (exit 2) rather than a crash."""
    if await anyio.Path(path).is_dir():
        raise CliError(f"{what} {path} is a folder; name a file")
    parent = anyio.Path(path.parent)
    if await parent.exists() and not await parent.is_dir():
        raise CliError(f"{what} {path}: {path.parent} is a file, not a folder")


async def batch(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """Run every good line through `generate_many`; write and sum up the results."""
    source = pathlib.Path(args.file)
    started = time.monotonic()
    await _a_file(source, "the input")
    text = await anyio.Path(source).read_text(encoding="utf-8")
    out_path = pathlib.Path(args.out) if args.out else source.with_suffix(".results.jsonl")
    await _a_file(out_path, "--out")
    if args.journal is not None and "://" not in args.journal:
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
        board.add(job.line, f"line {job.line}", label(job.request))
    progress = Progress(board, [job.line for job in jobs], concurrency=args.concurrency)
    errors: list[BaseException] = []
    async with client, Results.open(out_path) as results:

        def leftovers() -> list[dict[str, Any]]:
            """A line for each job the run did not see end: running, uncertain, or not sent."""
            maybe = progress.under_way()
            return [
                leftover(
                    job.line,
                    job.request,
                    progress.tasks.get(index),
                    uncertain=index in maybe,
                )
                for index, job in enumerate(jobs)
                if job.line not in results.records
            ]

        def on_first() -> None:
            output.warn(_first_words(args.journal and redact(args.journal)))

        def on_abort() -> None:
            rest = leftovers()
            for record in rest:
                results.write_now(record)
            output.warn(_abort_words(rest, args.journal and redact(args.journal), out_path))

        interrupt = Interrupt(on_first=on_first, on_abort=on_abort)
        for number, message in bad:
            await results.write(invalid(number, message))
        async with live_view(board):
            with interrupt.catching():
                async with client.generate_many(
                    [job.request for job in jobs],
                    concurrency=args.concurrency,
                    submits_per_minute=args.submits_per_minute,
                    download_to=folder,
                    journal=args.journal,
                    on_update=progress,
                    run=args.run_name,
                ) as stream:
                    async for result in stream:
                        job = jobs[result.index]
                        record = job_record(job.line, result)
                        if result.error is not None:
                            errors.append(result.error)
                        board.finish(
                            job.line, record["status"], record["error"] or record["path"] or ""
                        )
                        await results.write(record)
            for record in leftovers():
                if record["status"] != "not submitted":
                    board.finish(record["line"], record["status"], record["error"])
                await results.write(record)
    records = results.records
    _summary(output, source, out_path, records, time.monotonic() - started, interrupt.hit)
    if interrupt.hit:
        return ExitCode.INTERRUPTED
    if any(isinstance(exc, FATAL_ERRORS) for exc in errors):
        return exit_code_for(next(e for e in errors if isinstance(e, FATAL_ERRORS)))
    refused = unreachable(errors)
    if refused is not None:
        output.warn(describe(refused))
        return ExitCode.NETWORK
    if all(r["status"] == "done" for r in records.values()):
        return ExitCode.OK
    return ExitCode.FAILED


def _first_words(journal: str | None) -> str:
    """What the first Ctrl-C says: what happens now, and how this run can be resumed."""
    if journal is not None:
        resume = (
            f"run the same command with --journal {journal} to resume: "
            "nothing submitted is submitted again"
        )
    else:
        resume = (
            "this run has no --journal, so it cannot be resumed; "
            "pass --journal RUN.sqlite to make the next run resumable"
        )
    return f"interrupted: stopping (Ctrl-C again stops at once); {resume}"


def _abort_words(rest: list[dict[str, Any]], journal: str | None, out: pathlib.Path) -> str:
    """What the second Ctrl-C says: which submits may have gone through, and where to look."""
    maybe = [r for r in rest if r["status"] == "uncertain"]
    running = [r for r in rest if r["status"] == "interrupted"]
    parts = ["stopped at once"]
    if maybe:
        lines = line_ranges(r["line"] for r in maybe)
        parts.append(
            f"submits under way that may have gone through (a task may exist and be billed): "
            f"line{'s' if len(maybe) > 1 else ''} {lines}"
        )
        if journal is not None:
            parts.append(f"run again with --journal {journal} to look them up")
    else:
        parts.append("no submit was under way")
    if running:
        parts.append("still running: " + " ".join(str(r["id"]) for r in running))
    parts.append(f"results: {out}")
    return "; ".join(parts)


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
    for status in ("failed", "error", "invalid", "uncertain", "not submitted"):
        if status in by_status:
            lines = by_status[status]
            output.show(f"  {status}: line{'s' if len(lines) > 1 else ''} {line_ranges(lines)}")
    if in_flight:
        output.show("  still running on the gateway (submitted, paid for):")
        for item in in_flight:
            output.show(f"    line {item['line']}: {item['id']}")
        ids = " ".join(str(item["id"]) for item in in_flight)
        output.show(f"  follow them with: luma-async wait {ids}")
    if "uncertain" in by_status:
        output.show(
            "  uncertain: the submit was under way when stopped; a task may exist (and be "
            "billed): look before submitting those lines again"
        )
    if interrupted:
        output.show("  interrupted: nothing more was submitted")
    output.show(f"  results: {out_path}")
