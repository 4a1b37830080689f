"""Relay dialects: the happy paths of every route, over real sockets."""

from __future__ import annotations

import re

import pytest

from ._support import ISO_MICROS, RELAY, FakeClock, fast, prompt_body, serve

pytestmark = pytest.mark.anyio

SUBMIT_STATUS = {"anyapi": 200, "rixapi": 201, "xfusion": 201, "gptge": 200}
PENDING_KEYS = {"id", "prompt", "state", "created_at", "video", "liked", "estimate_wait_seconds"}


@pytest.mark.parametrize("dialect", RELAY)
async def test_submit_answers_a_pending_task_object(dialect: str) -> None:
    """A submit answers the older-form pending task object, 201 where the seed shows 201."""
    async with serve(dialect=dialect) as api:
        reply = await api.post("/luma/generations", prompt_body(dialect, "cat dance"))
        assert reply.status == SUBMIT_STATUS[dialect]
        task = reply.body
        expected = PENDING_KEYS | ({"server_id"} if dialect == "rixapi" else set())
        assert set(task) == expected
        assert task["state"] == "pending"
        assert task["prompt"] == "cat dance"
        assert task["video"] is None
        assert task["liked"] is None
        assert task["estimate_wait_seconds"] is None
        assert re.match(ISO_MICROS, task["created_at"])
        assert api.emu.tasks_created() == [task["id"]]
        assert reply.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("dialect", RELAY)
async def test_task_walks_through_states_to_links(dialect: str, clock: FakeClock) -> None:
    """pending -> processing -> completed, and then the task carries CDN links."""
    async with serve(**fast(dialect=dialect, clock=clock, time_scale=1.0)) as api:
        task_id = (await api.post("/luma/generations", prompt_body(dialect))).body["id"]
        path = f"/luma/generations/{task_id}"
        assert (await api.get(path)).body["state"] == "pending"
        clock.advance(1.5)
        assert (await api.get(path)).body["state"] == "processing"
        clock.advance(2.0)
        task = (await api.get(path)).body
        assert task["state"] == "completed"
        cdn = api.emu.cdn_url
        video = task["video"]
        assert video["url"].startswith(f"{cdn}/videos/{task_id}.mp4?expires=")
        assert video["download_url"].startswith(f"{cdn}/videos/{task_id}_raw.mp4?")
        assert video["thumbnail"].startswith(f"{cdn}/images/")
        assert (video["width"], video["height"]) == (1360, 752)
        assert task["video_raw"]["url"].startswith(f"{cdn}/videos/{task_id}_raw.mp4?")
        assert task["thumbnail"]["url"].startswith(f"{cdn}/images/{task_id}_thumb.jpg?")
        assert task["last_frame"]["url"].startswith(f"{cdn}/images/{task_id}_last_frame.jpg?")
        assert re.fullmatch(r"[0-9a-f]{32}", task["batch_id"])
        assert re.search(r"sig=[0-9a-f]+$", video["url"])


async def test_aspect_ratio_sets_the_video_size(clock: FakeClock) -> None:
    """9:16 gives a portrait video."""
    async with serve(**fast(dialect="gptge", clock=clock)) as api:
        body = prompt_body("gptge", aspect_ratio="9:16")
        task_id = (await api.post("/luma/generations", body)).body["id"]
        clock.advance(5)
        video = (await api.get(f"/luma/generations/{task_id}")).body["video"]
        assert (video["width"], video["height"]) == (752, 1360)


async def test_failed_task_carries_a_reason(clock: FakeClock) -> None:
    """A prompt with the fail marker ends failed, with a string failure_reason and no video."""
    async with serve(**fast(dialect="anyapi", clock=clock)) as api:
        body = prompt_body("anyapi", "please [fail] now")
        task_id = (await api.post("/luma/generations", body)).body["id"]
        clock.advance(5)
        task = (await api.get(f"/luma/generations/{task_id}")).body
        assert task["state"] == "failed"
        assert isinstance(task["failure_reason"], str)
        assert task["failure_reason"]
        assert task["video"] is None


