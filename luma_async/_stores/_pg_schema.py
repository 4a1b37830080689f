"""The PostgreSQL journal's schema, its numbered migrations, and its shared queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import JournalError

if TYPE_CHECKING:
    import asyncpg  # type: ignore[import-untyped, unused-ignore]

__all__ = ["ADOPT", "CLAIM_NEXT", "COUNTS", "MIGRATIONS", "changed", "lock_run", "migrate"]

_STEP1 = """
CREATE TABLE luma_runs (
    name TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    concurrency INTEGER,
    submits_per_minute DOUBLE PRECISION
);
CREATE TABLE luma_workers (
    run TEXT NOT NULL,
    id TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    lease_until TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run, id)
);
CREATE TABLE luma_entries (
    run TEXT NOT NULL,
    idx INTEGER NOT NULL,
    digest TEXT NOT NULL,
    kind TEXT NOT NULL,
    request BYTEA,
    intent_at TIMESTAMPTZ,
    owner TEXT,
    task_id TEXT,
    result BYTEA,
    retry BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (run, idx)
);
CREATE INDEX luma_entries_open ON luma_entries (run, idx) WHERE result IS NULL;
"""

#: Numbered schema steps (SQL), applied in order under an advisory lock; never edit a step.
MIGRATIONS: list[str] = [_STEP1]

CLAIM_NEXT = """
SELECT idx FROM luma_entries WHERE run = $1 AND intent_at IS NULL AND result IS NULL
ORDER BY idx LIMIT 1 FOR UPDATE SKIP LOCKED
"""
COUNTS = """
SELECT
  (SELECT count(*) FROM luma_entries
    WHERE run = $1 AND intent_at IS NOT NULL AND result IS NULL) AS in_flight,
  (SELECT count(*) FROM luma_entries
    WHERE run = $1 AND intent_at > now() - interval '60 seconds') AS recent,
  (SELECT extract(epoch FROM min(intent_at) + interval '60 seconds' - now()) FROM luma_entries
    WHERE run = $1 AND intent_at > now() - interval '60 seconds') AS next_free
"""
ADOPT = """
UPDATE luma_entries SET owner = $2
WHERE run = $1 AND intent_at IS NOT NULL AND result IS NULL AND owner IS DISTINCT FROM $2
  AND owner NOT IN (SELECT id FROM luma_workers WHERE run = $1 AND lease_until >= now())
RETURNING idx, intent_at, task_id
"""


async def lock_run(conn: asyncpg.Connection, run: str) -> None:
    """Serialise the run's claims, adoptions and joins (counts must not race)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('luma_async run ' || $1))", run)


async def migrate(conn: asyncpg.Connection) -> None:
    """Bring the database to the last step (refuse one from a newer luma_async)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('luma_async schema'))")
    await conn.execute("CREATE TABLE IF NOT EXISTS luma_schema_version (version INTEGER NOT NULL)")
    version = await conn.fetchval("SELECT version FROM luma_schema_version")
    if version is None:
        await conn.execute("INSERT INTO luma_schema_version VALUES (0)")
        version = 0
    if version > len(MIGRATIONS):
        raise JournalError(
            f"journal schema version {version} is newer than this luma_async knows "
            f"({len(MIGRATIONS)}): upgrade luma_async"
        )
    for step in MIGRATIONS[version:]:
        await conn.execute(step)
    await conn.execute("UPDATE luma_schema_version SET version = $1", len(MIGRATIONS))


def changed(run: str, index: int) -> str:
    """The message for an index whose request changed."""
    return (
        f"request {index} differs from the one run {run!r} journaled at that index: the input "
        "changed; restore it, or start a new run (run=...)"
    )
