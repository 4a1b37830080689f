"""`generate`, `status`, `wait` and `download`: one task, or a few, by id."""

from __future__ import annotations

import argparse
import os
import pathlib
from collections.abc import Sequence
from typing import Any

import anyio

from .._client import LumaClient
from .._download import target_path
from .._errors import LumaError, PollTimeoutError
from .._models import GenerateRequest, Generation, State
from ._args import image_value, positive_float
from ._config import Settings
from ._errors import CliError, ExitCode, describe, exit_code_for
from ._interrupt import Interrupt
from ._live import Board, live_view
from ._output import Output, generation_json

__all__ = [
    "add_follow_flags",
    "add_parsers",
    "check_follow_flags",
    "created",
    "line",
    "ready_folder",
    "suffix_of",
]

#: How long `wait` keeps asking for an id the gateway does not know yet: some gateways
#: answer 404 for a short while right after a task is created.
UNKNOWN_GRACE = 5.0


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register the four commands."""
    p = commands.add_parser(
        "generate",
        parents=[common],
        help="submit one video (and, with --wait or --download, follow it)",
        description="Submit a text- or image-to-video generation and print its task id.",
    )
    p.add_argument("prompt")
    p.add_argument("--image", metavar="PATH|URL", help="start image: a file, URL or data URI")
    p.add_argument("--end-image", metavar="PATH|URL", help="end image: a file, URL or data URI")
    p.add_argument("--aspect-ratio", metavar="W:H", help="e.g. 16:9, 9:16, 1:1")
    p.add_argument("--model", help="e.g. ray-2 (the dialect's names)")
    p.add_argument("--resolution", help="e.g. 720p")
    p.add_argument("--duration", help="e.g. 5s")
    p.add_argument("--loop", action="store_true", default=None, help="a seamless loop")
    add_follow_flags(p)
    p.set_defaults(run=generate, gateway=True)

    p = commands.add_parser(
        "status",
        parents=[common],
        help="show what the gateway says about tasks now",
        description="One look at each task; ids the gateway does not know are reported.",
    )
    p.add_argument("ids", nargs="+", metavar="ID")
    p.set_defaults(run=status, gateway=True)

    p = commands.add_parser(
        "wait",
        parents=[common],
        help="follow tasks until each has finished",
        description="Poll the tasks together and report each one as soon as it finishes.",
    )
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--timeout", type=positive_float, metavar="SECONDS", help="give up after")
    p.add_argument(
        "--download", metavar="DIR", help="save each finished file (MP4, JPEG or PNG) into DIR"
    )
    p.set_defaults(run=wait, gateway=True)

    p = commands.add_parser(
        "download",
        parents=[common],
        help="save a finished video or image",
        description=(
            "Save a finished task's file. DEST is a folder when it exists as one or ends "
            "with /: the file goes in as <task id>.mp4 (.jpg or .png for an image; default: "
            "the current folder). "
            "Anything else is the file to write; an existing file is kept unless --overwrite."
        ),
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("dest", nargs="?", default=".", metavar="DEST")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.set_defaults(run=download, gateway=True)


def add_follow_flags(p: argparse.ArgumentParser) -> None:
    """--wait, --timeout and --download, for a command that creates a task."""
    p.add_argument("--wait", action="store_true", help="follow the task until it finishes")
    p.add_argument(
        "--timeout", type=positive_float, metavar="SECONDS", help="with --wait or --download"
    )
    p.add_argument(
        "--download", metavar="DIR", help="wait, then save the file (MP4, JPEG or PNG) into DIR"
    )


async def check_follow_flags(args: argparse.Namespace) -> None:
    """Refuse what cannot work before anything is submitted (and billed)."""
    if args.timeout is not None and not (args.wait or args.download):
        raise CliError("--timeout needs --wait or --download: without them nothing waits")
    if args.download is not None:
        await ready_folder(args.download)


async def ready_folder(name: str) -> pathlib.Path:
    """`name` as a folder that exists and takes files; a sentence (exit 2) where it cannot."""
    folder = anyio.Path(name)
    if await folder.exists() and not await folder.is_dir():
        raise CliError(f"{name} is a file, not a folder: --download needs a folder")
    try:
        await folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".luma-async-{os.getpid()}.probe"
        await probe.write_bytes(b"")
        await probe.unlink()
    except OSError as exc:
        raise CliError(
            f"cannot save videos in {name}: {exc.strerror or exc}; pick a folder you can write"
        ) from None
    return pathlib.Path(name)


async def created(
    client: LumaClient, args: argparse.Namespace, output: Output, generation: Generation
) -> int:
    """A new task: print its id, or with --wait/--download follow it to its end."""
    if not (args.wait or args.download):
        if output.json:
            output.data(generation_json(generation))
        else:
            output.show(generation.id)
            output.note(
                f"submitted ({generation.raw_state or generation.state.value}); "
                f"follow it with: luma-async wait {generation.id}"
            )
        return ExitCode.OK
    return await follow(client, output, [generation], time_limit=args.timeout, to=args.download)


async def generate(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """Submit; with --wait or --download, follow the task to its end."""
    await check_follow_flags(args)
    request = GenerateRequest(
        args.prompt,
        aspect_ratio=args.aspect_ratio,
        model=args.model,
        resolution=args.resolution,
        duration=args.duration,
        loop=args.loop,
        start_image=image_value(args.image) if args.image else None,
        end_image=image_value(args.end_image) if args.end_image else None,
    )
    async with settings.client() as client:
        generation = await client.submit(request)
        return await created(client, args, output, generation)


async def status(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """One look at each task."""
    ids = list(dict.fromkeys(args.ids))
    async with settings.client() as client:
        found = {g.id: g for g in await client.get_many(ids)}
    missing = [task_id for task_id in ids if task_id not in found]
    if output.json:
        output.data(
            [
                generation_json(found[i]) if i in found else {"id": i, "error": "unknown task"}
                for i in ids
            ]
        )
    else:
        for task_id in ids:
            if task_id in found:
                output.show(line(found[task_id]))
    for task_id in missing:
        output.warn(f"unknown task id: {task_id}")
    return ExitCode.USAGE if missing else ExitCode.OK


async def wait(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """Follow tasks that already exist."""
    ids = list(dict.fromkeys(args.ids))
    if args.download is not None:
        await ready_folder(args.download)
    async with settings.client() as client:
        generations = await _find(client, ids, output)
        return await follow(client, output, generations, time_limit=args.timeout, to=args.download)


async def download(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """Save one finished video."""
    async with settings.client() as client:
        generation = await client.get(args.id)
        if generation.state is State.FAILED:
            raise CliError(
                f"task {generation.id} failed ({generation.failure_reason or 'no reason given'})"
                f": there is no {generation.kind}",
                ExitCode.FAILED,
            )
        if not generation.ok:
            raise CliError(
                f"task {generation.id} is {generation.raw_state or generation.state.value}: "
                f"no {generation.kind} yet "
                f"(`luma-async wait {generation.id} --download DIR` waits for it)",
                ExitCode.FAILED,
            )
        await _download_target(args.dest, generation, overwrite=args.overwrite)
        # The user's path as given: `client.download` reads it by the same rule.
        path = await client.download(generation, args.dest, overwrite=args.overwrite)
    if output.json:
        output.data({"id": generation.id, "path": str(path)})
    else:
        output.show(str(path))
    return ExitCode.OK


async def _download_target(dest: str, generation: Generation, *, overwrite: bool) -> pathlib.Path:
    """Where `download` writes (`LumaClient.download`'s rule), refused where it would lose
    or misplace data."""
    target = target_path(dest, generation.id, suffix_of(generation))
    where = anyio.Path(target)
    if await where.is_dir():
        raise CliError(f"{target} is a folder: name a file, or end DEST with / to save into it")
    if await where.exists() and not overwrite:
        raise CliError(f"{target} exists; pass --overwrite to replace it")
    parent = anyio.Path(target.parent)
    if await parent.exists() and not await parent.is_dir():
        raise CliError(f"{target.parent} is a file, not a folder")
    return target


async def _find(client: LumaClient, ids: Sequence[str], output: Output) -> list[Generation]:
    """The tasks, in the order asked; an id still unknown after `UNKNOWN_GRACE` is an error."""
    found = {g.id: g for g in await client.get_many(ids)}
    missing = [task_id for task_id in ids if task_id not in found]
    if missing:
        output.note(f"not known yet: {', '.join(missing)}; asking again for {UNKNOWN_GRACE:g} s")
        with anyio.move_on_after(UNKNOWN_GRACE):
            while missing:
                await anyio.sleep(1.0)
                found.update((g.id, g) for g in await client.get_many(missing))
                missing = [task_id for task_id in ids if task_id not in found]
    if missing:
        raise CliError(f"unknown task id: {', '.join(missing)}", ExitCode.USAGE)
    return [found[task_id] for task_id in ids]


def suffix_of(generation: Generation) -> str:
    """The file suffix a finished task's download most likely gets (its link's, for images)."""
    if generation.kind != "image":
        return ".mp4"
    link = (generation.link or "").split("?", 1)[0].lower()
    return ".png" if link.endswith(".png") else ".jpg"


def line(generation: Generation, path: pathlib.Path | None = None) -> str:
    """`<id>  <kind>  <state>  <path, link or failure reason>` for people and grep."""
    state = generation.raw_state or generation.state.value
    if path is not None:
        tail = str(path)
    elif generation.state is State.FAILED:
        tail = generation.failure_reason or "no reason given"
    else:
        tail = generation.link or ""
    return f"{generation.id}  {generation.kind}  {state}  {tail}".rstrip()


async def follow(
    client: LumaClient,
    output: Output,
    generations: Sequence[Generation],
    *,
    time_limit: float | None,
    to: str | None,
) -> int:
    """Poll the tasks, report each as it finishes (and download it), then sum up."""
    folder = pathlib.Path(to) if to is not None else None
    if folder is not None:
        # A folder that does not exist yet would be taken for a file name by `download`.
        await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    board = Board(output, title="waiting", downloads=folder is not None)
    keys: dict[str, int] = {}
    for key, generation in enumerate(generations):
        keys[generation.id] = key
        board.add(key, f"#{key + 1}", generation.prompt or "")
        board.track(key, generation.id)
        board.seen(generation)
    done: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    failed = 0

    async def settle(generation: Generation) -> None:
        nonlocal failed
        key = keys[generation.id]
        path: pathlib.Path | None = None
        if generation.ok and folder is not None:
            try:
                path = await client.download(generation, folder)
            except (LumaError, OSError) as exc:
                errors.append(exc)
                board.finish(key, "error", describe(exc))
                done.append(generation_json(generation, error=describe(exc)))
                return
        if generation.ok:
            board.finish(key, "done", str(path) if path else "")
        else:
            failed += 1
            board.finish(key, "failed", generation.failure_reason or "")
        done.append(generation_json(generation, path=str(path) if path else None))
        if not output.json:
            output.show(line(generation, path))

    ready = [g for g in generations if g.ok or g.state is State.FAILED]
    pending = [g.id for g in generations if not (g.ok or g.state is State.FAILED)]

    def on_abort() -> None:
        running = [row.task_id for row in board.rows.values() if not row.final and row.task_id]
        output.warn(f"stopped at once; still running on the gateway: {' '.join(running) or 'none'}")

    interrupt = Interrupt(
        on_first=lambda: output.warn(
            "interrupted: stopping (Ctrl-C again stops at once); the tasks keep running "
            "on the gateway"
        ),
        on_abort=on_abort,
    )
    timed_out: PollTimeoutError | None = None
    async with live_view(board):
        with interrupt.catching():
            for generation in ready:
                await settle(generation)
            if pending:
                try:
                    async with client.poll(
                        pending, timeout=time_limit, on_update=board.update
                    ) as stream:
                        async for generation in stream:
                            await settle(generation)
                except PollTimeoutError as exc:
                    timed_out = exc
    unfinished = [row.task_id for row in board.rows.values() if not row.final and row.task_id]
    if output.json:
        output.data({"generations": done, "pending": unfinished})
    if interrupt.hit:
        output.warn(f"interrupted; still running: {' '.join(unfinished) or 'none'}")
        return ExitCode.INTERRUPTED
    if timed_out is not None:
        output.warn(f"timed out after {time_limit:g} s; still running: {' '.join(unfinished)}")
        return ExitCode.TIMEOUT
    if errors:
        for error in errors:
            output.warn(describe(error))
        return exit_code_for(errors[0])
    return ExitCode.FAILED if failed else ExitCode.OK
