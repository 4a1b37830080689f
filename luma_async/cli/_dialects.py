"""`dialects`: what each gateway dialect can do, read from the adapters as built."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import unquote

from rich.table import Table
from rich.text import Text

from .._http import HttpRequest
from .._models import (
    GenerateRequest,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframeVideoRequest,
)
from ..dialects import DIALECTS, OPERATIONS, OPTIONS, Dialect, Official
from ._errors import ExitCode
from ._output import Output

__all__ = ["add_parser", "capabilities", "markdown_table"]

_ID = "{id}"
_PROBE_URL = "https://example.com/probe"
#: The official API's other operations (DIALECTS.md §8), in the order the table lists them.
_MORE = ("image", "modify_video", "reframe_video", "reframe_image", "concepts", "ping")
#: The order people expect, rather than the alphabet's.
_ASPECT_ORDER = ("1:1", "4:3", "3:4", "16:9", "9:16", "21:9", "9:21")


def _aspect_key(value: str) -> tuple[int, str]:
    return (_ASPECT_ORDER.index(value) if value in _ASPECT_ORDER else len(_ASPECT_ORDER), value)


def _resolution_key(value: str) -> tuple[int, str]:
    digits = "".join(c for c in value if c.isdigit())
    pixels = int(digits) * (1000 if value.lower().endswith("k") else 1) if digits else 0
    return (pixels, value)


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register `dialects`."""
    p = commands.add_parser(
        "dialects",
        parents=[common],
        help="show what each gateway dialect supports",
        description="The capability table of every dialect, read from the adapters themselves.",
    )
    p.add_argument("--markdown", action="store_true", help="a Markdown table (for docs)")
    p.set_defaults(run=dialects)


def _route(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return f"{request.method} {unquote(request.path)}"


def _required(dialect: Dialect) -> dict[str, Any]:
    if isinstance(dialect, Official):
        return {"model": dialect.default_model}
    return dict(getattr(dialect, "required_defaults", {}))


def _more_routes(dialect: Dialect) -> dict[str, str | None]:
    """The route of each of `_MORE` this dialect has, built by the adapter itself."""
    probes = {
        "image": lambda: dialect.image(ImageRequest("a probe prompt")),
        "modify_video": lambda: dialect.modify_video(ModifyVideoRequest(_PROBE_URL, "flex_1")),
        "reframe_video": lambda: dialect.reframe_video(ReframeVideoRequest(_PROBE_URL, "9:16")),
        "reframe_image": lambda: dialect.reframe_image(ReframeImageRequest(_PROBE_URL, "9:16")),
        "concepts": dialect.concepts,
        "ping": dialect.ping,
    }
    return {op: _route(probes[op]()) for op in _MORE if dialect.supports(op)}


def capabilities(dialect: Dialect) -> dict[str, Any]:
    """One dialect's row of the table, as data."""
    batch = None
    if dialect.supports("batch"):
        route = _route(dialect.batch([_ID])) or ""
        batch = f"list endpoint ({route})" if dialect.batch_is_listing else route
    no_watermark = _route(dialect.no_watermark(_ID))
    audio = _route(dialect.audio(_ID, "x", None, None)) if dialect.supports("audio") else None
    return {
        "base_url": dialect.default_base_url,
        "operations": [op for op in OPERATIONS if dialect.supports(op)],
        "submit": _route(dialect.submit(GenerateRequest("a probe prompt"))),
        "batch_query": batch,
        "no_watermark": (
            f"{no_watermark}, falling back to the task's links"
            if no_watermark
            else "the task's video links"
        ),
        "audio": audio,
        "more_operations": _more_routes(dialect),
        "options": [option for option in OPTIONS if option in dialect.options],
        "required_defaults": _required(dialect),
        "aspect_ratios": (
            sorted(dialect.aspect_ratios, key=_aspect_key)
            if "aspect_ratio" in dialect.options
            else []
        ),
        "models": list(dialect.models),
        "resolutions": sorted(dialect.resolutions, key=_resolution_key),
        "durations": sorted(dialect.durations),
        "prompt_length": list(dialect.prompt_length),
    }


_ROWS = (
    ("public base URL", "base_url"),
    ("submit", "submit"),
    ("batch query", "batch_query"),
    ("no-watermark link", "no_watermark"),
    ("video to audio", "audio"),
    ("list, delete, upscale, credits", "official_only"),
    ("images, modify, reframe, concepts, ping", "more_operations"),
    ("options", "options"),
    ("filled when not given", "required_defaults"),
    ("aspect ratios", "aspect_ratios"),
    ("models", "models"),
    ("resolutions", "resolutions"),
    ("durations", "durations"),
    ("prompt length", "prompt_length"),
)


def _cell(data: dict[str, Any], field: str) -> str:
    if field == "official_only":
        extra = [op for op in ("list", "delete", "upscale", "credits") if op in data["operations"]]
        return ", ".join(extra) if extra else "-"
    value = data[field]
    if field == "more_operations":
        return ", ".join(value) or "-"
    if field == "base_url":
        return value or "none (--base-url required)"
    if field == "required_defaults":
        return ", ".join(f"{k} = {v}" for k, v in value.items()) or "-"
    if field == "prompt_length":
        return f"{value[0]}..{value[1]}"
    if isinstance(value, list):
        return ", ".join(value) or "-"
    return value or "-"


def markdown_table() -> str:
    """The table as Markdown, the way the README shows it."""
    table = {name: capabilities(cls()) for name, cls in DIALECTS.items()}
    header = "| | " + " | ".join(table) + " |"
    lines = [header, "|---" * (len(table) + 1) + "|"]
    for label, field in _ROWS:
        cells = (_cell(data, field).replace("|", "\\|") for data in table.values())
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def dialects(args: argparse.Namespace, output: Output) -> int:
    """Print the table (or its data under --json)."""
    table = {name: capabilities(cls()) for name, cls in DIALECTS.items()}
    if output.json:
        output.data(table)
    elif args.markdown:
        output.show(markdown_table())
    else:
        view = Table(title="luma-async dialects", show_lines=True)
        view.add_column("")
        for name in table:
            view.add_column(name, overflow="fold")
        for label, field in _ROWS:
            view.add_row(
                Text(label, style="bold"), *(Text(_cell(d, field)) for d in table.values())
            )
        output.show(view)
    return ExitCode.OK
