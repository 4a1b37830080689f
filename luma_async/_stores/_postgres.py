"""A run shared by many workers through PostgreSQL (`journal="postgresql://..."`, extra
`postgres`).

Why not a PostgreSQL job queue (procrastinate, pgqueuer)? Both hand a job to one worker
function and, when that worker's heartbeat stops, give the job to another worker to run
again: at-least-once execution. Here the "job" is a paid submit: run again, it bills twice.
What a dead worker leaves must instead be adopted as it stands (poll its task; reconcile or
report an intent whose answer was lost), never rerun. Their limits count jobs running in
workers, not generations in flight at the gateway after the worker has moved on, and a job
per request would give each request its own waiting coroutine instead of one batched poll
stream per worker. So the claim layer is ours, on the usual pattern, in a few queries:

- `luma_entries` has one row per (run, index): the request's hash, its intent time, owner,
  task id and result. `join` adds rows; a row whose hash differs is refused.
- `claim()` takes, in one transaction under the run's advisory lock, the next row with no
  intent (`FOR UPDATE SKIP LOCKED`), if the run-wide counts allow: generations in flight
  (intent written, no result, whoever wrote it, dead workers included) below `concurrency`,
  intents of the last 60 s below `submits_per_minute`. It writes the intent in the same
  transaction: nothing is submitted that is not journaled first.
- Each worker has a lease row (`luma_workers`, `lease` seconds, renewed by `heartbeat()`).
  `adopt_expired()` moves the unfinished rows of workers whose lease passed to the caller.
- `finished()` writes a result only where none is (`result IS NULL`), so exactly one worker
  yields each request, even if two poll the same task after a lease lapsed.
- Times are the database's `now()`: workers' clocks may disagree, the database's is one.

The connection string's password never appears in a repr, a log line or an error.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

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
    make_row,
    redact,
    request_digest,
    secrets_of,
    warn_limits,
)
from ._claims import MAX_WAIT, Room, wait_for_claim
from ._pg_schema import ADOPT, CLAIM_NEXT, COUNTS, changed, lock_run, migrate

if TYPE_CHECKING:
    import asyncpg  # type: ignore[import-untyped, unused-ignore]

__all__ = ["PostgresStore"]

T = TypeVar("T")


class PostgresStore:
    """A run in a PostgreSQL journal, shared by any number of workers."""

    def __init__(
        self, url: str, *, run: str = DEFAULT_RUN, lease: float = 30.0, reader: bool = False
    ) -> None:
        if lease <= 0:
            raise ValueError("lease must be > 0")
        self._url = url
        self.run = run
        self.lease = lease
        self.exclusive = False
        #: A reader (`journal show`) takes no lease: it is no worker of the run.
        self.reader = reader
        self.worker = uuid.uuid4().hex
        self._pool: asyncpg.Pool | None = None
        self._room = Room()
        self._requests: dict[int, AnyRequest] = {}

    def __repr__(self) -> str:
        return f"PostgresStore({redact(self._url)!r}, run={self.run!r})"

    def _error(self, exc: BaseException) -> JournalError:
        message = f"journal {redact(self._url)}: {type(exc).__name__}: {exc}"
        for secret in secrets_of(self._url):
            message = message.replace(secret, "***")
        return JournalError(message)

    async def _call(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run `fn` in one transaction; any database or connection failure is JournalError."""
        import asyncpg

        if self._pool is None:
            raise JournalError(f"journal {redact(self._url)} is not open")
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                return await fn(conn)
        except JournalError:
            raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            raise self._error(exc) from None

    async def open(self) -> None:
        """Connect (JournalError if the database is unreachable), migrate, start the lease."""
        try:
            import asyncpg
        except ImportError as exc:  # pragma: no cover - the extra is installed in tests
            raise JournalError(
                "a PostgreSQL journal needs: pip install 'luma_async[postgres]'"
            ) from exc
        try:
            self._pool = await asyncpg.create_pool(self._url, min_size=1, max_size=4, timeout=10)
        except (
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            OSError,
            TimeoutError,
            ValueError,
        ) as exc:
            raise self._error(exc) from None
        try:
            await self._call(migrate)
            if not self.reader:
                await self._call(self._start_lease)
        except BaseException:
            await self.close()
            raise

    async def _start_lease(self, conn: asyncpg.Connection) -> None:
        await conn.execute(
            "INSERT INTO luma_workers VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
            self.run,
            self.worker,
            socket.gethostname(),
            os.getpid(),
            self.lease,
        )

    async def close(self) -> None:
        """End this worker's lease now (others may adopt what it leaves) and disconnect."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            async with pool.acquire() as conn:
                await conn.execute(
                    "UPDATE luma_workers SET lease_until = now() - interval '1 second' "
                    "WHERE run = $1 AND id = $2",
                    self.run,
                    self.worker,
                )
        except Exception:
            pass  # unreachable now: the lease then simply runs out
        finally:
            pool.terminate()

    async def join(
        self,
        requests: Sequence[AnyRequest],
        *,
        concurrency: int,
        submits_per_minute: float | None,
    ) -> None:
        """Add the run's input; refuse an index whose request changed."""
        self._requests = dict(enumerate(requests))
        digests = [request_digest(r) for r in requests]
        kinds = [type(r).kind for r in requests]
        bodies = [encode_request(r) for r in requests]

        async def join(conn: asyncpg.Connection) -> tuple[int | None, float | None]:
            await lock_run(conn, self.run)
            await conn.execute(
                "INSERT INTO luma_runs (name, concurrency, submits_per_minute) "
                "VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                self.run,
                concurrency,
                submits_per_minute,
            )
            known = {
                row["idx"]: (row["digest"], row["kind"])
                for row in await conn.fetch(
                    "SELECT idx, digest, kind FROM luma_entries WHERE run = $1", self.run
                )
            }
            new = [i for i in range(len(digests)) if i not in known]
            for index, have in known.items():
                if index < len(digests) and have != (digests[index], kinds[index]):
                    raise JournalError(changed(self.run, index))
            await conn.execute(
                "INSERT INTO luma_entries (run, idx, digest, kind, request) "
                "SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::bytea[])",
                self.run,
                new,
                [digests[i] for i in new],
                [kinds[i] for i in new],
                [bodies[i] for i in new],
            )
            # A new session of the run (no other worker is live): what failed with nothing
            # created is tried again. While others run, their session goes on unchanged.
            await conn.execute(
                "UPDATE luma_entries SET result = NULL, intent_at = NULL, owner = NULL, "
                "retry = false WHERE run = $1 AND retry AND task_id IS NULL AND NOT EXISTS ("
                "SELECT 1 FROM luma_workers WHERE run = $1 AND id <> $2 AND lease_until >= now())",
                self.run,
                self.worker,
            )
            row = await conn.fetchrow(
                "SELECT concurrency, submits_per_minute FROM luma_runs WHERE name = $1", self.run
            )
            assert row is not None
            return row["concurrency"], row["submits_per_minute"]

        limits = await self._call(join)
        warn_limits(self.run, limits, concurrency, submits_per_minute)

    async def lookup(self, index: int, request: AnyRequest) -> Entry | None:
        """What the run holds for this request: None if nobody attempted it."""
        row = await self._call(
            lambda conn: conn.fetchrow(
                "SELECT intent_at, task_id, result, digest FROM luma_entries "
                "WHERE run = $1 AND idx = $2",
                self.run,
                index,
            )
        )
        if row is None or (row["intent_at"] is None and row["result"] is None):
            return None
        if row["digest"] != request_digest(request):
            raise JournalError(changed(self.run, index))
        result = row["result"]
        return Entry(
            row["intent_at"],
            row["task_id"],
            decode_result(index, request, result) if result is not None else None,
        )

    async def _ensure(self, conn: asyncpg.Connection, index: int, request: AnyRequest) -> None:
        digest = request_digest(request)
        have = await conn.fetchval(
            "INSERT INTO luma_entries (run, idx, digest, kind, request) VALUES ($1,$2,$3,$4,$5) "
            "ON CONFLICT (run, idx) DO UPDATE SET run = excluded.run RETURNING digest",
            self.run,
            index,
            digest,
            type(request).kind,
            encode_request(request),
        )
        if have != digest:
            raise JournalError(changed(self.run, index))

    async def intend(self, index: int, request: AnyRequest) -> None:
        """Write down that this worker is about to submit this request."""

        async def intend(conn: asyncpg.Connection) -> None:
            await self._ensure(conn, index, request)
            await conn.execute(
                "UPDATE luma_entries SET intent_at = now(), owner = $3 WHERE run = $1 AND idx = $2",
                self.run,
                index,
                self.worker,
            )

        await self._call(intend)

    async def submitted(self, index: int, request: AnyRequest, task_id: str) -> None:
        """Write down the task id the submit created."""
        await self._call(
            lambda conn: conn.execute(
                "UPDATE luma_entries SET task_id = $4 WHERE run = $1 AND idx = $2 AND digest = $3",
                self.run,
                index,
                request_digest(request),
                task_id,
            )
        )

    async def finished(self, result: JobResult, *, retry: bool = False) -> bool:
        """Write the result unless one is there; True if this worker's write settled it."""

        async def finish(conn: asyncpg.Connection) -> bool:
            await self._ensure(conn, result.index, result.request)
            # A retry result is this worker's to write only where no peer holds an intent.
            status = await conn.execute(
                "UPDATE luma_entries SET result = $3, retry = $4 "
                "WHERE run = $1 AND idx = $2 AND result IS NULL "
                "AND (NOT $4 OR intent_at IS NULL OR owner = $5)",
                self.run,
                result.index,
                encode_result(result),
                retry,
                self.worker,
            )
            return bool(status == "UPDATE 1")

        wrote = await self._call(finish)
        self._room.freed()
        return wrote

    async def forget(self, index: int, request: AnyRequest) -> None:
        """Drop an intent whose submit surely created nothing."""
        await self._call(
            lambda conn: conn.execute(
                "UPDATE luma_entries SET intent_at = NULL, owner = NULL WHERE run = $1 "
                "AND idx = $2 AND digest = $3 AND task_id IS NULL AND result IS NULL",
                self.run,
                index,
                request_digest(request),
            )
        )
        self._room.freed()

    async def claim(self) -> Claim | None:
        """The next unattempted request, its intent written, within the run-wide limits."""
        return await wait_for_claim(self._try_claim, self._room, max_wait=MAX_WAIT)

    async def _try_claim(self) -> Claim | float | None:
        async def attempt(conn: asyncpg.Connection) -> int | float | None:
            await lock_run(conn, self.run)
            index = await conn.fetchval(CLAIM_NEXT, self.run)
            if index is None:
                return None
            limits = await conn.fetchrow(
                "SELECT concurrency, submits_per_minute FROM luma_runs WHERE name = $1", self.run
            )
            counts = await conn.fetchrow(COUNTS, self.run)
            assert limits is not None
            assert counts is not None
            if limits["concurrency"] is not None and counts["in_flight"] >= limits["concurrency"]:
                return MAX_WAIT
            per_minute = limits["submits_per_minute"]
            if per_minute and counts["recent"] >= max(1, int(per_minute)):
                return float(counts["next_free"] or MAX_WAIT)
            await conn.execute(
                "UPDATE luma_entries SET intent_at = now(), owner = $3 WHERE run = $1 AND idx = $2",
                self.run,
                index,
                self.worker,
            )
            return int(index)

        outcome = await self._call(attempt)
        if isinstance(outcome, int):
            return Claim(outcome, self._requests[outcome])
        return outcome

    async def adopt_expired(self) -> list[Adopted]:
        """Take over the unfinished submits of workers whose lease expired."""

        async def adopt(conn: asyncpg.Connection) -> list[Any]:
            await lock_run(conn, self.run)
            rows = await conn.fetch(ADOPT, self.run, self.worker)
            await conn.execute(
                "DELETE FROM luma_workers WHERE run = $1 AND lease_until < now() "
                "AND id NOT IN (SELECT owner FROM luma_entries WHERE run = $1 "
                "AND owner IS NOT NULL AND result IS NULL)",
                self.run,
            )
            return list(rows)

        rows = await self._call(adopt)
        adopted = [
            Adopted(r["idx"], self._requests[r["idx"]], r["intent_at"], r["task_id"])
            for r in rows
            if r["idx"] in self._requests
        ]
        return sorted(adopted, key=lambda a: a.index)

    async def heartbeat(self) -> bool:
        """Renew the lease; False if it had expired first (it is renewed all the same)."""

        async def renew(conn: asyncpg.Connection) -> bool:
            alive = await conn.fetchval(
                "UPDATE luma_workers SET lease_until = now() + make_interval(secs => $3) "
                "WHERE run = $1 AND id = $2 AND lease_until >= now() RETURNING true",
                self.run,
                self.worker,
                self.lease,
            )
            if alive:
                return True
            await conn.execute(
                "DELETE FROM luma_workers WHERE run = $1 AND id = $2", self.run, self.worker
            )
            await self._start_lease(conn)
            return False

        return await self._call(renew)

    async def settled(self) -> bool:
        """True when every request of the run has a result."""
        left = await self._call(
            lambda conn: conn.fetchval(
                "SELECT count(*) FROM luma_entries WHERE run = $1 AND result IS NULL", self.run
            )
        )
        return bool(left == 0)

    async def results(self) -> list[JobResult]:
        """Every result written in this run, by index (requests this worker joined)."""
        rows = await self._call(
            lambda conn: conn.fetch(
                "SELECT idx, result FROM luma_entries WHERE run = $1 AND result IS NOT NULL "
                "ORDER BY idx",
                self.run,
            )
        )
        return [
            decode_result(r["idx"], self._requests[r["idx"]], r["result"])
            for r in rows
            if r["idx"] in self._requests
        ]

    async def rows(self) -> list[Row]:
        """Every request of the run as it stands, by index."""
        rows = await self._call(
            lambda conn: conn.fetch(
                "SELECT idx, kind, intent_at IS NOT NULL AS intended, task_id, result "
                "FROM luma_entries WHERE run = $1 ORDER BY idx",
                self.run,
            )
        )
        return [
            make_row(r["idx"], r["kind"], r["intended"], r["task_id"], r["result"]) for r in rows
        ]

    async def runs(self) -> list[str]:
        """Every run in this database."""
        rows = await self._call(lambda conn: conn.fetch("SELECT name FROM luma_runs ORDER BY name"))
        return [r["name"] for r in rows]
