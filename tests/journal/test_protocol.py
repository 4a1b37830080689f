"""The store protocol, the same tests against SQLite and PostgreSQL."""

from __future__ import annotations

import pathlib
from typing import ClassVar

import anyio
import pytest

from luma_async import (
    BadRequestError,
    GenerateRequest,
    Generation,
    JobResult,
    JournalError,
    State,
    SubmissionUncertainError,
    VideoAsset,
)
from luma_async._models import AnyRequest
from luma_async._stores import Adopted, Claim, Store, keep_alive, request_digest
from luma_async._stores import make_store as make_store_for

from .conftest import MakeStore

pytestmark = pytest.mark.anyio


def prompts(n: int, tag: str = "scene") -> list[GenerateRequest]:
    """`n` distinct requests."""
    return [GenerateRequest(f"{tag} {i}") for i in range(n)]


def done(index: int, request: AnyRequest, task_id: str) -> JobResult:
    """A completed job's result."""
    video = VideoAsset(url=f"https://cdn.example/{task_id}.mp4")
    return JobResult(index, request, Generation(task_id, State.COMPLETED, video=video))


async def claim_all(store: Store) -> list[Claim]:
    """Every claim the store gives until it has none left."""
    claims = []
    while (claim := await store.claim()) is not None:
        claims.append(claim)
    return claims


class ImageLike(GenerateRequest, frozen=True):
    """Same fields as a video request, another kind."""

    kind: ClassVar[str] = "image"


def test_the_hash_includes_the_kind() -> None:
    """A request of another kind with the same fields is another job."""
    assert request_digest(GenerateRequest("a cat")) != request_digest(ImageLike("a cat"))
    assert request_digest(GenerateRequest("a cat")) == request_digest(GenerateRequest("a cat"))


async def test_a_run_from_claim_to_settled(make_store: MakeStore) -> None:
    """Claims come in index order, each once; results are written once; the run settles."""
    store = await make_store()
    requests = prompts(3)
    await store.join(requests, concurrency=8, submits_per_minute=None)
    claims = await claim_all(store)
    assert [(c.index, c.request) for c in claims] == list(enumerate(requests))
    for claim in claims:
        await store.submitted(claim.index, claim.request, f"task-{claim.index}")
        entry = await store.lookup(claim.index, claim.request)
        assert entry is not None
        assert entry.task_id == f"task-{claim.index}"
        assert entry.result is None
    assert not await store.settled()
    for claim in claims:
        assert await store.finished(done(claim.index, claim.request, f"task-{claim.index}"))
    assert await store.settled()
    # A second write of the same result is refused: it must not be yielded twice.
    assert not await store.finished(done(0, requests[0], "task-0"))
    assert [r.index for r in await store.results()] == [0, 1, 2]


async def test_results_come_back_as_written(make_store: MakeStore, tmp_path: pathlib.Path) -> None:
    """Generation, error class and message, and path survive the journal."""
    store = await make_store()
    requests = [GenerateRequest("a"), GenerateRequest("b", extra_body={"x": [1]}), ImageLike("c")]
    await store.join(requests, concurrency=8, submits_per_minute=None)
    written = [
        JobResult(0, requests[0], done(0, requests[0], "t0").generation, path=tmp_path / "t0.mp4"),
        JobResult(1, requests[1], error=BadRequestError("no", status=400)),
        JobResult(2, requests[2], error=SubmissionUncertainError("lost", cause=OSError())),
    ]
    for result in written:
        assert await store.finished(result)
    back = {r.index: r for r in await store.results()}
    assert back[0].generation == written[0].generation
    assert back[0].path == tmp_path / "t0.mp4"
    assert "HTTP 400: no" in str(back[1].error)
    assert "SubmissionUncertainError" in str(back[2].error)
    entry = await store.lookup(2, requests[2])
    assert entry is not None
    assert entry.result is not None
    assert entry.result.request == requests[2]


async def test_a_changed_request_is_refused_and_new_ones_join(make_store: MakeStore) -> None:
    """Appended indexes join the run; an index whose request changed is a JournalError."""
    store = await make_store()
    await store.join(prompts(2), concurrency=8, submits_per_minute=None)
    await store.join(prompts(4), concurrency=8, submits_per_minute=None)
    assert len(await claim_all(store)) == 4
    changed = [*prompts(1), GenerateRequest("something else")]
    with pytest.raises(JournalError, match="request 1 differs"):
        await store.join(changed, concurrency=8, submits_per_minute=None)
    with pytest.raises(JournalError, match="request 1 differs"):
        await store.lookup(1, changed[1])
    kind_changed = [ImageLike("scene 0")]
    with pytest.raises(JournalError, match="request 0 differs"):
        await store.join(kind_changed, concurrency=8, submits_per_minute=None)


async def test_intend_forget_lookup(make_store: MakeStore) -> None:
    """The sequential path: an intent is seen by lookup; a forgotten one is claimable again."""
    store = await make_store()
    requests = prompts(2)
    await store.join(requests, concurrency=8, submits_per_minute=None)
    assert await store.lookup(0, requests[0]) is None
    await store.intend(0, requests[0])
    entry = await store.lookup(0, requests[0])
    assert entry is not None
    assert entry.task_id is None
    await store.forget(0, requests[0])
    assert await store.lookup(0, requests[0]) is None
    assert [c.index for c in await claim_all(store)] == [0, 1]


