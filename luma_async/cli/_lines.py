"""The lines of a `batch` file: one request of any kind each, checked before the run.

A line is a JSON object; `"kind"` says what it creates (API.md: "video" by default, "image",
"modify_video", "reframe_video", "reframe_image") and the other keys are that request struct's
fields. Images and sources are URLs, data URIs, or files relative to the input file; a source
video or image may also be a task id. Weighted references are `[image, weight]` pairs.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from typing import Any

import msgspec

from .._errors import InvalidRequestError, UnsupportedFeatureError
from .._models import (
    AnyRequest,
    GenerateRequest,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframePosition,
    ReframeVideoRequest,
)
from ..dialects import Dialect
from ._args import image_value, is_link, source_value

__all__ = ["KINDS", "Job", "label", "parse_lines"]

#: Stand-ins for local files (and task ids) while the other fields are checked by the dialect.
_SOME = {
    "image": "data:image/png;base64,iVBORw0KGgo=",
    "video": "data:video/mp4;base64,AAAAGGZ0eXA=",
}


class _Video(msgspec.Struct, forbid_unknown_fields=True):
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
    concepts: list[str] | None = None


class _Image(msgspec.Struct, forbid_unknown_fields=True):
    prompt: str
    model: str | None = None
    aspect_ratio: str | None = None
    format: str | None = None
    image_ref: list[str | tuple[str, float]] | None = None
    style_ref: list[str | tuple[str, float]] | None = None
    character_ref: list[str] | None = None
    modify_image_ref: str | tuple[str, float] | None = None
    callback_url: str | None = None
    extra_body: dict[str, Any] | None = None


class _Position(msgspec.Struct, forbid_unknown_fields=True):
    grid_position_x: int | None = None
    grid_position_y: int | None = None
    x_start: int | None = None
    x_end: int | None = None
    y_start: int | None = None
    y_end: int | None = None
    resized_width: int | None = None
    resized_height: int | None = None


class _Modify(msgspec.Struct, forbid_unknown_fields=True):
    video: str
    mode: str
    prompt: str | None = None
    model: str | None = None
    first_frame: str | None = None
    callback_url: str | None = None


class _ReframeVideo(msgspec.Struct, forbid_unknown_fields=True):
    video: str
    aspect_ratio: str
    model: str | None = None
    prompt: str | None = None
    first_frame: str | None = None
    position: _Position | None = None
    callback_url: str | None = None


class _ReframeImage(msgspec.Struct, forbid_unknown_fields=True):
    image: str
    aspect_ratio: str
    model: str | None = None
    prompt: str | None = None
    format: str | None = None
    position: _Position | None = None
    callback_url: str | None = None


#: Each `"kind"`: what a line holds, and the request struct it becomes.
KINDS: dict[str, tuple[type[msgspec.Struct], type[AnyRequest]]] = {
    "video": (_Video, GenerateRequest),
    "image": (_Image, ImageRequest),
    "modify_video": (_Modify, ModifyVideoRequest),
    "reframe_video": (_ReframeVideo, ReframeVideoRequest),
    "reframe_image": (_ReframeImage, ReframeImageRequest),
}
#: The fields holding one image, one weighted image, a list of either, or a source.
_IMAGES = ("start_image", "end_image", "first_frame")
_WEIGHTED = ("modify_image_ref",)
_LISTS = ("image_ref", "style_ref", "character_ref")
_SOURCES = {"video": "video", "image": "image"}

_decode = msgspec.json.Decoder().decode


@dataclass(frozen=True)
class Job:
    """A good input line: its number (from 1) and the request it holds."""

    line: int
    request: AnyRequest


def parse_lines(
    text: str, *, base: pathlib.Path, dialect: Dialect
) -> tuple[list[Job], list[tuple[int, str]]]:
    """Good requests, and bad lines with what is wrong with them; blank lines are ignored.

    Each line is built into the dialect's own request (sans-IO: nothing is sent), so a kind
    or an option the dialect lacks, or a value it refuses, skips that line alone, before the run.
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


def _request(raw: str, base: pathlib.Path, dialect: Dialect) -> AnyRequest:
    """One line as a request, built by the dialect as it would be sent (and then dropped)."""
    data = _decode(raw)
    if not isinstance(data, dict):
        raise ValueError("a line must be a JSON object")
    kind = data.pop("kind", "video")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of: {', '.join(KINDS)}")
    shape, request_type = KINDS[kind]
    line = msgspec.convert(data, shape)
    fields: dict[str, Any] = {}
    checked: dict[str, Any] = {}
    for name, value in msgspec.structs.asdict(line).items():
        if value is None:
            continue
        fields[name], checked[name] = _field(name, value, base)
    dialect.create(request_type(**checked))
    return request_type(**fields)


def _field(name: str, value: Any, base: pathlib.Path) -> tuple[Any, Any]:
    """(what the request gets, what the dialect checks): files read later, stand-ins now."""
    if isinstance(value, _Position):
        position = ReframePosition(**msgspec.structs.asdict(value))
        return position, position
    if name in _SOURCES:
        source = source_value(value, base)
        return source, value if is_link(value) else _SOME[_SOURCES[name]]
    if name in _IMAGES:
        return _one(name, value, base)
    if name in _WEIGHTED:
        return _weighted(name, value, base)
    if name in _LISTS:
        pairs = [_weighted(name, item, base) for item in value]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    return value, value


def _one(name: str, value: str, base: pathlib.Path) -> tuple[Any, Any]:
    image = image_value(value, base)
    if isinstance(image, pathlib.Path):
        if not image.is_file():
            raise ValueError(f"{name}: no such file {image}")
        return image, _SOME["image"]
    return image, image


def _weighted(name: str, value: str | tuple[str, float], base: pathlib.Path) -> tuple[Any, Any]:
    if isinstance(value, tuple):
        image, checked = _one(name, value[0], base)
        return (image, value[1]), (checked, value[1])
    return _one(name, value, base)


def label(request: AnyRequest) -> str:
    """A request in a few words for progress rows: its prompt, or what it works on and how."""
    if isinstance(request, GenerateRequest | ImageRequest):
        return request.prompt
    source: object = request.image if isinstance(request, ReframeImageRequest) else request.video
    if isinstance(source, pathlib.Path):
        name = source.name
    else:
        name = getattr(source, "id", None) or str(source)
        name = name.split(";", 1)[0] if name.startswith("data:") else name
    target = request.mode if isinstance(request, ModifyVideoRequest) else request.aspect_ratio
    text = f"{request.kind} of {name} ({target})"
    return f"{text}: {request.prompt}" if request.prompt else text
