"""What `generate_many` does with a journal: outage backoff, adopted requests, the end."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import anyio
from anyio.abc import TaskGroup

from ._errors import JournalError, LumaError, SubmissionUncertainError
from ._models import AnyRequest, Generation, JobResult, State
from ._pipeline import Download, Pipeline, Submit
from ._poller import PollStream
from ._stores import Adopted, Store, keep_alive

__all__ = ["JournalPatience", "JournaledPipeline", "lost_submit"]

logger = logging.getLogger("luma_async")

T = TypeVar("T")

#: Backoff between two tries of a journal write while the database is away.
_FIRST_WAIT = 0.2
_MAX_WAIT = 15.0
#: How long a worker waits for its journal to come back before the run fails with it.
DEFAULT_JOURNAL_PATIENCE = 600.0
#: Longest pause between two looks for expired leases and for the run being settled.
_SETTLE_EVERY = 1.0


class JournalPatience:
    """Retries journal calls with backoff while the database is away (bounded in time).

    While any call is failing, `down` is True: the pipeline claims (and so submits) nothing,
    and keeps polling what it holds. Past `patience` seconds of one outage, the call raises
    its `JournalError` and the run ends with it.
    """

    def __init__(self, patience: float = DEFAULT_JOURNAL_PATIENCE) -> None:
        self.patience = patience
        self._failing = 0

    @property
    def down(self) -> bool:
        """True while some journal call is waiting for the database to come back."""
        return self._failing > 0

    async def call(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        """`await fn()`, tried again with backoff on `JournalError` for up to `patience` s."""
        started = anyio.current_time()
        wait = _FIRST_WAIT
        failing = False
        try:
            while True:
                try:
                    return await fn()
                except JournalError as exc:
                    if anyio.current_time() - started + wait > self.patience:
                        raise
                    if not failing:
                        failing = True
                        self._failing += 1
                        logger.warning(
                            "journal unavailable (%s): %s; submitting nothing until it is back",
                            what,
                            exc,
                        )
                await anyio.sleep(wait)
                wait = min(wait * 2.0, _MAX_WAIT)
        finally:
            if failing:
                self._failing -= 1
                logger.info("journal back (%s)", what)


def lost_submit(adopted: Adopted) -> SubmissionUncertainError:
    """The error of a request whose submit's answer was lost and no task could be matched."""
    return SubmissionUncertainError(
        f"request {adopted.index} was being submitted when its worker stopped; its task may "
        "exist and is not resent, to avoid paying twice",
        cause=LumaError("interrupted run"),
    )


