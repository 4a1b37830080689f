"""Submits the gateway did not take (429, refused connection) are queued again (issue 11 item 2),
and a wrong host fails fast (issue 12 item 6)."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from luma_async import (
    JobResult,
    LumaClient,
    RateLimitError,
    RetryPolicy,
    TransportError,
)
from luma_async._updates import Update
from luma_async.emulator import Faults

from ..conftest import KEY, MakeClient, MakeEmulator, closed_port

pytestmark = pytest.mark.anyio

#: No retries in the transport: every 429 reaches the pipeline, which requeues it.
ONE_TRY = RetryPolicy(max_tries=1, max_time=5.0, base=0.01, cap=0.05)
SUBMITS_ONLY = frozenset({"submit"})


async def collect(client: LumaClient, requests: Any, **options: Any) -> list[JobResult]:
    """All results of one generate_many run."""
    with anyio.fail_after(60):  # a safety bound against a hang, not an assertion
        async with client.generate_many(requests, **options) as results:
            return [result async for result in results]


def events(updates: list[Update], event: str) -> list[Update]:
    """The updates of one kind."""
    return [u for u in updates if u.event == event]


async def test_rate_limited_submits_are_queued_again_until_they_go_through(
    emulator: MakeEmulator, client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Half the submits meet a 429: every request still ends with a video, none twice."""
    caplog.set_level(logging.INFO, logger="luma_async")
    faults = Faults(rate_429=0.5, retry_after=1, routes=SUBMITS_ONLY)
    emu = await emulator("anyapi", faults=faults, seed=5)
    c = await client(emu, retry=ONE_TRY)
    updates: list[Update] = []
    results = await collect(c, [f"clip {i}" for i in range(6)], on_update=updates.append)
    assert sorted(r.index for r in results) == list(range(6))
    assert all(r.ok for r in results), [repr(r.error) for r in results]
    met = emu.stats.faults_injected["rate_429"]
    assert met >= 1
    assert emu.stats.by_route["submit"] == 6 + met
    assert emu.stats.creations == 6
    assert len(events(updates, "retried")) == met
    assert len(events(updates, "submitted")) == 6
    requeued = [r for r in caplog.records if "queued again" in r.getMessage()]
    assert len(requeued) == met
    assert all(r.levelno == logging.INFO and "request " in r.getMessage() for r in requeued)
    assert KEY not in caplog.text


async def test_submit_deadline_turns_endless_429s_into_the_error(
    emulator: MakeEmulator, client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Every submit refused with Retry-After: 1; a 2.5 s deadline allows 2 or 3 tries."""
    caplog.set_level(logging.INFO, logger="luma_async")
    faults = Faults(rate_429=1.0, retry_after=1, routes=SUBMITS_ONLY)
    emu = await emulator("gptge", faults=faults)
    c = await client(emu, retry=ONE_TRY)
    updates: list[Update] = []
    results = await collect(c, ["only one"], submit_deadline=2.5, on_update=updates.append)
    assert len(results) == 1
    assert isinstance(results[0].error, RateLimitError)
    tries = emu.stats.by_route["submit"]
    # Retry-After is a floor: tries are at least 1 s apart, so 2.5 s hold three at most.
    assert 2 <= tries <= 3
    assert len(events(updates, "retried")) == tries - 1
    # The pipeline's own line (the transport logs its give-ups per try too).
    gave_up = [
        r for r in caplog.records if "giving up" in r.getMessage() and "request " in r.getMessage()
    ]
    assert len(gave_up) == 1
    assert gave_up[0].levelno == logging.WARNING


async def test_without_a_deadline_budget_a_429_fails_at_once(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """submit_deadline=0: no requeue, one try per request (the old behaviour, on request)."""
    faults = Faults(rate_429=1.0, retry_after=1, routes=SUBMITS_ONLY)
    emu = await emulator("gptge", faults=faults)
    c = await client(emu, retry=ONE_TRY)
    results = await collect(c, ["a", "b", "c"], submit_deadline=0)
    assert len(results) == 3
    assert all(isinstance(r.error, RateLimitError) for r in results)
    assert emu.stats.by_route["submit"] == 3


async def test_a_429_longer_than_the_retry_budget_is_waited_out_by_the_pipeline(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """Retry-After 2 s over a 0.5 s retry budget: the transport gives up, the pipeline waits."""
    faults = Faults(rate_429=1.0, retry_after=2, routes=SUBMITS_ONLY)
    emu = await emulator("gptge", faults=faults)
    c = await client(emu, retry=RetryPolicy(max_tries=5, max_time=0.5, base=0.01, cap=0.05))
    updates: list[Update] = []
    results = await collect(c, ["patient"], submit_deadline=3.0, on_update=updates.append)
    assert isinstance(results[0].error, RateLimitError)
    assert results[0].error.retry_after == 2
    assert len(events(updates, "retried")) >= 1
    # Requeued after 2 s or more each time: a 3 s deadline holds two tries that reach the
    # gateway (the transport answers a pause longer than its budget without sending).
    assert emu.stats.by_route["submit"] == 2


@pytest.mark.parametrize("host", ["127.0.0.1:closed", "luma-async-test.invalid"])
async def test_a_wrong_host_before_any_answer_stops_the_run(host: str) -> None:
    """A closed port or a name that does not resolve (RFC 6761 `.invalid`): the first
    submit's error goes to every request, nothing is requeued."""
    host = host.replace("closed", str(closed_port()))
    wrong = LumaClient(f"http://{host}/v1", api_key=KEY, dialect="gptge", retry=ONE_TRY)
    async with wrong:
        updates: list[Update] = []
        results = await collect(
            wrong, [f"clip {i}" for i in range(5)], concurrency=4, on_update=updates.append
        )
        assert wrong.transport.answered is False
    assert sorted(r.index for r in results) == list(range(5))
    first = results[0].error
    assert isinstance(first, TransportError)
    assert not first.sent
    assert host.split(":")[0] in str(first)  # names the host to check
    assert all(r.error is first for r in results)  # one failure, shared: no other try
    assert events(updates, "retried") == []
    assert events(updates, "submitted") == []


async def test_a_refused_connection_after_an_answer_is_an_outage_waited_out(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """The gateway answered once, then went away and came back: every request goes through."""
    port = closed_port()
    first = await emulator("anyapi", port=port)
    c = await client(first, retry=ONE_TRY)
    await c.generate("warm-up")  # an answer: from now on a refusal is a passing outage
    await first.close()
    back: list[int] = []
    came_back = anyio.Event()

    def seen(update: Update) -> None:
        if update.event == "retried":
            came_back.set()

    async def restart() -> None:
        await came_back.wait()
        back.append((await emulator("anyapi", port=port)).stats.requests)

    async with anyio.create_task_group() as group:
        group.start_soon(restart)
        results = await collect(c, [f"clip {i}" for i in range(3)], on_update=seen)
    assert back == [0]
    assert all(r.ok for r in results), [repr(r.error) for r in results]
    assert sorted(r.index for r in results) == [0, 1, 2]


async def test_a_refused_connection_after_an_answer_gives_up_at_the_deadline(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """The gateway stays away: requeued, then the refusal is each request's error."""
    emu = await emulator("gptge")
    c = await client(emu, retry=ONE_TRY)
    await c.generate("warm-up")
    await emu.close()
    updates: list[Update] = []
    results = await collect(c, ["a", "b"], submit_deadline=1.5, on_update=updates.append)
    assert len(results) == 2
    assert all(isinstance(r.error, TransportError) and not r.error.sent for r in results)
    assert len(events(updates, "retried")) >= 1
