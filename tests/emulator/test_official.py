"""The official dialect: every route of the OpenAPI the client uses, and its validation."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ._support import ISO_MICROS, Api, FakeClock, fast, serve

pytestmark = pytest.mark.anyio

GENERATION_KEYS = {
    "id",
    "generation_type",
    "state",
    "failure_reason",
    "created_at",
    "assets",
    "model",
    "request",
}


async def _create(api: Api, prompt: str = "a serene lake", **extra: Any) -> dict[str, Any]:
    reply = await api.post("/generations/video", {"prompt": prompt, "model": "ray-2", **extra})
    assert reply.status == 201, reply.text
    body: dict[str, Any] = reply.body
    return body


async def test_base_url_is_the_documented_root() -> None:
    """base_url ends in /dream-machine/v1."""
    async with serve(dialect="official") as api:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/dream-machine/v1", api.emu.base_url)


async def test_create_and_poll_a_generation(clock: FakeClock) -> None:
    """201 with a queued Generation; dreaming; completed with a clean video asset."""
    async with serve(**fast(dialect="official", clock=clock)) as api:
        gen = await _create(api, aspect_ratio="21:9", resolution="4k", duration="9s", loop=True)
        assert set(gen) == GENERATION_KEYS
        assert (gen["state"], gen["generation_type"], gen["model"]) == ("queued", "video", "ray-2")
        assert gen["assets"] is None
        assert gen["failure_reason"] is None
        assert re.match(ISO_MICROS, gen["created_at"])
        assert gen["request"]["aspect_ratio"] == "21:9"
        assert gen["request"]["generation_type"] == "video"
        clock.advance(1.5)
        assert (await api.get(f"/generations/{gen['id']}")).body["state"] == "dreaming"
        clock.advance(2)
        done = (await api.get(f"/generations/{gen['id']}")).body
        assert done["state"] == "completed"
        video = done["assets"]["video"]
        assert video.startswith(f"{api.emu.cdn_url}/videos/{gen['id']}_raw.mp4?expires=")
        assert done["assets"]["image"].startswith(f"{api.emu.cdn_url}/images/")
        assert (await api.fetch(video)).status == 200


async def test_legacy_create_path() -> None:
    """The older POST /generations also creates."""
    async with serve(dialect="official") as api:
        reply = await api.post("/generations", {"prompt": "a lake", "model": "ray-flash-2"})
        assert reply.status == 201
        assert reply.body["model"] == "ray-flash-2"
        assert api.emu.stats.by_route["submit"] == 1


async def test_failed_generation(clock: FakeClock) -> None:
    """A failed generation has state failed and a failure_reason."""
    async with serve(**fast(dialect="official", clock=clock)) as api:
        gen = await _create(api, "this will [fail]")
        clock.advance(5)
        done = (await api.get(f"/generations/{gen['id']}")).body
        assert done["state"] == "failed"
        assert isinstance(done["failure_reason"], str)
        assert done["assets"] is None


async def test_extend_references_a_known_generation() -> None:
    """Extend is frame0 {type: generation, id}; an unknown id is 400."""
    async with serve(dialect="official") as api:
        first = await _create(api)
        frames = {"frame0": {"type": "generation", "id": first["id"]}}
        second = await _create(api, "and then", keyframes=frames)
        assert second["request"]["keyframes"] == frames
        bad = {"frame0": {"type": "generation", "id": "123e4567-e89b-12d3-a456-426614174000"}}
        reply = await api.post(
            "/generations/video", {"prompt": "x y z", "model": "ray-2", "keyframes": bad}
        )
        assert reply.status == 400
        assert "keyframes.frame0.id" in reply.body["detail"]


async def test_unknown_generation_is_404() -> None:
    """GET of an unknown id: 404 {"detail": "Generation not found"}."""
    async with serve(dialect="official") as api:
        reply = await api.get("/generations/nope")
        assert (reply.status, reply.body) == (404, {"detail": "Generation not found"})


async def test_list_is_newest_first_with_paging() -> None:
    """GET /generations honours limit and offset, newest first."""
    async with serve(dialect="official") as api:
        ids = [(await _create(api, f"prompt {i}"))["id"] for i in range(5)]
        page = (await api.get("/generations?limit=2&offset=1")).body
        assert [g["id"] for g in page["generations"]] == [ids[3], ids[2]]
        assert (page["has_more"], page["count"], page["limit"], page["offset"]) == (True, 2, 2, 1)
        everything = (await api.get("/generations")).body
        assert [g["id"] for g in everything["generations"]] == ids[::-1]
        assert (everything["has_more"], everything["limit"]) == (False, 100)
        assert (await api.get("/generations?limit=abc")).status == 400
        assert (await api.get("/generations?offset=-1")).status == 400
        assert api.emu.stats.by_route["list"] == 4


async def test_delete_removes_a_generation() -> None:
    """DELETE answers 204; then the generation is gone from get and list."""
    async with serve(dialect="official") as api:
        gen = await _create(api)
        reply = await api.call("DELETE", f"/generations/{gen['id']}")
        assert (reply.status, reply.text) == (204, "")
        assert (await api.get(f"/generations/{gen['id']}")).status == 404
        assert (await api.get("/generations")).body["generations"] == []
        assert (await api.call("DELETE", f"/generations/{gen['id']}")).status == 404


@pytest.mark.parametrize(
    ("route", "body", "request_type"),
    [
        ("upscale", {"generation_type": "upscale_video", "resolution": "4k"}, "upscale_video"),
        (
            "audio",
            {"generation_type": "add_audio", "prompt": "waves", "negative_prompt": "music"},
            "add_audio",
        ),
        ("audio", {"prompt": "waves"}, "add_audio"),
    ],
)
async def test_upscale_and_audio(
    route: str, body: dict[str, Any], request_type: str, clock: FakeClock
) -> None:
    """Both need a completed generation and answer a new Generation."""
    async with serve(**fast(dialect="official", clock=clock)) as api:
        gen = await _create(api)
        early = await api.post(f"/generations/{gen['id']}/{route}", body)
        assert early.status == 400
        assert "not completed" in early.body["detail"]
        clock.advance(5)
        reply = await api.post(f"/generations/{gen['id']}/{route}", body)
        assert reply.status == 200
        new = reply.body
        assert set(new) == GENERATION_KEYS
        assert new["id"] != gen["id"]
        assert new["state"] == "queued"
        assert new["request"]["generation_type"] == request_type
        missing = await api.post(f"/generations/nope/{route}", body)
        assert missing.status == 404
        assert api.emu.stats.by_route[route] == 3
        assert api.emu.tasks_created() == [gen["id"], new["id"]]


async def test_upscale_and_audio_bodies_are_validated(clock: FakeClock) -> None:
    """Upscale needs a known resolution; audio needs a prompt."""
    async with serve(**fast(dialect="official", clock=clock)) as api:
        gen = await _create(api)
        clock.advance(5)
        upscale = await api.post(f"/generations/{gen['id']}/upscale", {"resolution": "8k"})
        assert (upscale.status, "resolution" in upscale.body["detail"]) == (400, True)
        audio = await api.post(f"/generations/{gen['id']}/audio", {"negative_prompt": "x"})
        assert (audio.status, "prompt" in audio.body["detail"]) == (400, True)
        kind = await api.post(
            f"/generations/{gen['id']}/audio", {"generation_type": "upscale_video", "prompt": "x"}
        )
        assert kind.status == 400


async def test_credits_ping_concepts() -> None:
    """The small read routes answer their documented shapes."""
    async with serve(dialect="official", credits=3) as api:
        assert (await api.get("/credits")).body == {"credit_balance": 3.0}
        await _create(api)
        assert (await api.get("/credits")).body == {"credit_balance": 2.0}
        assert (await api.get("/ping")).body == {"message": "pong"}
        concepts = (await api.get("/generations/concepts/list")).body
        assert isinstance(concepts, list)
        assert all(isinstance(c, str) for c in concepts)
        assert "dolly_zoom" in concepts
    async with serve(dialect="official") as api:
        balance = (await api.get("/credits")).body["credit_balance"]
        assert isinstance(balance, float)
        assert balance > 0


async def test_quota_is_402_insufficient_credits() -> None:
    """Once credits are spent a creation is 402 and nothing is created."""
    async with serve(dialect="official", credits=1) as api:
        await _create(api)
        reply = await api.post("/generations/video", {"prompt": "again", "model": "ray-2"})
        assert (reply.status, reply.body) == (402, {"detail": "Insufficient credits"})
        assert api.emu.stats.creations == 1


async def test_bad_key_is_401() -> None:
    """A wrong key: 401 {"detail": "Invalid API key is provided"}."""
    async with serve(dialect="official") as api:
        reply = await api.get("/ping", token="wrong")
        assert (reply.status, reply.body) == (401, {"detail": "Invalid API key is provided"})


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"prompt": "a lake"}, "model"),
    ({"prompt": "a lake", "model": "ray-v2"}, "model"),
    ({"model": "ray-2"}, "prompt"),
    ({"prompt": "ab", "model": "ray-2"}, "prompt"),
    ({"prompt": "x" * 5001, "model": "ray-2"}, "prompt"),
    ({"prompt": "a lake", "model": "ray-2", "aspect_ratio": "2:1"}, "aspect_ratio"),
    ({"prompt": "a lake", "model": "ray-2", "resolution": "8k"}, "resolution"),
    ({"prompt": "a lake", "model": "ray-2", "duration": "10s"}, "duration"),
    ({"prompt": "a lake", "model": "ray-2", "duration": 5}, "duration"),
    ({"prompt": "a lake", "model": "ray-2", "loop": "true"}, "loop"),
    ({"prompt": "a lake", "model": "ray-2", "callback_url": "not a url"}, "callback_url"),
    ({"prompt": "a lake", "model": "ray-2", "generation_type": "image"}, "generation_type"),
    ({"prompt": "a lake", "model": "ray-2", "concepts": [{"key": "moonwalk"}]}, "concepts[0].key"),
    ({"prompt": "a lake", "model": "ray-2", "user_prompt": "a lake"}, "user_prompt"),
    (
        {"prompt": "a lake", "model": "ray-2", "keyframes": {"frame0": {"type": "image"}}},
        "keyframes.frame0.url",
    ),
]


@pytest.mark.parametrize(("body", "field"), INVALID)
async def test_invalid_requests_name_the_field(body: dict[str, Any], field: str) -> None:
    """400 {"detail": "..."} naming the offending field."""
    async with serve(dialect="official") as api:
        reply = await api.post("/generations/video", body)
        assert reply.status == 400, reply.text
        assert set(reply.body) == {"detail"}
        assert field in reply.body["detail"]
        assert api.emu.stats.creations == 0


async def test_image_keyframes_and_concepts_are_accepted() -> None:
    """Image keyframes and known concepts pass."""
    async with serve(dialect="official") as api:
        frames = {"frame0": {"type": "image", "url": "https://example.com/image.jpg"}}
        gen = await _create(
            api,
            keyframes=frames,
            concepts=[{"key": "dolly_zoom"}],
            callback_url="https://hooks.example.com/x",
        )
        assert gen["request"]["concepts"] == [{"key": "dolly_zoom"}]
        no_prompt = await api.post("/generations/video", {"model": "ray-2", "keyframes": frames})
        assert no_prompt.status == 201


async def test_unknown_path_is_a_fastapi_404() -> None:
    """A path the API does not have answers {"detail": "Not Found"}."""
    async with serve(dialect="official") as api:
        reply = await api.get("/nothing/here")
        assert (reply.status, reply.body) == (404, {"detail": "Not Found"})
        wrong_method = await api.call("PUT", "/ping")
        assert wrong_method.status == 405
