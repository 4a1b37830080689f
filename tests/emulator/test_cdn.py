"""The CDN site: real MP4 bytes, Range, signatures, expiry, and counting Authorization headers."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from ._support import Api, FakeClock, serve

pytestmark = pytest.mark.anyio


async def _completed(api: Api, **kwargs: Any) -> dict[str, Any]:
    task_id = api.emu.create_task("a lake", queue_seconds=0, run_seconds=0, **kwargs)
    reply = await api.get(f"/luma/generations/{task_id}")
    assert reply.body["state"] == "completed"
    task: dict[str, Any] = reply.body
    return task


async def test_videos_are_small_real_mp4s() -> None:
    """ftyp, moov before mdat, a trailing free box naming the task; clean and marked differ."""
    async with serve(dialect="anyapi") as api:
        task = await _completed(api)
        marked = await api.fetch(task["video"]["url"])
        clean = await api.fetch(task["video_raw"]["url"])
        for reply in (marked, clean):
            assert reply.status == 200
            assert reply.headers["Content-Type"] == "video/mp4"
            assert reply.headers["Accept-Ranges"] == "bytes"
            assert int(reply.headers["Content-Length"]) > 1000
        raw_marked = await _bytes(api, task["video"]["url"])
        raw_clean = await _bytes(api, task["video_raw"]["url"])
        assert raw_marked != raw_clean
        for data in (raw_marked, raw_clean):
            assert 1000 < len(data) < 64_000
            boxes = _boxes(data)
            assert [kind for kind, _ in boxes] == [b"ftyp", b"moov", b"free", b"mdat", b"free"]
            assert sum(size for _, size in boxes) == len(data)
            assert task["id"].encode() in data


def _boxes(data: bytes) -> list[tuple[bytes, int]]:
    out = []
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        out.append((kind, size))
        offset += size
    return out


async def _bytes(api: Api, url: str, headers: dict[str, str] | None = None) -> bytes:
    async with api.session.get(url, headers=headers or {}) as resp:
        return await resp.read()


async def test_each_task_has_its_own_file() -> None:
    """Two tasks, two different files."""
    async with serve(dialect="gptge") as api:
        first, second = await _completed(api), await _completed(api)
        assert await _bytes(api, first["video"]["url"]) != await _bytes(api, second["video"]["url"])


async def test_range_requests() -> None:
    """206 with Content-Range for bytes=a-b, a- and -n; 416 past the end."""
    async with serve(dialect="anyapi") as api:
        url = (await _completed(api))["video"]["download_url"]
        whole = await _bytes(api, url)
        total = len(whole)
        async with api.session.get(url, headers={"Range": "bytes=0-99"}) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == f"bytes 0-99/{total}"
            assert resp.headers["Content-Length"] == "100"
            assert await resp.read() == whole[:100]
        async with api.session.get(url, headers={"Range": "bytes=1000-"}) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == f"bytes 1000-{total - 1}/{total}"
            assert await resp.read() == whole[1000:]
        async with api.session.get(url, headers={"Range": "bytes=-10"}) as resp:
            assert (resp.status, await resp.read()) == (206, whole[-10:])
        async with api.session.get(url, headers={"Range": f"bytes=10-{total + 50}"}) as resp:
            assert (resp.status, await resp.read()) == (206, whole[10:])
        async with api.session.get(url, headers={"Range": f"bytes={total}-"}) as resp:
            assert resp.status == 416
            assert resp.headers["Content-Range"] == f"bytes */{total}"
        async with api.session.get(url, headers={"Range": "bytes=0-1,5-6"}) as resp:
            assert (resp.status, len(await resp.read())) == (200, total)
        async with api.session.head(url) as resp:
            assert (resp.status, resp.headers["Content-Length"]) == (200, str(total))


async def test_images_are_jpeg_ish() -> None:
    """Thumbnails and last frames start with SOI and end with EOI."""
    async with serve(dialect="rixapi") as api:
        task = await _completed(api)
        for url in (
            task["thumbnail"]["url"],
            task["last_frame"]["url"],
            task["video"]["thumbnail"],
        ):
            data = await _bytes(api, url)
            assert data[:2] == b"\xff\xd8"
            assert data[-2:] == b"\xff\xd9"


async def test_authorization_headers_are_counted() -> None:
    """cdn_requests counts every CDN request; cdn_auth_headers those carrying Authorization."""
    async with serve(dialect="anyapi") as api:
        url = (await _completed(api))["video"]["url"]
        await _bytes(api, url)
        await _bytes(api, url, {"Authorization": "Bearer test-key"})
        stats = api.emu.stats
        assert (stats.cdn_requests, stats.cdn_auth_headers) == (2, 1)
        assert stats.requests == 1, "CDN requests are not API requests"


async def test_bad_or_missing_signature_is_403() -> None:
    """A link whose signature does not match (or is absent) is refused."""
    async with serve(dialect="anyapi") as api:
        task = await _completed(api)
        url = task["video"]["url"]
        assert (await api.fetch(url[:-1] + ("0" if url[-1] != "0" else "1"))).status == 403
        assert (await api.fetch(url.split("?")[0])).status == 403
        swapped = task["video_raw"]["url"].replace("_raw.mp4", ".mp4")
        denied = await api.fetch(swapped)
        assert denied.status == 403
        assert "AccessDenied" in denied.text


async def test_links_expire_with_expire_links(clock: FakeClock) -> None:
    """expire_links: a link is good for link_ttl seconds, then 403; a fresh query signs anew."""
    config = {
        "dialect": "anyapi",
        "clock": clock,
        "quirks": frozenset({"expire_links"}),
        "link_ttl": 60.0,
    }
    async with serve(**config) as api:
        task = await _completed(api)
        url = task["video"]["download_url"]
        assert (await api.fetch(url)).status == 200
        clock.advance(61)
        expired = await api.fetch(url)
        assert expired.status == 403
        assert "expired" in expired.text
        fresh = (await api.get(f"/luma/generations/{task['id']}")).body["video"]["download_url"]
        assert (await api.fetch(fresh)).status == 200


async def test_links_do_not_expire_by_default(clock: FakeClock) -> None:
    """Without the quirk an old link keeps working."""
    async with serve(dialect="anyapi", clock=clock, link_ttl=60.0) as api:
        url = (await _completed(api))["video"]["download_url"]
        clock.advance(3600)
        assert (await api.fetch(url)).status == 200


async def test_deleted_generation_video_is_404() -> None:
    """After an official delete, the video link answers 404."""
    async with serve(dialect="official") as api:
        task_id = api.emu.create_task("a lake", queue_seconds=0, run_seconds=0)
        video = (await api.get(f"/generations/{task_id}")).body["assets"]["video"]
        assert (await api.fetch(video)).status == 200
        await api.call("DELETE", f"/generations/{task_id}")
        assert (await api.fetch(video)).status == 404
