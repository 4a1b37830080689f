"""Request bodies of the official API's other creates: Photon images, modify and reframe.

Every value is checked against the spec's enums (reference/luma-official-openapi.yaml) before
anything is built, so a typo costs an `InvalidRequestError`, never a billed or refused create.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import msgspec

from .._errors import InvalidRequestError
from .._models import (
    Generation,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframePosition,
    ReframeVideoRequest,
    State,
)
from ._base import check_image, check_media

__all__ = [
    "ASPECT_RATIOS",
    "IMAGE_FORMATS",
    "IMAGE_MODELS",
    "MODIFY_MODELS",
    "MODIFY_MODES",
    "REFRAME_VIDEO_MODELS",
    "image_body",
    "modify_body",
    "reframe_image_body",
    "reframe_video_body",
]

ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")
IMAGE_MODELS = ("photon-1", "photon-flash-1")
IMAGE_FORMATS = ("jpg", "png")
MODIFY_MODELS = ("ray-2",)
REFRAME_VIDEO_MODELS = ("ray-2", "ray-flash-2")
MODIFY_MODES = tuple(
    f"{mode}_{level}" for mode in ("adhere", "flex", "reimagine") for level in (1, 2, 3)
)
#: Sent when the user names no model (the spec requires one).
DEFAULT_IMAGE_MODEL = "photon-1"
DEFAULT_VIDEO_MODEL = "ray-2"
#: The spec sets no prompt limit for these; the video create's limit is the sane one.
MAX_PROMPT = 5000


def _enum(option: str, value: object, accepted: Collection[str], *, required: bool) -> None:
    if value is None:
        if required:
            raise InvalidRequestError(
                f"{option} is required by the official API; accepted: {', '.join(accepted)}"
            )
        return
    if not isinstance(value, str) or value not in accepted:
        raise InvalidRequestError(
            f"{option} {value!r} is not accepted by the official API; "
            f"accepted: {', '.join(accepted)}"
        )


def _prompt(value: object, *, required: bool, low: int = 1) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not low <= len(value.strip()) <= MAX_PROMPT:
        size = len(value) if isinstance(value, str) else "no"
        raise InvalidRequestError(
            f"prompt of {size} characters: the official API accepts {low}..{MAX_PROMPT}"
        )


def _callback(body: dict[str, Any], url: object) -> None:
    """The callback URL, an http(s) URL when given (the spec: `format: uri`)."""
    if url is None:
        return
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidRequestError(f"callback_url {url!r} is not an http(s) URL")
    body["callback_url"] = url


def _put(body: dict[str, Any], **fields: object) -> None:
    """Set the fields that were given; `None` is not sent."""
    body.update((name, value) for name, value in fields.items() if value is not None)


def _weighted(option: str, item: object) -> dict[str, Any]:
    """`image` or `(image, weight)` as the spec's `{url, weight}` (a plain image: no weight)."""
    if isinstance(item, tuple | list):
        if len(item) != 2:
            raise InvalidRequestError(f"{option}: an (image, weight) pair has two items")
        image, weight = item
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
        ):
            raise InvalidRequestError(f"{option}: weight {weight!r} is not a number")
        check_image(option, image)
        return {"url": image, "weight": weight}
    check_image(option, item)
    return {"url": item}


def _references(option: str, items: object) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    if not isinstance(items, list | tuple) or not items:
        raise InvalidRequestError(f"{option} must be a non-empty list of images")
    return [_weighted(option, item) for item in items]


def _source(option: str, value: object, kind: str) -> str:
    """A source's URL: given as one, or the link of a completed generation of `kind`."""
    if value is None:
        raise InvalidRequestError(f"{option} is required: a URL, a data URI, a file or a task")
    if isinstance(value, Generation):
        if value.kind != kind:
            raise InvalidRequestError(
                f"{option}: task {value.id} is an {value.kind} generation; "
                f"this operation takes a {kind}"
            )
        if value.state is not State.COMPLETED or not value.link:
            raise InvalidRequestError(
                f"{option}: task {value.id} is not a completed {kind} generation "
                f"(state {value.raw_state or value.state.value})"
            )
        return value.link
    check_media(option, value, kind)
    assert isinstance(value, str)
    return value


