"""Callbacks: a receiver that wakes the poller; polling stays the source of truth."""

from __future__ import annotations

import aiohttp
import pytest

from luma_async import CallbackReceiver, LumaClient, PollTimeoutError, State
from luma_async.dialects import get_dialect

from ..conftest import FAST_RETRY, KEY, MakeEmulator

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("dialect", ["official", "anyapi", "rixapi"])
async def test_callbacks_finish_tasks_long_before_the_next_poll(
    dialect: str, emulator: MakeEmulator
) -> None:
    """With a 60 s poll interval, every task still comes out well inside a 20 s deadline."""
    emu = await emulator(dialect, time_scale=0.05)
    async with (
        CallbackReceiver() as receiver,
        LumaClient(emu.base_url, KEY, dialect, callbacks=receiver, retry=FAST_RETRY) as client,
    ):
        made = [await client.generate(f"hooked {i}") for i in range(5)]
        assert all(receiver.has_callback(g.id) for g in made)
        async with client.poll([g.id for g in made], timeout=20, interval=60) as stream:
            done = [g async for g in stream]
    assert sorted(g.id for g in done) == sorted(g.id for g in made)
    assert all(g.ok for g in done)
    looks = emu.stats.by_route["get"] + emu.stats.by_route["batch"] + emu.stats.by_route["list"]
    assert looks <= 2 * len(made)  # one confirming query per task (and the odd batch)
    assert emu.stats.callbacks_sent >= len(made)


async def test_with_half_the_callbacks_lost_polling_finishes_the_rest(
    emulator: MakeEmulator,
) -> None:
    """Dropped deliveries only slow a task down: the sparse safety-net polling finds it."""
    emu = await emulator("gptge", time_scale=0.05, callback_drop=0.5, seed=5)
    async with (
        CallbackReceiver() as receiver,
        LumaClient(emu.base_url, KEY, "gptge", callbacks=receiver, retry=FAST_RETRY) as client,
    ):
        made = [await client.generate(f"hooked {i}", aspect_ratio="1:1") for i in range(12)]
        async with client.poll([g.id for g in made], timeout=30, interval=0.05) as stream:
            done = [g async for g in stream]
    assert sorted(g.id for g in done) == sorted(g.id for g in made)
    assert emu.stats.callbacks_dropped > 0


async def test_forged_posts_are_refused_and_change_nothing(emulator: MakeEmulator) -> None:
    """Wrong token, garbage (invalid UTF-8 too), oversized, another task's body: 4xx; a forged
    'completed' for a running task is confirmed by a query and does not make it come out early."""
    emu = await emulator("anyapi")
    async with (
        CallbackReceiver(max_body=4096) as receiver,
        LumaClient(emu.base_url, KEY, "anyapi", callbacks=receiver, retry=FAST_RETRY) as client,
        aiohttp.ClientSession() as http,
    ):
        running = emu.create_task("slow", run_seconds=120.0, queue_seconds=0.0)
        other = emu.create_task("other", run_seconds=120.0, queue_seconds=0.0)
        token, url = receiver.issue(get_dialect("anyapi"))
        receiver.bind(token, running)
        forged = {
            "id": running,
            "state": "completed",
            "video": {"url": "https://evil.example/x.mp4"},
        }
        cases = [
            (receiver.url + "/luma-callback/not-a-token", forged, 404),
            (url, {"id": other, "state": "completed"}, 400),
            (url, {"nonsense": True}, 400),
            (url, {"id": running, "state": "completed", "pad": "x" * 10_000}, 413),
        ]
        for target, body, status in cases:
            async with http.post(target, json=body) as resp:
                assert resp.status == status, (target, body)
        for garbage in (b"<html>garbage", b'{"id":"\xff","state":"completed"}'):
            async with http.post(url, data=garbage) as resp:
                assert resp.status == 400, garbage
        async with http.post(url, json=forged) as resp:
            assert resp.status == 200  # well-formed: taken as a hint, then checked
        with pytest.raises(PollTimeoutError) as info:
            async with client.poll([running], timeout=1.0, interval=0.1) as stream:
                async for _ in stream:
                    pass
        assert info.value.pending == [running]
    assert receiver.refused == 6


async def test_a_callback_before_the_submit_answer_is_held(emulator: MakeEmulator) -> None:
    """A post that beats the submit's answer counts once the id is known."""
    emu = await emulator("anyapi")
    async with CallbackReceiver() as receiver, aiohttp.ClientSession() as http:
        task = emu.create_task("fast", run_seconds=0.0, queue_seconds=0.0)
        token, url = receiver.issue(get_dialect("anyapi"))
        async with http.post(url, json={"id": task, "state": "completed"}) as resp:
            assert resp.status == 202
        assert not receiver.finished(task)
        receiver.bind(token, task)
        assert receiver.finished(task)


async def test_an_explicit_callback_url_wins(emulator: MakeEmulator) -> None:
    """A caller's own callback_url is sent as given; the receiver does not claim the task."""
    emu = await emulator("official")
    async with (
        CallbackReceiver(public_url="https://hooks.example.com/") as receiver,
        LumaClient(emu.base_url, KEY, "official", callbacks=receiver, retry=FAST_RETRY) as client,
    ):
        own = await client.generate("mine", callback_url="http://127.0.0.1:9/own-hook")
        assert not receiver.has_callback(own.id)
        token, url = receiver.issue(get_dialect("official"))
        assert url.startswith("https://hooks.example.com/luma-callback/")
        receiver.discard(token)
        assert (await client.get(own.id)).state is not State.FAILED


async def test_an_explicit_interval_is_the_safety_net_period_with_callbacks(
    emulator: MakeEmulator,
) -> None:
    """A hooked task whose callback never comes is still looked at every `interval`, not 10x."""
    emu = await emulator("gptge")
    async with (
        CallbackReceiver() as receiver,
        LumaClient(emu.base_url, KEY, "gptge", callbacks=receiver, retry=FAST_RETRY) as client,
    ):
        task = emu.create_task("silent", run_seconds=600.0, queue_seconds=0.0)
        token, _ = receiver.issue(get_dialect("gptge"))
        receiver.bind(token, task)
        assert receiver.has_callback(task)
        with pytest.raises(PollTimeoutError):
            async with client.poll([task], timeout=1.0, interval=0.1) as stream:
                async for _ in stream:
                    pass
    looks = emu.stats.by_route["get"] + emu.stats.by_route["batch"]
    # Every 0.1 s for a second is about ten looks; the tenfold slowdown would allow one at most.
    assert looks >= 4
