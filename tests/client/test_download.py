"""`download()`: where the file goes, what is never overwritten, and how the CDN is retried.

The API and the CDN are the emulator's; a few tests put a tiny CDN of their own in front (a
real aiohttp server on 127.0.0.1) to answer what the emulator does not: a 503, a Retry-After.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from luma_async import Generation, ImageAsset, ProtocolError, ServerError, State, VideoAsset
from luma_async._download import _place, download_to, is_folder, safe_filename, target_path
from luma_async.emulator import Faults

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio

MP4 = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 40


@pytest.fixture
async def cdn() -> AsyncIterator[Callable[..., Any]]:
    """A CDN on 127.0.0.1 that plays a script: each entry answers one request.

    An entry is a status (answered with an empty body), or "ok" (the file, honouring Range).
    The requests' Range headers are recorded in `seen`.
    """
    runners: list[web.AppRunner] = []

    async def make(script: list[Any], body: bytes = MP4) -> Any:
        seen: list[str | None] = []

        async def handler(request: web.Request) -> web.StreamResponse:
            seen.append(request.headers.get("Range"))
            step = script[min(len(seen), len(script)) - 1]
            if step == "ok":
                start = 0
                if (ranged := request.headers.get("Range")) is not None:
                    start = int(ranged.removeprefix("bytes=").rstrip("-"))
                    headers = {"Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"}
                    return web.Response(status=206, body=body[start:], headers=headers)
                return web.Response(body=body, content_type="application/octet-stream")
            status, headers = step if isinstance(step, tuple) else (step, {})
            return web.Response(status=status, headers=headers)

        app = web.Application()
        app.router.add_get("/{name}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/clip.mp4", seen

    yield make
    for runner in runners:
        await runner.cleanup()


def video_at(url: str, task_id: str = "cdn-task") -> Generation:
    """A completed video whose link is `url`."""
    return Generation(task_id, State.COMPLETED, video=VideoAsset(url=url))


# -- where the file goes -----------------------------------------------------------------


async def test_a_missing_folder_given_with_a_slash_is_made(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """`videos/` (not there yet) is a folder: `videos/<id>.mp4`, never a file named videos."""
    emu = await emulator("anyapi")
    c = await client(emu)
    task = emu.create_task("folder", run_seconds=0.0, queue_seconds=0.0)
    path = await c.download(task, f"{tmp_path / 'videos'}/")
    assert path == tmp_path / "videos" / f"{task}.mp4"
    assert path.read_bytes()[4:8] == b"ftyp"
    if os.sep != "/":
        assert is_folder(f"x{os.sep}")


async def test_a_missing_path_without_a_slash_is_the_file(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """`clip.mp4` (or even `videos`) that does not exist is the file itself."""
    emu = await emulator("anyapi")
    c = await client(emu)
    task = emu.create_task("file", run_seconds=0.0, queue_seconds=0.0)
    path = await c.download(task, str(tmp_path / "videos"))
    assert path == tmp_path / "videos"
    assert path.is_file()


async def test_an_existing_file_is_kept_unless_overwrite(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """FileExistsError naming the path, nothing fetched; overwrite=True replaces it."""
    emu = await emulator("anyapi")
    c = await client(emu)
    task = emu.create_task("keep", run_seconds=0.0, queue_seconds=0.0)
    mine = tmp_path / "mine.mp4"
    mine.write_bytes(b"my own video")
    with pytest.raises(FileExistsError, match=r"mine\.mp4") as caught:
        await c.download(task, mine)
    assert caught.value.filename == str(mine)
    assert mine.read_bytes() == b"my own video"
    assert emu.stats.cdn_requests == 0
    await c.download(task, mine, overwrite=True)
    assert mine.read_bytes()[4:8] == b"ftyp"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.mp4"]


async def test_a_file_already_in_the_folder_is_kept_too(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """`<id>.mp4` already in the folder: kept, FileExistsError; no partial file left."""
    emu = await emulator("anyapi")
    c = await client(emu)
    task = emu.create_task("twice", run_seconds=0.0, queue_seconds=0.0)
    first = await c.download(task, tmp_path)
    before = first.read_bytes()
    with pytest.raises(FileExistsError, match=str(first.name)):
        await c.download(task, tmp_path)
    assert first.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def test_the_final_move_never_replaces_a_file_that_appeared_meanwhile(
    tmp_path: pathlib.Path,
) -> None:
    """The check before the fetch can be overtaken: the move itself refuses a taken name."""
    temp = tmp_path / ".x.mp4.part"
    temp.write_bytes(b"new")
    final = tmp_path / "x.mp4"
    final.write_bytes(b"theirs")
    with pytest.raises(FileExistsError, match=r"x\.mp4"):
        _place(temp, final, False)
    assert final.read_bytes() == b"theirs"
    _place(temp, final, True)
    assert final.read_bytes() == b"new"
    assert not temp.exists()
    other = tmp_path / ".y.part"
    other.write_bytes(b"mine")
    _place(other, tmp_path / "y.mp4", False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.mp4", "y.mp4"]


def test_names_and_targets_stay_inside_the_folder(tmp_path: pathlib.Path) -> None:
    """`target_path` keeps working for callers that name files themselves."""
    assert target_path(tmp_path, "../x") == tmp_path / "x.mp4"
    assert target_path(tmp_path, "a", ".png") == tmp_path / "a.png"
    assert target_path(f"{tmp_path / 'new'}/", "a") == tmp_path / "new" / "a.mp4"
    assert target_path(tmp_path / "file.mp4", "a") == tmp_path / "file.mp4"
    assert safe_filename("img", ".jpg") == "img.jpg"


# -- retrying the CDN ----------------------------------------------------------------------


async def test_a_cdn_503_is_retried_after_a_backoff(
    emulator: MakeEmulator,
    client: MakeClient,
    cdn: Callable[..., Any],
    tmp_path: pathlib.Path,
) -> None:
    """503, 502, then the file: two waits (the second honouring Retry-After), one whole file."""
    emu = await emulator("anyapi")
    c = await client(emu)
    url, seen = await cdn([503, (502, {"Retry-After": "3"}), "ok"])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    path = await download_to(c.transport, url, tmp_path / "clip.mp4", sleep=sleep)
    assert path.read_bytes() == MP4
    assert len(seen) == 3
    assert len(waits) == 2
    assert waits[1] >= 3.0


async def test_a_cdn_that_keeps_failing_gives_up_after_a_few_tries(
    emulator: MakeEmulator,
    client: MakeClient,
    cdn: Callable[..., Any],
    tmp_path: pathlib.Path,
) -> None:
    """A CDN that answers 503 every time: ServerError after five tries, no file left."""
    emu = await emulator("anyapi")
    c = await client(emu)
    url, seen = await cdn([503])
    with pytest.raises(ServerError, match="503"):
        await c.download(video_at(url), tmp_path)
    assert len(seen) == 5
    assert list(tmp_path.iterdir()) == []


async def test_a_retry_after_beyond_the_budget_gives_up_at_once(
    emulator: MakeEmulator,
    client: MakeClient,
    cdn: Callable[..., Any],
    tmp_path: pathlib.Path,
) -> None:
    """A 503 asking for an hour: ServerError after one request, no wait, no file."""
    emu = await emulator("anyapi")
    c = await client(emu)
    url, seen = await cdn([(503, {"Retry-After": "3600"}), "ok"])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with pytest.raises(ServerError, match="503"):
        await download_to(c.transport, url, tmp_path / "clip.mp4", sleep=sleep)
    assert (len(seen), waits) == (1, [])
    assert list(tmp_path.iterdir()) == []


async def test_a_cdn_404_is_not_retried(
    emulator: MakeEmulator,
    client: MakeClient,
    cdn: Callable[..., Any],
    tmp_path: pathlib.Path,
) -> None:
    """A missing file is no transient failure: one request, ProtocolError."""
    emu = await emulator("anyapi")
    c = await client(emu)
    url, seen = await cdn([404])
    with pytest.raises(ProtocolError, match="404"):
        await c.download(video_at(url), tmp_path)
    assert len(seen) == 1


async def test_a_cut_download_waits_then_resumes_with_range(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """Cut connections are resumed, each after one backoff wait, and the file ends whole."""
    emu = await emulator("gptge", faults=Faults(cdn_cut=0.5), seed=4)
    c = await client(emu)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    for i in range(6):
        task = emu.create_task(f"clip {i}", run_seconds=0.0, queue_seconds=0.0)
        url = (await c.get(task)).link
        assert url is not None
        path = await download_to(c.transport, url, tmp_path / f"{i}.mp4", sleep=sleep)
        assert path.read_bytes()[4:8] == b"ftyp"
    assert emu.stats.faults_injected["cdn_cut"] > 0
    assert len(waits) == emu.stats.faults_injected["cdn_cut"]


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)


@pytest.mark.parametrize(("body", "suffix"), [(JPEG, ".jpg"), (PNG, ".png")])
async def test_an_image_in_a_folder_is_named_by_its_content(
    emulator: MakeEmulator,
    client: MakeClient,
    cdn: Callable[..., Any],
    tmp_path: pathlib.Path,
    body: bytes,
    suffix: str,
) -> None:
    """`<id>.jpg` or `<id>.png` by the bytes' magic, whatever the link's extension says."""
    emu = await emulator("official")
    c = await client(emu)
    url, _ = await cdn(["ok"], body=body)
    image = Generation("img-1", State.COMPLETED, kind="image", image=ImageAsset(url))
    path = await c.download(image, tmp_path)
    assert path == tmp_path / f"img-1{suffix}"
    assert path.read_bytes() == body


async def test_an_image_link_serving_something_else_is_refused(
    emulator: MakeEmulator,
    client: MakeClient,
    cdn: Callable[..., Any],
    tmp_path: pathlib.Path,
) -> None:
    """An MP4 (or anything) where an image belongs: ProtocolError, no file."""
    emu = await emulator("official")
    c = await client(emu)
    url, _ = await cdn(["ok"], body=MP4)
    image = Generation("img-2", State.COMPLETED, kind="image", image=ImageAsset(url))
    with pytest.raises(ProtocolError, match="not a JPEG or PNG"):
        await c.download(image, tmp_path)
    assert list(tmp_path.iterdir()) == []
