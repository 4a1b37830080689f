"""What only the SQLite journal does: its own thread, its run lock, its file's history."""

from __future__ import annotations

import pathlib
import sqlite3
import threading

import anyio
import pytest

from luma_async import GenerateRequest, JobResult, JournalError
from luma_async._stores import SqliteStore
from luma_async._stores._sqlite_schema import SCHEMA_VERSION

from .legacy_journal import Journal

pytestmark = pytest.mark.anyio


async def opened(path: pathlib.Path, **options: object) -> SqliteStore:
    """An open store on `path`."""
    store = SqliteStore(path, **options)  # type: ignore[arg-type]
    await store.open()
    return store


async def test_a_held_write_lock_does_not_freeze_the_event_loop(tmp_path: pathlib.Path) -> None:
    """Another connection holds the write lock until the loop has ticked 50 times: the
    journal's write waits on its thread meanwhile, then goes through."""
    path = tmp_path / "j.db"
    store = await opened(path)
    requests = [GenerateRequest("a")]
    await store.join(requests, concurrency=8, submits_per_minute=None)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(30)  # bounded: the ticker sets it after 50 ticks
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    await anyio.to_thread.run_sync(locked.wait, 10)
    ticks = 0
    wrote_at_tick: list[int] = []

    async def ticker() -> None:
        nonlocal ticks
        while ticks < 50:
            await anyio.sleep(0.005)
            ticks += 1
        release.set()

    async def write() -> None:
        await store.intend(0, requests[0])
        wrote_at_tick.append(ticks)

    try:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(ticker)
                group.start_soon(write)
    finally:
        release.set()
        holder.join(10)
        await store.close()
    assert wrote_at_tick == [50]  # the write waited for the lock, the loop did not


async def test_a_database_error_is_a_journal_error(tmp_path: pathlib.Path) -> None:
    """A lock held past the busy timeout, and a file that is no database: JournalError."""
    path = tmp_path / "j.db"
    store = await opened(path, busy_timeout=0.05)
    requests = [GenerateRequest("a")]
    await store.join(requests, concurrency=8, submits_per_minute=None)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(JournalError, match="database is locked"):
            await store.intend(0, requests[0])
    finally:
        other.execute("COMMIT")
        other.close()
        await store.close()
    garbage = tmp_path / "not-a-db.sqlite"
    garbage.write_bytes(b"this is not a database, not even close" * 100)
    with pytest.raises(JournalError, match="not-a-db"):
        await opened(garbage)


async def test_one_process_per_run(tmp_path: pathlib.Path) -> None:
    """A second opener of the same run is refused clearly; another run in the file is not."""
    path = tmp_path / "j.db"
    first = await opened(path)
    try:
        with pytest.raises(JournalError, match=r"run 'default' .* in use by pid \d+"):
            await opened(path)
        other = await opened(path, run="other")
        await other.close()
    finally:
        await first.close()
    again = await opened(path)  # closed: the run is free again
    await again.close()


async def test_a_first_journal_file_is_migrated_and_resumed(tmp_path: pathlib.Path) -> None:
    """A file the first journal wrote: its finished results replay, its submits resume, and
    its index whose request changed is refused."""
    path = tmp_path / "old.sqlite"
    requests = [GenerateRequest(f"old {i}") for i in range(3)]
    old = Journal(path)
    old.intend(0, requests[0])
    old.submitted(0, requests[0], "task-0")
    old.finished(JobResult(0, requests[0], error=JournalError("kept")))
    old.intend(1, requests[1])
    old.submitted(1, requests[1], "task-1")
    old.close()
    store = await opened(path)
    try:
        await store.join(requests, concurrency=4, submits_per_minute=None)
        entry = await store.lookup(0, requests[0])
        assert entry is not None
        assert entry.result is not None
        assert str(entry.result.error) == "kept"
        adopted = await store.adopt_expired()
        assert [(a.index, a.task_id) for a in adopted] == [(1, "task-1")]
        claim = await store.claim()
        assert claim is not None
        assert claim.index == 2
        with pytest.raises(JournalError, match="request 1 differs"):
            await store.join(
                [requests[0], GenerateRequest("new")], concurrency=4, submits_per_minute=None
            )
    finally:
        await store.close()
    version = sqlite3.connect(path).execute("SELECT version FROM schema_version").fetchone()
    assert version == (SCHEMA_VERSION,)


async def test_a_newer_schema_is_refused(tmp_path: pathlib.Path) -> None:
    """A file from a later luma_async is not touched."""
    path = tmp_path / "j.db"
    store = await opened(path)
    await store.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("UPDATE schema_version SET version = 99")
    db.close()
    with pytest.raises(JournalError, match="newer"):
        await opened(path)


async def test_limits_of_the_first_worker_hold_with_a_warning(tmp_path: pathlib.Path) -> None:
    """A worker joining with other limits is warned."""
    path = tmp_path / "j.db"
    store = await opened(path)
    try:
        await store.join([GenerateRequest("a")], concurrency=2, submits_per_minute=None)
        with pytest.warns(UserWarning, match="concurrency=2"):
            await store.join([GenerateRequest("a")], concurrency=5, submits_per_minute=None)
    finally:
        await store.close()


async def test_a_journal_in_a_missing_folder_fails_at_open(tmp_path: pathlib.Path) -> None:
    """JournalError at open, before anything could be submitted."""
    with pytest.raises(JournalError, match="missing"):
        await opened(tmp_path / "missing" / "j.db")
