"""A bulk run through a faulty gateway: one result per request, nothing created twice or lost."""

from __future__ import annotations

import pytest

from luma_async import JobResult, RetryPolicy, SubmissionUncertainError
from luma_async.emulator import Faults

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio

FLAKY = Faults(
    http_500=0.05, html_502=0.03, rate_429=0.05, reset=0.02, ambiguous_submit=0.03, retry_after=1
)


@pytest.mark.parametrize("dialect", ["official", "anyapi"])
async def test_two_hundred_requests_through_a_flaky_gateway(
    dialect: str, emulator: MakeEmulator, client: MakeClient
) -> None:
    """5% 500, 3% HTML 502, 5% 429, 2% resets, 3% lost submits: 200 results, 0 dupes, 0 lost."""
    emu = await emulator(dialect, faults=FLAKY, seed=11, run_seconds=(0.5, 2.0), time_scale=1.0)
    c = await client(emu, retry=RetryPolicy(max_tries=6, max_time=30, base=0.01, cap=0.1))
    prompts = [f"flaky scene {i}" for i in range(200)]
    async with c.generate_many(prompts, concurrency=50, interval=0.2) as out:
        results: list[JobResult] = [result async for result in out]
    assert sorted(r.index for r in results) == list(range(200))
    uncertain = [r for r in results if isinstance(r.error, SubmissionUncertainError)]
    assert all(r.ok for r in results if r not in uncertain), [
        repr(r.error) for r in results if not r.ok and r not in uncertain
    ]
    assert emu.stats.duplicate_prompts == 0
    reported = {r.generation.id for r in results if r.generation}
    unreported = set(emu.tasks_created()) - reported
    assert len(unreported) <= len(uncertain)
    assert emu.stats.faults_injected["ambiguous_submit"] > 0
    print(
        f"\n{dialect}: {len(results)} results, {len(uncertain)} uncertain, "
        f"{emu.stats.creations} created, {len(unreported)} created and unreported, "
        f"faults {emu.stats.faults_injected}"
    )
