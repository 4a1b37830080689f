"""Every operation of every dialect, through the real client, against the emulator."""

from __future__ import annotations

import base64
import pathlib
from typing import Any

import msgspec
import pytest

from luma_async import (
    BadRequestError,
    GenerateRequest,
    InvalidRequestError,
    NotFoundError,
    ProtocolError,
    State,
    UnsupportedFeatureError,
    VideoAsset,
)
from luma_async.emulator import Emulator, Faults

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio

RELAYS = ["anyapi", "rixapi", "xfusion", "gptge"]
ALL = ["official", *RELAYS]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def finished(emu: Emulator, client: MakeClient, task_id: str) -> None:
    """Wait (bounded) until the emulator task is done, via the client's own poller."""
    c = await client(emu)
    async with c.poll([task_id], timeout=10, interval=0.05) as stream:
        async for generation in stream:
            assert generation.id == task_id


@pytest.mark.parametrize("dialect", ALL)
async def test_text_to_video_round_trip(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """generate -> get -> poll -> completed with a link, on every dialect."""
    emu = await emulator(dialect)
    c = await client(emu)
    created = await c.generate("a cat dancing in the rain")
    assert created.state in (State.QUEUED, State.PROCESSING)
    assert created.created_at is not None
    assert created.created_at.tzinfo is not None
    assert (await c.get(created.id)).id == created.id
    async with c.poll([created.id], timeout=10, interval=0.05) as stream:
        done = [g async for g in stream]
    assert [g.id for g in done] == [created.id]
    assert done[0].ok
    assert done[0].video is not None
    assert done[0].video.best_url
    assert emu.stats.creations == 1


@pytest.mark.parametrize("dialect", ALL)
async def test_image_to_video_with_urls_and_a_local_file(
    dialect: str, emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """Start and end keyframes from a URL and from a local PNG (sent as a data URI)."""
    emu = await emulator(dialect)
    c = await client(emu)
    image = tmp_path / "frame.png"
    image.write_bytes(PNG)
    options: dict[str, Any] = {"aspect_ratio": "16:9"} if dialect != "anyapi" else {}
    made = await c.generate(
        "the tiger turns its head",
        start_image="https://example.com/start.jpg",
        end_image=image,
        **options,
    )
    assert made.state is not State.FAILED
    assert emu.stats.rejected == 0


@pytest.mark.parametrize("dialect", ALL)
async def test_extend_continues_a_task(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """extend creates a new task from a finished one."""
    emu = await emulator(dialect)
    c = await client(emu)
    first = await c.generate("a boat on a lake")
    await finished(emu, client, first.id)
    extended = await c.extend(first.id, "the boat sails away")
    assert extended.id != first.id
    assert emu.stats.by_route["extend" if dialect != "official" else "submit"] >= 1
    assert emu.stats.creations == 2


@pytest.mark.parametrize("dialect", RELAYS)
async def test_extend_of_an_unknown_task_is_not_found(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """Relays answer 400 task_not_exist for a foreign id: NotFoundError, not a retry."""
    emu = await emulator(dialect)
    c = await client(emu)
    with pytest.raises(NotFoundError):
        await c.extend("no-such-task", "more")


@pytest.mark.parametrize("dialect", ALL)
async def test_get_many_returns_known_ids_in_order(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """get_many keeps the order asked and leaves unknown ids out."""
    emu = await emulator(dialect)
    c = await client(emu)
    ids = [emu.create_task(f"p{i}", run_seconds=0.1, queue_seconds=0.0) for i in range(5)]
    got = await c.get_many([ids[3], "unknown-id", ids[0], ids[3], ids[1]])
    assert [g.id for g in got] == [ids[3], ids[0], ids[1]]


@pytest.mark.parametrize("dialect", RELAYS)
async def test_get_many_falls_back_without_a_batch_route(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """A 404 on /luma/tasks is remembered and single GETs take over."""
    emu = await emulator(dialect, quirks=frozenset({"no_batch_route"}))
    c = await client(emu)
    ids = [emu.create_task(f"p{i}", run_seconds=0.1, queue_seconds=0.0) for i in range(3)]
    assert [g.id for g in await c.get_many(ids)] == ids
    assert [g.id for g in await c.get_many(ids)] == ids
    assert emu.stats.by_route["batch"] == 1
    assert emu.stats.by_route["get"] == 6


@pytest.mark.parametrize("dialect", ALL)
async def test_no_watermark_url(dialect: str, emulator: MakeEmulator, client: MakeClient) -> None:
    """Every dialect gives a clean link: the route where there is one, else the task's."""
    emu = await emulator(dialect)
    c = await client(emu)
    task = emu.create_task("clean please", run_seconds=0.0, queue_seconds=0.0)
    url = await c.no_watermark_url(task)
    assert url.startswith(emu.cdn_url)
    assert "_raw" in url or dialect == "official"


@pytest.mark.parametrize("dialect", RELAYS)
async def test_no_watermark_falls_back_to_the_task_links(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """Where the route answers 404, the best link in the task is returned."""
    emu = await emulator(dialect, quirks=frozenset({"no_watermark_missing"}))
    c = await client(emu)
    task = emu.create_task("clean please", run_seconds=0.0, queue_seconds=0.0)
    url = await c.no_watermark_url(task)
    assert url.startswith(emu.cdn_url)


async def test_no_watermark_of_a_running_task_says_so(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A task with no link yet gives NotFoundError naming its state."""
    emu = await emulator("gptge")
    c = await client(emu)
    task = emu.create_task("slow", run_seconds=60.0, queue_seconds=0.0)
    with pytest.raises(NotFoundError, match="no video link yet"):
        await c.no_watermark_url(task)


@pytest.mark.parametrize("dialect", ["official", "rixapi"])
async def test_add_audio(dialect: str, emulator: MakeEmulator, client: MakeClient) -> None:
    """Video to audio makes a new task on the two dialects that have it."""
    emu = await emulator(dialect)
    c = await client(emu)
    task = emu.create_task("a drum solo", run_seconds=0.0, queue_seconds=0.0)
    audio = await c.add_audio(task, "loud drums", negative_prompt="silence")
    assert audio.id
    assert emu.stats.by_route["audio"] == 1


@pytest.mark.parametrize("dialect", ["anyapi", "xfusion", "gptge"])
async def test_add_audio_is_unsupported_elsewhere(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """No request leaves for an operation the dialect lacks."""
    emu = await emulator(dialect)
    c = await client(emu)
    with pytest.raises(UnsupportedFeatureError):
        await c.add_audio("x", "drums")
    assert emu.stats.requests == 0


@pytest.mark.parametrize("dialect", ALL)
async def test_download_to_a_folder_and_a_file(
    dialect: str, emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """Downloads land whole under the final name, with no key sent to the CDN."""
    emu = await emulator(dialect)
    c = await client(emu)
    task = emu.create_task("download me", run_seconds=0.0, queue_seconds=0.0)
    path = await c.download(task, tmp_path)
    assert path == tmp_path / f"{task}.mp4"
    assert path.read_bytes()[4:8] == b"ftyp"
    other = await c.download(await c.get(task), tmp_path / "sub" / "named.mp4")
    assert other.read_bytes() == path.read_bytes()
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["sub", "named.mp4", path.name])
    assert emu.stats.cdn_requests == 2
    assert emu.stats.cdn_auth_headers == 0


async def test_a_callers_authorization_header_gives_way_to_the_key_and_stays_home(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """Header names are compared without case: a caller's `authorization` is replaced by the
    key rather than sent beside it (which a gateway may read first), and the CDN gets neither."""
    emu = await emulator("anyapi")
    c = await client(emu, headers={"authorization": "Bearer not-the-key", "x-trace": "1"})
    task = emu.create_task("download me", run_seconds=0.0, queue_seconds=0.0)
    assert (await c.get(task)).state is State.COMPLETED
    await c.download(task, tmp_path)
    assert emu.stats.cdn_requests == 1
    assert emu.stats.cdn_auth_headers == 0


async def test_download_of_an_unfinished_task_fails_cleanly(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """No link, no file."""
    emu = await emulator("anyapi")
    c = await client(emu)
    task = emu.create_task("not yet", run_seconds=60.0, queue_seconds=0.0)
    with pytest.raises(NotFoundError):
        await c.download(task, tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_official_only_operations(emulator: MakeEmulator, client: MakeClient) -> None:
    """list, delete, upscale and credits on the official dialect."""
    emu = await emulator("official")
    c = await client(emu)
    ids = [emu.create_task(f"p{i}", run_seconds=0.0, queue_seconds=0.0) for i in range(3)]
    listed = await c.list(limit=10)
    assert {g.id for g in listed} >= set(ids)
    upscaled = await c.upscale(ids[0], "1080p")
    assert upscaled.id
    await c.delete(ids[1])
    with pytest.raises(NotFoundError):
        await c.get(ids[1])
    assert isinstance(await c.credits(), float)


@pytest.mark.parametrize("dialect", RELAYS)
async def test_official_only_operations_are_unsupported_on_relays(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """list, delete, upscale and credits raise before sending on relays."""
    emu = await emulator(dialect)
    c = await client(emu)
    with pytest.raises(UnsupportedFeatureError):
        await c.list()
    with pytest.raises(UnsupportedFeatureError):
        await c.delete("x")
    with pytest.raises(UnsupportedFeatureError):
        await c.upscale("x", "1080p")
    with pytest.raises(UnsupportedFeatureError):
        await c.credits()
    assert emu.stats.requests == 0


@pytest.mark.parametrize(
    ("dialect", "options", "error"),
    [
        ("anyapi", {"aspect_ratio": "16:9"}, UnsupportedFeatureError),
        ("xfusion", {"loop": True}, UnsupportedFeatureError),
        ("gptge", {"model": "ray-2"}, UnsupportedFeatureError),
        ("official", {"expand_prompt": True}, UnsupportedFeatureError),
        ("official", {"aspect_ratio": "2:1"}, InvalidRequestError),
        ("anyapi", {"duration": "9s"}, InvalidRequestError),
        ("anyapi", {"resolution": "4k"}, InvalidRequestError),
        ("official", {"model": "ray-9"}, InvalidRequestError),
        ("rixapi", {"start_image": "ftp://example.com/a.png"}, InvalidRequestError),
    ],
)
async def test_refused_before_sending(
    dialect: str,
    options: dict[str, object],
    error: type[Exception],
    emulator: MakeEmulator,
    client: MakeClient,
) -> None:
    """Options a dialect lacks and values it refuses never reach the gateway."""
    emu = await emulator(dialect)
    c = await client(emu)
    with pytest.raises(error):
        await c.submit(GenerateRequest("a perfectly fine prompt", **options))  # type: ignore[arg-type]
    assert emu.stats.requests == 0


async def test_a_local_file_that_is_not_an_image_is_refused(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """A Path must hold a PNG, JPEG, GIF or WebP image."""
    emu = await emulator("gptge")
    c = await client(emu)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InvalidRequestError, match="not a PNG"):
        await c.generate("prompt", start_image=text)
    with pytest.raises(InvalidRequestError, match="cannot read"):
        await c.generate("prompt", start_image=tmp_path / "missing.png")
    assert emu.stats.requests == 0


@pytest.mark.parametrize("dialect", RELAYS)
async def test_a_channel_prefix_is_honoured(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """Gateways with /pro/luma/... paths work with the prefix in the base URL."""
    emu = await emulator(dialect, prefix="/pro")
    assert emu.base_url.endswith("/pro")
    c = await client(emu)
    made = await c.generate("prefixed", aspect_ratio="16:9" if dialect != "anyapi" else None)
    assert (await c.get(made.id)).id == made.id


async def test_the_gateway_refusing_a_request_is_a_bad_request(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A 400 from the gateway (here: extra_body breaking its validation) is BadRequestError."""
    emu = await emulator("gptge")
    c = await client(emu)
    with pytest.raises(BadRequestError):
        await c.generate("prompt", extra_body={"aspect_ratio": "7:3"})
    assert emu.stats.creations == 0


async def test_a_download_cut_off_midway_resumes_with_range(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """Half the CDN answers are cut: downloads resume where they stopped and end whole."""
    emu = await emulator("gptge", faults=Faults(cdn_cut=0.5), seed=4)
    c = await client(emu)
    reference = emu.create_task("reference", run_seconds=0.0, queue_seconds=0.0)
    for i in range(6):
        task = emu.create_task(f"clip {i}", run_seconds=0.0, queue_seconds=0.0)
        path = await c.download(task, tmp_path)
        assert path.read_bytes()[4:8] == b"ftyp"
    assert emu.stats.faults_injected["cdn_cut"] > 0
    assert reference  # every file ended whole; none was left half-written
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []


async def test_an_expired_link_is_refreshed_once(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """A link that expired between the poll and the download is fetched anew."""
    now = [1000.0]
    emu = await emulator(
        "anyapi", quirks=frozenset({"expire_links"}), link_ttl=60.0, clock=lambda: now[0]
    )
    c = await client(emu)
    task = emu.create_task("old link", run_seconds=0.0, queue_seconds=0.0)
    stale = await c.get(task)
    now[0] += 3600.0  # the presigned link is long dead
    path = await c.download(stale, tmp_path)
    assert path.read_bytes()[4:8] == b"ftyp"


async def test_a_file_that_is_not_an_mp4_is_refused(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """A thumbnail (JPEG) at a video's place is refused and leaves no file."""
    emu = await emulator("gptge")
    c = await client(emu)
    task = emu.create_task("wrong bytes", run_seconds=0.0, queue_seconds=0.0)
    generation = await c.get(task)
    assert generation.video is not None
    assert generation.video.thumbnail_url is not None
    wrong = msgspec.structs.replace(
        generation,
        video=VideoAsset(url=generation.video.thumbnail_url),
    )
    with pytest.raises(ProtocolError, match="not an MP4"):
        await c.download(wrong, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_task_ids_never_escape_the_folder(tmp_path: pathlib.Path) -> None:
    """Ids like ../../x become plain file names inside the folder."""
    from luma_async._download import safe_filename, target_path

    assert safe_filename("../../etc/passwd") == "etc_passwd.mp4"
    assert safe_filename("..") == "video.mp4"
    assert target_path(tmp_path, "../x").parent == tmp_path
