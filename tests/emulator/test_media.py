"""The served media are real: H.264 MP4s a decoder plays, JPEGs and PNGs a decoder opens."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

import av
import pytest

from ._support import Api, FakeClock, fast, serve

pytestmark = pytest.mark.anyio

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _walk(data: bytes, offset: int = 0, end: int | None = None) -> Iterator[tuple[bytes, bytes]]:
    """Every box (type, payload), descending into the containers on the way to the sample table."""
    end = len(data) if end is None else end
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        assert size >= 8, "a box of size < 8 would not be a real file"
        payload = data[offset + 8 : offset + size]
        yield kind, payload
        if kind in CONTAINERS:
            yield from _walk(data, offset + 8, offset + size)
        offset += size


def _sample_table(data: bytes) -> tuple[int, bytes]:
    """(stsz sample count, first stsd sample entry type)."""
    boxes = dict(_walk(data))
    # stsz: version/flags (4), sample_size (4), sample_count (4)
    count = struct.unpack(">I", boxes[b"stsz"][8:12])[0]
    # stsd: version/flags (4), entry_count (4), then entry: size (4), type (4)
    entry = boxes[b"stsd"][12:16]
    return count, entry


def _decoded_frames(data: bytes) -> tuple[int, str, tuple[int, int]]:
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.video[0]
        frames = len(list(container.decode(video=0)))
        return frames, stream.codec_context.name, (stream.width, stream.height)


async def _video(api: Api, task_id: str) -> tuple[bytes, bytes]:
    reply = await api.get(f"/luma/generations/{task_id}")
    marked = await _download(api, reply.body["video"]["url"])
    clean = await _download(api, reply.body["video_raw"]["url"])
    return marked, clean


async def _download(api: Api, url: str) -> bytes:
    async with api.session.get(url) as resp:
        assert resp.status == 200
        return await resp.read()


async def test_videos_are_playable_h264_that_differ_per_task() -> None:
    """The sample table holds avc1 samples; a real decoder gets every frame; tasks differ."""
    async with serve(dialect="anyapi") as api:
        ids = [api.emu.create_task(f"clip {n}", queue_seconds=0, run_seconds=0) for n in range(8)]
        seen: set[bytes] = set()
        pictures: set[bytes] = set()
        for task_id in ids:
            for data in await _video(api, task_id):
                count, entry = _sample_table(data)
                assert entry == b"avc1"
                assert count > 0
                frames, codec, size = _decoded_frames(data)
                assert (frames, codec) == (count, "h264")
                assert size == (320, 180)
                assert task_id.encode() in data
                seen.add(data)
                pictures.add(data[: data.rindex(b"luma-emulator") - 8])
        assert len(seen) == 16, "every task and variant has its own bytes"
        assert len(pictures) > 2, "tasks get different clips, not one clip renamed"


@pytest.mark.parametrize("fmt", ["jpg", "png"])
async def test_images_are_real_pictures(fmt: str, clock: FakeClock) -> None:
    """An image generation's asset decodes as the asked-for format; thumbnails decode as JPEG."""
    async with serve(**fast(dialect="official", clock=clock)) as api:
        body = {"model": "photon-1", "prompt": "a calm sea", "format": fmt}
        gen = (await api.post("/generations/image", body)).body
        video = (await api.post("/generations/video", {"model": "ray-2", "prompt": "a sea"})).body
        clock.advance(10)
        image = await _download(
            api, (await api.get(f"/generations/{gen['id']}")).body["assets"]["image"]
        )
        thumb = await _download(
            api, (await api.get(f"/generations/{video['id']}")).body["assets"]["image"]
        )
        magic = b"\x89PNG\r\n\x1a\n" if fmt == "png" else b"\xff\xd8\xff"
        assert image.startswith(magic)
        assert thumb.startswith(b"\xff\xd8\xff")
        for data, codec in ((image, "png" if fmt == "png" else "mjpeg"), (thumb, "mjpeg")):
            with av.open(io.BytesIO(data), "r") as container:
                frames = list(container.decode(video=0))
                assert container.streams.video[0].codec_context.name == codec
            assert len(frames) == 1
            assert (frames[0].width, frames[0].height) == (256, 144)
