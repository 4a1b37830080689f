"""Ctrl-C in `batch`: the first stops (and says how to resume), the second stops at once.

Submits are made slow on the emulator (it reads the body, creates the task, then sits on the
answer), so a submit is under way when the signal comes. Outcomes are counted (exit code,
message lines, results lines); the only clock is a safety timeout well below the slow answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from luma_async.cli import ExitCode
from luma_async.cli._interrupt import Interrupt
from luma_async.emulator import Emulator, Faults

from ..conftest import MakeEmulator
from .conftest import CLI, gateway, subprocess_env

pytestmark = pytest.mark.anyio

#: Far longer than the safety timeouts below: a run that waits for a slow answer fails.
SLOW_SUBMIT = Faults(slow=1.0, slow_seconds=120.0, routes=frozenset({"submit"}))
#: The safety net for a process that should already be gone (the client's request timeout
#: is 30 s: a run that waited for the answer would take longer than this).
SAFETY = 20.0


async def start_batch(
    emu: Emulator, tmp_path: Path, *extra: str
) -> tuple[asyncio.subprocess.Process, Path]:
    """`batch` over four lines, two at a time, returned once a submit reached the gateway."""
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"prompt": f"clip {i}"}) + "\n" for i in range(4)))
    out = tmp_path / "out.jsonl"
    process = await asyncio.create_subprocess_exec(
        *CLI,
        *("batch", str(source), "--out", str(out), "--concurrency", "2", *extra),
        *gateway(emu),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=subprocess_env(),
    )
    with anyio.fail_after(60):
        while emu.stats.by_route.get("submit", 0) < 1:
            assert process.returncode is None, "the batch ended before submitting"
            await anyio.sleep(0.05)
    return process, out


def records(path: Path) -> list[dict[str, Any]]:
    """Each results line, each of which must be whole JSON."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def lines_with(text: bytes, words: str) -> int:
    """How many stderr lines contain `words`."""
    return sum(words in line for line in text.decode().splitlines())


async def test_without_a_journal_the_first_ctrl_c_does_not_wait_for_submits(
    emulator: MakeEmulator, tmp_path: Path
) -> None:
    """No journal, no shield: one Ctrl-C ends the run; submits under way are 'uncertain'."""
    emu = await emulator("gptge", faults=SLOW_SUBMIT)
    process, out = await start_batch(emu, tmp_path)
    process.send_signal(signal.SIGINT)
    with anyio.fail_after(SAFETY):
        stdout, stderr = await process.communicate()
    assert process.returncode == ExitCode.INTERRUPTED
    assert lines_with(stderr, "interrupted: stopping") == 1
    assert lines_with(stderr, "pass --journal RUN.sqlite to make the next run resumable") == 1
    status = Counter(r["status"] for r in records(out))
    assert status == {"uncertain": 1, "not submitted": 3}
    assert "uncertain: line 1" in stdout.decode()


async def test_a_second_ctrl_c_stops_at_once_naming_the_submits_under_way(
    emulator: MakeEmulator, tmp_path: Path
) -> None:
    """With --journal the first Ctrl-C waits for the submits; the second does not."""
    emu = await emulator("gptge", faults=SLOW_SUBMIT)
    journal = tmp_path / "run.sqlite"
    process, out = await start_batch(emu, tmp_path, "--journal", str(journal))
    assert process.stderr is not None
    process.send_signal(signal.SIGINT)
    with anyio.fail_after(SAFETY):
        first = await process.stderr.readline()
    assert b"interrupted: stopping (Ctrl-C again stops at once)" in first
    assert f"with --journal {journal} to resume".encode() in first
    process.send_signal(signal.SIGINT)
    with anyio.fail_after(SAFETY):
        _, rest = await process.communicate()
    assert process.returncode == ExitCode.INTERRUPTED
    assert lines_with(rest, "stopped at once") == 1
    assert lines_with(rest, "may have gone through (a task may exist and be billed): line 1") == 1
    assert lines_with(rest, f"run again with --journal {journal} to look them up") == 1
    status = Counter(r["status"] for r in records(out))
    assert status == {"uncertain": 1, "not submitted": 3}


async def test_interrupt_in_process_first_cancels_second_exits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real SIGINT to this process: the first cancels the scope, the second calls os._exit."""
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)  # pytest's own process must live on
    first, aborted = anyio.Event(), anyio.Event()
    interrupt = Interrupt(on_first=first.set, on_abort=aborted.set)
    reached_the_end = False
    with interrupt.catching():
        with anyio.CancelScope(shield=True), anyio.fail_after(SAFETY):
            os.kill(os.getpid(), signal.SIGINT)
            await first.wait()
            os.kill(os.getpid(), signal.SIGINT)
            await aborted.wait()
        await anyio.lowlevel.checkpoint()  # the first Ctrl-C cancelled this scope
        reached_the_end = True
    assert not reached_the_end
    assert interrupt.hit
    assert exits == [ExitCode.INTERRUPTED]