def _position(position: ReframePosition | None) -> dict[str, int]:
    if position is None:
        return {}
    if not isinstance(position, ReframePosition):
        raise InvalidRequestError("position must be a ReframePosition")
    fields: Mapping[str, object] = msgspec.structs.asdict(position)
    for name, value in fields.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidRequestError(f"position.{name} {value!r} is not a whole number of pixels")
        if isinstance(value, int) and value < 0:
            raise InvalidRequestError(f"position.{name} {value} is negative")
    return {name: value for name, value in fields.items() if isinstance(value, int)}


def image_body(request: ImageRequest, *, prompt_low: int) -> dict[str, Any]:
    """`POST /generations/image` (ImageGenerationRequest); the `sync` mode is not offered."""
    _prompt(request.prompt, required=True, low=prompt_low)
    _enum("model", request.model, IMAGE_MODELS, required=False)
    _enum("aspect_ratio", request.aspect_ratio, ASPECT_RATIOS, required=False)
    _enum("format", request.format, IMAGE_FORMATS, required=False)
    body: dict[str, Any] = {
        "generation_type": "image",
        "model": request.model or DEFAULT_IMAGE_MODEL,
        "prompt": request.prompt,
    }
    _put(body, aspect_ratio=request.aspect_ratio, format=request.format)
    _put(
        body,
        image_ref=_references("image_ref", request.image_ref),
        style_ref=_references("style_ref", request.style_ref),
    )
    if request.character_ref is not None:
        images = request.character_ref
        if not isinstance(images, list | tuple) or not images:
            raise InvalidRequestError("character_ref must be a non-empty list of images")
        for image in images:
            check_image("character_ref", image)
        body["character_ref"] = {"identity0": {"images": list(images)}}
    if request.modify_image_ref is not None:
        body["modify_image_ref"] = _weighted("modify_image_ref", request.modify_image_ref)
    _callback(body, request.callback_url)
    if request.extra_body:
        body.update(request.extra_body)
    return body


def _video_edit(
    generation_type: str,
    request: ModifyVideoRequest | ReframeVideoRequest,
    key: str,
    value: str,
) -> dict[str, Any]:
    """What a modify and a video reframe share: the source video, model, prompt, first frame."""
    body: dict[str, Any] = {
        "generation_type": generation_type,
        "media": {"url": _source("video", request.video, "video")},
        "model": request.model or DEFAULT_VIDEO_MODEL,
        key: value,
    }
    _put(body, prompt=request.prompt)
    if request.first_frame is not None:
        check_image("first_frame", request.first_frame)
        body["first_frame"] = {"url": request.first_frame}
    return body


def modify_body(request: ModifyVideoRequest) -> dict[str, Any]:
    """`POST /generations/video/modify` (ModifyVideoRequest)."""
    _enum("mode", request.mode, MODIFY_MODES, required=True)
    _enum("model", request.model, MODIFY_MODELS, required=False)
    _prompt(request.prompt, required=False)
    body = _video_edit("modify_video", request, "mode", request.mode)
    _callback(body, request.callback_url)
    return body


def reframe_video_body(request: ReframeVideoRequest) -> dict[str, Any]:
    """`POST /generations/video/reframe` (ReframeVideoRequest)."""
    _enum("aspect_ratio", request.aspect_ratio, ASPECT_RATIOS, required=True)
    _enum("model", request.model, REFRAME_VIDEO_MODELS, required=False)
    _prompt(request.prompt, required=False)
    body = _video_edit("reframe_video", request, "aspect_ratio", request.aspect_ratio)
    body.update(_position(request.position))
    _callback(body, request.callback_url)
    return body


def reframe_image_body(request: ReframeImageRequest) -> dict[str, Any]:
    """`POST /generations/image/reframe` (ReframeImageRequest)."""
    _enum("aspect_ratio", request.aspect_ratio, ASPECT_RATIOS, required=True)
    _enum("model", request.model, IMAGE_MODELS, required=False)
    _enum("format", request.format, IMAGE_FORMATS, required=False)
    _prompt(request.prompt, required=False)
    body: dict[str, Any] = {
        "generation_type": "reframe_image",
        "media": {"url": _source("image", request.image, "image")},
        "model": request.model or DEFAULT_IMAGE_MODEL,
        "aspect_ratio": request.aspect_ratio,
    }
    _put(body, prompt=request.prompt, format=request.format)
    body.update(_position(request.position))
    _callback(body, request.callback_url)
    return body
