"""Bodies of the official image, modify and reframe routes (luma-official-openapi.yaml)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from ._errors import Rejection
from ._validate import (
    OFFICIAL_ASPECT_RATIOS,
    PROMPT_MAX,
    Accepted,
    Check,
    _image,
    _kind,
    _official_prompt,
    _string,
    _url,
    check_object,
    choice,
    invalid,
)

IMAGE_MODELS = ("photon-1", "photon-flash-1")
REFRAME_VIDEO_MODELS = ("ray-2", "ray-flash-2")
MODIFY_MODELS = ("ray-2",)
MODIFY_MODES = tuple(f"{m}_{n}" for m in ("adhere", "flex", "reimagine") for n in (1, 2, 3))
IMAGE_FORMATS = ("jpg", "png")
INT_LIMIT = 2**31  # the spec's integers carry no format; a 32-bit range is what servers store

_VIDEO_DATA_URI = re.compile(r"^data:video/[A-Za-z0-9.+-]+;base64,", re.DOTALL)

Known = Callable[[str], bool]


def _number(path: str, value: Any, _known: Known) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(path, f"expected a number, got {_kind(value)}")
    if not math.isfinite(value):
        raise invalid(path, "must be a finite number")
    return value


def _integer(path: str, value: Any, _known: Known) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(path, f"expected an integer, got {_kind(value)}")
    if not -INT_LIMIT <= value < INT_LIMIT:
        raise invalid(path, "integer out of range")
    return value


def _boolean(path: str, value: Any, _known: Known) -> bool:
    if not isinstance(value, bool):
        raise invalid(path, f"expected a boolean, got {_kind(value)}")
    return value


def _optional_prompt(path: str, value: Any, known: Known) -> str:
    """Modify and reframe prompts default to '' (the spec), and stay within the prompt limit."""
    text = _string(path, value, known)
    if len(text) > PROMPT_MAX:
        raise invalid(path, f"must be at most {PROMPT_MAX} characters, got {len(text)}")
    return text


def _video(path: str, value: Any, known: Known) -> str:
    """A video: an http(s) URL or a data:video/...;base64 URI."""
    text = _string(path, value, known)
    if _VIDEO_DATA_URI.match(text):
        return text
    return _url(path, text, known)


def _media(check: Check) -> Check:
    """The spec's Media object `{url}`."""

    def media(path: str, value: Any, known: Known) -> dict[str, Any]:
        return check_object(path, value, {"url": check}, {"url"}, known)

    return media


def _image_ref(path: str, value: Any, known: Known) -> dict[str, Any]:
    """ImageRef / ModifyImageRef `{url, weight}`; the spec marks neither as required, a ref
    without an image is meaningless, so `url` is."""
    return check_object(path, value, {"url": _image, "weight": _number}, {"url"}, known)


def _image_refs(path: str, value: Any, known: Known) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise invalid(path, f"expected an array, got {_kind(value)}")
    return [_image_ref(f"{path}[{i}]", ref, known) for i, ref in enumerate(value)]


def _identity(path: str, value: Any, known: Known) -> dict[str, Any]:
    def images(p: str, v: Any, k: Known) -> list[str]:
        if not isinstance(v, list):
            raise invalid(p, f"expected an array, got {_kind(v)}")
        return [_image(f"{p}[{i}]", item, k) for i, item in enumerate(v)]

    return check_object(path, value, {"images": images}, {"images"}, known)


def _character_ref(path: str, value: Any, known: Known) -> dict[str, Any]:
    return check_object(path, value, {"identity0": _identity}, {"identity0"}, known)


POSITION_FIELDS = (
    "grid_position_x",
    "grid_position_y",
    "x_start",
    "x_end",
    "y_start",
    "y_end",
    "resized_width",
    "resized_height",
)
_POSITION: dict[str, Check] = dict.fromkeys(POSITION_FIELDS, _integer)

IMAGE_SPEC: dict[str, Check] = {
    "generation_type": choice("image"),
    "model": choice(*IMAGE_MODELS),
    "prompt": _official_prompt,
    "aspect_ratio": choice(*OFFICIAL_ASPECT_RATIOS),
    "format": choice(*IMAGE_FORMATS),
    "callback_url": _url,
    "image_ref": _image_refs,
    "style_ref": _image_refs,
    "character_ref": _character_ref,
    "modify_image_ref": _image_ref,
    "sync": _boolean,
    "sync_timeout": _number,
}

REFRAME_IMAGE_SPEC: dict[str, Check] = {
    "generation_type": choice("reframe_image"),
    "media": _media(_image),
    "model": choice(*IMAGE_MODELS),
    "prompt": _optional_prompt,
    "aspect_ratio": choice(*OFFICIAL_ASPECT_RATIOS),
    "format": choice(*IMAGE_FORMATS),
    "callback_url": _url,
    **_POSITION,
}

REFRAME_VIDEO_SPEC: dict[str, Check] = {
    "generation_type": choice("reframe_video"),
    "media": _media(_video),
    "first_frame": _media(_image),
    "model": choice(*REFRAME_VIDEO_MODELS),
    "prompt": _optional_prompt,
    "aspect_ratio": choice(*OFFICIAL_ASPECT_RATIOS),
    "callback_url": _url,
    **_POSITION,
}

MODIFY_SPEC: dict[str, Check] = {
    "generation_type": choice("modify_video"),
    "media": _media(_video),
    "first_frame": _media(_image),
    "model": choice(*MODIFY_MODELS),
    "mode": choice(*MODIFY_MODES),
    "prompt": _optional_prompt,
    "callback_url": _url,
}

# Required fields as the spec lists them (reframe and modify require generation_type too).
_REQUIRED = {
    "image": {"model"},
    "reframe_image": {"media", "aspect_ratio", "model", "generation_type"},
    "reframe_video": {"media", "aspect_ratio", "model", "generation_type"},
    "modify_video": {"media", "model", "mode", "generation_type"},
}
_SPECS = {
    "image": IMAGE_SPEC,
    "reframe_image": REFRAME_IMAGE_SPEC,
    "reframe_video": REFRAME_VIDEO_SPEC,
    "modify_video": MODIFY_SPEC,
}


def official_kind(kind: str, body: Any, known: Known) -> Accepted:
    """An image, reframe_image, reframe_video or modify_video request of the official API."""
    checked = check_object("", body, _SPECS[kind], _REQUIRED[kind], known)
    if checked.get("sync"):
        # The synchronous mode answers with a finished image; this emulator only does async.
        raise Rejection("invalid_request", "sync: synchronous image generation is not supported")
    # The echo names its type, so a reader can tell the request shapes apart (the spec's oneOf).
    echo = {"generation_type": kind, **checked}
    return Accepted(
        body=echo,
        prompt=checked.get("prompt", ""),
        aspect_ratio=checked.get("aspect_ratio"),
        model=checked["model"],
        callback_url=checked.get("callback_url"),
    )
