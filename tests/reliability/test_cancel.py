"""Cancelling a generate_many is prompt (issue 12 item 8), and no billed task id is lost."""

from __future__ import annotations

import pathlib
from typing import Any

import anyio
import pytest

from luma_async import GenerateRequest, LumaClient, RetryPolicy
from luma_async._stores import make_store
from luma_async.emulator import Emulator, Faults

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio

#: Retries as a real client has them: a long Retry-After is slept out, inside one submit.
PATIENT = RetryPolicy(max_tries=5, max_time=60.0, base=0.01, cap=0.05)
SUBMITS_ONLY = frozenset({"submit"})


async def drain(client: LumaClient, prompts: list[str], **options: Any) -> None:
    """Read every result (until cancelled)."""
    async with client.generate_many(prompts, **options) as results:
        async for _ in results:
            pass


async def submits_reached(emu: Emulator, count: int) -> None:
    """Wait until `count` submits have reached the emulator (bounded)."""
    for _ in range(1000):
        if emu.stats.by_route["submit"] >= count:
            return
        await anyio.sleep(0.01)
    raise AssertionError(f"only {emu.stats.by_route['submit']} submits arrived")


async def cancel_after_first_submit(emu: Emulator, client: LumaClient, **options: Any) -> int:
    """Start a run, cancel it once a submit has arrived; the submits that arrived by then."""
    with anyio.fail_after(90):  # a safety bound against a hang, not the assertion
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: drain(client, [f"clip {i}" for i in range(4)], **options))
            await submits_reached(emu, 1)
            seen = emu.stats.by_route["submit"]
            group.cancel_scope.cancel()
    return seen


@pytest.mark.parametrize("journaled", [True, False])
async def test_cancel_while_submits_meet_long_429s_returns_promptly(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path, journaled: bool
) -> None:
    """Retry-After 30 s on every submit: the cancel does not wait for the retry.

    With a journal the submit in flight is shielded for one request timeout (1 s here) at
    most; the 429 retry it was sleeping towards never goes out.
    """
    faults = Faults(rate_429=1.0, retry_after=30, routes=SUBMITS_ONLY)
    emu = await emulator("gptge", faults=faults)
    c = await client(emu, retry=PATIENT, timeout=1.0 if journaled else 30.0)
    journal = tmp_path / "run.sqlite" if journaled else None
    seen = await cancel_after_first_submit(emu, c, journal=journal)
    # Counted, not timed: a cancel that waited out the 30 s Retry-After would send the retry.
    assert emu.stats.by_route["submit"] == seen
    assert emu.stats.creations == 0


async def test_a_cancel_keeps_the_task_id_of_a_submit_in_flight(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """Every submit takes 0.5 s: a cancel mid-submit still writes its task id down."""
    faults = Faults(slow=1.0, slow_seconds=0.5, routes=SUBMITS_ONLY)
    emu = await emulator("gptge", faults=faults)
    c = await client(emu, timeout=5.0)
    path = tmp_path / "run.sqlite"
    await cancel_after_first_submit(emu, c, journal=path, concurrency=4)
    created = emu.tasks_created()
    assert created  # the submit in flight finished under the shield
    store = make_store(path, reader=True)
    await store.open()
    try:
        entries = [await store.lookup(i, GenerateRequest(f"clip {i}")) for i in range(4)]
    finally:
        await store.close()
    recorded = {entry.task_id for entry in entries if entry is not None}
    assert set(created) <= recorded
