"""client.wait(task) and client.run(prompt): one video in one call (issue 12 item 2)."""

from __future__ import annotations

import pathlib
from typing import Any

import anyio
import pytest

from luma_async import (
    GenerateRequest,
    InvalidRequestError,
    PollTimeoutError,
    RetryPolicy,
    State,
)
from luma_async.emulator import Faults

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


async def test_wait_returns_the_task_once_it_completed(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A submitted task, waited for: completed with its link, polled a bounded number of times."""
    emu = await emulator("anyapi")
    c = await client(emu)
    submitted = await c.generate("a red fox")
    with anyio.fail_after(30):  # a safety bound, not an assertion
        done = await c.wait(submitted.id)
    assert done.id == submitted.id
    assert done.state is State.COMPLETED
    assert done.ok
    assert 1 <= emu.stats.by_route["get"] + emu.stats.by_route["batch"] <= 60


async def test_wait_on_a_generation_object_and_on_a_failure(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A Generation works as well as its id; a failed task is returned, not raised."""
    emu = await emulator("gptge")
    c = await client(emu)
    submitted = await c.generate("this one will [fail]")
    with anyio.fail_after(30):
        failed = await c.wait(submitted)
    assert failed.state is State.FAILED
    before = emu.stats.requests
    again = await c.wait(failed)  # already terminal: nothing to ask
    assert again is failed
    assert emu.stats.requests == before


async def test_wait_past_its_timeout_raises_poll_timeout(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A task that takes a minute, waited for 0.3 s: PollTimeoutError naming it."""
    emu = await emulator("anyapi", time_scale=1.0, queue_seconds=(60.0, 60.0))
    c = await client(emu)
    submitted = await c.generate("slow")
    with anyio.fail_after(30), pytest.raises(PollTimeoutError) as caught:
        await c.wait(submitted.id, timeout=0.3)
    assert caught.value.pending == [submitted.id]


async def test_run_generates_waits_and_downloads(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """One call: the finished generation and its file in the folder, as generate_many gives."""
    emu = await emulator("gptge")
    c = await client(emu)
    folder = tmp_path / "videos"  # made when missing: download_to is always a folder
    with anyio.fail_after(30):
        result = await c.run("a blue whale", download_to=folder, aspect_ratio="9:16")
    assert result.ok
    assert result.index == 0
    assert result.request == GenerateRequest("a blue whale", aspect_ratio="9:16")
    assert result.generation is not None
    assert result.path == folder / f"{result.generation.id}.mp4"
    assert result.path.read_bytes()[4:8] == b"ftyp"
    assert emu.stats.creations == 1


async def test_run_takes_a_request_struct(emulator: MakeEmulator, client: MakeClient) -> None:
    """A request struct instead of a prompt; no download: no path."""
    emu = await emulator("gptge")
    c = await client(emu)
    request = GenerateRequest("a green hill", aspect_ratio="16:9")
    with anyio.fail_after(30):
        result = await c.run(request)
    assert result.ok
    assert result.request is request
    assert result.path is None


async def test_run_gives_errors_as_the_result(emulator: MakeEmulator, client: MakeClient) -> None:
    """A refused value and a failed task are the result's, never raised."""
    emu = await emulator("gptge")
    c = await client(emu)
    with anyio.fail_after(30):
        refused = await c.run("a fox", aspect_ratio="2:1")  # type: ignore[arg-type]
        failed = await c.run("a fox [fail]")
    assert isinstance(refused.error, InvalidRequestError)
    assert refused.generation is None
    assert failed.error is None
    assert failed.generation is not None
    assert failed.generation.state is State.FAILED
    assert emu.stats.creations == 1


async def test_run_past_its_timeout_gives_a_poll_timeout_with_the_task_id(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """The task was billed: the result names it beside the PollTimeoutError."""
    emu = await emulator("anyapi", time_scale=1.0, queue_seconds=(60.0, 60.0))
    c = await client(emu)
    with anyio.fail_after(30):
        result = await c.run("slow", timeout=0.5)
    assert isinstance(result.error, PollTimeoutError)
    assert result.generation is not None
    assert [result.generation.id] == emu.tasks_created()


@pytest.mark.parametrize(
    ("first", "options"),
    [({"prompt": "a dict"}, {}), (GenerateRequest("struct"), {"model": "ray-2"})],
)
async def test_run_refuses_what_is_not_a_request(
    emulator: MakeEmulator, client: MakeClient, first: Any, options: dict[str, Any]
) -> None:
    """A dict, or options beside a struct: TypeError before anything is sent."""
    emu = await emulator("anyapi")
    c = await client(emu)
    with pytest.raises(TypeError):
        await c.run(first, **options)
    assert emu.stats.requests == 0


async def test_run_times_out_while_its_submit_waits_out_a_long_429(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """Retry-After 30 s, timeout 0.5 s: the requeued submit is woken and gets the timeout."""
    faults = Faults(rate_429=1.0, retry_after=30, routes=frozenset({"submit"}))
    emu = await emulator("gptge", faults=faults)
    c = await client(emu, retry=RetryPolicy(max_tries=1, max_time=5.0, base=0.01, cap=0.05))
    with anyio.fail_after(10):  # a safety bound, not the assertion
        result = await c.run("never taken", timeout=0.5)
    assert isinstance(result.error, PollTimeoutError)
    assert result.generation is None
    assert emu.stats.by_route["submit"] == 1
