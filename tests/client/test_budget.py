"""The request budget and the buckets: counted at the server, never timed at the client."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import anyio
import pytest
from aiohttp import web

from luma_async import LumaClient, RateLimitError, RetryPolicy
from luma_async._http import HttpRequest
from luma_async.emulator import Faults

from ..conftest import FAST_RETRY, KEY, MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


class Counter:
    """A real HTTP server that records when each raw request arrived; every `every`th is a 429."""

    def __init__(self, every: int = 0) -> None:
        self.every = every
        self.arrivals: list[float] = []
        self.paths: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.arrivals.append(anyio.current_time())
        self.paths.append(request.path)
        if request.path.startswith("/cdn/"):
            return web.Response(body=b"\0" * 1000, content_type="video/mp4")
        if self.every and len(self.arrivals) % self.every == 0:
            return web.json_response(
                {"detail": "slow down"}, status=429, headers={"Retry-After": "0"}
            )
        return web.json_response({"ok": True})

    def most_in_window(self, width: float) -> int:
        """The largest number of API arrivals within any `width` seconds."""
        times = sorted(t for t, p in zip(self.arrivals, self.paths, strict=True) if p != "/cdn/v")
        return max(
            (sum(1 for u in times[i:] if u - t < width) for i, t in enumerate(times)), default=0
        )


@contextlib.asynccontextmanager
async def serve(counter: Counter) -> AsyncIterator[str]:
    """Run `counter` on a loopback port; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", counter.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_the_budget_holds_with_retries_and_429s() -> None:
    """No more than N requests arrive in any one-second window, retries and 429s included."""
    counter = Counter(every=4)
    retry = RetryPolicy(max_tries=5, max_time=30.0, base=0.01, cap=0.05)
    async with (
        serve(counter) as url,
        LumaClient(url, KEY, "official", retry=retry, max_requests_per_second=6) as c,
    ):
        statuses: list[int] = []

        async def one(i: int) -> None:
            answer = await c.transport.send(HttpRequest("GET", f"/x/{i}"))
            statuses.append(answer.status)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for i in range(14):
                    tg.start_soon(one, i)
    assert statuses == [200] * 14
    assert len(counter.arrivals) > 14  # the 429s were met and retried
    # A little under one second: the arrival of a request can lag its start, never lead it.
    assert counter.most_in_window(0.85) <= 6


async def test_downloads_are_outside_the_budget() -> None:
    """With the budget spent (one request per 5 s), a download still goes at once."""
    counter = Counter()
    async with (
        serve(counter) as url,
        LumaClient(url, KEY, "official", max_requests_per_second=0.2) as c,
    ):
        await c.transport.send(HttpRequest("GET", "/first"))
        order: list[str] = []

        async def api() -> None:
            await c.transport.send(HttpRequest("GET", "/second"))
            order.append("api")

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(api)
                async with c.transport.stream(f"{url}/cdn/v") as (status, _, chunks):
                    assert status == 200
                    async for _ in chunks:
                        pass
                order.append("download")
                tg.cancel_scope.cancel()  # the API request is still waiting for its turn
    assert order == ["download"]
    assert counter.paths == ["/first", "/cdn/v"]


SUBMIT_429 = Faults(rate_429=1.0, retry_after=30, routes=frozenset({"submit"}))


