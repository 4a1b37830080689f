"""Wire views of Luma's official Dream Machine API and how they become `Generation`s."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from .._http import HttpResponse
from .._models import Generation, ImageAsset, VideoAsset
from ._decoding import DECODE_ERRORS, lenient
from ._relay_wire import check_answer, not_understood, parse_time, state_of

__all__ = [
    "official_concepts",
    "official_created",
    "official_credits",
    "official_generation",
    "official_generations",
    "official_ping",
]


class _Assets(msgspec.Struct, gc=False):
    video: str | None = None
    image: str | None = None
    progress_video: str | None = None


class _Request(msgspec.Struct, gc=False):
    prompt: str | None = None
    generation_type: str | None = None


class OfficialView(msgspec.Struct):
    """A Generation object (reference/luma-official-openapi.yaml), every field optional."""

    id: str | None = None
    # Plain strings, not enums: a new generation type or model must not break parsing.
    generation_type: str | None = None
    state: str | None = None
    failure_reason: str | None = None
    created_at: str | None = None
    assets: _Assets | None = None
    model: str | None = None
    request: _Request | None = None
    detail: msgspec.Raw = msgspec.Raw()  # empty when absent


class _ListView(msgspec.Struct):
    generations: list[OfficialView]
    has_more: bool | None = None


class _CreditsView(msgspec.Struct):
    credit_balance: float


_decode_one = lenient(msgspec.json.Decoder(OfficialView, strict=False))
_decode_list = lenient(msgspec.json.Decoder(_ListView | list[OfficialView], strict=False))
_decode_credits = msgspec.json.Decoder(_CreditsView, strict=False).decode
_decode_concepts = msgspec.json.Decoder(list[str | dict[str, Any]], strict=False).decode
#: Request types whose result is an image (the spec's `generation_type` says "image" for them).
_IMAGE_REQUESTS = frozenset({"image", "reframe_image"})


def _is_image(view: OfficialView) -> bool:
    """An image generation: its type says so, else its request's type or a Photon model."""
    if view.generation_type:
        return view.generation_type == "image"
    asked = view.request.generation_type if view.request else None
    if asked:
        return asked in _IMAGE_REQUESTS
    return bool(view.model and view.model.startswith("photon"))


def _from_view(view: OfficialView, response: HttpResponse) -> Generation:
    if not view.id:
        raise not_understood(response, "a generation")
    assets = view.assets
    video = assets.video if assets else None
    image = assets.image if assets else None
    is_image = _is_image(view)
    return Generation(
        id=view.id,
        state=state_of(view.state),
        raw_state=view.state,
        prompt=(view.request.prompt if view.request else None) or None,
        created_at=parse_time(view.created_at),
        # An image's file is `assets.image`; a video's `assets.image` is its thumbnail.
        video=VideoAsset(url=video, thumbnail_url=image) if video and not is_image else None,
        failure_reason=view.failure_reason or None,
        kind="image" if is_image else "video",
        image=ImageAsset(image) if image and is_image else None,
    )


def official_generation(response: HttpResponse) -> Generation:
    """One Generation object."""
    check_answer(response)
    try:
        view = _decode_one(response.body)
    except DECODE_ERRORS:
        raise not_understood(response, "a generation") from None
    return _from_view(view, response)


def official_generations(response: HttpResponse) -> list[Generation]:
    """The generations of a list answer (`{generations: [...]}`, or a bare list)."""
    check_answer(response)
    try:
        top = _decode_list(response.body)
    except DECODE_ERRORS:
        raise not_understood(response, "a list of generations") from None
    views = top.generations if isinstance(top, _ListView) else top
    return [_from_view(view, response) for view in views if view.id]


def official_credits(response: HttpResponse) -> float:
    """`credit_balance` from `GET /credits` (USD cents)."""
    check_answer(response)
    try:
        return _decode_credits(response.body).credit_balance
    except DECODE_ERRORS:
        raise not_understood(response, "a credit balance") from None


def official_concepts(response: HttpResponse) -> list[str]:
    """The concept keys of `GET /generations/concepts/list` (strings; `{key}` objects too)."""
    check_answer(response)
    try:
        items = _decode_concepts(response.body)
    except DECODE_ERRORS:
        raise not_understood(response, "a list of concepts") from None
    keys = [item if isinstance(item, str) else item.get("key") for item in items]
    return [key for key in keys if isinstance(key, str) and key]


def official_ping(response: HttpResponse) -> None:
    """`GET /ping`: a 2xx is all it takes; an error answer raises like any other."""
    check_answer(HttpResponse(response.status, response.headers, response.body or b"{}"))


class _Echo(msgspec.Struct):
    """Just what a generation says about the request that made it."""

    id: str | None = None
    created_at: str | None = None
    model: str | None = None
    request: dict[str, Any] | None = None


class _EchoList(msgspec.Struct):
    generations: list[_Echo]


# Strict on purpose: a lenient decode could drop one candidate's id or time and make another
# the single match, recovering the wrong task for an uncertain submit. Refusing is safe.
_decode_echoes = msgspec.json.Decoder(_EchoList | list[_Echo], strict=False).decode
#: The fields that tell one create from another (API.md: prompt, model, ratio, keyframes...),
#: for every kind of create: images, modify and reframe send the rest.
_MATCHED = (
    "prompt",
    "model",
    "aspect_ratio",
    "keyframes",
    "loop",
    "resolution",
    "duration",
    "concepts",
    "media",
    "mode",
    "first_frame",
    "format",
    "image_ref",
    "style_ref",
    "character_ref",
    "modify_image_ref",
    "grid_position_x",
    "grid_position_y",
    "x_start",
    "x_end",
    "y_start",
    "y_end",
    "resized_width",
    "resized_height",
)


def official_created(
    listing: HttpResponse, sent: dict[str, Any], since: datetime, known: set[str]
) -> list[str]:
    """Ids in a list answer that `sent` may have created: made after `since`, same request."""
    check_answer(listing)
    try:
        top = _decode_echoes(listing.body)
    except DECODE_ERRORS:
        raise not_understood(listing, "a list of generations") from None
    echoes = top.generations if isinstance(top, _EchoList) else top
    found = []
    for echo in echoes:
        if not echo.id or echo.id in known:
            continue
        created = parse_time(echo.created_at)
        if created is None or created < since:
            continue
        said = dict(echo.request or {})
        if echo.model and "model" not in said:
            said["model"] = echo.model
        if not all(said.get(key) == sent[key] for key in _MATCHED if key in sent):
            continue
        # The type may be left out of the echo (the spec gives it a default): compared only
        # where both say it, so a video never matches an image create of the same prompt.
        kind, echoed = sent.get("generation_type"), said.get("generation_type")
        if kind is not None and echoed is not None and kind != echoed:
            continue
        found.append(echo.id)
    return found
