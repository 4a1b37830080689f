"""Downloads have slots of their own: slow ones never hold up API requests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import anyio
import pytest
from aiohttp import web

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


class SlowCdn:
    """A real server whose videos send their first bytes, then stall until released."""

    def __init__(self, expected: int) -> None:
        self.started = 0
        self.expected = expected
        self.all_started = asyncio.Event()
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.started += 1
        if self.started >= self.expected:
            self.all_started.set()
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.content_length = 2000
        await response.prepare(request)
        await response.write(b"\0" * 1000)
        await self.release.wait()
        await response.write(b"\0" * 1000)
        return response


@contextlib.asynccontextmanager
async def serve(cdn: SlowCdn) -> AsyncIterator[str]:
    """Run `cdn` on a loopback port; yields its base URL."""
    app = web.Application()
    app.router.add_get("/{tail:.*}", cdn.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        cdn.release.set()
        await runner.cleanup()


@pytest.mark.parametrize("max_downloads", [1, 4])
async def test_a_get_completes_while_downloads_stall(
    max_downloads: int, emulator: MakeEmulator, client: MakeClient
) -> None:
    """With every download slot held by a stalled download, reads still go, and one download
    more waits for a slot of its own kind."""
    emu = await emulator("anyapi")
    c = await client(emu, max_concurrency=1, max_downloads=max_downloads)
    assert c.transport.max_downloads == max_downloads
    done = emu.create_task("a finished video", run_seconds=0.0, queue_seconds=0.0)
    cdn = SlowCdn(expected=max_downloads)
    sizes: list[int] = []

    async def download(url: str) -> None:
        async with c.transport.stream(url) as (status, _, chunks):
            assert status == 200
            size = 0
            async for chunk in chunks:
                size += len(chunk)
        sizes.append(size)

    async with serve(cdn) as url, anyio.create_task_group() as tg:
        for i in range(max_downloads + 1):
            tg.start_soon(download, f"{url}/video-{i}.mp4")
        with anyio.fail_after(10):
            await cdn.all_started.wait()
            for _ in range(3):  # before: waited for a download to finish, i.e. forever
                assert (await c.get(done)).id == done
        assert cdn.started == max_downloads  # the extra download waits for a download slot
        assert sizes == []
        cdn.release.set()
    assert sizes == [2000] * (max_downloads + 1)
    assert cdn.started == max_downloads + 1
    assert emu.stats.by_route["get"] == 3


async def test_a_cdn_429_slows_downloads_only(emulator: MakeEmulator, client: MakeClient) -> None:
    """A 429 from the CDN paces later downloads; creates and reads are left alone."""
    emu = await emulator("anyapi")
    c = await client(emu)
    hits: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(request.path)
        if len(hits) == 1:
            return web.Response(status=429, headers={"Retry-After": "0"})
        return web.Response(body=b"\0" * 100, content_type="video/mp4")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/v.mp4"
        statuses = []
        with anyio.fail_after(10):
            for _ in range(2):
                async with c.transport.stream(url) as (status, _, chunks):
                    statuses.append(status)
                    async for _chunk in chunks:
                        pass
    finally:
        await runner.cleanup()
    assert statuses == [429, 200]
    buckets = c.transport.buckets
    assert buckets["download"].rate is not None
    assert buckets["read"].rate is None
    assert buckets["create"].rate is None
