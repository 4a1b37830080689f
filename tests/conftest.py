"""Shared fixtures: the emulator on 127.0.0.1 port 0 and clients pointed at it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from luma_async import LumaClient, RetryPolicy
from luma_async._timing import ENV_VAR as TIMING_CACHE_ENV
from luma_async.emulator import Emulator, EmulatorConfig

#: Retries that keep tests quick: the schedule is the same, the waits are tiny.
FAST_RETRY = RetryPolicy(max_tries=4, max_time=5.0, base=0.01, cap=0.05)
KEY = "sk-test-4f1d2c9e8b7a6d5c"

MakeEmulator = Callable[..., Awaitable[Emulator]]
MakeClient = Callable[..., Awaitable[LumaClient]]


def closed_port() -> int:
    """A loopback port nothing listens on (bound for a moment, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def _no_timing_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's timing cache; tests about it pass their own path."""
    monkeypatch.setenv(TIMING_CACHE_ENV, "off")


@pytest.fixture
def anyio_backend() -> str:
    """Every async test runs on asyncio (aiohttp needs it)."""
    return "asyncio"


@pytest.fixture
async def emulator() -> AsyncIterator[MakeEmulator]:
    """A factory of started emulators, all closed when the test ends."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(dialect: str = "anyapi", **options: Any) -> Emulator:
            options.setdefault("api_key", KEY)
            options.setdefault("time_scale", 0.02)
            config = EmulatorConfig(dialect=dialect, **options)
            return await stack.enter_async_context(Emulator(config))

        yield make


@pytest.fixture
async def client(emulator: MakeEmulator) -> AsyncIterator[MakeClient]:
    """A factory of open clients for an emulator, all closed when the test ends."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(emu: Emulator, **options: Any) -> LumaClient:
            options.setdefault("retry", FAST_RETRY)
            options.setdefault("api_key", emu.config.api_key)
            new = LumaClient(emu.base_url, dialect=emu.config.dialect, **options)
            return await stack.enter_async_context(new)

        yield make


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
