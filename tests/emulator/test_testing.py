"""The user-facing pytest fixtures of luma_async.testing (loaded through conftest.py)."""

from __future__ import annotations

import aiohttp
import pytest

from luma_async.emulator import Emulator, EmulatorConfig
from luma_async.testing import EmulatorFactory

pytestmark = pytest.mark.anyio


async def test_default_fixture_serves_the_official_dialect(luma_emulator: Emulator) -> None:
    """luma_emulator runs the official dialect with key "test-key" and fast tasks."""
    assert luma_emulator.config.dialect == "official"
    assert luma_emulator.config.time_scale == 0.01
    headers = {"Authorization": "Bearer test-key"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(f"{luma_emulator.base_url}/ping") as resp,
    ):
        assert (resp.status, await resp.json()) == (200, {"message": "pong"})


async def test_factory_starts_and_stops_more(luma_emulator_factory: EmulatorFactory) -> None:
    """The factory starts emulators with changed fields; they are closed after the test."""
    rix = await luma_emulator_factory(dialect="rixapi", quirks=frozenset({"envelope"}))
    any_ = await luma_emulator_factory(dialect="anyapi", prefix="/pro")
    assert (rix.config.dialect, rix.config.time_scale) == ("rixapi", 0.01)
    assert any_.base_url.endswith("/pro")
    assert rix.base_url != any_.base_url


class TestOverride:
    """Overriding luma_emulator_config changes what luma_emulator starts."""

    @pytest.fixture
    def luma_emulator_config(self) -> EmulatorConfig:
        """A relay dialect for this class."""
        return EmulatorConfig(dialect="gptge", api_key=None)

    async def test_override(self, luma_emulator: Emulator) -> None:
        """The override is used."""
        assert luma_emulator.config.dialect == "gptge"
        assert luma_emulator.config.api_key is None
