"""Pytest fixtures that run the emulator for your own tests.

Load them with ``pytest_plugins = ["luma_async.testing"]`` in your top-level ``conftest.py``, then
write ``@pytest.mark.anyio`` tests (anyio's pytest plugin, installed with luma_async, runs the async
fixtures)::

    @pytest.fixture
    def luma_emulator_config() -> EmulatorConfig:      # optional: override the defaults
        return EmulatorConfig(dialect="anyapi", time_scale=0.01)

    @pytest.mark.anyio
    async def test_generate(luma_emulator: Emulator) -> None:
        async with LumaClient(base_url=luma_emulator.base_url, api_key="test-key",
                              dialect="anyapi") as client:
            ...

The user's remembered timing (``LumaClient(timing_cache=...)``) is turned off for every test while
these fixtures are loaded, so that tests neither read nor write it; pass ``timing_cache=PATH`` to a
client in a test that is about it.

``luma_emulator_factory`` starts more emulators (other dialects, quirks, faults) in one test, and
stops them all when the test ends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ._timing import ENV_VAR
from .emulator import Emulator, EmulatorConfig

__all__ = [
    "EmulatorFactory",
    "luma_emulator",
    "luma_emulator_config",
    "luma_emulator_factory",
    "luma_no_timing_cache",
]

DEFAULT_TIME_SCALE = 0.01

# `await factory(**config_changes)` -> a started Emulator.
EmulatorFactory = Callable[..., Awaitable[Emulator]]


@pytest.fixture(autouse=True)
def luma_no_timing_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default timing cache is off in tests: runs neither read nor write the user's file."""
    monkeypatch.setenv(ENV_VAR, "off")


@pytest.fixture
def luma_emulator_config() -> EmulatorConfig:
    """The config `luma_emulator` starts with: official dialect, key "test-key", fast tasks."""
    return EmulatorConfig(time_scale=DEFAULT_TIME_SCALE)


@pytest.fixture
async def luma_emulator(luma_emulator_config: EmulatorConfig) -> AsyncIterator[Emulator]:
    """A running emulator on 127.0.0.1, stopped after the test."""
    async with Emulator(luma_emulator_config) as emulator:
        yield emulator


@pytest.fixture
async def luma_emulator_factory(
    luma_emulator_config: EmulatorConfig,
) -> AsyncIterator[EmulatorFactory]:
    """`await factory(dialect="rixapi", quirks=...)`: start emulators; all stop after the test."""
    started: list[Emulator] = []

    async def start(**changes: Any) -> Emulator:
        emulator = Emulator(dataclasses.replace(luma_emulator_config, **changes))
        await emulator.start()
        started.append(emulator)
        return emulator

    try:
        yield start
    finally:
        for emulator in reversed(started):
            await emulator.close()
