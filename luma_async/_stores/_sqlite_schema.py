"""The SQLite journal's schema, its numbered migrations, and the claim query."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from .._errors import JournalError
from ._base import DEFAULT_RUN

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "changed", "claim_one", "migrate"]

_CREATE = [
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version VALUES (0)",
    """CREATE TABLE runs (
        name TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        concurrency INTEGER,
        submits_per_minute REAL
    )""",
    """CREATE TABLE entries (
        run TEXT NOT NULL,
        idx INTEGER NOT NULL,
        digest TEXT NOT NULL,
        kind TEXT NOT NULL,
        request BLOB,
        intent_at REAL,
        owner TEXT,
        task_id TEXT,
        result BLOB,
        retry INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (run, idx)
    )""",
    "CREATE INDEX entries_open ON entries (run, result, intent_at)",
]


def _step1(db: sqlite3.Connection) -> None:
    """The versioned schema; rows of a first-journal `jobs` table become run "default"."""
    for statement in _CREATE:
        db.execute(statement)
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'jobs'").fetchone():
        db.execute("INSERT INTO runs VALUES (?, ?, NULL, NULL)", (DEFAULT_RUN, time.time()))
        # One row per index: the latest intent wins if an old run kept two requests there.
        db.execute(
            """INSERT OR REPLACE INTO entries (run, idx, digest, kind, intent_at, task_id, result)
               SELECT ?, idx, digest, 'legacy',
                      (julianday(intent_at) - 2440587.5) * 86400.0, task_id, result
               FROM jobs ORDER BY intent_at""",
            (DEFAULT_RUN,),
        )
        db.execute("ALTER TABLE jobs RENAME TO legacy_jobs")


#: Numbered schema steps, applied in order inside one transaction each; never edit a step,
#: add the next one.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_step1]
SCHEMA_VERSION = len(MIGRATIONS)


def claim_one(db: sqlite3.Connection, run: str, owner: str) -> tuple[int, bytes] | float | None:
    """Claim the next unattempted row within the run's limits: (index, request), seconds to
    wait for room, or None when no row is left."""
    now = time.time()
    concurrency, per_minute = db.execute(
        "SELECT concurrency, submits_per_minute FROM runs WHERE name = ?", (run,)
    ).fetchone()
    row = db.execute(
        "SELECT idx, request FROM entries WHERE run = ? AND intent_at IS NULL "
        "AND result IS NULL ORDER BY idx LIMIT 1",
        (run,),
    ).fetchone()
    if row is None:
        return None
    in_flight = db.execute(
        "SELECT count(*) FROM entries WHERE run = ? AND intent_at IS NOT NULL AND result IS NULL",
        (run,),
    ).fetchone()[0]
    if concurrency is not None and in_flight >= concurrency:
        return 60.0  # woken by this process's own finished()
    if per_minute:
        recent = db.execute(
            "SELECT count(*), min(intent_at) FROM entries WHERE run = ? AND intent_at > ?",
            (run, now - 60.0),
        ).fetchone()
        if recent[0] >= max(1, int(per_minute)):
            return float(recent[1]) + 60.0 - now
    db.execute(
        "UPDATE entries SET intent_at = ?, owner = ? WHERE run = ? AND idx = ?",
        (now, owner, run, row[0]),
    )
    return row[0], row[1]


def migrate(db: sqlite3.Connection) -> None:
    """Bring the file to SCHEMA_VERSION (refuse one from a newer luma_async)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        has_version = db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'schema_version'"
        ).fetchone()
        version = (
            db.execute("SELECT version FROM schema_version").fetchone()[0] if has_version else 0
        )
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"journal schema version {version} is newer than this luma_async knows "
                f"({SCHEMA_VERSION}): upgrade luma_async"
            )
        for step in MIGRATIONS[version:]:
            step(db)
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def changed(run: str, index: int) -> str:
    """The message for an index whose request changed."""
    return (
        f"request {index} differs from the one run {run!r} journaled at that index: the input "
        "changed; restore it, or start a new run (run=...)"
    )
