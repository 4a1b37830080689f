"""A consumer that stops reading slows generate_many down (issue 11 item 6), without deadlock."""

from __future__ import annotations

import pathlib

import anyio
import pytest

from luma_async import JobResult
from luma_async.emulator import Emulator

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


async def settled(emu: Emulator) -> int:
    """The emulator's creations once they stop growing for half a second (bounded)."""
    last, still = -1, 0
    for _ in range(200):
        now = emu.stats.creations
        still = still + 1 if now == last else 0
        if still >= 10:
            return now
        last = now
        await anyio.sleep(0.05)
    raise AssertionError("creations never settled")


@pytest.mark.parametrize("download", [False, True])
async def test_a_reader_that_pauses_holds_the_pipeline_back(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path, download: bool
) -> None:
    """concurrency=2: with the reader paused, at most 2 unread results and 2 jobs in flight."""
    emu = await emulator("anyapi", run_seconds=(0.5, 1.0))
    c = await client(emu)
    folder = tmp_path if download else None
    results: list[JobResult] = []
    with anyio.fail_after(60):  # a safety bound against a deadlock, not an assertion
        async with c.generate_many(
            [f"clip {i}" for i in range(12)], concurrency=2, download_to=folder, interval=0.05
        ) as stream:
            async for result in stream:
                results.append(result)
                if len(results) == 1:
                    # A slow consumer: the first result read, then a pause. One read,
                    # two waiting in the stream, two holding their slots: five at most.
                    assert await settled(emu) <= 5
    assert sorted(r.index for r in results) == list(range(12))
    assert all(r.ok for r in results), [repr(r.error) for r in results]
    assert emu.stats.creations == 12
    if download:
        assert all(r.path is not None and r.path.exists() for r in results)
