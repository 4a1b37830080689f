"""Official image, modify and reframe routes: validation, answers, timing, listing, callbacks."""

from __future__ import annotations

from typing import Any, Literal

import anyio
import pytest
from aiohttp import web

from ._support import FakeClock, fast, serve

pytestmark = pytest.mark.anyio

VIDEO_URL = "https://example.com/in.mp4"
IMAGE_URL = "https://example.com/in.jpg"

# Route -> the smallest valid body of that route.
MINIMAL: dict[str, dict[str, Any]] = {
    "/generations/image": {"model": "photon-1", "prompt": "a red fox"},
    "/generations/image/reframe": {
        "generation_type": "reframe_image",
        "media": {"url": IMAGE_URL},
        "model": "photon-flash-1",
        "aspect_ratio": "9:16",
    },
    "/generations/video/reframe": {
        "generation_type": "reframe_video",
        "media": {"url": VIDEO_URL},
        "model": "ray-2",
        "aspect_ratio": "9:16",
    },
    "/generations/video/modify": {
        "generation_type": "modify_video",
        "media": {"url": VIDEO_URL},
        "model": "ray-2",
        "mode": "flex_2",
    },
}
IMAGE_ROUTES = ("/generations/image", "/generations/image/reframe")


@pytest.mark.parametrize("path", list(MINIMAL))
async def test_each_route_creates_a_generation(path: str, clock: FakeClock) -> None:
    """201 with a queued Generation echoing the request; completed with the asset of its kind."""
    async with serve(**fast(dialect="official", clock=clock)) as api:
        reply = await api.post(path, MINIMAL[path])
        assert reply.status == 201, reply.text
        gen = reply.body
        image = path in IMAGE_ROUTES
        assert gen["generation_type"] == ("image" if image else "video")
        assert gen["state"] == "queued"
        assert gen["assets"] is None
        assert gen["model"] == MINIMAL[path]["model"]
        kind = {"generation_type": gen["request"]["generation_type"]}
        assert gen["request"] == {**kind, **MINIMAL[path]}
        clock.advance(10)
        done = (await api.get(f"/generations/{gen['id']}")).body
        assert done["state"] == "completed"
        if image:
            assert set(done["assets"]) == {"image"}
            link = done["assets"]["image"]
            assert link.startswith(f"{api.emu.cdn_url}/images/{gen['id']}.jpg?")
            got = await api.fetch(link)
            assert (got.status, got.headers["Content-Type"]) == (200, "image/jpeg")
        else:
            assert done["assets"]["video"].startswith(f"{api.emu.cdn_url}/videos/{gen['id']}")
        listed = (await api.get("/generations")).body["generations"]
        assert [g["id"] for g in listed] == [gen["id"]]


async def test_image_png_and_references(clock: FakeClock) -> None:
    """format png gives a .png link served as image/png; every reference field is accepted."""
    body = {
        "generation_type": "image",
        "model": "photon-1",
        "prompt": "a lighthouse",
        "aspect_ratio": "21:9",
        "format": "png",
        "image_ref": [{"url": IMAGE_URL, "weight": 0.8}, {"url": "data:image/png;base64,AAAA"}],
        "style_ref": [{"url": IMAGE_URL, "weight": 1}],
        "character_ref": {"identity0": {"images": [IMAGE_URL]}},
        "modify_image_ref": {"url": IMAGE_URL, "weight": 0.5},
        "callback_url": "https://example.com/hook",
    }
    async with serve(**fast(dialect="official", clock=clock)) as api:
        reply = await api.post("/generations/image", body)
        assert reply.status == 201, reply.text
        assert reply.body["request"] == body
        clock.advance(10)
        link = (await api.get(f"/generations/{reply.body['id']}")).body["assets"]["image"]
        assert f"/images/{reply.body['id']}.png?" in link
        got = await api.fetch(link)
        assert (got.status, got.headers["Content-Type"]) == (200, "image/png")
        # The other extension of the same task is not served.
        assert (await api.fetch(link.replace(".png?", ".jpg?"))).status == 403