class JournaledPipeline(Pipeline):
    """`generate_many` with a journal: one path for SQLite and PostgreSQL alike.

    Requests are claimed from the run (intent written, run-wide `concurrency` and
    `submits_per_minute`), never taken from the input directly, so that several workers
    can share it; a result is written before it is yielded and yielded only by the worker
    whose write settled it. The worker ends when it holds nothing and the run is settled.
    """

    def __init__(
        self,
        submit: Submit,
        download: Download | None,
        *,
        store: Store,
        concurrency: int,
        submits_per_minute: float | None,
        patience: JournalPatience | None = None,
        **options: Any,
    ) -> None:
        # The run's pace is the store's (counted in the database), not a local one.
        super().__init__(
            submit, download, concurrency=concurrency, submits_per_minute=None, **options
        )
        self._store = store
        self._journal = patience or JournalPatience()
        self._limits = (concurrency, submits_per_minute)

    async def open(self, requests: Sequence[AnyRequest]) -> None:
        """Open the journal and join its run (errors here come before any submit)."""
        await self._store.open()
        try:
            concurrency, per_minute = self._limits
            await self._store.join(requests, concurrency=concurrency, submits_per_minute=per_minute)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the journal (ends this worker's lease: peers adopt what is left)."""
        with anyio.CancelScope(shield=True):
            await self._store.close()

    async def _record(self, result: JobResult, *, retry: bool) -> bool:
        store = self._store
        return await self._journal.call(
            f"result of request {result.index}", lambda: store.finished(result, retry=retry)
        )

    async def _drive(
        self, requests: Sequence[AnyRequest], stream: PollStream, group: TaskGroup
    ) -> None:
        store = self._store
        # Replay: a SQLite run belongs to one process at a time, so a rerun yields what the
        # run finished before (as the first journal did). A shared PostgreSQL run does not:
        # each result was yielded by the worker that settled it, and a late worker replaying
        # them would yield them twice across the run.
        if store.exclusive:
            for result in await self._journal.call("replay", store.results):
                await self._hand_over(result)
        async with anyio.create_task_group() as adopting:
            adopting.start_soon(keep_alive, store)  # ends with the worker's run, below
            adopting.start_soon(self._adopt_often, stream, adopting)
            await self._submit_all(lambda: self._claim_from(stream))
            if self._fatal is not None:
                await self._settle_unattempted(requests)
            await self._until_settled()
            adopting.cancel_scope.cancel()

    async def _claim_from(self, stream: PollStream) -> None:
        """Take what the run hands out until it has nothing left or the run stops."""
        store = self._store
        while self._fatal is None and self._stream_error is None:
            await self._slots.acquire()
            try:
                claim = await self._journal.call("claim", store.claim)
            except BaseException:
                self._slots.release()
                raise
            if claim is None:
                self._slots.release()
                return
            self._open += 1
            self._held.add(claim.index)
            await self._submit_one(claim.index, claim.request, stream)

    async def _send_submit(self, index: int, request: AnyRequest, tries: int) -> Generation:
        store = self._store
        if tries > 1:
            # A requeued submit (429, refused): its intent is still this worker's; its time
            # is renewed so that reconciling and the run's pace see this try.
            await self._journal.call("intent", lambda: store.intend(index, request))
        recorded = True

        async def submit_and_record() -> Generation:
            nonlocal recorded
            generation = await self._submit(request)
            try:
                await store.submitted(index, request, generation.id)
            except JournalError:
                recorded = False  # written below, with backoff, outside the shield
            return generation

        # A submit under way may finish while the run is being left, so that its task id
        # is written down instead of an uncertain intent (bounded: Shields).
        generation = await self._shields.run(submit_and_record)
        if not recorded:
            await self._journal.call(
                f"task id of request {index}",
                lambda: store.submitted(index, request, generation.id),
            )
        return generation

    async def _until_settled(self) -> None:
        """Wait until this worker holds nothing and the whole run is settled (or stopped)."""
        while True:
            if self._fatal is not None or self._stream_error is not None:
                if self._open <= 0:
                    return  # stopped: what peers hold is theirs to finish
            elif self._open <= 0 and await self._journal.call("settled", self._store.settled):
                return
            await anyio.sleep(_SETTLE_EVERY if self._open <= 0 else 0.05)

    async def _adopt_often(self, stream: PollStream, group: TaskGroup) -> None:
        """Adopt what stopped workers left: now, then every third of a lease (PostgreSQL)."""
        every = min(self._store.lease / 3, _SETTLE_EVERY * 5)
        while True:
            if self._stream_error is None:
                for adopted in await self._journal.call("adopt", self._store.adopt_expired):
                    self._open += 1
                    group.start_soon(self._resume, adopted, stream)
            if math.isinf(every):
                return  # SQLite: the run lock says no other process is live
            await anyio.sleep(every)

    async def _settle_unattempted(self, requests: Sequence[AnyRequest]) -> None:
        """After a fatal error: every request nobody attempted gets it, journaled to be
        tried again by a later session of the run (nothing was created)."""
        assert self._fatal is not None
        for index, request in enumerate(requests):
            lookup = functools.partial(self._store.lookup, index, request)
            if await self._journal.call("lookup", lookup):
                continue
            self._open += 1
            await self._finish(JobResult(index, request, error=self._fatal), retry=True)

    async def _resume(self, adopted: Adopted, stream: PollStream) -> None:
        """A request a stopped worker submitted: poll its task, never submit it again."""
        index, request = adopted.index, adopted.request
        if adopted.task_id is not None:
            known = Generation(adopted.task_id, State.UNKNOWN)  # its state comes from polling
            await self._track(index, request, known, stream)
            return
        # Its worker stopped mid-submit: a task may exist. Find it where the dialect can.
        found = await self._recover(request, adopted.intent_at) if self._recover else None
        if found is not None:
            logger.info("request %d: recovered task %s of an interrupted submit", index, found.id)
            store = self._store
            await self._journal.call(
                f"task id of request {index}", lambda: store.submitted(index, request, found.id)
            )
            await self._track(index, request, found, stream)
            return
        logger.warning(
            "request %d: its worker stopped mid-submit and no task could be matched; "
            "left uncertain, not resent",
            index,
        )
        await self._finish(JobResult(index, request, error=lost_submit(adopted)))
