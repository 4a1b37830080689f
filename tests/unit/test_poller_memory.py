"""100,000 tracked tasks fit in a small record each: no coroutine per task."""

from __future__ import annotations

import tracemalloc
from collections.abc import Sequence

import pytest

from luma_async._models import Generation
from luma_async._poller import PollStream
from luma_async._schedule import Schedule

pytestmark = pytest.mark.anyio


class Silent:
    """A status source that is never asked: this test only adds tasks."""

    batch_size = 100
    min_batch = 1

    def can_batch(self) -> bool:
        """Batching on, as for most relays."""
        return True

    async def batch(self, task_ids: Sequence[str]) -> dict[str, Generation]:
        """Never called here."""
        raise AssertionError("not polled in this test")

    async def one(self, task_id: str) -> Generation | None:
        """Never called here."""
        raise AssertionError("not polled in this test")


async def test_a_hundred_thousand_tracked_tasks_stay_small() -> None:
    """Tracking 100k ids costs well under the 200 MB budget (measured by tracemalloc)."""
    ids = [f"{i:08x}-77e5-481a-b015-48313946f33b" for i in range(100_000)]
    tracemalloc.start()
    try:
        stream = PollStream(Silent(), schedule=Schedule())
        stream.add(*ids)
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(stream.pending) == 100_000
    assert stream.counts
    stream.close()
    assert used < 60 * 1024 * 1024, f"{used / 1e6:.1f} MB"