async def test_a_long_retry_after_on_submits_does_not_delay_reads(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A submit's 429 with Retry-After 30 fails that submit at once; reads go on unslowed."""
    emu = await emulator("anyapi", faults=SUBMIT_429)
    c = await client(emu, retry=FAST_RETRY)
    done = emu.create_task("a finished video", run_seconds=0.0, queue_seconds=0.0)
    with anyio.fail_after(60):  # a safety bound; the counts below are the assertions
        with pytest.raises(RateLimitError) as info:
            await c.generate("a red fox in the snow")
        assert info.value.retry_after == 30
        for _ in range(3):
            assert (await c.get(done)).id == done
        assert [g.id for g in await c.get_many([done])] == [done]
    stats = emu.stats
    assert stats.by_route["submit"] == 1  # its Retry-After is past the budget: sent once
    assert stats.by_route["get"] + stats.by_route["batch"] == 4
    assert c.transport.buckets["read"].paused_until == 0.0


async def test_a_stored_429_is_never_handed_to_another_request(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A second submit during the pause reaches the gateway and meets its own 429."""
    emu = await emulator("anyapi", faults=SUBMIT_429)
    short = RetryPolicy(max_tries=4, max_time=0.3, base=0.01, cap=0.05)
    c = await client(emu, retry=short)
    with anyio.fail_after(10):
        for _ in range(2):
            with pytest.raises(RateLimitError):
                await c.generate("a red fox in the snow")
    assert emu.stats.by_route["submit"] == 2


async def test_a_short_retry_after_is_waited_out(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A 429 whose Retry-After fits the budget is retried after it, and the submit goes through."""
    faults = Faults(rate_429=0.5, retry_after=1, routes=frozenset({"submit"}))
    emu = await emulator("anyapi", faults=faults)
    c = await client(emu, retry=RetryPolicy(max_tries=8, max_time=30.0, base=0.01, cap=0.05))
    with anyio.fail_after(30):
        generation = await c.generate("a red fox in the snow")
    assert generation.id in emu.tasks_created()
    assert emu.stats.faults_injected["rate_429"] == emu.stats.by_route["submit"] - 1


def count_429s(caplog: pytest.LogCaptureFixture) -> int:
    """How many 429s the client met (one WARNING line each)."""
    return sum(1 for r in caplog.records if "-> 429:" in r.getMessage())


@pytest.mark.parametrize("budget", [None, 8.0])
async def test_behind_a_limiter(
    budget: float | None,
    emulator: MakeEmulator,
    client: MakeClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Behind a 20/s limiter: under a budget of 8/s no 429 is met; without one, 429s are met
    and slow the reads down, and every read still succeeds.

    The margin is deliberate: requests counted in one client window may arrive late and land
    in the server's next one, so at most two client windows (16) meet one server window.
    """
    caplog.set_level(logging.INFO, logger="luma_async")
    emu = await emulator("anyapi", rate_limit=20.0)
    retry = RetryPolicy(max_tries=10, max_time=60.0, base=0.05, cap=0.5)
    c = await client(emu, retry=retry, max_requests_per_second=budget)
    done = emu.create_task("a finished video", run_seconds=0.0, queue_seconds=0.0)
    seen: list[str] = []

    async def read() -> None:
        seen.append((await c.get(done)).id)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for _ in range(30):
                tg.start_soon(read)
    assert seen == [done] * 30
    if budget is None:
        assert count_429s(caplog) > 0
        assert emu.stats.by_route["get"] == 30 + count_429s(caplog)
    else:
        assert count_429s(caplog) == 0
        assert emu.stats.by_route["get"] == 30


async def test_reads_go_on_while_a_submit_waits_out_its_429(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A submit waiting out a Retry-After it can afford holds up no read meanwhile."""
    faults = Faults(rate_429=1.0, retry_after=3, routes=frozenset({"submit"}))
    emu = await emulator("anyapi", faults=faults)
    c = await client(emu, retry=RetryPolicy(max_tries=2, max_time=10.0, base=0.01, cap=0.05))
    done = emu.create_task("a finished video", run_seconds=0.0, queue_seconds=0.0)
    order: list[str] = []

    async def submit() -> None:
        with pytest.raises(RateLimitError):
            await c.generate("a red fox in the snow")
        order.append("submit")

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(submit)
            while emu.stats.by_route["submit"] == 0:  # noqa: ASYNC110 - the 429 must come first
                await anyio.sleep(0.01)
            for _ in range(5):
                assert (await c.get(done)).id == done
            order.append("reads")
            # The reads were all answered inside the submit's 3 s pause, before its second try.
            assert emu.stats.by_route["submit"] == 1
    assert order == ["reads", "submit"]
    assert emu.stats.by_route["submit"] == 2
    assert emu.stats.by_route["get"] == 5
