"""A base URL where nothing answers ends polls and waits with the error, instead of waiting."""

from __future__ import annotations

import anyio
import pytest

from luma_async import LumaClient, TransportError
from luma_async._limits import RateLimit

from ..conftest import FAST_RETRY, MakeClient, MakeEmulator, closed_port

pytestmark = pytest.mark.anyio


async def test_wait_on_a_host_that_never_answered_raises_naming_it() -> None:
    """wait() with no timeout against a closed port: a TransportError naming the host."""
    async with LumaClient(
        f"http://127.0.0.1:{closed_port()}", "k", "gptge", retry=FAST_RETRY
    ) as client:
        with anyio.fail_after(60):  # a safety bound: before the fix this waited for ever
            with pytest.raises(TransportError) as info:
                await client.wait("some-task")
    assert "127.0.0.1" in str(info.value)
    assert info.value.sent is False


async def test_a_host_that_answered_before_is_an_outage_and_polling_goes_on(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """Once the gateway has answered, a refused connection is transient: the poll keeps on."""
    emu = await emulator("gptge")
    c = await client(emu)
    task = emu.create_task("a cat", run_seconds=0.0, queue_seconds=0.0)
    assert (await c.get(task)).id == task
    assert c.transport.answered
    generation = await c.wait(task, timeout=30)
    assert generation.ok


def test_a_fractional_rate_is_rounded_down() -> None:
    """1.5 requests a second must never let 2 start in one second."""
    assert RateLimit.per_second(1.5).events == 1
    assert RateLimit.per_second(2.9).events == 2
    assert RateLimit.per_second(0.5).period == 2.0
