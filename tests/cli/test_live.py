"""The live view on `on_update`, the submits it counts as under way, and the CLI's key masking."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from luma_async._models import Generation, State
from luma_async._updates import Update
from luma_async.cli._config import scrub
from luma_async.cli._live import Board
from luma_async.cli._output import Output
from luma_async.cli._progress import Progress

from ..conftest import MakeEmulator
from .conftest import RunCli, gateway

pytestmark = pytest.mark.anyio


def test_scrub_masks_whole_tokens_of_any_length() -> None:
    """A one-letter key is masked where it stands alone, never inside a word; a long one
    wherever it appears."""
    assert scrub("unknown", "k") == "unknown"
    assert scrub("key=k; Bearer k", "k") == "key=***; Bearer ***"
    long = "sk-live-0123456789abcdef"
    assert scrub(f"Authorization: Bearer {long}", long) == "Authorization: Bearer ***"
    assert scrub(f"x{long}", long) == "x***"  # a long key glued to text is still the key
    assert scrub("nothing to hide", None) == "nothing to hide"


def test_output_masks_a_short_key_without_eating_words(capsys: pytest.CaptureFixture[str]) -> None:
    """What the CLI prints goes through `scrub`: the key goes, "unknown" stays."""
    output = Output(json=True, secret="k")
    output.data({"state": "unknown", "key": "k"})
    output.warn("state unknown for key k")
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"state": "unknown", "key": "***"}
    assert captured.err == "luma-async: state unknown for key ***\n"


def _frames(err: str) -> list[str]:
    """The `line 1` row of each frame the live view drew, escape codes removed."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err)
    return [line for line in plain.splitlines() if line.lstrip().startswith("line 1 ")]


async def test_the_live_view_draws_each_state_change_from_on_update(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`batch` on a terminal: the row of a job goes queued -> processing -> downloading -> done.

    The task is queued 0.6 s and processing 1.2 s (scaled), long enough for the poller to see
    both; the row's words come only from `on_update` (the CLI reads nothing else mid-run).
    """
    emu = await emulator("anyapi", queue_seconds=(30.0, 30.0), run_seconds=(60.0, 60.0))
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"prompt": "a slow fox"}) + "\n")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")  # rich draws the live view as on a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    run = await cli("batch", str(source), "--download", str(tmp_path / "media"), *gateway(emu))
    assert run.code == 0, run.err
    words: list[str] = []
    for frame in _frames(run.err):
        word = frame.split()[2]
        if not words or words[-1] != word:
            words.append(word)
    # "waiting" first (the first frame), then what the events said, in order.
    assert words[0] == "waiting"
    assert words[1:] == ["queued", "processing", "downloading", "done"], words
    assert emu.stats.by_route.get("submit") == 1


def test_progress_counts_submits_under_way_from_the_events() -> None:
    """One under way before the first task; then as many as the free slots; none once ended."""
    board = Board(Output(json=True), title="t")
    for key in (10, 20, 30, 40):
        board.add(key, f"line {key}", "p")
    progress = Progress(board, [10, 20, 30, 40], concurrency=2)
    assert progress.under_way() == {0}  # only one submit until one went through
    progress(Update(0, "task-a", State.QUEUED, None, "submitted"))
    assert board.rows[10].task_id == "task-a"
    assert board.rows[10].state == "queued"
    assert progress.under_way() == {1}  # one slot held by task-a, one free
    progress(Update(1, "task-b", State.QUEUED, None, "submitted"))
    assert progress.under_way() == set()  # both slots hold running tasks
    progress(Update(1, "task-b", State.PROCESSING, 0.5, "state"))
    assert board.rows[20].state == "processing"
    progress(Update(0, "task-a", State.COMPLETED, 1.0, "finished"))
    assert progress.under_way() == {2}
    progress(Update(2, None, None, None, "retried"))
    assert board.rows[30].state == "retrying"
    assert progress.under_way() == {2}  # a requeued submit is counted: it may be sent again
    assert progress.tasks[1] == Generation("task-b", State.PROCESSING)


def test_a_task_an_earlier_run_submitted_gets_its_row_from_its_first_state() -> None:
    """`--journal` resume: no "submitted" event, so the first "state" names the row's task."""
    board = Board(Output(json=True), title="t")
    board.add(1, "line 1", "p")
    progress = Progress(board, [1], concurrency=4)
    progress(Update(0, "old-task", State.PROCESSING, None, "state"))
    assert (board.rows[1].task_id, board.rows[1].state) == ("old-task", "processing")
    assert progress.under_way() == set()
    board.update(Update(None, "old-task", State.COMPLETED, 1.0, "state"))  # as poll() gives it
    assert board.rows[1].state == "completed"
