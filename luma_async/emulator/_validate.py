"""Request bodies checked field by field, per dialect, as DIALECTS.md §0, §3 and §8 list them.

The emulator is stricter than some real gateways on purpose (unknown fields, nulls): a client that
sends what a dialect does not have is a bug the tests should see.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ._errors import Rejection

MAX_IMAGE_BYTES = 10 * 1024 * 1024  # DIALECTS.md §0: images above 10 MB are refused
RELAY_ASPECT_RATIOS = ("1:1", "4:3", "3:4", "16:9", "9:16")
OFFICIAL_ASPECT_RATIOS = (*RELAY_ASPECT_RATIOS, "21:9", "9:21")
OFFICIAL_MODELS = ("ray-1-6", "ray-2", "ray-flash-2")
OFFICIAL_RESOLUTIONS = ("540p", "720p", "1080p", "4k")
OFFICIAL_DURATIONS = ("5s", "9s")
CONCEPTS = (
    "dolly_zoom",
    "pan_left",
    "pan_right",
    "orbit_left",
    "orbit_right",
    "crane_up",
    "crane_down",
    "push_in",
    "pull_out",
    "handheld",
    "aerial_drone",
    "static",
)
PROMPT_MIN, PROMPT_MAX = 3, 5000  # official prompt length, DIALECTS.md §0

_DATA_URI = re.compile(r"^data:image/[A-Za-z0-9.+-]+;base64,(.*)$", re.DOTALL)

# (field path, value, is this id a known task?) -> the accepted value
Check = Callable[[str, Any, Callable[[str], bool]], Any]


@dataclass
class Accepted:
    """A body that passed: the fields the task keeps, and the body itself."""

    body: dict[str, Any]
    prompt: str = ""
    aspect_ratio: str | None = None
    model: str | None = None
    callback_url: str | None = None
    generation_refs: list[str] = field(default_factory=list)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def invalid(path: str, message: str) -> Rejection:
    """A 400 naming the field."""
    return Rejection("invalid_request", f"{path}: {message}")


def _string(path: str, value: Any, _known: Callable[[str], bool]) -> str:
    if not isinstance(value, str):
        raise invalid(path, f"expected a string, got {_kind(value)}")
    return value


def _boolean(path: str, value: Any, _known: Callable[[str], bool]) -> bool:
    # The Go relay behind AnyAPI, RixAPI and gpt.ge refuses "true" as a string (DIALECTS.md §3).
    if not isinstance(value, bool):
        raise invalid(path, f"expected a boolean, got {_kind(value)}")
    return value


def _string_flag(path: str, value: Any, _known: Callable[[str], bool]) -> str:
    # xfusionai's document types expand_prompt as the string "true"/"false" (seed 003).
    if not isinstance(value, str) or value not in ("true", "false"):
        raise invalid(path, f'expected the string "true" or "false", got {_kind(value)} {value!r}')
    return str(value)


def _prompt(path: str, value: Any, known: Callable[[str], bool]) -> str:
    text = _string(path, value, known)
    if not text.strip():
        raise invalid(path, "must not be empty")
    return text


def _official_prompt(path: str, value: Any, known: Callable[[str], bool]) -> str:
    text = _string(path, value, known)
    if not PROMPT_MIN <= len(text) <= PROMPT_MAX:
        raise invalid(path, f"must be {PROMPT_MIN} to {PROMPT_MAX} characters, got {len(text)}")
    return text


def choice(*options: str) -> Check:
    """A string that must be one of `options`."""

    def check(path: str, value: Any, known: Callable[[str], bool]) -> str:
        text = _string(path, value, known)
        if text not in options:
            raise invalid(path, f"{text!r} is not one of {', '.join(options)}")
        return text

    return check


def _url(path: str, value: Any, known: Callable[[str], bool]) -> str:
    text = _string(path, value, known)
    try:
        parts = urlsplit(text)
        host = parts.hostname  # raises on a bad port or bracket
        _ = parts.port
    except ValueError:
        raise invalid(path, "expected an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in text):
        raise invalid(path, "expected an http(s) URL")
    return text


def _image(path: str, value: Any, known: Callable[[str], bool]) -> str:
    """An http(s) URL or a `data:image/...;base64,...` URI of at most 10 MB."""
    text = _string(path, value, known)
    if not text.startswith("data:"):
        return _url(path, text, known)
    match = _DATA_URI.match(text)
    if match is None:
        raise invalid(path, "expected an http(s) URL or a data:image/...;base64,... URI")
    payload = match.group(1)
    if len(payload) * 3 // 4 - payload[-2:].count("=") > MAX_IMAGE_BYTES:
        raise Rejection("too_large", f"{path}: image larger than 10 MB")
    try:
        base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(path, "the data URI is not valid base64") from None
    return text


def _frame(path: str, value: Any, known: Callable[[str], bool]) -> dict[str, Any]:
    """A keyframe: `{type: "image", url}` or `{type: "generation", id}` (OpenAPI Keyframe)."""
    if not isinstance(value, dict):
        raise invalid(path, f"expected an object, got {_kind(value)}")
    kind = value.get("type")
    if kind == "image":
        return check_object(path, value, {"type": _string, "url": _image}, {"type", "url"}, known)
    if kind == "generation":
        frame = check_object(path, value, {"type": _string, "id": _string}, {"type", "id"}, known)
        if not known(frame["id"]):
            raise Rejection("task_not_exist", f"{path}.id: no task with id {frame['id']!r}")
        return frame
    raise invalid(f"{path}.type", 'expected "image" or "generation"')


def _keyframes(path: str, value: Any, known: Callable[[str], bool]) -> dict[str, Any]:
    return check_object(path, value, {"frame0": _frame, "frame1": _frame}, set(), known)


def _concepts(path: str, value: Any, known: Callable[[str], bool]) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(path, f"expected an array, got {_kind(value)}")
    spec: dict[str, Check] = {"key": choice(*CONCEPTS)}
    return [check_object(f"{path}[{i}]", c, spec, {"key"}, known) for i, c in enumerate(value)]


def _ids(path: str, value: Any, known: Callable[[str], bool]) -> list[str]:
    if not isinstance(value, list):
        raise invalid(path, f"expected an array of strings, got {_kind(value)}")
    return [_string(f"{path}[{i}]", v, known) for i, v in enumerate(value)]


def check_object(
    path: str,
    value: Any,
    spec: Mapping[str, Check],
    required: set[str],
    known: Callable[[str], bool],
) -> dict[str, Any]:
    """Check an object against a field spec: no unknown field, required ones present, each typed."""
    if not isinstance(value, dict):
        raise invalid(path or "body", f"expected a JSON object, got {_kind(value)}")
    prefix = f"{path}." if path else ""
    for name in value:
        if name not in spec:
            raise invalid(f"{prefix}{name}", "unknown field for this gateway")
    for name in sorted(required):
        if name not in value:
            raise invalid(f"{prefix}{name}", "field required")
    return {name: spec[name](f"{prefix}{name}", v, known) for name, v in value.items()}


def _no_known(_id: str) -> bool:
    return False


def _relay_base(prompt_field: str) -> dict[str, Check]:
    return {prompt_field: _prompt, "expand_prompt": _boolean, "notify_hook": _url}


_IMAGES: dict[str, Check] = {"image_url": _image, "image_end_url": _image}

# Submit (and extend) fields per relay dialect: DIALECTS.md §3, one column each.
RELAY_SUBMIT: dict[str, tuple[dict[str, Check], set[str]]] = {
    "anyapi": (
        {
            **_relay_base("user_prompt"),
            **_IMAGES,
            "loop": _boolean,
            "model_name": choice("ray-v1", "ray-v2"),
            "resolution": choice("720p", "1080p"),
            "duration": choice("5s"),
        },
        {"user_prompt"},
    ),
    "rixapi": (
        {
            **_relay_base("prompt"),
            "aspect_ratio": choice(*RELAY_ASPECT_RATIOS),
            "loop": _boolean,
            "keyframes": _keyframes,
        },
        {"prompt", "aspect_ratio"},
    ),
    "xfusion": (
        {
            **_relay_base("user_prompt"),
            **_IMAGES,
            "aspect_ratio": choice(*RELAY_ASPECT_RATIOS),
            "expand_prompt": _string_flag,
        },
        {"user_prompt"},
    ),
    "gptge": (
        {
            **_relay_base("user_prompt"),
            **_IMAGES,
            "aspect_ratio": choice(*RELAY_ASPECT_RATIOS),
            "loop": _boolean,
        },
        {"user_prompt"},
    ),
}

OFFICIAL_SUBMIT: dict[str, Check] = {
    "generation_type": choice("video"),
    "prompt": _official_prompt,
    "aspect_ratio": choice(*OFFICIAL_ASPECT_RATIOS),
    "loop": _boolean,
    "keyframes": _keyframes,
    "callback_url": _url,
    "model": choice(*OFFICIAL_MODELS),
    "resolution": choice(*OFFICIAL_RESOLUTIONS),
    "duration": choice(*OFFICIAL_DURATIONS),
    "concepts": _concepts,
}


def _refs(body: dict[str, Any]) -> list[str]:
    frames = body.get("keyframes") or {}
    return [f["id"] for f in frames.values() if f.get("type") == "generation"]


def relay_submit(dialect: str, body: Any, known: Callable[[str], bool]) -> Accepted:
    """A relay submit or extend body."""
    spec, required = RELAY_SUBMIT[dialect]
    checked = check_object("", body, spec, required, known)
    return Accepted(
        body=checked,
        prompt=checked.get("prompt", checked.get("user_prompt", "")),
        aspect_ratio=checked.get("aspect_ratio"),
        model=checked.get("model_name"),
        callback_url=checked.get("notify_hook"),
        generation_refs=_refs(checked),
    )


def official_submit(body: Any, known: Callable[[str], bool]) -> Accepted:
    """An official GenerationRequest: `model` required; a prompt unless keyframes are given."""
    required = {"model"} if isinstance(body, dict) and "keyframes" in body else {"model", "prompt"}
    checked = check_object("", body, OFFICIAL_SUBMIT, required, known)
    return Accepted(
        body=checked,
        prompt=checked.get("prompt", ""),
        aspect_ratio=checked.get("aspect_ratio"),
        model=checked["model"],
        callback_url=checked.get("callback_url"),
        generation_refs=_refs(checked),
    )


def relay_audio(body: Any) -> Accepted:
    """RixAPI's video-to-audio body `{prompt, negative_prompt?, notify_hook?}` (DIALECTS.md §2)."""
    spec = {"prompt": _prompt, "negative_prompt": _string, "notify_hook": _url}
    checked = check_object("", body, spec, {"prompt"}, _no_known)
    return Accepted(body=checked, prompt=checked["prompt"], callback_url=checked.get("notify_hook"))


