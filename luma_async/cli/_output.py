"""How the CLI talks: tables and progress for people, JSON for scripts, one line per error.

Human output goes to stdout, progress and notes to stderr, so `> file` keeps the results.
Anything that came from a user or a gateway is printed as plain text, never as rich markup
(a prompt may well contain "[fail]" or "[bold]").
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

import msgspec
from rich.console import Console
from rich.text import Text

from .._models import Generation, State
from ._config import scrub

__all__ = ["STATE_STYLES", "Output", "generation_json", "line_ranges", "state_text"]

#: The colour of each state word, ours and the CLI's own.
STATE_STYLES = {
    "waiting": "dim",
    "retrying": "yellow",
    State.QUEUED.value: "yellow",
    State.PROCESSING.value: "cyan",
    State.UNKNOWN.value: "magenta",
    State.COMPLETED.value: "green",
    "downloading": "blue",
    "done": "bold green",
    State.FAILED.value: "bold red",
    "error": "red",
    "invalid": "red",
    "interrupted": "yellow",
    "uncertain": "bold magenta",
    "not submitted": "dim",
}


class Output:
    """The two consoles of one command run, and whether it speaks JSON."""

    def __init__(self, *, json: bool = False, secret: str | None = None) -> None:
        self.json = json
        #: The API key, blanked out of anything printed.
        self.secret = secret
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

    @property
    def live(self) -> bool:
        """True when stderr is an interactive terminal: draw a live view rather than lines."""
        return not self.json and self.err.is_interactive

    def data(self, value: Any) -> None:
        """One JSON document on stdout (the whole of stdout under `--json`)."""
        sys.stdout.write(scrub(json.dumps(value, ensure_ascii=False), self.secret) + "\n")
        sys.stdout.flush()

    def note(self, message: str | Text) -> None:
        """A remark for people on stderr (silent under `--json`)."""
        if not self.json:
            self.err.print(self._clean(message), soft_wrap=True)

    def show(self, renderable: Any) -> None:
        """A table or a line for people on stdout; lines are never wrapped (links stay whole)."""
        if isinstance(renderable, str | Text):
            self.out.print(self._clean(renderable), soft_wrap=True)
        else:
            self.out.print(renderable)

    def warn(self, message: str) -> None:
        """One plain line on stderr, shown even under `--json`."""
        sys.stderr.write(scrub(f"luma-async: {message}", self.secret) + "\n")
        sys.stderr.flush()

    def _clean(self, message: str | Text) -> Text:
        return message if isinstance(message, Text) else Text(scrub(message, self.secret))


def generation_json(generation: Generation, **extra: Any) -> dict[str, Any]:
    """A `Generation` as JSON-ready data, with its `kind`, `ok` and `url` spelled out.

    `url` is the file to fetch for the task's kind (the image, or the video's best link);
    `video_url` stays for scripts written before images, and is None for an image.
    """
    data: dict[str, Any] = msgspec.to_builtins(generation)
    data["kind"] = generation.kind
    data["ok"] = generation.ok
    data["url"] = generation.link
    data["video_url"] = generation.video.best_url if generation.video else None
    data.update(extra)
    return data


def state_text(state: str) -> Text:
    """A state word in its colour."""
    return Text(state, style=STATE_STYLES.get(state, ""))


def line_ranges(numbers: Iterable[int]) -> str:
    """`1, 2, 3, 7, 9, 10` -> "1-3, 7, 9-10": line lists people can read."""
    ordered = sorted(set(numbers))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)