async def test_reframe_positions_and_first_frame() -> None:
    """Every position integer and first_frame pass on a video reframe."""
    body = {
        **MINIMAL["/generations/video/reframe"],
        "prompt": "",
        "first_frame": {"url": IMAGE_URL},
        "grid_position_x": 10,
        "grid_position_y": 20,
        "x_start": 0,
        "x_end": 100,
        "y_start": 0,
        "y_end": 200,
        "resized_width": 640,
        "resized_height": 360,
    }
    async with serve(dialect="official") as api:
        reply = await api.post("/generations/video/reframe", body)
        assert reply.status == 201, reply.text
        assert reply.body["request"] == body


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("/generations/image", {"prompt": "a fox"}, "model: field required"),
    ("/generations/image", {"model": "photon-2", "prompt": "a fox"}, "model: 'photon-2'"),
    ("/generations/image", {"model": "photon-1", "format": "gif"}, "format:"),
    ("/generations/image", {"model": "photon-1", "image_ref": {"url": IMAGE_URL}}, "image_ref:"),
    (
        "/generations/image",
        {"model": "photon-1", "style_ref": [{"url": IMAGE_URL, "weight": "1"}]},
        "style_ref[0].weight:",
    ),
    ("/generations/image", {"model": "photon-1", "sync": True}, "sync:"),
    (
        "/generations/image",
        {"model": "photon-1", "character_ref": {"identity0": {"images": ["x"]}}},
        "character_ref.identity0.images[0]:",
    ),
    (
        "/generations/video/modify",
        {**MINIMAL["/generations/video/modify"], "mode": "flex_4"},
        "mode: 'flex_4' is not one of adhere_1",
    ),
    (
        "/generations/video/modify",
        {**MINIMAL["/generations/video/modify"], "model": "ray-flash-2"},
        "model:",
    ),
    (
        "/generations/video/reframe",
        {k: v for k, v in MINIMAL["/generations/video/reframe"].items() if k != "aspect_ratio"},
        "aspect_ratio: field required",
    ),
    (
        "/generations/video/reframe",
        {**MINIMAL["/generations/video/reframe"], "x_start": 1.5},
        "x_start: expected an integer",
    ),
    (
        "/generations/video/reframe",
        {**MINIMAL["/generations/video/reframe"], "media": {"url": "ftp://x"}},
        "media.url:",
    ),
    (
        "/generations/image/reframe",
        {k: v for k, v in MINIMAL["/generations/image/reframe"].items() if k != "generation_type"},
        "generation_type: field required",
    ),
    (
        "/generations/image/reframe",
        {**MINIMAL["/generations/image/reframe"], "model": "ray-2"},
        "model:",
    ),
]


@pytest.mark.parametrize(("path", "body", "detail"), BAD)
async def test_validation(path: str, body: dict[str, Any], detail: str) -> None:
    """A bad body is a 400 `{detail}` naming the field; nothing is created."""
    async with serve(dialect="official") as api:
        reply = await api.post(path, body)
        assert reply.status == 400
        assert set(reply.body) == {"detail"}
        assert reply.body["detail"].startswith(detail), reply.body
        assert api.emu.stats.creations == 0


async def test_images_finish_faster_than_videos(clock: FakeClock) -> None:
    """With the default timing an image is done long before a video made at the same time."""
    async with serve(dialect="official", clock=clock, queue_seconds=(0.0, 0.0)) as api:
        image = (await api.post("/generations/image", MINIMAL["/generations/image"])).body
        video = (await api.post("/generations/video", {"prompt": "a cat", "model": "ray-2"})).body
        clock.advance(1.0)
        assert (await api.get(f"/generations/{image['id']}")).body["state"] == "completed"
        assert (await api.get(f"/generations/{video['id']}")).body["state"] == "dreaming"


async def test_route_collision_and_allow_header() -> None:
    """POST /generations/image is a route, not /generations/{id}; a 405 names the methods."""
    async with serve(dialect="official") as api:
        assert (await api.post("/generations/image", {"model": "photon-1"})).status == 201
        gen_id = api.emu.tasks_created()[0]
        reply = await api.call("PUT", f"/generations/{gen_id}")
        assert reply.status == 405
        assert reply.body == {"detail": "Method Not Allowed"}
        assert set(reply.headers["Allow"].split(",")) == {"GET", "DELETE"}
        reply = await api.call("PUT", "/generations/video/modify")
        assert reply.status == 405
        assert reply.headers["Allow"] == "POST"


@pytest.mark.parametrize("dialect", ["official", "gptge"])
async def test_405_carries_allow_in_every_dialect(dialect: str) -> None:
    """A relay's 405 has an Allow header too, and a JSON body."""
    async with serve(dialect=dialect) as api:
        path = "/credits" if dialect == "official" else "/luma/generations"
        reply = await api.call("DELETE", path)
        assert reply.status == 405
        assert reply.headers["Allow"] in ("GET", "POST")
        assert reply.headers["Content-Type"].startswith("application/json")


async def test_callbacks_fire_for_images() -> None:
    """An image generation's callback_url receives the Generation on dreaming and completed."""
    seen: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with serve(dialect="official", time_scale=0.01) as api:
            body = {
                **MINIMAL["/generations/image"],
                "callback_url": f"http://127.0.0.1:{port}/hook",
            }
            gen = (await api.post("/generations/image", body)).body
            for _ in range(200):
                if seen and seen[-1]["state"] == "completed":
                    break
                await anyio.sleep(0.02)
    finally:
        await runner.cleanup()
    assert [s["state"] for s in seen][-1] == "completed"
    assert {s["state"] for s in seen} <= {"dreaming", "completed"}
    assert seen[-1]["id"] == gen["id"]
    assert seen[-1]["generation_type"] == "image"
    assert "image" in seen[-1]["assets"]


@pytest.mark.parametrize("fmt", ["jpg", "png"])
async def test_create_task_can_make_an_image(fmt: Literal["jpg", "png"]) -> None:
    """Emulator.create_task(kind="image") makes a finished Photon image without HTTP."""
    async with serve(dialect="official") as api:
        task_id = api.emu.create_task(
            "a still", kind="image", image_format=fmt, queue_seconds=0, run_seconds=0
        )
        gen = (await api.get(f"/generations/{task_id}")).body
        assert (gen["generation_type"], gen["model"], gen["state"]) == (
            "image",
            "photon-1",
            "completed",
        )
        assert f"/images/{task_id}.{fmt}?" in gen["assets"]["image"]
        assert gen["request"]["format"] == fmt
    async with serve(dialect="rixapi") as api:
        with pytest.raises(ValueError, match="official"):
            api.emu.create_task("a still", kind="image")
