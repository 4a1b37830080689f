"""Relay submit bodies: exactly the fields of DIALECTS.md §3, one rejection per rule."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest

from ._support import Reply, serve

pytestmark = pytest.mark.anyio

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()
HOOK = "https://hooks.example.com/luma"
JSON = {"Content-Type": "application/json"}

VALID: list[tuple[str, dict[str, Any]]] = [
    (
        "anyapi",
        {
            "user_prompt": "wind in the trees",
            "model_name": "ray-v2",
            "resolution": "1080p",
            "duration": "5s",
            "loop": True,
            "expand_prompt": False,
            "image_url": "https://img.example.com/a.jpg",
            "image_end_url": PNG,
            "notify_hook": HOOK,
        },
    ),
    ("anyapi", {"user_prompt": "x", "model_name": "ray-v1", "resolution": "720p"}),
    (
        "rixapi",
        {
            "prompt": "cat dance",
            "aspect_ratio": "9:16",
            "loop": False,
            "expand_prompt": True,
            "keyframes": {
                "frame0": {"type": "image", "url": "https://img.example.com/a.jpg"},
                "frame1": {"type": "image", "url": PNG},
            },
            "notify_hook": HOOK,
        },
    ),
    (
        "xfusion",
        {
            "user_prompt": "cat dance",
            "aspect_ratio": "16:9",
            "expand_prompt": "true",
            "image_url": "http://dummyimage.com/400x400",
            "image_end_url": "http://dummyimage.com/400x400",
            "notify_hook": HOOK,
        },
    ),
    ("xfusion", {"user_prompt": "cat dance", "expand_prompt": "false"}),
    (
        "gptge",
        {
            "user_prompt": "cat dance",
            "expand_prompt": True,
            "image_url": "https://example.com/reference.png",
            "image_end_url": "https://example.com/keyframe.png",
            "notify_hook": HOOK,
            "loop": True,
            "aspect_ratio": "4:3",
        },
    ),
]


@pytest.mark.parametrize(("dialect", "body"), VALID)
async def test_documented_bodies_are_accepted(dialect: str, body: dict[str, Any]) -> None:
    """Every field a dialect documents is accepted with a valid value."""
    async with serve(dialect=dialect) as api:
        reply = await api.post("/luma/generations", body)
        assert reply.status in (200, 201), reply.text
        assert api.emu.stats.creations == 1


INVALID: list[tuple[str, Any, str]] = [
    # (dialect, body, text the message must contain)
    ("anyapi", {}, "user_prompt"),
    ("anyapi", {"user_prompt": "   "}, "user_prompt"),
    ("anyapi", {"user_prompt": 42}, "user_prompt"),
    ("anyapi", {"prompt": "x"}, "prompt"),
    ("anyapi", {"user_prompt": "x", "aspect_ratio": "16:9"}, "aspect_ratio"),
    ("anyapi", {"user_prompt": "x", "model_name": "ray-2"}, "model_name"),
    ("anyapi", {"user_prompt": "x", "resolution": "4k"}, "resolution"),
    ("anyapi", {"user_prompt": "x", "duration": "9s"}, "duration"),
    ("anyapi", {"user_prompt": "x", "duration": 5}, "duration"),
    ("anyapi", {"user_prompt": "x", "expand_prompt": "true"}, "expand_prompt"),
    ("anyapi", {"user_prompt": "x", "loop": "yes"}, "loop"),
    ("anyapi", {"user_prompt": "x", "image_url": "ftp://x.test/a.png"}, "image_url"),
    ("anyapi", {"user_prompt": "x", "image_url": "a.png"}, "image_url"),
    ("anyapi", {"user_prompt": "x", "image_url": None}, "image_url"),
    ("anyapi", {"user_prompt": "x", "image_end_url": "data:text/plain;base64,AAAA"}, "image_end"),
    ("anyapi", {"user_prompt": "x", "image_url": "data:image/png;base64,@@@"}, "image_url"),
    ("anyapi", {"user_prompt": "x", "notify_hook": "enim"}, "notify_hook"),
    ("anyapi", {"user_prompt": "x", "callback_url": HOOK}, "callback_url"),
    ("rixapi", {"prompt": "x"}, "aspect_ratio"),
    ("rixapi", {"user_prompt": "x", "aspect_ratio": "16:9"}, "user_prompt"),
    ("rixapi", {"prompt": "x", "aspect_ratio": "21:9"}, "aspect_ratio"),
    ("rixapi", {"prompt": "x", "aspect_ratio": "16:9", "expand_prompt": "true"}, "expand_prompt"),
    ("rixapi", {"prompt": "x", "aspect_ratio": "16:9", "image_url": PNG}, "image_url"),
    ("rixapi", {"prompt": "x", "aspect_ratio": "16:9", "task_id": "abc"}, "task_id"),
    ("rixapi", {"prompt": "x", "aspect_ratio": "16:9", "keyframes": []}, "keyframes"),
    (
        "rixapi",
        {"prompt": "x", "aspect_ratio": "16:9", "keyframes": {"frame2": {"type": "image"}}},
        "keyframes.frame2",
    ),
    (
        "rixapi",
        {"prompt": "x", "aspect_ratio": "16:9", "keyframes": {"frame0": {"type": "video"}}},
        "keyframes.frame0.type",
    ),
    (
        "rixapi",
        {"prompt": "x", "aspect_ratio": "16:9", "keyframes": {"frame0": {"type": "image"}}},
        "keyframes.frame0.url",
    ),
    ("xfusion", {"user_prompt": "x", "expand_prompt": True}, "expand_prompt"),
    ("xfusion", {"user_prompt": "x", "expand_prompt": "yes"}, "expand_prompt"),
    ("xfusion", {"user_prompt": "x", "loop": True}, "loop"),
    ("xfusion", {"user_prompt": "x", "aspect_ratio": "2:1"}, "aspect_ratio"),
    ("gptge", {"user_prompt": "x", "expand_prompt": "false"}, "expand_prompt"),
    ("gptge", {"user_prompt": "x", "model_name": "ray-v2"}, "model_name"),
    ("gptge", {"user_prompt": "x", "resolution": "720p"}, "resolution"),
    ("gptge", ["user_prompt"], "body"),
]


@pytest.mark.parametrize(("dialect", "body", "field"), INVALID)
async def test_invalid_bodies_are_refused(dialect: str, body: Any, field: str) -> None:
    """A missing, mistyped, out-of-range or foreign field is 400 invalid_request naming it."""
    async with serve(dialect=dialect) as api:
        reply = await api.post("/luma/generations", body)
        assert reply.status == 400, reply.text
        assert reply.body["code"] == "invalid_request"
        assert reply.body["data"] is None
        assert field in reply.body["message"]
        stats = api.emu.stats
        assert (stats.creations, stats.rejected) == (0, 1)


async def test_extend_bodies_are_validated_too() -> None:
    """Extend takes the submit's fields, with the same rules."""
    async with serve(dialect="gptge") as api:
        task_id = (await api.post("/luma/generations", {"user_prompt": "x"})).body["id"]
        reply = await api.post(f"/luma/generations/{task_id}/extend", {"user_prompt": 3})
        assert reply.status == 400
        assert "user_prompt" in reply.body["message"]


