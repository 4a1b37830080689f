"""The task-group poller against the emulator: exactly once, deadlines, early exits, quirks."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

import anyio
import pytest

from luma_async import (
    AuthenticationError,
    Generation,
    LumaError,
    PollTimeoutError,
    RateLimitError,
    RetryPolicy,
    State,
    VideoAsset,
)
from luma_async._poller import open_poll
from luma_async._schedule import Schedule
from luma_async.emulator import Faults

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


async def test_two_thousand_tasks_are_each_yielded_once_with_their_state(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """2,000 tasks finishing at different times: each comes out once, right state, via batch."""
    emu = await emulator("anyapi")
    c = await client(emu)
    rng = random.Random(7)
    expected: dict[str, State] = {}
    for i in range(2000):
        outcome = "failed" if i % 10 == 0 else "completed"
        task = emu.create_task(
            f"p{i}", run_seconds=rng.uniform(0.05, 0.6), queue_seconds=0.0, outcome=outcome
        )
        expected[task] = State.FAILED if outcome == "failed" else State.COMPLETED
    seen: dict[str, State] = {}
    async with c.poll(expected, timeout=60, interval=0.1) as stream:
        async for generation in stream:
            assert generation.id not in seen
            seen[generation.id] = generation.state
            if generation.state is State.COMPLETED:
                assert generation.ok
        assert stream.counts == {State.COMPLETED: 1800, State.FAILED: 200}
    assert seen == expected
    assert emu.stats.by_route["batch"] > 0
    assert emu.stats.requests < len(expected)  # batching: far fewer requests than tasks


async def test_the_deadline_raises_poll_timeout_with_the_pending_ids(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """PollTimeoutError (a TimeoutError, not an ExceptionGroup) lists what did not finish."""
    emu = await emulator("gptge")
    c = await client(emu)
    quick = emu.create_task("quick", run_seconds=0.0, queue_seconds=0.0)
    slow = [emu.create_task(f"s{i}", run_seconds=60.0, queue_seconds=0.0) for i in range(3)]
    got = []
    with pytest.raises(PollTimeoutError) as info:
        async with c.poll([quick, *slow], timeout=0.5, interval=0.05) as stream:
            async for generation in stream:
                got.append(generation.id)
    assert got == [quick]
    assert sorted(info.value.pending) == sorted(slow)
    assert isinstance(info.value, TimeoutError)


async def test_breaking_out_stops_all_polling(emulator: MakeEmulator, client: MakeClient) -> None:
    """After `break` and leaving the block, no request is sent any more."""
    emu = await emulator("gptge")
    c = await client(emu)
    first = emu.create_task("first", run_seconds=0.0, queue_seconds=0.0)
    rest = [emu.create_task(f"r{i}", run_seconds=60.0, queue_seconds=0.0) for i in range(50)]
    async with c.poll([first, *rest], interval=0.05) as stream:
        async for generation in stream:
            assert generation.id == first
            break
    before = emu.stats.requests
    await anyio.sleep(0.3)
    assert emu.stats.requests == before


async def test_an_exception_in_the_loop_body_comes_out_as_itself(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """The caller's own error is not wrapped in an ExceptionGroup."""
    emu = await emulator("rixapi")
    c = await client(emu)
    tasks = [emu.create_task(f"t{i}", run_seconds=0.0, queue_seconds=0.0) for i in range(3)]

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with c.poll(tasks, interval=0.05) as stream:
            async for _ in stream:
                raise Boom


