"""`extend`, `audio`, `upscale` (new tasks from a finished one) and `list`, `delete`, `credits`.

A dialect that lacks an operation is refused before anything is sent: the client raises
`UnsupportedFeatureError`, which is exit 2 with a sentence naming what the dialect has.
"""

from __future__ import annotations

import argparse
from typing import Any

from ._args import image_value, positive_int
from ._config import Settings
from ._errors import ExitCode
from ._output import Output, generation_json
from ._tasks import add_follow_flags, check_follow_flags, created, line

__all__ = ["add_parsers"]


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register the six commands."""
    p = commands.add_parser(
        "extend",
        parents=[common],
        help="continue a finished video with a new prompt",
        description="Create a new video that continues task ID; prints the new task's id.",
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("prompt")
    p.add_argument("--end-image", metavar="PATH|URL", help="end image: a file, URL or data URI")
    p.add_argument("--aspect-ratio", metavar="W:H", help="e.g. 16:9, 9:16, 1:1")
    p.add_argument("--model", help="e.g. ray-2 (the dialect's names)")
    p.add_argument("--resolution", help="e.g. 720p")
    p.add_argument("--duration", help="e.g. 5s")
    p.add_argument("--loop", action="store_true", default=None, help="a seamless loop")
    add_follow_flags(p)
    p.set_defaults(run=extend, gateway=True)

    p = commands.add_parser(
        "audio",
        parents=[common],
        help="add a sound track to a finished video (official, rixapi)",
        description="Generate a sound track for task ID; prints the new task's id.",
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("prompt")
    p.add_argument("--negative-prompt", metavar="TEXT", help="what the audio should not have")
    add_follow_flags(p)
    p.set_defaults(run=audio, gateway=True)

    p = commands.add_parser(
        "upscale",
        parents=[common],
        help="upscale a finished video (official)",
        description="Upscale task ID to RESOLUTION (e.g. 1080p, 4k); prints the task's id.",
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("resolution", metavar="RESOLUTION")
    add_follow_flags(p)
    p.set_defaults(run=upscale, gateway=True)

    p = commands.add_parser(
        "list",
        parents=[common],
        help="recent generations, newest first (official)",
        description="One line per generation: id, state, and its link or failure reason.",
    )
    p.add_argument("--limit", type=positive_int, default=20, metavar="N", help="default 20")
    p.add_argument("--offset", type=_whole, default=0, metavar="N", help="skip the newest N")
    p.set_defaults(run=list_, gateway=True)

    p = commands.add_parser(
        "delete",
        parents=[common],
        help="delete a generation (official)",
        description="Delete task ID on the gateway; its video links stop working.",
    )
    p.add_argument("id", metavar="ID")
    p.set_defaults(run=delete, gateway=True)

    p = commands.add_parser(
        "credits",
        parents=[common],
        help="the account's balance (official)",
        description="The account's credit balance, in USD cents.",
    )
    p.set_defaults(run=credits, gateway=True)


def _whole(text: str) -> int:
    """An integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return value


async def extend(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """A new video continuing task ID."""
    await check_follow_flags(args)
    given = {
        "aspect_ratio": args.aspect_ratio,
        "model": args.model,
        "resolution": args.resolution,
        "duration": args.duration,
        "loop": args.loop,
        "end_image": image_value(args.end_image) if args.end_image else None,
    }
    options = {name: value for name, value in given.items() if value is not None}
    async with settings.client() as client:
        generation = await client.extend(args.id, args.prompt, **options)
        return await created(client, args, output, generation)


async def audio(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """A sound track for task ID."""
    await check_follow_flags(args)
    async with settings.client() as client:
        generation = await client.add_audio(
            args.id, args.prompt, negative_prompt=args.negative_prompt
        )
        return await created(client, args, output, generation)


async def upscale(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """Task ID at a higher resolution."""
    await check_follow_flags(args)
    async with settings.client() as client:
        generation = await client.upscale(args.id, args.resolution)
        return await created(client, args, output, generation)


async def list_(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """Recent generations, newest first."""
    async with settings.client() as client:
        generations = await client.list(limit=args.limit, offset=args.offset)
    if output.json:
        output.data([generation_json(g) for g in generations])
    else:
        for generation in generations:
            output.show(line(generation))
        if not generations:
            output.note("no generations")
    return ExitCode.OK


async def delete(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """Delete task ID."""
    async with settings.client() as client:
        await client.delete(args.id)
    if output.json:
        output.data({"id": args.id, "deleted": True})
    else:
        output.note(f"deleted {args.id}")
    return ExitCode.OK


async def credits(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """The account's balance."""
    async with settings.client() as client:
        cents = await client.credits()
    if output.json:
        output.data({"credits": cents, "unit": "USD cents"})
    else:
        output.show(f"{cents:g}")
        output.note("USD cents")
    return ExitCode.OK
