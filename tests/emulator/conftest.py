"""Fixtures for the emulator's own tests."""

from __future__ import annotations

import pytest

from luma_async.testing import (  # noqa: F401  (fixtures, re-exported for test_testing.py)
    luma_emulator,
    luma_emulator_config,
    luma_emulator_factory,
)

from ._support import FakeClock


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio (aiohttp needs it)."""
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    """A clock the test advances by hand."""
    return FakeClock()