async def test_eta_counts_down_when_enabled(clock: FakeClock) -> None:
    """With eta=True, estimate_wait_seconds is the time left; null once terminal."""
    async with serve(**fast(dialect="anyapi", clock=clock, eta=True)) as api:
        task = (await api.post("/luma/generations", prompt_body("anyapi"))).body
        assert task["estimate_wait_seconds"] == 3
        clock.advance(2)
        assert (await api.get(f"/luma/generations/{task['id']}")).body["estimate_wait_seconds"] == 1
        clock.advance(2)
        assert (await api.get(f"/luma/generations/{task['id']}")).body[
            "estimate_wait_seconds"
        ] is None


@pytest.mark.parametrize("dialect", RELAY)
async def test_extend_creates_a_new_task(dialect: str) -> None:
    """Extending a known task answers a new task object with the submit's status."""
    async with serve(dialect=dialect) as api:
        first = (await api.post("/luma/generations", prompt_body(dialect))).body["id"]
        reply = await api.post(f"/luma/generations/{first}/extend", prompt_body(dialect, "more"))
        assert reply.status == SUBMIT_STATUS[dialect]
        assert reply.body["id"] != first
        assert reply.body["state"] == "pending"
        assert api.emu.tasks_created() == [first, reply.body["id"]]
        stats = api.emu.stats
        assert (stats.by_route["submit"], stats.by_route["extend"], stats.creations) == (1, 1, 2)


async def test_extend_of_an_unknown_id_is_task_not_exist() -> None:
    """An id the gateway never made is 400 task_not_exist, and nothing is created."""
    async with serve(dialect="anyapi") as api:
        reply = await api.post("/luma/generations/nope/extend", prompt_body("anyapi"))
        assert reply.status == 400
        assert reply.body == {"code": "task_not_exist", "message": "task_not_exist", "data": None}
        assert api.emu.tasks_created() == []


async def test_extend_of_another_gateways_id_is_task_not_exist() -> None:
    """A task id from another dialect's emulator (same seed) is unknown here."""
    async with serve(dialect="anyapi") as other, serve(dialect="gptge") as api:
        foreign = (await other.post("/luma/generations", prompt_body("anyapi"))).body["id"]
        reply = await api.post(f"/luma/generations/{foreign}/extend", prompt_body("gptge"))
        assert reply.status == 400
        assert reply.body["code"] == "task_not_exist"


async def test_get_of_an_unknown_id_is_404() -> None:
    """By default an unknown id answers 404."""
    async with serve(dialect="xfusion") as api:
        reply = await api.get("/luma/generations/unknown-id")
        assert reply.status == 404
        assert api.emu.stats.rejected == 1


async def test_batch_answers_known_ids_in_order() -> None:
    """POST /luma/tasks answers a bare list; unknown ids are absent, duplicates once."""
    async with serve(dialect="rixapi") as api:
        a = (await api.post("/luma/generations", prompt_body("rixapi", "a"))).body["id"]
        b = (await api.post("/luma/generations", prompt_body("rixapi", "b"))).body["id"]
        reply = await api.post("/luma/tasks", {"ids": [b, "unknown", a, b]})
        assert reply.status == 200
        assert [t["id"] for t in reply.body] == [b, a]
        assert reply.body[0]["server_id"]
        assert api.emu.stats.by_route["batch"] == 1


async def test_batch_body_is_validated() -> None:
    """ids must be a list of strings."""
    async with serve(dialect="anyapi") as api:
        assert (await api.post("/luma/tasks", {"ids": "abc"})).status == 400
        assert (await api.post("/luma/tasks", {"task_ids": []})).status == 400


@pytest.mark.parametrize("dialect", RELAY)
async def test_no_watermark_link(dialect: str, clock: FakeClock) -> None:
    """download_video_url is 400 until completed, then the clean CDN link that downloads."""
    async with serve(**fast(dialect=dialect, clock=clock)) as api:
        task_id = (await api.post("/luma/generations", prompt_body(dialect))).body["id"]
        path = f"/luma/generations/{task_id}/download_video_url"
        early = await api.get(path)
        assert early.status == 400
        assert early.body["code"] == "invalid_request"
        clock.advance(5)
        reply = await api.get(path)
        assert reply.status == 200
        assert set(reply.body) == {"url"}
        url = reply.body["url"]
        assert url.startswith(f"{api.emu.cdn_url}/videos/{task_id}_raw.mp4?expires=")
        video = await api.fetch(url)
        assert video.status == 200
        assert video.headers["Content-Type"] == "video/mp4"
        assert api.emu.stats.by_route["no_watermark"] == 2


