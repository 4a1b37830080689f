"""Images, modify, reframe, concepts and ping through the real client against the emulator."""

from __future__ import annotations

import base64
import pathlib
from typing import Any

import pytest

from luma_async import (
    AuthenticationError,
    CallbackReceiver,
    Generation,
    InvalidRequestError,
    LumaClient,
    State,
    UnsupportedFeatureError,
)
from luma_async._models import (
    AnyRequest,
    GenerateRequest,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframePosition,
    ReframeVideoRequest,
)
from luma_async.emulator import Emulator, Faults

from ..conftest import FAST_RETRY, KEY, MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio

RELAYS = ["anyapi", "rixapi", "xfusion", "gptge"]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
VIDEO_URL = "https://example.com/in.mp4"
IMAGE_URL = "https://example.com/in.jpg"


async def done(c: LumaClient, generation: Generation) -> Generation:
    """The task once terminal, through the client's own poller (bounded)."""
    async with c.poll([generation.id], timeout=20, interval=0.05) as stream:
        finished = [g async for g in stream]
    assert [g.id for g in finished] == [generation.id]
    return finished[0]


async def official(emulator: MakeEmulator, client: MakeClient) -> tuple[Emulator, LumaClient]:
    """An official emulator and a client of it."""
    emu = await emulator("official")
    return emu, await client(emu)


# -- images ----------------------------------------------------------------------------


async def test_an_image_is_made_polled_and_downloaded_as_jpeg(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """generate_image -> poll -> an image generation -> `<id>.jpg` with JPEG bytes."""
    emu, c = await official(emulator, client)
    made = await c.generate_image("a lighthouse at night", aspect_ratio="1:1")
    assert made.kind == "image"
    assert made.state is State.QUEUED
    finished = await done(c, made)
    assert (finished.kind, finished.ok, finished.video) == ("image", True, None)
    assert finished.image is not None
    path = await c.download(finished, tmp_path)
    assert path == tmp_path / f"{made.id}.jpg"
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"
    assert emu.stats.creations == 1
    assert emu.stats.rejected == 0


async def test_a_png_image_with_local_references_is_downloaded_as_png(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """Local files go as data URIs, with and without weights; `format="png"` gives `.png`."""
    emu, c = await official(emulator, client)
    ref = tmp_path / "ref.png"
    ref.write_bytes(PNG)
    made = await c.generate_image(
        "a lighthouse in the style of the reference",
        model="photon-flash-1",
        format="png",
        image_ref=[ref, (IMAGE_URL, 0.4)],
        style_ref=[(ref, 0.9)],
        character_ref=[ref],
        modify_image_ref=ref,
    )
    assert emu.stats.rejected == 0
    finished = await done(c, made)
    assert finished.link is not None
    assert finished.link.split("?")[0].endswith(".png")
    out = tmp_path / "out"
    out.mkdir()
    path = await c.download(finished.id, out)
    assert path == out / f"{made.id}.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_a_png_image_is_saved_as_png(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """`format="png"`: the file is `<id>.png` with PNG bytes."""
    _, c = await official(emulator, client)
    finished = await done(c, await c.generate_image("a red fox", format="png"))
    path = await c.download(finished, tmp_path)
    assert path == tmp_path / f"{finished.id}.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- modify and reframe ----------------------------------------------------------------


async def test_modify_a_finished_video_given_as_generation_or_id(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """A completed video (object or id) is the source; the result is a video to download."""
    emu, c = await official(emulator, client)
    source = emu.create_task("a dog on a beach", run_seconds=0.0, queue_seconds=0.0)
    by_object = await c.modify_video(await c.get(source), mode="flex_2", prompt="as a sketch")
    by_id = await c.modify_video(source, mode="adhere_1")
    for made in (by_object, by_id):
        assert made.kind == "video"
        finished = await done(c, made)
        assert finished.ok
    path = await c.download(by_id, f"{tmp_path}/")
    assert path.name == f"{by_id.id}.mp4"
    assert path.read_bytes()[4:8] == b"ftyp"
    assert emu.stats.creations == 2
    assert emu.stats.rejected == 0


async def test_reframe_a_video_and_an_image(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """Reframes of a video URL and of a finished image task, with a position."""
    emu, c = await official(emulator, client)
    video = await c.reframe_video(
        VIDEO_URL,
        aspect_ratio="9:16",
        model="ray-flash-2",
        position=ReframePosition(grid_position_x=0, grid_position_y=100),
    )
    image = await done(c, await c.generate_image("a red fox"))
    reframed = await c.reframe_image(image.id, aspect_ratio="21:9", format="png")
    assert (video.kind, reframed.kind) == ("video", "image")
    finished = await done(c, reframed)
    assert finished.ok
    path = await c.download(finished, tmp_path)
    assert path == tmp_path / f"{reframed.id}.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (await done(c, video)).ok
    assert emu.stats.rejected == 0


async def test_submit_takes_every_request_kind(emulator: MakeEmulator, client: MakeClient) -> None:
    """One `submit()` for every struct, each to its own route."""
    emu, c = await official(emulator, client)
    requests: list[AnyRequest] = [
        GenerateRequest("a red fox"),
        ImageRequest("a red fox"),
        ModifyVideoRequest(VIDEO_URL, "reimagine_1"),
        ReframeVideoRequest(VIDEO_URL, "1:1"),
        ReframeImageRequest(IMAGE_URL, "1:1"),
    ]
    kinds = [(await c.submit(request)).kind for request in requests]
    assert kinds == ["video", "image", "video", "video", "image"]
    assert emu.stats.creations == 5
    with pytest.raises(TypeError, match="request struct"):
        await c.submit("a red fox")  # type: ignore[arg-type]


async def test_a_lost_image_create_is_found_in_the_listing(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """The image route's answer is lost: the client finds the image it made (not resent)."""
    emu = await emulator(
        "official", faults=Faults(ambiguous_submit=1.0, routes=frozenset({"image"}))
    )
    c = await client(emu)
    made = await c.generate_image("a lighthouse that got lost")
    assert made.kind == "image"
    assert emu.stats.faults_injected["ambiguous_submit"] == 1
    assert emu.stats.creations == 1


# -- bad input: nothing sent, nothing billed -------------------------------------------------


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.generate_image("x y z", format="gif"), "format 'gif'"),
        (lambda c: c.modify_video(VIDEO_URL, mode="flex_9"), "mode 'flex_9'"),
        (lambda c: c.reframe_video(VIDEO_URL, aspect_ratio="5:4"), "aspect_ratio '5:4'"),
        (lambda c: c.reframe_image(IMAGE_URL, aspect_ratio="1:1", model="ray-2"), "photon-1"),
        (lambda c: c.generate_image("x y z", image_ref=[pathlib.Path("/no/such.png")]), "read"),
        (lambda c: c.modify_video(pathlib.Path("/no/such.mp4"), mode="flex_1"), "read"),
    ],
)
async def test_values_outside_the_spec_send_nothing(
    emulator: MakeEmulator, client: MakeClient, call: Any, words: str
) -> None:
    """InvalidRequestError naming the field; the emulator saw no request."""
    emu, c = await official(emulator, client)
    with pytest.raises(InvalidRequestError, match=words):
        await call(c)
    assert emu.stats.requests == 0


