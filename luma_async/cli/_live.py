"""The progress view of many jobs: a bar with elapsed time and ETA, counts by state, a row each.

It is fed by the library's `on_update` events (`Board.update`). On an interactive terminal it
is redrawn in place on stderr, at once on every visible change and on a timer for the clocks;
anywhere else (a pipe, a log, CI) each finished job is one plain line instead.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from rich.console import Group, RenderableType
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from .._groups import task_group
from .._models import Generation, State
from .._updates import Update
from ._output import Output, state_text

__all__ = ["Board", "Row", "live_view"]

#: Redraws per second of the live view.
REFRESH_PER_SECOND = 8
DEFAULT_MAX_ROWS = 14
#: The states a job ends in badly; their rows show why.
FAILED_STATES = frozenset({"failed", "error", "invalid", "uncertain"})
#: The order of the counts line.
COUNT_ORDER = (
    "waiting",
    "retrying",
    *(state.value for state in State if state is not State.FAILED),
    "downloading",
    "done",
    "failed",
    "error",
    "invalid",
    "interrupted",
    "uncertain",
)


@dataclass
class Row:
    """One job as the view shows it."""

    key: int
    label: str
    prompt: str
    task_id: str | None = None
    state: str = "waiting"
    started: float | None = None
    ended: float | None = None
    detail: str = ""

    @property
    def final(self) -> bool:
        """True once the job has ended (`Board.finish`): it changes no more."""
        return self.ended is not None


class Board:
    """Jobs by key (an index or a line number), their states, and how to draw them."""

    def __init__(
        self,
        output: Output,
        *,
        title: str,
        downloads: bool = False,
        max_rows: int = DEFAULT_MAX_ROWS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.output = output
        self.rows: dict[int, Row] = {}
        self._by_task: dict[str, Row] = {}
        self._downloads = downloads
        self._max_rows = max_rows
        self._clock = clock
        self._done = 0
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=output.err,
        )
        self._bar = self.progress.add_task(title, total=0)
        #: Called after a row's state word changed (the live view redraws at once).
        self.on_change: Callable[[], None] | None = None

    # -- what happened ---------------------------------------------------------------------

    def add(self, key: int, label: str, prompt: str) -> None:
        """A job that will run: waiting until it is submitted."""
        self.rows[key] = Row(key, label, prompt)
        self.progress.update(self._bar, total=len(self.rows))

    def track(self, key: int, task_id: str) -> None:
        """The job is a task that already exists (`wait`): follow it from now on."""
        row = self.rows[key]
        row.task_id = task_id
        row.started = self._clock()
        self._by_task[task_id] = row

    def seen(self, generation: Generation) -> None:
        """A task's state read outside a run: the tasks `wait` starts with."""
        row = self._by_task.get(generation.id)
        if row is not None:
            self._set(row, generation.state, link=generation.ok)

    def update(self, update: Update, key: int | None = None) -> None:
        """One `on_update` event; `key` is the job's row (None: found by the task id).

        "submitted" starts the row's clock; "submitted" and "state" set its state word.
        A submit queued again ("retried" without a task) shows as "retrying"; the end of a
        job ("finished") is left to `finish`, which knows how it ended.
        """
        row = self.rows.get(key) if key is not None else None
        if row is None and update.task_id is not None:
            row = self._by_task.get(update.task_id)
        if row is None or row.final:
            return
        new_task = update.event == "submitted" or (update.event == "state" and not row.task_id)
        if update.task_id is not None and new_task:
            # A submit, or the first look at a task an earlier run submitted (`--journal`).
            row.task_id = update.task_id
            row.started = self._clock()
            self._by_task[update.task_id] = row
        if update.event in ("submitted", "state") and update.state is not None:
            self._set(row, update.state, link=update.state is State.COMPLETED)
        elif update.event == "retried" and update.task_id is None:
            self._show(row, "retrying")

    def _set(self, row: Row, state: State, *, link: bool) -> None:
        self._show(row, "downloading" if link and self._downloads else state.value)

    def _show(self, row: Row, word: str) -> None:
        if row.state != word:
            row.state = word
            if self.on_change is not None:
                self.on_change()

    def finish(self, key: int, state: str, detail: str = "") -> None:
        """The job ended: done, failed, error, invalid or interrupted."""
        row = self.rows[key]
        if row.final:
            return
        row.state, row.detail = state, detail
        row.ended = self._clock()
        if self.on_change is not None:
            self.on_change()
        self._done += 1
        self.progress.update(self._bar, advance=1)
        if not self.output.live:
            total = len(self.rows)
            short = f" {row.task_id}" if row.task_id else ""
            tail = f"  {detail}" if detail else ""
            self.output.note(f"[{self._done}/{total}] {row.label}: {state}{short}{tail}")

    # -- how it looks ----------------------------------------------------------------------

    def counts(self) -> Counter[str]:
        """How many jobs are in each state now."""
        return Counter(row.state for row in self.rows.values())

    def render(self) -> RenderableType:
        """The bar, a line of counts by state, and the rows that matter most now."""
        counts = self.counts()
        line = Text()
        for state in COUNT_ORDER:
            if counts.get(state):
                if line:
                    line.append("  ")
                line.append_text(state_text(state))
                line.append(f" {counts[state]}")
        return Group(self.progress.get_renderable(), line, self._table())

    def _shown(self) -> tuple[list[Row], int]:
        rows = list(self.rows.values())
        if len(rows) <= self._max_rows:
            return rows, 0
        # Many jobs: the running ones first, then the latest to finish, then the next to start.
        running = [r for r in rows if r.started is not None and not r.final]
        ended = sorted((r for r in rows if r.final), key=lambda r: r.ended or 0.0, reverse=True)
        waiting = [r for r in rows if r.started is None and not r.final]
        shown = (running + ended + waiting)[: self._max_rows]
        return sorted(shown, key=lambda r: r.key), len(rows) - len(shown)

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
        table.add_column("job", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("task", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("prompt / why it failed", no_wrap=True, overflow="ellipsis", max_width=60)
        now = self._clock()
        shown, hidden = self._shown()
        for row in shown:
            seconds = ""
            if row.started is not None:
                seconds = f"{(row.ended or now) - row.started:.1f}s"
            what = Text(row.prompt)
            if row.state in FAILED_STATES and row.detail:
                what = Text(row.detail, style="red")
            table.add_row(
                Text(row.label),
                state_text(row.state),
                Text((row.task_id or "")[:8], style="dim"),
                Text(seconds),
                what,
            )
        if hidden:
            table.add_row(Text(f"+{hidden} more", style="dim"), "", "", "", "")
        return table


@asynccontextmanager
async def live_view(board: Board) -> AsyncIterator[None]:
    """Redraw `board` in place on stderr while the body runs (only on an interactive terminal)."""
    if not board.output.live:
        yield
        return
    with Live(
        board.render(),
        console=board.output.err,
        auto_refresh=False,
        redirect_stdout=False,
        redirect_stderr=False,
    ) as live:

        def draw() -> None:
            live.update(board.render(), refresh=True)

        # Every state change is drawn as it comes (so no short state goes unseen); the
        # timer only moves the clocks and the bar's ETA.
        board.on_change = draw

        async def redraw() -> None:
            while True:
                live.update(board.render(), refresh=True)
                await anyio.sleep(1 / REFRESH_PER_SECOND)

        try:
            async with task_group() as group:
                group.start_soon(redraw)
                try:
                    yield
                finally:
                    group.cancel_scope.cancel()
        finally:
            board.on_change = None
            live.update(board.render(), refresh=True)