def official_audio(body: Any) -> Accepted:
    """The official AudioGenerationRequest."""
    spec = {
        "generation_type": choice("add_audio"),
        "prompt": _prompt,
        "negative_prompt": _string,
        "callback_url": _url,
    }
    checked = check_object("", body, spec, {"prompt"}, _no_known)
    return Accepted(
        body=checked, prompt=checked["prompt"], callback_url=checked.get("callback_url")
    )


def official_upscale(body: Any) -> Accepted:
    """The official UpscaleVideoGenerationRequest; an upscale needs a target resolution."""
    spec = {
        "generation_type": choice("upscale_video"),
        "resolution": choice(*OFFICIAL_RESOLUTIONS),
        "callback_url": _url,
    }
    checked = check_object("", body, spec, {"resolution"}, _no_known)
    return Accepted(body=checked, callback_url=checked.get("callback_url"))


def batch_ids(body: Any) -> list[str]:
    """The batch query body `{"ids": [...]}`."""
    checked = check_object("", body, {"ids": _ids}, {"ids"}, _no_known)
    ids: list[str] = checked["ids"]
    return ids


def upload_url(body: Any) -> str:
    """The file upload body `{"url": "<http url or data URI>"}`."""
    checked = check_object("", body, {"url": _image}, {"url"}, _no_known)
    url: str = checked["url"]
    return url