async def test_run_wide_concurrency_holds(make_store: MakeStore) -> None:
    """With concurrency=2 a third claim waits until one of the two finishes."""
    store = await make_store()
    requests = prompts(3)
    await store.join(requests, concurrency=2, submits_per_minute=None)
    first, second = await store.claim(), await store.claim()
    assert first is not None
    assert second is not None
    with anyio.move_on_after(0.3) as waited:
        await store.claim()
    assert waited.cancelled_caught  # no room: the claim was still waiting
    assert await store.finished(done(first.index, first.request, "t"))
    with anyio.fail_after(10):
        third = await store.claim()
    assert third is not None
    assert third.index == 2


async def test_submits_per_minute_holds(make_store: MakeStore) -> None:
    """With submits_per_minute=2 a third claim in the same minute waits."""
    store = await make_store()
    await store.join(prompts(3), concurrency=8, submits_per_minute=2)
    assert await store.claim() is not None
    assert await store.claim() is not None
    with anyio.move_on_after(0.3) as waited:
        await store.claim()
    assert waited.cancelled_caught


async def test_a_gone_workers_submits_are_adopted_never_resubmitted(
    make_store: MakeStore, backend: str
) -> None:
    """Its tasks are polled by the next worker, its unanswered intent handed back as such."""
    first = await make_store(lease=0.5)
    requests = prompts(3)
    await first.join(requests, concurrency=8, submits_per_minute=None)
    a, b = await first.claim(), await first.claim()
    assert a is not None
    assert b is not None
    await first.submitted(a.index, a.request, "task-a")  # b's answer never came back
    if backend == "sqlite":
        await first.close()  # the process is gone: its run lock with it
    second = await make_store(lease=0.5)
    await second.join(requests, concurrency=8, submits_per_minute=None)
    adopted: list[Adopted] = []
    with anyio.fail_after(20):
        while not adopted:  # the dead worker's lease runs out first
            adopted = await second.adopt_expired()
            await anyio.sleep(0.1)
    assert [(x.index, x.task_id) for x in adopted] == [(0, "task-a"), (1, None)]
    assert await second.adopt_expired() == []
    assert [c.index for c in await claim_all(second)] == [2]


def test_stores_are_made_outside_an_event_loop(tmp_path: pathlib.Path) -> None:
    """Made in plain code (a CLI's argument parsing), opened later."""
    assert "j.db" in repr(make_store_for(tmp_path / "j.db", run="r"))
    assert "***" in repr(make_store_for("postgresql://u:pw@h/db", run="r"))


async def test_rows_show_each_request_as_it_stands(
    make_store: MakeStore, journal_target: str
) -> None:
    """Pending, intended, submitted, completed, failed and uncertain, readable without the
    input by a reader that takes no lock or lease."""
    store = await make_store()
    requests = prompts(6)
    await store.join(requests, concurrency=8, submits_per_minute=None)
    claims = await claim_all(store)
    await store.forget(0, requests[0])
    await store.submitted(2, requests[2], "t2")
    await store.submitted(3, requests[3], "t3")
    await store.finished(done(3, requests[3], "t3"))
    await store.finished(JobResult(4, requests[4], error=BadRequestError("no", status=400)))
    uncertain = SubmissionUncertainError("lost", cause=OSError())
    await store.finished(JobResult(5, requests[5], error=uncertain))
    assert len(claims) == 6
    reader = make_store_for(journal_target, run=store.run, reader=True)
    await reader.open()
    try:
        rows = await reader.rows()
        assert store.run in await reader.runs()
    finally:
        await reader.close()
    assert [(r.index, r.state, r.task_id) for r in rows] == [
        (0, "pending", None),
        (1, "intended", None),
        (2, "submitted", "t2"),
        (3, "completed", "t3"),
        (4, "failed", None),
        (5, "uncertain", None),
    ]
    assert rows[3].url == "https://cdn.example/t3.mp4"
    assert rows[4].error == "BadRequestError: HTTP 400: no"
    assert {r.kind for r in rows} == {"video"}


async def test_keep_alive_renews_the_lease(make_store: MakeStore, backend: str) -> None:
    """While keep_alive runs, another worker adopts nothing of this one's (SQLite has no
    lease: one process per run, and keep_alive returns at once)."""
    a = await make_store(lease=0.3)
    if backend == "sqlite":
        with anyio.fail_after(5):
            await keep_alive(a)
        return
    b = await make_store(lease=0.3)
    requests = prompts(1)
    await a.join(requests, concurrency=8, submits_per_minute=None)
    await b.join(requests, concurrency=8, submits_per_minute=None)
    assert await a.claim() is not None
    async with anyio.create_task_group() as group:
        group.start_soon(keep_alive, a)
        for _ in range(10):  # three leases long
            await anyio.sleep(0.1)
            assert await b.adopt_expired() == []
        group.cancel_scope.cancel()


async def test_a_retryable_failure_settles_now_and_is_tried_in_the_next_session(
    make_store: MakeStore, backend: str
) -> None:
    """finished(retry=True): settled for this session (written once), pending again for the
    next one, and never counted as a submit."""
    first = await make_store()
    requests = prompts(2)
    await first.join(requests, concurrency=8, submits_per_minute=1)
    claim = await first.claim()
    assert claim is not None
    refused = JobResult(0, requests[0], error=ConnectionRefusedError("nothing created"))
    assert await first.finished(refused, retry=True)
    never_sent = JobResult(1, requests[1], error=ConnectionRefusedError("fatal before it"))
    assert await first.finished(never_sent, retry=True)
    assert await first.settled()
    entry = await first.lookup(1, requests[1])
    assert entry is not None
    assert entry.intent_at is None
    await first.close()
    second = await make_store()
    await second.join(requests, concurrency=8, submits_per_minute=1)
    assert not await second.settled()
    again = await second.claim()
    assert again is not None
    assert again.index == 0
