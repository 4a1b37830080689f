"""Three workers share one run on PostgreSQL against the emulator; one dies mid-run.

The workers here are the smallest loop the store protocol allows (claim, submit, write the
task id; poll what it owns and what it adopted; write each result before taking it), built
on the real client: it shows the protocol is enough for what `generate_many` must promise,
before the pipeline is switched to it.
"""

from __future__ import annotations

import anyio
import pytest

from luma_async import GenerateRequest, JobResult, LumaClient, SubmissionUncertainError
from luma_async._stores import Store, keep_alive

from ..conftest import MakeClient, MakeEmulator
from .conftest import MakeStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def backend() -> str:
    """Sharing a run needs PostgreSQL."""
    return "postgres"


async def worker(
    store: Store,
    client: LumaClient,
    requests: list[GenerateRequest],
    yielded: list[JobResult],
    *,
    die_at_claim: int | None = None,
) -> None:
    """Run the shared run to its end (or die, as kill -9 would, at claim number `die_at_claim`
    after writing its intent and before submitting)."""
    await store.join(requests, concurrency=4, submits_per_minute=None)
    owned: dict[str, int] = {}
    claims = 0
    submitting_done = anyio.Event()

    async def submitter() -> None:
        nonlocal claims
        while (claim := await store.claim()) is not None:
            claims += 1
            if claims == die_at_claim:
                group.cancel_scope.cancel()  # dead: no submit, no heartbeat, no goodbye
                await anyio.sleep_forever()
            generation = await client.submit(claim.request)
            await store.submitted(claim.index, claim.request, generation.id)
            owned[generation.id] = claim.index
        submitting_done.set()

    async def poller() -> None:
        for _ in range(2000):  # bounded: each turn is 20 ms or more
            for adopted in await store.adopt_expired():
                if adopted.task_id is not None:
                    owned[adopted.task_id] = adopted.index
                else:  # its submit's answer was lost with its worker: never resent
                    error = SubmissionUncertainError("lost with its worker", cause=OSError())
                    result = JobResult(adopted.index, adopted.request, error=error)
                    if await store.finished(result):
                        yielded.append(result)
            for generation in await client.get_many(list(owned)) if owned else []:
                if generation.is_terminal:
                    index = owned.pop(generation.id)
                    result = JobResult(index, requests[index], generation)
                    if await store.finished(result):  # written before it is yielded
                        yielded.append(result)
            if submitting_done.is_set() and not owned and await store.settled():
                group.cancel_scope.cancel()
                return
            await anyio.sleep(0.02)
        raise AssertionError("the run did not settle")

    async with anyio.create_task_group() as group:
        group.start_soon(keep_alive, store)
        group.start_soon(submitter)
        group.start_soon(poller)


async def test_three_workers_one_killed_settle_every_request_once(
    make_store: MakeStore, emulator: MakeEmulator, client: MakeClient
) -> None:
    """Every request has exactly one outcome across the workers; nothing is created twice;
    the dead worker's claimed-not-submitted request is reported uncertain, not resent."""
    emu = await emulator("anyapi", run_seconds=(1.0, 3.0))
    requests = [GenerateRequest(f"shared scene {i}") for i in range(40)]
    stores = [await make_store(lease=0.5) for _ in range(3)]
    clients = [await client(emu) for _ in range(3)]
    yielded: list[list[JobResult]] = [[], [], []]
    with anyio.fail_after(60):
        # The first worker runs alone until it dies at its third claim (two submitted, one
        # intent without an answer); then two others take the run over.
        await worker(stores[0], clients[0], requests, yielded[0], die_at_claim=3)
        async with anyio.create_task_group() as group:
            for n in (1, 2):
                group.start_soon(worker, stores[n], clients[n], requests, yielded[n])
    every = [r for results in yielded for r in results]
    assert sorted(r.index for r in every) == list(range(40))  # each exactly once
    uncertain = [r for r in every if isinstance(r.error, SubmissionUncertainError)]
    assert len(uncertain) == 1
    assert all(r.ok for r in every if r not in uncertain)
    assert emu.stats.creations == 39  # the dead worker's last claim was never sent
    assert emu.stats.duplicate_prompts == 0
    assert yielded[0] == []
