"""A mixed generate_many of 300 requests (videos, images, modifies, reframes), downloaded."""

from __future__ import annotations

import base64
import pathlib
from collections.abc import Callable

import pytest

from luma_async._models import (
    AnyRequest,
    GenerateRequest,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframeVideoRequest,
)

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio

MEDIA = pathlib.Path(__file__).parents[2] / "luma_async" / "emulator" / "media"
CLIP = MEDIA / "clip1.mp4"
STILL_JPG = MEDIA / "still2.jpg"
STILL_PNG = MEDIA / "still3.png"
VIDEO_URL = "https://example.com/in.mp4"
IMAGE_URL = "https://example.com/in.jpg"
N = 300
#: The emulator's routes that create a task, one per request kind.
CREATE_ROUTES = ("submit", "image", "reframe_image", "reframe_video", "modify_video")


def mixed(n: int) -> list[AnyRequest]:
    """`n` requests cycling through every kind and every way to give a source; no two alike."""
    clip_uri = "data:video/mp4;base64," + base64.b64encode(CLIP.read_bytes()).decode()
    flavours: list[Callable[[int], AnyRequest]] = [
        lambda i: GenerateRequest(f"a short film, take {i}"),
        lambda i: ImageRequest(f"a still, take {i}"),
        lambda i: ImageRequest(f"a still, take {i}", format="png", aspect_ratio="1:1"),
        lambda i: ModifyVideoRequest(VIDEO_URL, "reimagine_1", prompt=f"as a watercolour {i}"),
        lambda i: ModifyVideoRequest(CLIP, "flex_2", prompt=f"at night {i}"),
        lambda i: ReframeVideoRequest(clip_uri, "9:16", prompt=f"taller {i}"),
        lambda i: ReframeVideoRequest(VIDEO_URL, "1:1", prompt=f"square {i}"),
        lambda i: ReframeImageRequest(IMAGE_URL, "21:9", prompt=f"wider {i}"),
        lambda i: ReframeImageRequest(STILL_PNG, "1:1", format="png", prompt=f"square {i}"),
        lambda i: ReframeImageRequest(STILL_JPG, "9:16", format="jpg", prompt=f"tall {i}"),
    ]
    return [flavours[i % len(flavours)](i) for i in range(n)]


def extension(request: AnyRequest) -> str:
    """The file extension a finished request of this kind is saved with."""
    if isinstance(request, ImageRequest | ReframeImageRequest):
        return request.format or "jpg"
    return "mp4"


def real_content(data: bytes, ext: str) -> bool:
    """Whether `data` is a real file of that type: MP4 with an H.264 track, JPEG, PNG."""
    if ext == "mp4":
        return data[4:8] == b"ftyp" and b"avc1" in data
    if ext == "jpg":
        return data[:3] == b"\xff\xd8\xff"
    return data[:8] == b"\x89PNG\r\n\x1a\n"


async def test_a_mixed_batch_of_300_gives_one_downloaded_result_per_input(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """300 mixed requests: one ok result per index, each file of its kind, 300 creates."""
    emu = await emulator("official", time_scale=0.01, link_delay=0.5)
    c = await client(emu)
    requests = mixed(N)
    assert {type(r) for r in requests} == {
        GenerateRequest,
        ImageRequest,
        ModifyVideoRequest,
        ReframeVideoRequest,
        ReframeImageRequest,
    }
    async with c.generate_many(
        requests, concurrency=N, interval=0.05, download_to=tmp_path
    ) as results:
        got = [result async for result in results]

    assert sorted(r.index for r in got) == list(range(N))
    failed = [(r.index, r.error) for r in got if not r.ok]
    assert failed == []
    for result in got:
        request = requests[result.index]
        assert result.request is request
        assert result.generation is not None
        assert result.generation.kind == ("video" if extension(request) == "mp4" else "image")
        assert result.path == tmp_path / f"{result.generation.id}.{extension(request)}"
        assert real_content(result.path.read_bytes(), extension(request)), result.path
    assert len(list(tmp_path.iterdir())) == N

    stats = emu.stats
    assert stats.creations == N
    assert stats.rejected == 0
    assert sum(stats.by_route[route] for route in CREATE_ROUTES) == N
    assert len(stats.creates_by_body) == N
    assert set(stats.creates_by_body.values()) == {1}
    assert stats.cdn_requests == N
