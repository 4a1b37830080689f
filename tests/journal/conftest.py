"""Stores of both backends for the same protocol tests (PostgreSQL from pgserver or
`LUMA_TEST_POSTGRES_URL`)."""

from __future__ import annotations

import itertools
import os
import pathlib
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from luma_async._stores import Store
from luma_async._stores._sqlite import SqliteStore

MakeStore = Callable[..., Awaitable[Store]]
_runs = itertools.count()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL for the session: external if LUMA_TEST_POSTGRES_URL, else pgserver."""
    external = os.environ.get("LUMA_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    pgserver = pytest.importorskip("pgserver")
    # Not under pytest's basetemp: pytest runs elsewhere on the machine prune old basetemps,
    # and a data directory removed under a running initdb fails it.
    data = tempfile.mkdtemp(prefix="luma-test-pg-")
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI containers): not our concern.
            warnings.simplefilter("ignore")
            server = pgserver.get_server(data, cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(data, ignore_errors=True)


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