async def test_a_video_that_is_not_a_finished_video_is_refused_unbilled(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """An image task, an unfinished video, an unknown id: refused after a look, no create."""
    emu, c = await official(emulator, client)
    image = await done(c, await c.generate_image("a still life"))
    pending = emu.create_task("still rendering", run_seconds=600.0, queue_seconds=0.0)
    before = emu.stats.creations
    with pytest.raises(InvalidRequestError, match="image generation"):
        await c.modify_video(image.id, mode="flex_1")
    with pytest.raises(InvalidRequestError, match="image generation"):
        await c.reframe_video(image, aspect_ratio="9:16")
    with pytest.raises(InvalidRequestError, match="not a completed video"):
        await c.modify_video(pending, mode="flex_1")
    with pytest.raises(InvalidRequestError, match="no-such-task"):
        await c.reframe_video("no-such-task", aspect_ratio="9:16")
    with pytest.raises(InvalidRequestError, match="video generation"):
        await c.reframe_image(pending, aspect_ratio="9:16")
    assert emu.stats.creations == before


# -- concepts and ping -----------------------------------------------------------------


async def test_concepts_are_listed_and_sent_with_a_video(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """`concepts()` lists keys; `generate(concepts=...)` is accepted by the API."""
    emu, c = await official(emulator, client)
    keys = await c.concepts()
    assert keys
    assert all(isinstance(key, str) for key in keys)
    made = await c.generate("orbit the tower", concepts=keys[:1])
    assert made.kind == "video"
    assert emu.stats.rejected == 0


async def test_ping_answers_and_a_wrong_key_raises(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """`ping()` is None when all is well, AuthenticationError with a refused key."""
    emu, c = await official(emulator, client)
    await c.ping()
    wrong = await client(emu, api_key="sk-not-the-key")
    with pytest.raises(AuthenticationError):
        await wrong.ping()


# -- relays ----------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", RELAYS)
async def test_relays_refuse_every_new_operation_with_nothing_sent(
    dialect: str, emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """UnsupportedFeatureError before any request, file read or source lookup."""
    emu = await emulator(dialect)
    c = await client(emu)
    calls = [
        c.generate_image("a red fox", image_ref=[tmp_path / "not-read.png"]),
        c.modify_video("some-task-id", mode="flex_1"),
        c.reframe_video("some-task-id", aspect_ratio="9:16"),
        c.reframe_image(IMAGE_URL, aspect_ratio="9:16"),
        c.submit(ImageRequest("a red fox")),
        c.concepts(),
        c.ping(),
        c.generate("orbit", concepts=["orbit_left"]),
    ]
    for call in calls:
        with pytest.raises(UnsupportedFeatureError):
            await call
    assert emu.stats.requests == 0


async def test_callbacks_carry_every_new_kind(emulator: MakeEmulator) -> None:
    """Images, modifies and reframes get the receiver's URL and finish on its wake-up."""
    emu = await emulator("official", time_scale=0.05)
    async with (
        CallbackReceiver() as receiver,
        LumaClient(emu.base_url, KEY, "official", callbacks=receiver, retry=FAST_RETRY) as c,
    ):
        made = [
            await c.generate_image("a hooked lighthouse"),
            await c.modify_video(VIDEO_URL, mode="flex_1"),
            await c.reframe_video(VIDEO_URL, aspect_ratio="9:16"),
            await c.reframe_image(IMAGE_URL, aspect_ratio="9:16"),
        ]
        assert all(receiver.has_callback(g.id) for g in made)
        async with c.poll([g.id for g in made], timeout=20, interval=60) as stream:
            finished = [g async for g in stream]
    assert sorted(g.id for g in finished) == sorted(g.id for g in made)
    assert all(g.ok for g in finished)
    assert emu.stats.callbacks_sent >= len(made)