async def test_body_that_is_not_json() -> None:
    """A body that does not parse is 400 invalid_request."""
    async with serve(dialect="anyapi") as api:
        reply = await api.call("POST", "/luma/generations", data=b"{not json")
        assert (reply.status, reply.body["code"]) == (400, "invalid_request")
        empty = await api.call("POST", "/luma/generations", data=b"")
        assert empty.status == 400


async def test_rixapi_keyframe_may_reference_a_known_generation() -> None:
    """A `{type: "generation", id}` frame must name a task of this gateway."""
    async with serve(dialect="rixapi") as api:
        known = (await api.post("/luma/generations", {"prompt": "a", "aspect_ratio": "1:1"})).body
        frames = {"frame0": {"type": "generation", "id": known["id"]}}
        body = {"prompt": "b", "aspect_ratio": "1:1", "keyframes": frames}
        assert (await api.post("/luma/generations", body)).status == 201
        frames["frame0"]["id"] = "not-a-task"
        reply = await api.post("/luma/generations", body)
        assert (reply.status, reply.body["code"]) == (400, "task_not_exist")


async def test_image_over_ten_megabytes_is_413() -> None:
    """A data URI whose decoded image is above 10 MB is refused with 413."""
    big = "data:image/jpeg;base64," + base64.b64encode(bytes(10 * 1024 * 1024 + 1)).decode()
    exact = "data:image/jpeg;base64," + base64.b64encode(bytes(10 * 1024 * 1024)).decode()
    async with serve(dialect="gptge") as api:

        async def send(image: str) -> Reply:
            # A streamed body: aiohttp warns about large raw bytes bodies.
            data = io.BytesIO(json.dumps({"user_prompt": "x", "image_url": image}).encode())
            return await api.call("POST", "/luma/generations", data=data, headers=JSON)

        reply = await send(big)
        assert reply.status == 413
        assert "image_url" in reply.body["message"]
        assert (await send(exact)).status == 200
