"""The results file of `batch`: one JSON line per input line, each written whole.

Lines are written from a worker thread under a lock, so the second Ctrl-C (which exits the
process from the event loop's thread) can still add its lines without cutting one in half.
"""

from __future__ import annotations

import json
import pathlib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO, Any

import anyio

from .._models import AnyRequest, Generation, JobResult
from ._errors import describe

__all__ = ["Results", "invalid", "job_record", "leftover"]

#: Why a job that was being submitted when the run stopped has no task id.
UNCERTAIN = (
    "the submit was under way when the run stopped: a task may exist on the gateway "
    "(and be billed); look for it before submitting this line again"
)


def _line(
    line: int,
    status: str,
    *,
    prompt: str | None = None,
    generation: Generation | None = None,
    path: str | None = None,
    error: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """One results line; `kind` is the input line's (batch "kind": "video", "image", ...)."""
    return {
        "line": line,
        "status": status,
        "id": generation.id if generation else None,
        "state": generation.state.value if generation and status != "interrupted" else None,
        "kind": kind,
        "prompt": prompt,
        "url": generation.link if generation else None,
        "video_url": (generation.video.best_url if generation and generation.video else None),
        "path": path,
        "error": error,
    }


def job_record(line: int, result: JobResult) -> dict[str, Any]:
    """The line of a job that ended: done, failed (by the gateway) or error (ours or its)."""
    generation, request = result.generation, result.request
    if result.ok:
        status, error = "done", None
    elif result.error is not None:
        status, error = "error", describe(result.error)
    else:
        status = "failed"
        error = (generation.failure_reason if generation else None) or "no reason given"
    path = str(result.path) if result.path else None
    return _line(
        line,
        status,
        prompt=request.prompt,
        generation=generation,
        path=path,
        error=error,
        kind=request.kind,
    )


def invalid(line: int, message: str) -> dict[str, Any]:
    """The line of a bad input line: skipped, with what is wrong with it."""
    return _line(line, "invalid", error=message)


def leftover(
    line: int, request: AnyRequest, generation: Generation | None, *, uncertain: bool
) -> dict[str, Any]:
    """A job the run did not see end: running on the gateway, maybe submitted, or never sent."""
    prompt, kind = request.prompt, request.kind
    if generation is not None:
        return _line(
            line,
            "interrupted",
            prompt=prompt,
            generation=generation,
            error="still running on the gateway",
            kind=kind,
        )
    if uncertain:
        return _line(line, "uncertain", prompt=prompt, error=UNCERTAIN, kind=kind)
    return _line(line, "not submitted", prompt=prompt, error="not submitted", kind=kind)


class Results:
    """The results file: each line written whole and flushed, shielded from Ctrl-C."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self._lock = threading.Lock()
        #: What has been written, by input line.
        self.records: dict[int, dict[str, Any]] = {}

    @classmethod
    @asynccontextmanager
    async def open(cls, path: pathlib.Path) -> AsyncIterator[Results]:
        """The file at `path`, truncated, closed on the way out."""
        file = await anyio.to_thread.run_sync(lambda: path.open("w", encoding="utf-8"))
        try:
            yield cls(file)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(file.close)

    async def write(self, record: dict[str, Any]) -> None:
        """Add one line (in a worker thread; Ctrl-C does not cut it short)."""
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self.write_now, record)

    def write_now(self, record: dict[str, Any]) -> None:
        """Add one line from this thread (the second Ctrl-C's last words); once per line."""
        with self._lock:
            if record["line"] in self.records:
                return
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()
            self.records[record["line"]] = record
