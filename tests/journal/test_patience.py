"""While the journal is away the pipeline retries it with backoff, flagged `down`, bounded."""

from __future__ import annotations

import pytest

from luma_async import JournalError
from luma_async._pipeline_journal import JournalPatience

pytestmark = pytest.mark.anyio


async def test_a_journal_back_after_failures_is_used_again() -> None:
    patience = JournalPatience(patience=30.0)
    calls = 0
    seen_down: list[bool] = []

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        seen_down.append(patience.down)
        if calls < 3:
            raise JournalError("connection refused")
        return "written"

    assert await patience.call("test", flaky) == "written"
    assert calls == 3
    assert seen_down == [False, True, True]  # down from the first failure until it is back
    assert not patience.down


async def test_a_journal_away_past_the_patience_raises_its_error() -> None:
    patience = JournalPatience(patience=0.5)
    calls = 0

    async def gone() -> None:
        nonlocal calls
        calls += 1
        raise JournalError("connection refused")

    with pytest.raises(JournalError, match="refused"):
        await patience.call("test", gone)
    assert 2 <= calls <= 4  # 0.2 s then 0.4 s of backoff fit in 0.5 s at most twice
    assert not patience.down