async def test_ids_added_while_polling_are_yielded_too(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """stream.add() joins tasks to a running stream; ids already tracked are ignored, and a
    yielded id added again is polled (and yielded) again, since the stream forgot it."""
    emu = await emulator("xfusion")
    c = await client(emu)
    first = emu.create_task("first", run_seconds=0.05, queue_seconds=0.0)
    later = [emu.create_task(f"l{i}", run_seconds=0.1, queue_seconds=0.0) for i in range(5)]
    got = []
    async with c.poll([first], timeout=20, interval=0.05) as stream:
        async for generation in stream:
            got.append(generation.id)
            if generation.id == first and got.count(first) == 1:
                stream.add(*later, later[0], later[1])
                stream.add(first)
    assert sorted(got) == sorted([first, first, *later])


async def test_without_a_batch_route_tasks_are_polled_singly(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """One 404 on /luma/tasks, then single GETs only."""
    emu = await emulator("gptge", quirks=frozenset({"no_batch_route"}))
    c = await client(emu)
    tasks = [emu.create_task(f"t{i}", run_seconds=0.2, queue_seconds=0.0) for i in range(20)]
    async with c.poll(tasks, timeout=20, interval=0.05) as stream:
        got = [g.id async for g in stream]
    assert sorted(got) == sorted(tasks)
    assert emu.stats.by_route["batch"] == 1
    assert emu.stats.by_route["get"] >= 20


async def test_a_storm_of_429s_and_5xx_loses_no_task(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """Half the polls refused or failing: every task still comes out once."""
    faults = Faults(rate_429=0.2, http_500=0.2, routes=frozenset({"batch", "get"}))
    emu = await emulator("anyapi", faults=faults)
    c = await client(emu, retry=RetryPolicy(max_tries=3, max_time=5, base=0.01, cap=0.02))
    tasks = [emu.create_task(f"t{i}", run_seconds=0.5, queue_seconds=0.0) for i in range(300)]
    async with c.poll(tasks, timeout=60, interval=0.05) as stream:
        got = [g.id async for g in stream]
    assert sorted(got) == sorted(tasks)
    assert emu.stats.faults_injected["rate_429"] > 0


@pytest.mark.parametrize(
    ("dialect", "quirks"),
    [
        ("anyapi", {"early_404"}),
        ("anyapi", {"unknown_state"}),
        ("anyapi", {"completed_without_link"}),
        ("anyapi", {"envelope", "batch_wrapper"}),
        ("rixapi", {"list_submit", "status_201", "new_form", "no_download_url"}),
        ("gptge", {"early_404", "task_not_exist_400", "no_batch_route"}),
        ("official", {"early_404", "completed_without_link", "unknown_state"}),
    ],
)
async def test_gateway_quirks_do_not_stop_tasks_from_finishing(
    dialect: str, quirks: set[str], emulator: MakeEmulator, client: MakeClient
) -> None:
    """Submitted through the client, every quirk still ends with each video, once."""
    emu = await emulator(dialect, quirks=frozenset(quirks), link_delay=10.0)
    c = await client(emu)
    made = [await c.generate(f"video {i}", aspect_ratio=None) for i in range(6)]
    async with c.poll([g.id for g in made], timeout=30, interval=0.05) as stream:
        done = [g async for g in stream]
    assert sorted(g.id for g in done) == sorted(g.id for g in made)
    assert all(g.ok for g in done)


async def test_completed_without_a_link_for_too_long_is_yielded_failed(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """After the grace period a link-less `completed` comes out FAILED with the reason."""
    emu = await emulator("gptge", quirks=frozenset({"completed_without_link"}), link_delay=1000.0)
    c = await client(emu)
    task = emu.create_task("linkless", run_seconds=0.0, queue_seconds=0.0)
    async with c.poll([task], timeout=10, interval=0.05, link_grace=0.3) as stream:
        done = [g async for g in stream]
    assert done[0].state is State.FAILED
    assert "without a video link" in (done[0].failure_reason or "")


async def test_an_unknown_id_stays_pending(emulator: MakeEmulator, client: MakeClient) -> None:
    """A task the gateway never heard of is not dropped: it is still pending at the deadline."""
    emu = await emulator("anyapi")
    c = await client(emu)
    with pytest.raises(PollTimeoutError) as info:
        async with c.poll(["ghost-task"], timeout=0.4, interval=0.05) as stream:
            async for _ in stream:
                pass
    assert info.value.pending == ["ghost-task"]


@pytest.mark.parametrize("dialect", ["official", "anyapi"])
async def test_an_authentication_error_ends_the_stream_unwrapped(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """A fatal error is raised by the iteration itself, not as an ExceptionGroup."""
    emu = await emulator(dialect)
    c = await client(emu, api_key="sk-revoked")
    with pytest.raises(AuthenticationError):
        async with c.poll(["a", "b", "c"], interval=0.05) as stream:
            async for _ in stream:
                pass


async def test_the_official_list_endpoint_serves_as_batch(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """Recent official tasks are found through the list endpoint, saving single GETs."""
    emu = await emulator("official")
    c = await client(emu)
    tasks = [emu.create_task(f"t{i}", run_seconds=0.2, queue_seconds=0.0) for i in range(30)]
    async with c.poll(tasks, timeout=20, interval=0.05) as stream:
        got = [g.id async for g in stream]
    assert sorted(got) == sorted(tasks)
    assert emu.stats.by_route["list"] > 0
    assert emu.stats.by_route["get"] < len(tasks)


async def test_counts_track_states_for_progress_displays(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """counts starts with everything queued and ends with everything finished."""
    emu = await emulator("gptge")
    c = await client(emu)
    tasks = [emu.create_task(f"t{i}", run_seconds=0.1, queue_seconds=0.0) for i in range(4)]
    async with c.poll(tasks, timeout=20, interval=0.05) as stream:
        assert stream.counts == {State.QUEUED: 4}
        async for _ in stream:
            assert sum(stream.counts.values()) == 4
        assert stream.counts == {State.COMPLETED: 4}
        assert stream.pending == []


async def test_an_id_unknown_for_unknown_after_is_yielded_failed(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A never-known id comes out FAILED with the reason, after a few looks, not at once."""
    emu = await emulator("gptge")
    c = await client(emu)
    real = emu.create_task("real", run_seconds=0.1, queue_seconds=0.0)
    async with c.poll(["ghost-task", real], timeout=10, interval=0.05, unknown_after=0.5) as s:
        done = {g.id: g async for g in s}
    assert done[real].ok
    ghost = done["ghost-task"]
    assert ghost.state is State.FAILED
    assert "has not known this task for 0.5 s" in (ghost.failure_reason or "")
    assert emu.stats.by_route["get"] + emu.stats.by_route["batch"] >= 4


async def test_early_404s_are_covered_by_unknown_after(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A task hidden for its first moments (early_404) is found once it shows up."""
    emu = await emulator("anyapi", quirks=frozenset({"early_404"}), early_404_seconds=0.4)
    c = await client(emu)
    made = [await c.generate(f"video {i}") for i in range(3)]
    async with c.poll([g.id for g in made], timeout=20, interval=0.05, unknown_after=5) as s:
        done = [g async for g in s]
    assert all(g.ok for g in done)
    assert len(done) == 3


async def test_unknown_after_none_waits_for_ever(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """With None, a never-known id is still pending at the deadline."""
    emu = await emulator("gptge")
    c = await client(emu)
    with pytest.raises(PollTimeoutError) as info:
        async with c.poll(["ghost"], timeout=0.6, interval=0.05, unknown_after=None) as stream:
            async for _ in stream:
                pass
    assert info.value.pending == ["ghost"]
    assert emu.stats.by_route["get"] + emu.stats.by_route["batch"] >= 3


async def test_a_direct_rate_limit_error_is_waited_out_and_loses_nothing(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """429s the transport does not retry reach the poller as RateLimitError: every task still
    comes out, and the stream never ends on one."""
    faults = Faults(rate_429=0.3, retry_after=1, routes=frozenset({"batch", "get"}))
    emu = await emulator("anyapi", faults=faults, seed=11)
    c = await client(emu, retry=RetryPolicy(max_tries=1, max_time=1.0, base=0.01, cap=0.01))
    tasks = [emu.create_task(f"t{i}", run_seconds=0.2, queue_seconds=0.0) for i in range(30)]
    async with c.poll(tasks, timeout=60, interval=0.05) as stream:
        got = [g.id async for g in stream]
    assert sorted(got) == sorted(tasks)
    assert emu.stats.faults_injected["rate_429"] > 0


def fast_clock() -> float:
    """An injected clock that runs 100 times faster than the wall: 1 unit is 10 ms."""
    return time.monotonic() * 100


class Scripted:
    """A status source that answers from a script and records when each id was looked at."""

    batch_size = 100
    min_batch = 1

    def __init__(self, script: dict[str, list[Generation | LumaError]], busy: float = 0.0) -> None:
        self.script = script
        self.busy = busy
        self.looks: list[tuple[str, float]] = []

    def can_batch(self) -> bool:
        """No batch route: every look is one id."""
        return False

    async def batch(self, task_ids: Sequence[str]) -> dict[str, Generation]:
        """Never called: can_batch is False."""
        raise AssertionError("no batch route")

    async def one(self, task_id: str) -> Generation | None:
        """The next scripted answer for `task_id` (an exception is raised)."""
        self.looks.append((task_id, fast_clock()))
        if self.busy:
            await anyio.sleep(self.busy)
        answers = self.script[task_id]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, LumaError):
            raise answer
        return answer


def running(task_id: str) -> Generation:
    """The task, still processing."""
    return Generation(task_id, State.PROCESSING)


def done(task_id: str) -> Generation:
    """The task, completed with its link."""
    return Generation(task_id, State.COMPLETED, video=VideoAsset("https://cdn.example/v.mp4"))


async def test_a_retry_after_pushes_back_only_the_tasks_that_met_it() -> None:
    """A 429 with Retry-After 30 (clock units) holds that task back at least 30; another task
    is looked at all along; nothing fails."""
    limited = RateLimitError("slow down", status=429, retry_after=30.0)
    source = Scripted({"a": [limited, done("a")], "b": [*[running("b")] * 12, done("b")]})
    schedule = Schedule(1.0, jitter=0.0, rand=lambda: 0.0)
    async with open_poll(
        source, ["a", "b"], time_limit=10, schedule=schedule, clock=fast_clock, speed=100
    ) as stream:
        got = {g.id: g async for g in stream}
    assert got["a"].ok
    assert got["b"].ok
    a_looks = [t for task_id, t in source.looks if task_id == "a"]
    assert len(a_looks) == 2
    assert a_looks[1] - a_looks[0] >= 30.0
    b_between = [t for task_id, t in source.looks if task_id == "b" and t < a_looks[1]]
    assert len(b_between) >= 5


async def test_saturated_workers_serve_the_most_overdue_task_first() -> None:
    """One worker, looks slower than the interval: tasks are served strictly in due order
    (round-robin), never one task again before the others had their turn."""
    ids = [f"t{i}" for i in range(6)]
    source = Scripted({i: [*[running(i)] * 3, done(i)] for i in ids}, busy=0.02)
    schedule = Schedule(1.0, jitter=0.0, rand=lambda: 0.0)
    async with open_poll(
        source, ids, time_limit=20, schedule=schedule, clock=fast_clock, speed=100, workers=1
    ) as stream:
        got = [g.id async for g in stream]
    assert sorted(got) == ids
    assert [task_id for task_id, _ in source.looks] == ids * 4
