"""generate_many: one JobResult per request, whatever happens to each."""

from __future__ import annotations

import pathlib

import pytest

from luma_async import (
    AuthenticationError,
    BadRequestError,
    GenerateRequest,
    InvalidRequestError,
    JobResult,
    QuotaExceededError,
    State,
)

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


async def run(
    client_: object, requests: list[GenerateRequest | str], **options: object
) -> list[JobResult]:
    """All results of one generate_many run."""
    from luma_async import LumaClient

    assert isinstance(client_, LumaClient)
    async with client_.generate_many(requests, **options) as results:  # type: ignore[arg-type]
        return [result async for result in results]


async def test_mixed_requests_give_one_result_each(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """Good, failing, refused-locally and refused-by-the-gateway requests, one result each."""
    emu = await emulator("gptge", run_seconds=(0.5, 3.0))
    c = await client(emu)
    requests: list[GenerateRequest | str] = [
        "a red fox",
        GenerateRequest("this one will [fail]"),
        GenerateRequest("bad ratio", aspect_ratio="2:1"),  # type: ignore[arg-type]
        GenerateRequest("gateway says no", extra_body={"aspect_ratio": "7:3"}),
        "a red fox",  # the same request twice is two jobs
        GenerateRequest("a blue whale", aspect_ratio="9:16"),
    ]
    results = await run(c, requests, concurrency=3)
    by_index = {r.index: r for r in results}
    assert sorted(by_index) == list(range(len(requests)))
    assert by_index[0].ok
    assert by_index[0].generation is not None
    assert by_index[1].generation is not None
    assert by_index[1].generation.state is State.FAILED
    assert isinstance(by_index[2].error, InvalidRequestError)
    assert isinstance(by_index[3].error, BadRequestError)
    assert by_index[4].ok
    assert by_index[0].generation.id != by_index[4].generation.id  # type: ignore[union-attr]
    assert by_index[5].ok
    assert emu.stats.creations == 4


async def test_downloads_land_in_the_folder(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """With download_to, each finished video is on disk and named by its task."""
    emu = await emulator("anyapi")
    c = await client(emu)
    results = await run(c, [f"clip {i}" for i in range(5)], download_to=tmp_path)
    assert len(results) == 5
    for result in results:
        assert result.path is not None
        assert result.generation is not None
        assert result.path == tmp_path / f"{result.generation.id}.mp4"
        assert result.path.read_bytes()[4:8] == b"ftyp"
    assert emu.stats.cdn_auth_headers == 0


async def test_a_quota_error_stops_further_submits(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """After the gateway says quota, nothing more is sent; the rest get that error."""
    emu = await emulator("rixapi", credits=3)
    c = await client(emu)
    results = await run(c, [f"clip {i}" for i in range(20)], concurrency=4)
    assert sorted(r.index for r in results) == list(range(20))
    ok = [r for r in results if r.ok]
    refused = [r for r in results if isinstance(r.error, QuotaExceededError)]
    assert len(ok) == 3
    assert len(refused) == 17
    # Three created; at most the submits already in flight (4) were refused; none after.
    assert emu.stats.by_route["submit"] <= 3 + 4
    assert emu.stats.creations == 3


async def test_a_bad_key_costs_one_request(emulator: MakeEmulator, client: MakeClient) -> None:
    """Until one submit succeeds only one submitter runs: a wrong key is found once."""
    emu = await emulator("gptge")
    c = await client(emu, api_key="sk-wrong")
    results = await run(c, [f"clip {i}" for i in range(10)], concurrency=8)
    assert len(results) == 10
    assert all(isinstance(r.error, AuthenticationError) for r in results)
    assert emu.stats.by_route["submit"] == 1


async def test_concurrency_one_runs_the_jobs_one_after_another(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """With concurrency=1 each submit waits for the previous video: results in submit order."""
    emu = await emulator(
        "xfusion", time_scale=1.0, queue_seconds=(0.0, 0.0), run_seconds=(0.05, 0.6), seed=3
    )
    c = await client(emu)
    results = await run(c, ["one", "two", "three", "four"], concurrency=1, interval=0.05)
    assert [r.generation.id for r in results if r.generation] == emu.tasks_created()
    assert [r.index for r in results] == [0, 1, 2, 3]


async def test_leaving_early_cancels_the_run(emulator: MakeEmulator, client: MakeClient) -> None:
    """Breaking out after the first result stops submitting."""
    emu = await emulator("gptge", run_seconds=(0.1, 0.2))
    c = await client(emu)
    async with c.generate_many([f"clip {i}" for i in range(50)], concurrency=2) as results:
        async for _ in results:
            break
    assert emu.stats.creations < 50
