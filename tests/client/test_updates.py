"""`poll(..., on_update=...)`: every event, raising and slow callbacks, log lines for give-ups."""

from __future__ import annotations

import logging

import anyio
import pytest

from luma_async import RetryPolicy, State
from luma_async._updates import Update
from luma_async.emulator import Faults

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


async def test_state_progress_and_finished_events_are_reported(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A task that queues then runs gives "state" events (state and progress) and one
    "finished"; every update of a poll has index None."""
    emu = await emulator("anyapi", quirks=frozenset({"batch_wrapper"}))  # it reports progress
    c = await client(emu)
    tasks = [emu.create_task(f"t{i}", run_seconds=0.6, queue_seconds=0.2) for i in range(3)]
    seen: list[Update] = []
    async with c.poll(tasks, timeout=20, interval=0.05, on_update=seen.append) as stream:
        done = [g.id async for g in stream]
    assert sorted(done) == sorted(tasks)
    assert all(u.index is None for u in seen)
    for task in tasks:
        mine = [u for u in seen if u.task_id == task]
        assert [u.event for u in mine].count("finished") == 1
        assert mine[-1].event == "finished"
        assert mine[-1].state is State.COMPLETED
        states = [u.state for u in mine if u.event == "state"]
        assert State.PROCESSING in states
        progress = [u.progress for u in mine if u.event == "state" and u.progress is not None]
        assert len(set(progress)) >= 2  # the relay reports progress as the task runs


async def test_a_failed_look_that_keeps_the_task_is_reported_as_retried(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """Server errors after the transport gave up keep the task and say "retried"."""
    faults = Faults(http_500=0.5, routes=frozenset({"get", "batch"}))
    emu = await emulator("gptge", faults=faults, seed=3)
    c = await client(emu, retry=RetryPolicy(max_tries=1, max_time=1.0, base=0.01, cap=0.01))
    tasks = [emu.create_task(f"t{i}", run_seconds=0.3, queue_seconds=0.0) for i in range(8)]
    seen: list[Update] = []
    async with c.poll(tasks, timeout=30, interval=0.05, on_update=seen.append) as stream:
        done = [g.id async for g in stream]
    assert sorted(done) == sorted(tasks)
    retried = [u for u in seen if u.event == "retried"]
    assert retried
    assert {u.task_id for u in retried} <= set(tasks)
    assert emu.stats.faults_injected["http_500"] > 0


async def test_a_raising_callback_is_logged_once_and_never_stops_the_stream(
    emulator: MakeEmulator, client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Every task still comes out; one WARNING line for all the errors."""
    emu = await emulator("anyapi")
    c = await client(emu)
    tasks = [emu.create_task(f"t{i}", run_seconds=0.1, queue_seconds=0.0) for i in range(5)]
    calls = 0

    def broken(update: Update) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("display crashed")

    with caplog.at_level(logging.WARNING, logger="luma_async"):
        async with c.poll(tasks, timeout=20, interval=0.05, on_update=broken) as stream:
            done = [g.id async for g in stream]
    assert sorted(done) == sorted(tasks)
    assert calls >= len(tasks)
    assert len([r for r in caplog.records if "on_update raised" in r.getMessage()]) == 1


async def test_a_slow_async_callback_does_not_stall_polling(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """An async callback stuck on its first update: every task is still polled and yielded;
    the updates are delivered, in order, once it moves again."""
    emu = await emulator("gptge")
    c = await client(emu)
    tasks = [emu.create_task(f"t{i}", run_seconds=0.2, queue_seconds=0.0) for i in range(20)]
    unblock = anyio.Event()
    seen: list[Update] = []

    async def slow(update: Update) -> None:
        await unblock.wait()
        seen.append(update)

    got: list[str] = []
    async with c.poll(tasks, timeout=20, interval=0.05, on_update=slow) as stream:
        async for generation in stream:
            got.append(generation.id)
            if len(got) == len(tasks):
                assert seen == []  # all yielded while the callback was still stuck
                unblock.set()
    assert sorted(got) == sorted(tasks)
    finished = [u.task_id or "" for u in seen if u.event == "finished"]
    assert sorted(finished) == sorted(tasks)


async def test_give_ups_are_logged_with_the_task_id(
    emulator: MakeEmulator, client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """unknown_after and the link grace each leave a WARNING naming the task."""
    emu = await emulator("gptge", quirks=frozenset({"completed_without_link"}), link_delay=1000.0)
    c = await client(emu)
    linkless = emu.create_task("linkless", run_seconds=0.0, queue_seconds=0.0)
    with caplog.at_level(logging.INFO, logger="luma_async"):
        async with c.poll(
            [linkless, "ghost-id"], timeout=10, interval=0.05, link_grace=0.2, unknown_after=0.3
        ) as stream:
            done = {g.id: g async for g in stream}
    assert done[linkless].state is State.FAILED
    assert done["ghost-id"].state is State.FAILED
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(linkless in line and "without a video link" in line for line in lines)
    assert any("ghost-id" in line and "has not known" in line for line in lines)
