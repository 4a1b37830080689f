"""generate_many(on_update=...): the pipeline's progress events (issue 11 item 7)."""

from __future__ import annotations

import logging
import pathlib
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from luma_async import GenerateRequest, JobResult, LumaClient
from luma_async._updates import Update

from ..conftest import KEY, MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


async def collect(client: LumaClient, requests: Any, **options: Any) -> list[JobResult]:
    """All results of one generate_many run."""
    with anyio.fail_after(60):  # a safety bound against a hang, not an assertion
        async with client.generate_many(requests, **options) as results:
            return [result async for result in results]


async def test_every_request_gets_its_events_in_order(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """Each request's events in order; a request refused locally only finishes."""
    emu = await emulator("anyapi")
    c = await client(emu)
    updates: list[Update] = []
    requests: list[GenerateRequest | str] = [
        "clip zero",
        "clip one [fail]",
        GenerateRequest("bad ratio", aspect_ratio="2:1"),  # type: ignore[arg-type]
        "clip three",
    ]
    results = await collect(c, requests, download_to=tmp_path, on_update=updates.append)
    by_index = {r.index: r for r in results}
    # The poll stream's "state" events interleave with these; they are checked apart.
    per_index = {i: [u for u in updates if u.index == i and u.event != "state"] for i in range(4)}
    states = [u for u in updates if u.event == "state"]
    assert all(u.index in (0, 1, 3) and u.task_id is not None for u in states)
    assert [u.event for u in per_index[0]] == ["submitted", "downloaded", "finished"]
    assert [u.event for u in per_index[3]] == ["submitted", "downloaded", "finished"]
    assert [u.event for u in per_index[1]] == ["submitted", "finished"]
    assert [u.event for u in per_index[2]] == ["finished"]
    assert per_index[2][0].task_id is None
    for i in (0, 1, 3):
        generation = by_index[i].generation
        assert generation is not None
        assert {u.task_id for u in per_index[i]} == {generation.id}
        assert per_index[i][-1].state is generation.state
    assert sum(u.event == "finished" for u in updates) == len(results) == 4


async def test_an_async_callback_is_awaited(emulator: MakeEmulator, client: MakeClient) -> None:
    """A coroutine function works as on_update, awaited for each event."""
    emu = await emulator("gptge")
    c = await client(emu)
    seen: list[str] = []

    async def record(update: Update) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(update.event)

    await collect(c, ["a", "b"], on_update=record)
    own = sorted(event for event in seen if event != "state")
    assert own == ["finished", "finished", "submitted", "submitted"]


async def test_a_raising_callback_is_logged_once_and_the_run_goes_on(
    emulator: MakeEmulator, client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A callback that always raises: every result still comes, one WARNING in the log."""
    emu = await emulator("gptge")
    c = await client(emu)
    calls: list[Update] = []

    def broken(update: Update) -> None:
        calls.append(update)
        raise RuntimeError("display crashed")

    with caplog.at_level(logging.WARNING, logger="luma_async"):
        results = await collect(c, [f"clip {i}" for i in range(5)], on_update=broken)
    assert len(results) == 5
    assert all(r.ok for r in results)
    # Still called for every event: a submit and a finish per request, and state changes.
    assert sum(u.event in ("submitted", "finished") for u in calls) == 10
    failures = [r for r in caplog.records if "on_update raised" in r.getMessage()]
    assert len(failures) == 1
    assert KEY not in caplog.text
