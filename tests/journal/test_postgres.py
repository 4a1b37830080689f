"""What only the PostgreSQL journal does: many workers on one run."""

from __future__ import annotations

import anyio
import pytest

from luma_async import GenerateRequest, JournalError
from luma_async._stores import Adopted, Claim, Store, redact
from luma_async._stores import make_store as store_for
from luma_async._stores._base import secrets_of

from ..conftest import closed_port
from .conftest import MakeStore
from .test_protocol import claim_all, done, prompts

pytestmark = pytest.mark.anyio


@pytest.fixture
def backend() -> str:
    """These tests need PostgreSQL."""
    return "postgres"


async def test_concurrent_workers_never_claim_the_same_request(make_store: MakeStore) -> None:
    """Three workers claiming at once share 120 requests without one overlap."""
    workers = [await make_store() for _ in range(3)]
    requests = prompts(120)
    for worker in workers:
        await worker.join(requests, concurrency=1000, submits_per_minute=None)
    claimed: list[list[Claim]] = [[], [], []]

    async def take(n: int) -> None:
        claimed[n] = await claim_all(workers[n])

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for n in range(3):
                group.start_soon(take, n)
    indexes = [c.index for claims in claimed for c in claims]
    assert sorted(indexes) == list(range(120))
    assert all(claims for claims in claimed)  # each took a share


async def test_run_wide_concurrency_counts_every_worker(make_store: MakeStore) -> None:
    """concurrency=3 over two workers: a dead worker's submit still counts until adopted and
    finished."""
    a, b = await make_store(lease=0.5), await make_store(lease=30.0)
    requests = prompts(6)
    await a.join(requests, concurrency=3, submits_per_minute=None)
    await b.join(requests, concurrency=3, submits_per_minute=None)
    first = await a.claim()
    assert first is not None
    await a.submitted(first.index, first.request, "task-a")
    assert await b.claim() is not None
    assert await b.claim() is not None
    with anyio.move_on_after(0.5) as waited:
        await b.claim()
    assert waited.cancelled_caught  # a's task is in flight: 3 of 3
    # a dies (no more heartbeats); b adopts and finishes its task, which frees one slot.
    adopted: list[Adopted] = []
    with anyio.fail_after(20):
        while not adopted:
            adopted = await b.adopt_expired()
            await anyio.sleep(0.1)
    assert [(x.index, x.task_id) for x in adopted] == [(first.index, "task-a")]
    assert await b.finished(done(first.index, first.request, "task-a"))
    with anyio.fail_after(10):
        assert await b.claim() is not None


async def test_a_result_is_settled_by_exactly_one_worker(make_store: MakeStore) -> None:
    """Two workers writing the same result at once: one wins, the other must not yield."""
    a, b = await make_store(), await make_store()
    requests = prompts(1)
    await a.join(requests, concurrency=8, submits_per_minute=None)
    await b.join(requests, concurrency=8, submits_per_minute=None)
    wins: list[bool] = []

    async def finish(store: Store) -> None:
        wins.append(await store.finished(done(0, requests[0], "t")))

    async with anyio.create_task_group() as group:
        for store in (a, b):
            group.start_soon(finish, store)
    assert sorted(wins) == [False, True]


async def test_a_live_lease_is_never_adopted(make_store: MakeStore) -> None:
    """Heartbeats keep a worker's tasks its own; a lapsed lease says so on the next beat."""
    a, b = await make_store(lease=0.6), await make_store()
    requests = prompts(1)
    await a.join(requests, concurrency=8, submits_per_minute=None)
    await b.join(requests, concurrency=8, submits_per_minute=None)
    claim = await a.claim()
    assert claim is not None
    for _ in range(8):
        assert await a.heartbeat()
        assert await b.adopt_expired() == []
        await anyio.sleep(0.15)
    await anyio.sleep(1.0)  # a misses its beats: the lease lapses
    assert [x.index for x in await b.adopt_expired()] == [0]
    assert not await a.heartbeat()


async def test_an_unreachable_database_fails_at_open_without_its_password() -> None:
    """JournalError before anything else, and the password is nowhere in it."""
    url = f"postgresql://luma:s3cret-pw@127.0.0.1:{closed_port()}/runs"
    store = store_for(url, run="r")
    assert "s3cret-pw" not in repr(store)
    with pytest.raises(JournalError) as raised:
        await store.open()
    assert "s3cret-pw" not in str(raised.value)
    assert "luma:***@127.0.0.1" in str(raised.value)
    assert raised.value.__cause__ is None  # the driver's error (and its dsn) is not chained


def test_redact_hides_passwords_only() -> None:
    """User, host and database stay readable; the password does not."""
    assert redact("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("postgresql://u@h/db?password=x&sslmode=require") == (
        "postgresql://u@h/db?password=***&sslmode=require"
    )
    assert redact("postgresql://h/db") == "postgresql://h/db"
    assert redact("postgresql://u:p@ss/w:rd@h/db") == "postgresql://u:***@h/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert set(secrets_of("postgresql://u:p%40ss@h/db?password=q")) == {"p%40ss", "p@ss", "q"}


async def test_a_lost_connection_is_a_journal_error(
    make_store: MakeStore, postgres_url: str
) -> None:
    """The database dropping the worker's connection mid-claim gives JournalError, not a
    driver exception; the store works again once the database is back."""
    import asyncpg

    store = await make_store()
    await store.join([GenerateRequest("a")], concurrency=8, submits_per_minute=None)
    admin = await asyncpg.connect(postgres_url)
    try:
        # Hold the run's claim lock so the worker's claim is under way on the server.
        await admin.execute("SELECT pg_advisory_lock(hashtext('luma_async run ' || $1))", store.run)
        errors: list[BaseException] = []

        async def claim() -> None:
            try:
                await store.claim()
            except JournalError as exc:
                errors.append(exc)

        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                group.start_soon(claim)
                for _ in range(400):  # until the claim waits on the lock (bounded)
                    waiting = await admin.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND pid <> pg_backend_pid()"
                    )
                    if waiting:
                        break
                    await anyio.sleep(0.05)
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
        assert len(errors) == 1
        await admin.execute("SELECT pg_advisory_unlock_all()")
    finally:
        await admin.close()
    with anyio.fail_after(10):
        assert await store.claim() is not None  # a fresh connection: the claim goes through