async def test_no_watermark_of_an_unknown_id() -> None:
    """An unknown id is 400 task_not_exist on the link route."""
    async with serve(dialect="gptge") as api:
        reply = await api.get("/luma/generations/nope/download_video_url")
        assert (reply.status, reply.body["code"]) == (400, "task_not_exist")


async def test_rixapi_audio_makes_a_pollable_task(clock: FakeClock) -> None:
    """RixAPI's audio route answers a new task object that completes like a video."""
    async with serve(**fast(dialect="rixapi", clock=clock)) as api:
        video_id = (await api.post("/luma/generations", prompt_body("rixapi"))).body["id"]
        body = {"prompt": "rain on a roof", "negative_prompt": "music"}
        early = await api.post(f"/luma/generations/{video_id}/audio", body)
        assert early.status == 400
        clock.advance(5)
        reply = await api.post(f"/luma/generations/{video_id}/audio", body)
        assert reply.status == 201
        audio = reply.body
        assert audio["id"] != video_id
        assert audio["state"] == "pending"
        assert audio["prompt"] == "rain on a roof"
        clock.advance(5)
        done = (await api.get(f"/luma/generations/{audio['id']}")).body
        assert done["state"] == "completed"
        assert done["video"]["url"]
        assert api.emu.stats.by_route["audio"] == 2
        assert api.emu.tasks_created() == [video_id, audio["id"]]


async def test_rixapi_audio_validation() -> None:
    """Audio needs a prompt and a known task."""
    async with serve(dialect="rixapi") as api:
        unknown = await api.post("/luma/generations/nope/audio", {"prompt": "rain"})
        assert (unknown.status, unknown.body["code"]) == (400, "task_not_exist")
        video_id = (await api.post("/luma/generations", prompt_body("rixapi"))).body["id"]
        reply = await api.post(f"/luma/generations/{video_id}/audio", {"negative_prompt": "x"})
        assert reply.status == 400
        assert "prompt" in reply.body["message"]


@pytest.mark.parametrize("dialect", ["anyapi", "xfusion", "gptge"])
async def test_audio_route_is_rixapi_only(dialect: str) -> None:
    """Other relay dialects have no audio route (DIALECTS.md §0)."""
    async with serve(dialect=dialect) as api:
        task_id = (await api.post("/luma/generations", prompt_body(dialect))).body["id"]
        reply = await api.post(f"/luma/generations/{task_id}/audio", {"prompt": "rain"})
        assert reply.status == 404


async def test_file_upload() -> None:
    """file_upload answers {id, presigned_url, public_url}; the public URL serves an image."""
    async with serve(dialect="anyapi") as api:
        reply = await api.post("/luma/generations/file_upload", {"url": "https://x.test/a.png"})
        assert reply.status == 200
        assert set(reply.body) == {"id", "presigned_url", "public_url"}
        image = await api.fetch(reply.body["public_url"])
        assert image.status == 200
        assert image.headers["Content-Type"] == "image/jpeg"
        assert (await api.fetch(reply.body["presigned_url"])).status == 200
        bad = await api.post("/luma/generations/file_upload", {"url": "ftp://x.test/a.png"})
        assert bad.status == 400
        assert api.emu.stats.by_route["file_upload"] == 2


async def test_prefix_moves_every_route() -> None:
    """A channel prefix ("/pro") is part of the base URL; the bare path is unknown."""
    async with serve(dialect="anyapi", prefix="pro/") as api:
        assert api.emu.base_url.endswith("/pro")
        assert (await api.post("/luma/generations", prompt_body("anyapi"))).status == 200
        root = api.emu.base_url.removesuffix("/pro")
        bare = await api.post(f"{root}/luma/generations", prompt_body("anyapi"))
        assert bare.status == 404
        assert bare.body["error"]["message"] == "Invalid URL (POST /luma/generations)"
