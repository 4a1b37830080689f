"""The embedded journal: one SQLite file, one worker per run, off the event loop.

Every statement runs on one dedicated thread that owns the connection, so a lock held by
another connection (a `journal show` in a shell, a backup) makes the journal wait, never the
event loop. `synchronous=FULL`: a committed intent survives a power cut, not just a crash,
because it is what prevents paying twice. A run is locked by an `fcntl` lock file beside the
database (`<file>.run-<hash>.lock`, holding the pid and host), so a second process joining
the same run gets a `JournalError` instead of sharing it by accident; different runs in one
file may run at once. Every `sqlite3` error becomes a `JournalError`.

A journal written by the first journal (`_journal.py`: one `jobs` table, no version) is
migrated in place on first open (step 1): its rows become run `"default"` and its table is
kept as `legacy_jobs`; each row is matched to its request by the old hash when the run's
input joins, so a rerun after upgrading resumes it and pays for nothing twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import pathlib
import secrets
import socket
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import IO, TypeVar

import anyio

from .._errors import JournalError
from .._models import AnyRequest, JobResult
from ._base import (
    DEFAULT_RUN,
    Adopted,
    Claim,
    Entry,
    Row,
    decode_result,
    encode_request,
    encode_result,
    legacy_digest,
    make_row,
    request_digest,
    run_tag,
    warn_limits,
)
from ._claims import Room, wait_for_claim
from ._sqlite_schema import changed, claim_one, migrate

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no run lock (documented)
    fcntl = None  # type: ignore[assignment]

__all__ = ["SqliteStore"]

T = TypeVar("T")


class SqliteStore:
    """A run in a SQLite journal file (one worker per run; see the module docstring)."""

    lease = float("inf")
    exclusive = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        run: str = DEFAULT_RUN,
        busy_timeout: float = 60.0,
        reader: bool = False,
    ) -> None:
        self.path = pathlib.Path(path)
        self.run = run
        self._busy_timeout = busy_timeout
        #: A reader (`journal show`) takes no run lock: it may look at a run in progress.
        self.reader = reader
        self._owner = secrets.token_hex(8)
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None
        self._lock: IO[str] | None = None
        self._room = Room()
        self._requests: dict[int, AnyRequest] = {}

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r}, run={self.run!r})"

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on the journal's thread; sqlite3 errors become JournalError."""
        if self._pool is None or self._db is None:
            raise JournalError(f"journal {self.path} is not open")
        db = self._db
        future = self._pool.submit(fn, db)
        try:
            return await _wait(future)
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {type(exc).__name__}: {exc}") from exc

    async def open(self) -> None:
        """Open (or create and migrate) the file and lock this run for this process."""
        if not self.reader:
            self._take_lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="luma-journal")
        try:
            self._db = await _wait(self._pool.submit(self._connect))
            await self._call(migrate)
        except BaseException as exc:
            await self.close()
            if isinstance(exc, sqlite3.Error):
                raise JournalError(f"journal {self.path}: {type(exc).__name__}: {exc}") from exc
            raise

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, isolation_level=None, timeout=self._busy_timeout, check_same_thread=False
        )
        db.execute("PRAGMA journal_mode=WAL")
        # What prevents paying twice must survive a power cut: fsync every commit.
        db.execute("PRAGMA synchronous=FULL")
        return db

    def _take_lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        digest = run_tag(self.run)
        lock_path = self.path.with_name(f"{self.path.name}.run-{digest}.lock")
        try:
            handle = open(lock_path, "a+")  # noqa: SIM115 - held until close()
        except OSError as exc:
            raise JournalError(f"journal {self.path}: cannot open its lock file: {exc}") from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise JournalError(
                f"run {self.run!r} of journal {self.path} is in use by {holder}; one process "
                "per run with SQLite (use a PostgreSQL journal to share a run)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        self._lock = handle

    async def close(self) -> None:
        """Close the database and let go of the run's lock."""
        db, pool, self._db, self._pool = self._db, self._pool, None, None
        if db is not None and pool is not None:
            with anyio.CancelScope(shield=True):
                await _wait(pool.submit(db.close))
        if pool is not None:
            pool.shutdown(wait=False)
        if self._lock is not None:
            self._lock.close()  # closing the file releases the flock
            self._lock = None

    async def join(
        self,
        requests: Sequence[AnyRequest],
        *,
        concurrency: int,
        submits_per_minute: float | None,
    ) -> None:
        """Add the run's input; refuse an index whose request changed."""
        self._requests = dict(enumerate(requests))
        rows = [
            (i, request_digest(r), type(r).kind, encode_request(r), legacy_digest(r))
            for i, r in enumerate(requests)
        ]
        run = self.run

        def join(db: sqlite3.Connection) -> tuple[int | None, float | None]:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?)",
                    (run, time.time(), concurrency, submits_per_minute),
                )
                db.execute(
                    "UPDATE runs SET concurrency = ?, submits_per_minute = ? "
                    "WHERE name = ? AND concurrency IS NULL",
                    (concurrency, submits_per_minute, run),
                )
                known = dict(
                    db.execute(
                        "SELECT idx, digest || ' ' || kind FROM entries WHERE run = ?", (run,)
                    ).fetchall()
                )
                for index, digest, kind, body, old in rows:
                    have = known.get(index)
                    if have is None:
                        db.execute(
                            "INSERT INTO entries (run, idx, digest, kind, request) "
                            "VALUES (?, ?, ?, ?, ?)",
                            (run, index, digest, kind, body),
                        )
                    elif have == f"{old} legacy" and kind == "video":
                        db.execute(
                            "UPDATE entries SET digest = ?, kind = ?, request = ? "
                            "WHERE run = ? AND idx = ?",
                            (digest, kind, body, run, index),
                        )
                    elif have != f"{digest} {kind}":
                        raise JournalError(changed(run, index))
                # A new session of the run (the run lock says no other is live): what failed
                # with nothing created is tried again.
                db.execute(
                    "UPDATE entries SET result = NULL, intent_at = NULL, owner = NULL, retry = 0 "
                    "WHERE run = ? AND retry = 1 AND task_id IS NULL",
                    (run,),
                )
                limits = db.execute(
                    "SELECT concurrency, submits_per_minute FROM runs WHERE name = ?", (run,)
                ).fetchone()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return limits[0], limits[1]

        limits = await self._call(join)
        warn_limits(run, limits, concurrency, submits_per_minute)

    async def lookup(self, index: int, request: AnyRequest) -> Entry | None:
        """What an earlier run wrote for this request, if anything."""
        run = self.run
        row = await self._call(
            lambda db: db.execute(
                "SELECT intent_at, task_id, result, digest FROM entries WHERE run = ? AND idx = ?",
                (run, index),
            ).fetchone()
        )
        if row is None or (row[0] is None and row[2] is None):
            return None
        if row[3] != request_digest(request):
            raise JournalError(changed(run, index))
        return _entry(index, request, row[0], row[1], row[2])

    async def _write(self, sql: str, args: tuple[object, ...]) -> int:
        def write(db: sqlite3.Connection) -> int:
            return db.execute(sql, args).rowcount

        return await self._call(write)

    async def intend(self, index: int, request: AnyRequest) -> None:
        """Write down, durably, that this request is about to be submitted."""
        await self._upsert(index, request)
        await self._write(
            "UPDATE entries SET intent_at = ?, owner = ? WHERE run = ? AND idx = ?",
            (time.time(), self._owner, self.run, index),
        )

    async def _upsert(self, index: int, request: AnyRequest) -> None:
        """The request's row, made if `join` did not (checked if it did)."""
        digest, kind = request_digest(request), type(request).kind
        added = await self._write(
            "INSERT OR IGNORE INTO entries (run, idx, digest, kind, request) VALUES (?,?,?,?,?)",
            (self.run, index, digest, kind, encode_request(request)),
        )
        if not added:
            run = self.run
            have = await self._call(
                lambda db: db.execute(
                    "SELECT digest FROM entries WHERE run = ? AND idx = ?", (run, index)
                ).fetchone()
            )
            if have is None or have[0] != digest:
                raise JournalError(changed(run, index))

    async def submitted(self, index: int, request: AnyRequest, task_id: str) -> None:
        """Write down the task id the submit created."""
        await self._write(
            "UPDATE entries SET task_id = ? WHERE run = ? AND idx = ? AND digest = ?",
            (task_id, self.run, index, request_digest(request)),
        )

    async def finished(self, result: JobResult, *, retry: bool = False) -> bool:
        """Write down a result unless one is there already; True if this call wrote it."""
        await self._upsert(result.index, result.request)
        # A retry result is this worker's to write only where no other owner's intent is.
        wrote = await self._write(
            "UPDATE entries SET result = ?, retry = ? WHERE run = ? AND idx = ? AND result IS NULL "
            "AND (? = 0 OR intent_at IS NULL OR owner = ?)",
            (encode_result(result), int(retry), self.run, result.index, int(retry), self._owner),
        )
        self._room.freed()
        return wrote == 1

    async def forget(self, index: int, request: AnyRequest) -> None:
        """Drop an intent whose submit surely created nothing."""
        await self._write(
            "UPDATE entries SET intent_at = NULL, owner = NULL "
            "WHERE run = ? AND idx = ? AND digest = ? AND task_id IS NULL AND result IS NULL",
            (self.run, index, request_digest(request)),
        )
        self._room.freed()

    async def claim(self) -> Claim | None:
        """The next unattempted request of the run, its intent written (waits for room)."""
        return await wait_for_claim(self._try_claim, self._room, max_wait=60.0)

    async def _try_claim(self) -> Claim | float | None:
        run, owner = self.run, self._owner

        def attempt(db: sqlite3.Connection) -> tuple[int, bytes] | float | None:
            db.execute("BEGIN IMMEDIATE")
            try:
                return claim_one(db, run, owner)
            finally:
                db.execute("COMMIT")

        outcome = await self._call(attempt)
        if isinstance(outcome, tuple):
            return Claim(outcome[0], self._requests[outcome[0]])
        return outcome

    async def adopt_expired(self) -> list[Adopted]:
        """Every unfinished submit of an earlier process (the run lock says it is gone)."""
        run, owner = self.run, self._owner

        def adopt(db: sqlite3.Connection) -> list[tuple[int, float, str | None]]:
            db.execute("BEGIN IMMEDIATE")
            try:
                rows = db.execute(
                    "SELECT idx, intent_at, task_id FROM entries WHERE run = ? "
                    "AND intent_at IS NOT NULL AND result IS NULL "
                    "AND (owner IS NULL OR owner != ?) ORDER BY idx",
                    (run, owner),
                ).fetchall()
                db.execute(
                    "UPDATE entries SET owner = ? WHERE run = ? AND intent_at IS NOT NULL "
                    "AND result IS NULL AND (owner IS NULL OR owner != ?)",
                    (owner, run, owner),
                )
            finally:
                db.execute("COMMIT")
            return rows

        rows = await self._call(adopt)
        return [
            Adopted(i, self._requests[i], datetime.fromtimestamp(at, UTC), task_id)
            for i, at, task_id in rows
            if i in self._requests
        ]

    async def heartbeat(self) -> bool:
        """Nothing to renew: the run lock lasts as long as the process."""
        return True

    async def settled(self) -> bool:
        """True when every request of the run has a result."""
        run = self.run
        row = await self._call(
            lambda db: db.execute(
                "SELECT count(*) FROM entries WHERE run = ? AND result IS NULL", (run,)
            ).fetchone()
        )
        return bool(row[0] == 0)

    async def results(self) -> list[JobResult]:
        """Every result written in this run, by index (requests this worker joined)."""
        run = self.run
        rows = await self._call(
            lambda db: db.execute(
                "SELECT idx, result FROM entries WHERE run = ? AND result IS NOT NULL ORDER BY idx",
                (run,),
            ).fetchall()
        )
        return [
            decode_result(i, self._requests[i], blob) for i, blob in rows if i in self._requests
        ]

    async def rows(self) -> list[Row]:
        """Every request of the run as it stands, by index."""
        run = self.run
        rows = await self._call(
            lambda db: db.execute(
                "SELECT idx, kind, intent_at IS NOT NULL, task_id, result FROM entries "
                "WHERE run = ? ORDER BY idx",
                (run,),
            ).fetchall()
        )
        return [
            make_row(i, kind, bool(intended), task, blob) for i, kind, intended, task, blob in rows
        ]

    async def runs(self) -> list[str]:
        """Every run in this file."""
        rows = await self._call(
            lambda db: db.execute("SELECT name FROM runs ORDER BY name").fetchall()
        )
        return [name for (name,) in rows]


def _entry(
    index: int,
    request: AnyRequest,
    intent_at: float | None,
    task_id: str | None,
    blob: bytes | None,
) -> Entry:
    when = datetime.fromtimestamp(intent_at, UTC) if intent_at is not None else None
    result = decode_result(index, request, blob) if blob is not None else None
    return Entry(when, task_id, result)


async def _wait(future: concurrent.futures.Future[T]) -> T:
    """The future's result, awaited without blocking the event loop."""
    return await asyncio.wrap_future(future)
