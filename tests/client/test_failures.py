"""Faults on the wire become typed errors; reads are retried, creates are never resent."""

from __future__ import annotations

import logging

import pytest

from luma_async import (
    AuthenticationError,
    LumaClient,
    NotFoundError,
    ProtocolError,
    QuotaExceededError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    SubmissionUncertainError,
    TransportError,
)
from luma_async.emulator import Faults

from ..conftest import FAST_RETRY, MakeClient, MakeEmulator, closed_port

pytestmark = pytest.mark.anyio


def every(kind: str, *routes: str, **extra: float) -> Faults:
    """Faults of one kind on every request to `routes`."""
    return Faults(**{kind: 1.0}, routes=frozenset(routes), **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", ["official", "anyapi"])
async def test_a_wrong_key_is_an_authentication_error(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """401 on reads and creates alike, with nothing created and no retry."""
    emu = await emulator(dialect)
    c = await client(emu, api_key="sk-wrong")
    with pytest.raises(AuthenticationError) as info:
        await c.generate("a cat")
    assert info.value.status == 401
    with pytest.raises(AuthenticationError):
        await c.get("some-id")
    assert emu.stats.requests == 2
    assert emu.stats.creations == 0


@pytest.mark.parametrize("dialect", ["official", "rixapi"])
async def test_running_out_of_credits_is_a_quota_error(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """The create after the last credit raises QuotaExceededError and creates nothing."""
    emu = await emulator(dialect, credits=1)
    c = await client(emu)
    await c.generate("first of two")
    with pytest.raises(QuotaExceededError):
        await c.generate("second of two")
    assert emu.stats.creations == 1


async def test_reads_are_retried_through_server_errors(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A 500 on every try ends in ServerError after exactly max_tries requests."""
    emu = await emulator("gptge", faults=every("http_500", "get"))
    c = await client(emu)
    with pytest.raises(ServerError) as info:
        await c.get("whatever")
    assert info.value.status == 500
    assert emu.stats.by_route["get"] == FAST_RETRY.max_tries


async def test_max_tries_one_means_a_single_request(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """The first try runs outside backoff; with max_tries=1 backoff must not add a second.

    (A reset GET would show two: aiohttp itself reconnects once for idempotent methods.)
    """
    emu = await emulator("official", faults=every("http_500", "get"))
    c = await client(emu, retry=RetryPolicy(max_tries=1, max_time=5, base=0.001, cap=0.01))
    with pytest.raises(ServerError):
        await c.get("whatever")
    assert emu.stats.by_route["get"] == 1


@pytest.mark.parametrize("kind", ["http_500", "html_502", "reset", "truncated"])
async def test_reads_recover_from_intermittent_faults(
    kind: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """Half the reads fail; with retries every read still succeeds."""
    emu = await emulator("anyapi", faults=Faults(**{kind: 0.5}, routes=frozenset({"get"})))  # type: ignore[arg-type]
    c = await client(emu, retry=RetryPolicy(max_tries=12, max_time=10, base=0.001, cap=0.01))
    task = emu.create_task("steady", run_seconds=0.0, queue_seconds=0.0)
    for _ in range(10):
        assert (await c.get(task)).id == task
    assert emu.stats.faults_injected[kind] > 0


@pytest.mark.parametrize("kind", ["http_500", "html_502", "reset", "truncated", "ambiguous_submit"])
async def test_a_create_whose_answer_is_lost_is_uncertain_and_not_resent(
    kind: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """Any failure after a submit may have landed raises SubmissionUncertainError, once."""
    emu = await emulator("gptge", faults=every(kind, "submit"))
    c = await client(emu)
    with pytest.raises(SubmissionUncertainError) as info:
        await c.generate("an expensive video")
    assert isinstance(info.value.cause, ServerError | ProtocolError | TransportError)
    assert emu.stats.by_route["submit"] == 1
    assert emu.stats.creations <= 1


@pytest.mark.parametrize("kind", ["truncated", "ambiguous_submit"])
async def test_official_recovers_a_lost_create_from_the_list(
    kind: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """The task a lost create made is found in the recent list: one create, one id."""
    emu = await emulator("official", faults=every(kind, "submit"))
    c = await client(emu)
    made = await c.generate("an expensive video", aspect_ratio="16:9")
    assert [made.id] == emu.tasks_created()
    again = await c.generate("an expensive video", aspect_ratio="16:9")
    assert again.id != made.id  # the first is known to the client and never claimed twice
    assert emu.stats.by_route["submit"] == 2
    assert emu.stats.creations == 2


async def test_official_stays_uncertain_when_nothing_or_several_match(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """No created task (a 500 before creating) or two candidates: still uncertain."""
    emu = await emulator("official", faults=every("http_500", "submit"))
    c = await client(emu)
    with pytest.raises(SubmissionUncertainError):
        await c.generate("nothing was made")
    emu2 = await emulator("official", faults=every("ambiguous_submit", "submit"))
    other = await client(emu2)
    await other.generate("twin")  # its lost create is recovered: one match...
    c2 = await client(emu2)  # ...but a second client sees two unclaimed twins
    with pytest.raises(SubmissionUncertainError):
        await c2.generate("twin")


async def test_a_slow_create_is_uncertain(emulator: MakeEmulator, client: MakeClient) -> None:
    """A create that times out may still have been made: uncertain, not resent."""
    emu = await emulator("gptge", faults=every("slow", "submit", slow_seconds=1.0))
    c = await client(emu, timeout=0.2)
    with pytest.raises(SubmissionUncertainError) as info:
        await c.generate("slow one")
    assert isinstance(info.value.cause, TransportError)
    assert emu.stats.by_route["submit"] == 1


async def test_retry_submits_opts_in_to_resending(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """With retry_submits=True a 500 on a create is tried again."""
    emu = await emulator("gptge", faults=every("http_500", "submit"))
    c = await client(emu, retry_submits=True)
    with pytest.raises(SubmissionUncertainError):
        await c.generate("resend me")
    assert emu.stats.by_route["submit"] == FAST_RETRY.max_tries


async def test_a_429_on_a_create_is_retried_and_then_succeeds(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """429 means nothing was created: safe to resend, honouring Retry-After."""
    emu = await emulator("xfusion", faults=Faults(rate_429=0.5, routes=frozenset({"submit"})))
    c = await client(emu, retry=RetryPolicy(max_tries=10, max_time=30, base=0.01, cap=0.02))
    for i in range(3):
        await c.generate(f"video {i}")
    assert emu.stats.creations == 3
    assert emu.stats.faults_injected["rate_429"] > 0


async def test_a_429_that_persists_is_a_rate_limit_error(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """After the last try the 429 comes out as RateLimitError with its Retry-After."""
    emu = await emulator("xfusion", rate_limit=0.001)
    c = await client(emu, retry=RetryPolicy(max_tries=2, max_time=5, base=0.01, cap=0.01))
    task = emu.create_task("x", run_seconds=0.0, queue_seconds=0.0)
    await c.get(task)  # spends the one request the window allows
    with pytest.raises(RateLimitError) as info:
        await c.get(task)
    assert info.value.retry_after is not None
    assert info.value.retry_after >= 1


async def test_a_slow_read_times_out_as_a_transport_error(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """Timeouts on reads are retried, then raised as TransportError."""
    emu = await emulator("anyapi", faults=every("slow", "get", slow_seconds=1.0))
    c = await client(emu, timeout=0.1, retry=RetryPolicy(max_tries=2, base=0.01, cap=0.01))
    with pytest.raises(TransportError, match="no answer within"):
        await c.get("x")
    assert emu.stats.by_route["get"] == 2


async def test_max_time_counts_from_the_first_try(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """The first try runs before backoff takes over; its time still counts against max_time.

    Each try takes the 0.3 s timeout. backoff starts a try while less than max_time has
    passed since the first one began: at 0, 0.3 and 0.6 s, and 0.6 s is past the 0.45 s budget,
    so three tries. A fourth would mean the clock started only after the first try.
    """
    emu = await emulator("anyapi", faults=every("slow", "get", slow_seconds=5.0))
    retry = RetryPolicy(max_tries=10, max_time=0.45, base=0.001, cap=0.001)
    c = await client(emu, timeout=0.3, retry=retry)
    with pytest.raises(TransportError, match="no answer within"):
        await c.get("x")
    assert 1 <= emu.stats.by_route["get"] <= 3


async def test_a_refused_connection_is_retried_and_is_not_uncertain() -> None:
    """Nothing listening: the create never left, so it is a plain TransportError."""
    retry = RetryPolicy(max_tries=3, max_time=2, base=0.001, cap=0.01)
    url = f"http://127.0.0.1:{closed_port()}"
    async with LumaClient(url, "k", "gptge", retry=retry) as c:
        with pytest.raises(TransportError) as info:
            await c.generate("nobody home")
    assert not isinstance(info.value, SubmissionUncertainError)
    assert info.value.sent is False


async def test_an_unknown_task_is_not_found(emulator: MakeEmulator, client: MakeClient) -> None:
    """404 and 400 task_not_exist are both NotFoundError."""
    for quirks in (frozenset(), frozenset({"task_not_exist_400"})):
        emu = await emulator("rixapi", quirks=quirks)
        c = await client(emu)
        with pytest.raises(NotFoundError):
            await c.get("nope")


async def test_a_client_that_is_not_open_says_so(emulator: MakeEmulator) -> None:
    """Using a client outside `async with` is a clear RuntimeError."""
    emu = await emulator("gptge")
    c = LumaClient(emu.base_url, "k", "gptge")
    with pytest.raises(RuntimeError, match="not open"):
        await c.get("x")


async def test_one_log_line_per_retry_pause_and_give_up(
    emulator: MakeEmulator, client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Each retry is an INFO line with the failure and the try number; a give-up a WARNING."""
    caplog.set_level(logging.INFO, logger="luma_async")
    emu = await emulator("anyapi", faults=every("http_500", "get"), api_key="sk-logged-key-1")
    c = await client(emu, api_key="sk-logged-key-1")
    task = emu.create_task("a finished video", run_seconds=0.0, queue_seconds=0.0)
    with pytest.raises(ServerError):
        await c.get(task)
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "luma_async"]
    retries = [m for level, m in lines if level == logging.INFO]
    assert len(retries) == FAST_RETRY.max_tries - 1
    for n, line in enumerate(retries, start=2):
        assert f"GET /luma/generations/{task}: HTTP 500; try {n} of {FAST_RETRY.max_tries}" in line
    give_ups = [m for level, m in lines if level == logging.WARNING]
    assert len(give_ups) == 1
    assert f"giving up after {FAST_RETRY.max_tries} tries" in give_ups[0]
    assert not any("sk-logged-key-1" in m for _, m in lines)


async def test_a_429_logs_its_pause(
    emulator: MakeEmulator, client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A 429 is a WARNING naming the bucket it pauses and for how long."""
    caplog.set_level(logging.INFO, logger="luma_async")
    faults = Faults(rate_429=1.0, retry_after=30, routes=frozenset({"submit"}))
    emu = await emulator("anyapi", faults=faults)
    c = await client(emu)
    with pytest.raises(RateLimitError):
        await c.generate("a cat")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("429: create requests paused for 30 s (Retry-After)" in m for m in warnings)
    assert any("giving up after 1 tries" in m for m in warnings)
