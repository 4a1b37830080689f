"""Requests made ready to build: local files read into data URIs, source tasks looked up.

Dialects are sans-IO and take only links; this is the I/O they leave to the client (reading a
`pathlib.Path`, fetching a source task given by id) before anything is created or billed.
"""

from __future__ import annotations

import pathlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import msgspec

from ._errors import InvalidRequestError, NotFoundError
from ._images import image_data_uri, video_data_uri
from ._models import (
    AnyRequest,
    GenerateRequest,
    Generation,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframeVideoRequest,
)

__all__ = ["prepared"]

_R = TypeVar("_R", bound=AnyRequest)
Get = Callable[[str], Awaitable[Generation]]


async def prepared(request: _R, get: Get) -> _R:
    """`request` with local files as data URIs and source tasks given by id fetched with `get`.

    Nothing is created: a source that turns out not to be a completed generation of the right
    kind is refused by the dialect when it builds the request.
    """
    changes: dict[str, Any] = {}
    if isinstance(request, GenerateRequest):
        for field in ("start_image", "end_image"):
            value = getattr(request, field)
            if isinstance(value, pathlib.Path):
                changes[field] = await image_data_uri(value)
    elif isinstance(request, ImageRequest):
        for field in ("image_ref", "style_ref", "character_ref"):
            items = getattr(request, field)
            if isinstance(items, list | tuple) and _has_path(items):
                changes[field] = [await _weighted_uri(item) for item in items]
        if _has_path([request.modify_image_ref]):
            changes["modify_image_ref"] = await _weighted_uri(request.modify_image_ref)
    elif isinstance(request, ModifyVideoRequest | ReframeVideoRequest):
        changes["video"] = await _source("video", request.video, "video", get)
        if isinstance(request.first_frame, pathlib.Path):
            changes["first_frame"] = await image_data_uri(request.first_frame)
    elif isinstance(request, ReframeImageRequest):
        changes["image"] = await _source("image", request.image, "image", get)
    changes = {k: v for k, v in changes.items() if v is not getattr(request, k)}
    return msgspec.structs.replace(request, **changes) if changes else request


async def _source(
    option: str, value: str | pathlib.Path | Generation, kind: str, get: Get
) -> str | Generation:
    """A source as the dialect takes it: a link or data URI, or its (fresh) generation.

    A task id, or a `Generation` not yet complete, is fetched so that the dialect can check it
    is a completed generation of the right kind before anything is created.
    """
    if isinstance(value, pathlib.Path):
        return await (video_data_uri(value) if kind == "video" else image_data_uri(value))
    if isinstance(value, str) and _is_link(value):
        return value
    if isinstance(value, Generation) and value.ok:
        return value
    if not isinstance(value, str | Generation):
        return value  # the dialect names what is wrong with it
    task_id = value if isinstance(value, str) else value.id
    try:
        return await get(task_id)
    except NotFoundError:
        raise InvalidRequestError(
            f"{option} {task_id!r} is neither a URL, a data URI, nor a task this gateway knows"
        ) from None


def _is_link(value: str) -> bool:
    """An http(s) URL or a data URI, or blank (anything else given as a source is a task id)."""
    return not value.strip() or value.startswith(("http://", "https://", "data:"))


def _has_path(items: Iterable[object]) -> bool:
    return any(
        isinstance(item, pathlib.Path)
        or (isinstance(item, tuple | list) and item and isinstance(item[0], pathlib.Path))
        for item in items
    )


async def _weighted_uri(item: Any) -> Any:
    """A reference with a local file read into a data URI, its weight (if any) kept."""
    if isinstance(item, pathlib.Path):
        return await image_data_uri(item)
    if isinstance(item, tuple | list) and len(item) == 2 and isinstance(item[0], pathlib.Path):
        return (await image_data_uri(item[0]), item[1])
    return item
