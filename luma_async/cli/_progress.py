"""What a `generate_many` run tells the CLI through `on_update`: rows, task ids, submits under way.

One `Progress` per run turns the library's events into the live view's rows, remembers each
request's task (for the lines of a run stopped by Ctrl-C), and works out which submits may be
under way, which the events do not say outright (see `Progress.under_way`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .._errors import TransportError
from .._models import Generation, State
from .._updates import Update
from ._live import Board

__all__ = ["Progress", "unreachable"]


class Progress:
    """The `on_update` of one `generate_many` run: feeds `board`, keeps what the CLI reports.

    `keys[i]` is the board row of input `i` (a line number in `batch`, the index in `demo`).
    """

    def __init__(self, board: Board, keys: Sequence[int], *, concurrency: int) -> None:
        self._board = board
        self._keys = list(keys)
        self._concurrency = concurrency
        #: The task of each input that became one, by input index (its last known state).
        self.tasks: dict[int, Generation] = {}
        #: Inputs whose job has ended (a result was handed over).
        self._ended: set[int] = set()
        self._any_submitted = False

    def __call__(self, update: Update) -> None:
        """The `on_update` callback (plain: it only updates memory and redraws)."""
        index = update.index
        if index is None or not 0 <= index < len(self._keys):
            return
        if update.event == "finished":
            self._ended.add(index)
        elif update.task_id is not None and update.event in ("submitted", "state"):
            if update.event == "submitted":
                self._any_submitted = True
            self.tasks[index] = Generation(update.task_id, update.state or State.UNKNOWN)
        self._board.update(update, self._keys[index])

    def under_way(self) -> set[int]:
        """The inputs whose submit may have reached the gateway with no answer seen yet.

        `on_update` has no "submit started" event, so this is derived from how the library
        submits: inputs are taken in order; each submit under way holds one of `concurrency`
        slots, as does each task running on the gateway; and until a first submit has gone
        through only one is tried at a time. So the submits under way are among the first
        inputs with no task and no result, as many as the slots the running tasks leave
        (one before the first task). It errs on the safe side: a submit waiting for its turn
        (`submits_per_minute`) or queued again after a 429 counts as under way.
        """
        open_inputs = [
            i for i in range(len(self._keys)) if i not in self.tasks and i not in self._ended
        ]
        if not self._any_submitted:
            return set(open_inputs[:1])
        running = sum(1 for i in self.tasks if i not in self._ended)
        return set(open_inputs[: max(self._concurrency - running, 0)])


def unreachable(errors: Iterable[BaseException]) -> TransportError | None:
    """The error of a gateway that never answered, if the run met one.

    The library stops a run whose first submits find nothing listening (a refused connection
    or an unknown host before any answer) and gives every request left that same error.
    """
    for error in errors:
        if isinstance(error, TransportError) and not error.sent:
            return error
    return None
