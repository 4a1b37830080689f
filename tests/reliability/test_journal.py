"""Resumable runs: a journal makes a second run finish the first without paying twice."""

from __future__ import annotations

import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import textwrap

import anyio
import pytest

from luma_async import GenerateRequest, JobResult, LumaClient, SubmissionUncertainError
from luma_async._stores import make_store

from ..conftest import FAST_RETRY, KEY, MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


async def collect(client: LumaClient, prompts: list[str], journal: pathlib.Path) -> list[JobResult]:
    """Every result of one journaled run."""
    async with client.generate_many(prompts, concurrency=4, journal=journal, interval=0.05) as out:
        return [result async for result in out]


async def interrupted(path: pathlib.Path, prompt: str) -> None:
    """A journal whose request 0 was being submitted when its run died."""
    store = make_store(path)
    await store.open()
    try:
        await store.intend(0, GenerateRequest(prompt))
    finally:
        await store.close()


@pytest.mark.parametrize("dialect", ["anyapi", "official"])
async def test_a_run_left_early_is_finished_by_the_next(
    dialect: str, emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """Leave after three results; the next run gives all ten and creates the rest only."""
    emu = await emulator(dialect, run_seconds=(1.0, 5.0))
    c = await client(emu)
    prompts = [f"scene number {i}" for i in range(10)]
    journal = tmp_path / "run.sqlite"
    first: list[JobResult] = []
    async with c.generate_many(prompts, concurrency=4, journal=journal, interval=0.05) as out:
        async for result in out:
            first.append(result)
            if len(first) == 3:
                break
    made_before = emu.stats.creations
    second = await collect(c, prompts, journal)
    assert sorted(r.index for r in second) == list(range(10))
    assert all(r.ok for r in second), [repr(r.error) for r in second if not r.ok]
    replayed = {r.index: r.generation.id for r in first if r.generation}
    again = {r.index: r.generation.id for r in second if r.generation and r.index in replayed}
    assert again == replayed
    assert emu.stats.creations == 10
    assert emu.stats.duplicate_prompts == 0
    assert made_before <= 10


async def test_an_interrupted_submit_is_never_resent(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """An intent without a task id is reported uncertain (relays cannot list tasks)."""
    emu = await emulator("gptge")
    c = await client(emu)
    journal_path = tmp_path / "run.sqlite"
    await interrupted(journal_path, "crashed mid-submit")
    results = await collect(c, ["crashed mid-submit", "a fresh one"], journal_path)
    by_index = {r.index: r for r in results}
    assert isinstance(by_index[0].error, SubmissionUncertainError)
    assert by_index[1].ok
    assert emu.stats.creations == 1


async def test_an_interrupted_submit_is_recovered_on_the_official_api(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """The official list shows the task the crashed submit made: it is polled, not resent."""
    emu = await emulator("official")
    c = await client(emu)
    journal_path = tmp_path / "run.sqlite"
    await interrupted(journal_path, "crashed mid-submit")
    async with LumaClient(emu.base_url, KEY, "official", retry=FAST_RETRY) as other:
        made = await other.generate("crashed mid-submit")  # what the crashed run had created
    results = await collect(c, ["crashed mid-submit"], journal_path)
    assert results[0].generation is not None
    assert results[0].generation.id == made.id
    assert emu.stats.creations == 1


_RUNNER = textwrap.dedent(
    """
    import sys, anyio
    from luma_async import LumaClient

    async def main(base_url, key, journal):
        prompts = [f"killed run scene {i}" for i in range(40)]
        async with LumaClient(base_url, key, "anyapi") as client:
            async with client.generate_many(prompts, concurrency=8, journal=journal) as out:
                async for result in out:
                    print(result.index, flush=True)

    anyio.run(main, *sys.argv[1:])
    """
)


def _journaled(path: pathlib.Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            query = "SELECT COUNT(*) FROM entries WHERE task_id IS NOT NULL"
            count: int = db.execute(query).fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # the other process made the file and has not made its table yet
    return count


async def test_a_killed_run_resumes_from_its_journal(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """SIGKILL mid-run, then resume: one result per request, each task created at most once."""
    emu = await emulator("anyapi", run_seconds=(2.0, 8.0), time_scale=0.5)
    journal = tmp_path / "run.sqlite"
    script = tmp_path / "runner.py"
    script.write_text(_RUNNER)
    env = {**os.environ, "PYTHONPATH": str(pathlib.Path(__file__).parents[2])}
    process = subprocess.Popen(  # noqa: ASYNC220 - killed by hand below, never awaited long
        [sys.executable, str(script), emu.base_url, KEY, str(journal)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        with anyio.fail_after(120):  # generous: a loaded CI machine starts Python slowly
            # Another process writes the file: nothing to wait on but the file itself.
            while _journaled(journal) < 12:  # noqa: ASYNC110
                await anyio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    created_by_first = emu.stats.creations
    assert 12 <= created_by_first < 40
    c = await client(emu)
    prompts = [f"killed run scene {i}" for i in range(40)]
    async with c.generate_many(prompts, concurrency=8, journal=journal, interval=0.1) as out:
        results = [result async for result in out]
    assert sorted(r.index for r in results) == list(range(40))
    uncertain = [r for r in results if isinstance(r.error, SubmissionUncertainError)]
    assert all(r.ok for r in results if r not in uncertain)
    assert emu.stats.duplicate_prompts == 0
    assert emu.stats.creations <= 40
    reported = {r.generation.id for r in results if r.generation}
    lost = set(emu.tasks_created()) - reported
    assert len(lost) <= len(uncertain)  # a created task no result names was reported uncertain
    print(
        f"\nkilled after {created_by_first} creations; resumed: {len(results)} results, "
        f"{len(uncertain)} uncertain, {emu.stats.creations} created in all, "
        f"{emu.stats.duplicate_prompts} duplicates, {len(lost)} created and unreported"
    )
