"""`image`, `modify`, `reframe`, `concepts` and `ping`: the official API's other operations.

Relay dialects have none of them: the client raises `UnsupportedFeatureError` before anything
is read or sent, which is exit 2 with a sentence naming what the dialect has.
"""

from __future__ import annotations

import argparse
import pathlib
from typing import Any

from .._models import (
    AnyRequest,
    Generation,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframePosition,
    ReframeVideoRequest,
)
from ._args import image_value, is_link, media_kind, source_value, weighted_image
from ._config import Settings
from ._errors import CliError, ExitCode
from ._output import Output
from ._tasks import add_follow_flags, check_follow_flags, created

__all__ = ["POSITION_FIELDS", "add_parsers"]

#: `ReframePosition`'s fields, each a `--flag` of `reframe` (underscores as dashes).
POSITION_FIELDS = tuple(ReframePosition.__struct_fields__)

_MODES = (
    "adhere_1",
    "adhere_2",
    "adhere_3",
    "flex_1",
    "flex_2",
    "flex_3",
    "reimagine_1",
    "reimagine_2",
    "reimagine_3",
)


def add_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register the five commands."""
    p = commands.add_parser(
        "image",
        parents=[common],
        help="generate an image with Photon (official)",
        description=(
            "Submit a Photon image and print its task id. Reference images are files, URLs "
            "or data URIs; add a weight after a colon (style.png:0.8) where the option takes "
            "one. Each reference flag may be given several times."
        ),
    )
    p.add_argument("prompt")
    p.add_argument(
        "--ref", action="append", metavar="IMG[:W]", help="an image to draw from (image_ref)"
    )
    p.add_argument(
        "--style", action="append", metavar="IMG[:W]", help="an image whose style to follow"
    )
    p.add_argument(
        "--character",
        action="append",
        metavar="IMG",
        help="an image of the character to keep (character_ref identity0)",
    )
    p.add_argument("--modify", metavar="IMG[:W]", help="an image to modify (modify_image_ref)")
    p.add_argument("--format", choices=("jpg", "png"), help="the file format (default jpg)")
    p.add_argument("--model", help="photon-1 (default) or photon-flash-1")
    p.add_argument("--aspect-ratio", metavar="W:H", help="e.g. 16:9, 9:16, 1:1")
    add_follow_flags(p)
    p.set_defaults(run=image, gateway=True)

    p = commands.add_parser(
        "modify",
        parents=[common],
        help="restyle or edit a video (official)",
        description=(
            "Modify VIDEO (a finished task's id, a file, a URL or a data URI) and print the "
            "new task's id. --mode runs from adhere_1 (closest to the source) to reimagine_3."
        ),
    )
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("prompt", nargs="?", help="what to change (optional)")
    p.add_argument("--mode", required=True, choices=_MODES)
    p.add_argument("--first-frame", metavar="IMG", help="the first frame, already modified")
    p.add_argument("--model", help="ray-2 (default)")
    add_follow_flags(p)
    p.set_defaults(run=modify, gateway=True, late_positional="prompt")

    p = commands.add_parser(
        "reframe",
        parents=[common],
        help="a video or image at another aspect ratio (official)",
        description=(
            "Reframe SOURCE to --aspect-ratio and print the new task's id. SOURCE is a "
            "finished task's id (reframed as what it is: video or image), or a file, URL or "
            "data URI, told apart by its extension or type; --image or --video says so where "
            "that does not. The --x-start ... --resized-height flags place the source in the "
            "new frame (pixels)."
        ),
    )
    p.add_argument("source", metavar="VIDEO_OR_IMAGE")
    p.add_argument("--aspect-ratio", required=True, metavar="W:H", help="e.g. 9:16")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--image", dest="as_kind", action="store_const", const="image")
    which.add_argument("--video", dest="as_kind", action="store_const", const="video")
    p.add_argument("--prompt", help="what to fill the new area with")
    p.add_argument("--model", help="ray-2/ray-flash-2 (video), photon-1/photon-flash-1 (image)")
    p.add_argument("--format", choices=("jpg", "png"), help="image only: the file format")
    p.add_argument("--first-frame", metavar="IMG", help="video only: the first frame")
    for name in POSITION_FIELDS:
        p.add_argument(f"--{name.replace('_', '-')}", type=int, metavar="PX", dest=name)
    add_follow_flags(p)
    p.set_defaults(run=reframe, gateway=True)

    p = commands.add_parser(
        "concepts",
        parents=[common],
        help="the camera-motion concepts a video may name (official)",
        description="One concept key per line, for generate requests' `concepts`.",
    )
    p.set_defaults(run=concepts, gateway=True)

    p = commands.add_parser(
        "ping",
        parents=[common],
        help="check the gateway answers and takes the key (official)",
        description="Exit 0 when the API answers and accepts the key; else the error's code.",
    )
    p.set_defaults(run=ping, gateway=True)


def _image(text: str) -> str | pathlib.Path:
    """An image option: a file (which must exist), a URL or a data URI."""
    value = image_value(text)
    if isinstance(value, pathlib.Path) and not value.is_file():
        raise CliError(f"no such file: {value}")
    return value


def _weighted(text: str) -> Any:
    """`IMG[:WEIGHT]` with the file checked."""
    value = weighted_image(text)
    path = value[0] if isinstance(value, tuple) else value
    if isinstance(path, pathlib.Path) and not path.is_file():
        raise CliError(f"no such file: {path}")
    return value


async def image(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """A Photon image; with --wait or --download, followed to its end."""
    await check_follow_flags(args)
    request = ImageRequest(
        args.prompt,
        model=args.model,
        aspect_ratio=args.aspect_ratio,
        format=args.format,
        image_ref=[_weighted(t) for t in args.ref] if args.ref else None,
        style_ref=[_weighted(t) for t in args.style] if args.style else None,
        character_ref=[_image(t) for t in args.character] if args.character else None,
        modify_image_ref=_weighted(args.modify) if args.modify else None,
    )
    return await _create(settings, args, output, request)


def _source(text: str) -> str | pathlib.Path:
    """A source as `source_value` reads it; a missing file is a usage error."""
    try:
        return source_value(text)
    except ValueError as exc:
        raise CliError(str(exc)) from None


async def modify(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """A modified video."""
    await check_follow_flags(args)
    request = ModifyVideoRequest(
        _source(args.video),
        args.mode,
        prompt=args.prompt,
        model=args.model,
        first_frame=_image(args.first_frame) if args.first_frame else None,
    )
    return await _create(settings, args, output, request)


async def reframe(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """A video or image at another aspect ratio."""
    await check_follow_flags(args)
    given = _source(args.source)
    source: str | pathlib.Path | Generation = given
    fields = {name: getattr(args, name) for name in POSITION_FIELDS}
    position = ReframePosition(**fields) if any(v is not None for v in fields.values()) else None
    async with settings.client() as client:
        if not client.dialect.supports("reframe_image"):
            client.dialect.require("reframe_video")  # neither: refused before anything is read
        kind = args.as_kind or media_kind(str(given))
        if kind is None:
            if isinstance(given, pathlib.Path) or is_link(given):
                raise CliError(
                    f"cannot tell whether {args.source} is a video or an image: "
                    "pass --video or --image"
                )
            # A task id: reframed as what the task made (fetched once, passed on as it is).
            source = await client.get(given)
            kind = source.kind
        _only(args, kind)
        request: AnyRequest
        if kind == "image":
            request = ReframeImageRequest(
                source,
                args.aspect_ratio,
                model=args.model,
                prompt=args.prompt,
                format=args.format,
                position=position,
            )
        else:
            request = ReframeVideoRequest(
                source,
                args.aspect_ratio,
                model=args.model,
                prompt=args.prompt,
                first_frame=_image(args.first_frame) if args.first_frame else None,
                position=position,
            )
        generation = await client.submit(request)
        return await created(client, args, output, generation)


def _only(args: argparse.Namespace, kind: str) -> None:
    """Refuse the option of the other kind rather than drop it."""
    if kind == "image" and args.first_frame is not None:
        raise CliError("--first-frame is for videos; this source is an image")
    if kind == "video" and args.format is not None:
        raise CliError("--format is for images; this source is a video")


async def _create(
    settings: Settings, args: argparse.Namespace, output: Output, request: AnyRequest
) -> int:
    async with settings.client() as client:
        generation = await client.submit(request)
        return await created(client, args, output, generation)


async def concepts(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """The concept keys, one per line."""
    async with settings.client() as client:
        keys = await client.concepts()
    if output.json:
        output.data(keys)
    else:
        for key in keys:
            output.show(key)
        if not keys:
            output.note("no concepts")
    return ExitCode.OK


async def ping(args: argparse.Namespace, settings: Settings, output: Output) -> int:
    """Exit 0 when the API answers and takes the key."""
    async with settings.client() as client:
        await client.ping()
    if output.json:
        output.data({"ok": True})
    else:
        output.note("ok: the gateway answered and took the key")
    return ExitCode.OK
