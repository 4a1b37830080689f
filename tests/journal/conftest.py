"""Stores of both backends for the same protocol tests (PostgreSQL from pgserver or
`LUMA_TEST_POSTGRES_URL`)."""

from __future__ import annotations

import itertools
import os
import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from luma_async._stores import Store
from luma_async._stores._sqlite import SqliteStore

MakeStore = Callable[..., Awaitable[Store]]
_runs = itertools.count()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which journal backend the test runs against."""
    return str(request.param)


@pytest.fixture
def journal_target(backend: str, request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    """The `journal=` value of the backend: a PostgreSQL URL or a file path."""
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "j.db")


@pytest.fixture
async def make_store(backend: str, journal_target: str) -> AsyncIterator[MakeStore]:
    """Opens stores of one fresh run (each call is another worker); closes them all after."""
    run = f"run-{next(_runs)}-{os.getpid()}"
    opened: list[Store] = []
    target = journal_target

    async def make(*, run_name: str = run, lease: float = 30.0) -> Store:
        store: Store
        if backend == "postgres":
            from luma_async._stores._postgres import PostgresStore

            store = PostgresStore(target, run=run_name, lease=lease)
        else:
            store = SqliteStore(target, run=run_name)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()
