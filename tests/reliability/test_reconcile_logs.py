"""A resumed run logs what became of a submit an earlier run left mid-way (issue 11 item 7)."""

from __future__ import annotations

import logging
import pathlib

import pytest

from luma_async import GenerateRequest, LumaClient, SubmissionUncertainError
from luma_async._stores import make_store

from ..conftest import FAST_RETRY, KEY, MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


async def interrupted(path: pathlib.Path, prompt: str) -> None:
    """A journal whose request 0 was being submitted when its run died."""
    store = make_store(path)
    await store.open()
    try:
        await store.intend(0, GenerateRequest(prompt))
    finally:
        await store.close()


async def test_a_recovered_task_is_logged_with_its_index_and_id(
    emulator: MakeEmulator,
    client: MakeClient,
    tmp_path: pathlib.Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Official: the task is found by listing; one INFO line names request 0 and the task."""
    caplog.set_level(logging.INFO, logger="luma_async")
    emu = await emulator("official")
    c = await client(emu)
    await interrupted(tmp_path / "run.sqlite", "crashed mid-submit")
    async with LumaClient(emu.base_url, KEY, "official", retry=FAST_RETRY) as other:
        made = await other.generate("crashed mid-submit")
    async with c.generate_many(["crashed mid-submit"], journal=tmp_path / "run.sqlite") as out:
        results = [r async for r in out]
    assert results[0].ok
    lines = [r for r in caplog.records if "recovered task" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert "request 0" in lines[0].getMessage()
    assert made.id in lines[0].getMessage()
    assert KEY not in caplog.text


async def test_an_uncertain_submit_is_logged_as_a_warning(
    emulator: MakeEmulator,
    client: MakeClient,
    tmp_path: pathlib.Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A relay cannot list tasks: one WARNING says request 0 is left uncertain."""
    caplog.set_level(logging.INFO, logger="luma_async")
    emu = await emulator("gptge")
    c = await client(emu)
    await interrupted(tmp_path / "run.sqlite", "crashed mid-submit")
    async with c.generate_many(["crashed mid-submit"], journal=tmp_path / "run.sqlite") as out:
        results = [r async for r in out]
    assert isinstance(results[0].error, SubmissionUncertainError)
    lines = [r for r in caplog.records if "uncertain" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING
    assert "request 0" in lines[0].getMessage()
    assert emu.stats.creations == 0
