"""A worker process killed with SIGKILL: its run lock goes with it, its submits are adopted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import anyio
import pytest

from luma_async import JournalError
from luma_async._stores import Adopted, make_store

from .test_protocol import prompts

pytestmark = pytest.mark.anyio

_WORKER = textwrap.dedent(
    """
    import sys, anyio
    from luma_async._stores import make_store
    from tests.journal.test_protocol import prompts

    async def main() -> None:
        store = make_store(sys.argv[1], run=sys.argv[2], lease=1.0)
        await store.open()
        requests = prompts(3)
        await store.join(requests, concurrency=8, submits_per_minute=None)
        first, second = await store.claim(), await store.claim()
        await store.submitted(first.index, first.request, "task-x")
        print("ready", flush=True)
        await anyio.sleep_forever()

    anyio.run(main)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_a_killed_worker_leaves_its_run_to_the_next(
    journal_target: str, backend: str
) -> None:
    """While it lives, a second SQLite process is refused; once killed, the next worker
    adopts its submitted task and its unanswered intent, and submits nothing again."""
    run = f"killed-{os.getpid()}-{backend}"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen(  # noqa: ASYNC220 - killed by hand below, never awaited long
        [sys.executable, "-c", _WORKER, journal_target, run],
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert child.stdout is not None
        line = await anyio.to_thread.run_sync(child.stdout.readline)
        assert line.strip() == b"ready"
        if backend == "sqlite":
            with pytest.raises(JournalError, match=f"in use by pid {child.pid}"):
                await make_store(journal_target, run=run).open()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
    store = make_store(journal_target, run=run, lease=1.0)
    await store.open()
    try:
        await store.join(prompts(3), concurrency=8, submits_per_minute=None)
        adopted: list[Adopted] = []
        with anyio.fail_after(20):
            while not adopted:  # PostgreSQL: once the dead worker's lease has run out
                adopted = await store.adopt_expired()
                await anyio.sleep(0.1)
        assert [(a.index, a.task_id) for a in adopted] == [(0, "task-x"), (1, None)]
        claim = await store.claim()
        assert claim is not None
        assert claim.index == 2
    finally:
        await store.close()
