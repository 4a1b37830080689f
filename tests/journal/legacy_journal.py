"""The first journal (luma_async 0.x `_journal.py`), kept to write old-format files for the
migration tests: luma_async itself now uses `_stores`.

Original docstring: a SQLite journal that makes `generate_many` resumable after a crash.

Per request (keyed by its index and a hash of its content): an intent is written and
committed before the submit leaves, the task id right after it comes back, the result at the
end. A second run over the same input reads it back: finished jobs are replayed, submitted
ones are polled, and an intent without an id (the crash hit mid-submit) is never sent again.

WAL mode with `synchronous=NORMAL`: a commit survives the process being killed (not a power
cut), which is what a resumable run needs; each commit costs well under a millisecond.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import sqlite3
from datetime import UTC, datetime
from typing import Any

import msgspec

from luma_async import _errors
from luma_async._errors import LumaError
from luma_async._models import AnyRequest, Generation, JobResult

__all__ = ["Entry", "Journal", "request_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    idx INTEGER NOT NULL,
    digest TEXT NOT NULL,
    intent_at TEXT NOT NULL,
    task_id TEXT,
    result BLOB,
    PRIMARY KEY (idx, digest)
)
"""


def _encode_path(value: Any) -> Any:
    if isinstance(value, pathlib.PurePath):
        return str(value)
    raise NotImplementedError(f"cannot journal {type(value).__name__}")


_encode = msgspec.json.Encoder(enc_hook=_encode_path).encode


def request_key(index: int, request: AnyRequest) -> tuple[int, str]:
    """The journal key of a request: its index and a hash of its kind and what it asks for.

    A video's hash is its JSON alone, as journals written before other kinds existed have it.
    """
    data = _encode(request)
    if request.kind != "video":
        data = request.kind.encode() + b"\n" + data
    return index, hashlib.sha256(data).hexdigest()


class _Stored(msgspec.Struct):
    """A finished job as written down: the generation, or the error's class and message."""

    generation: Generation | None = None
    error_type: str | None = None
    error: str | None = None
    path: str | None = None


class Entry(msgspec.Struct, frozen=True):
    """What the journal knows of one request from an earlier run."""

    intent_at: datetime
    task_id: str | None = None
    result: JobResult | None = None


def _error_from(kind: str | None, message: str | None) -> BaseException:
    cls = getattr(_errors, kind or "", None)
    if isinstance(cls, type) and issubclass(cls, LumaError) and cls.__init__ is LumaError.__init__:
        return cls(message or "")
    # Errors with extra fields (status, cause, ...) come back as their message only.
    return LumaError(f"{kind}: {message}" if kind else message or "")


class Journal:
    """The journal file of one pipeline run (and of the runs that resume it)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = pathlib.Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def lookup(self, index: int, request: AnyRequest) -> Entry | None:
        """What an earlier run wrote for this request, if anything."""
        row = self._db.execute(
            "SELECT intent_at, task_id, result FROM jobs WHERE idx = ? AND digest = ?",
            request_key(index, request),
        ).fetchone()
        if row is None:
            return None
        intent_at, task_id, blob = row
        result = None
        if blob is not None:
            stored = msgspec.json.decode(blob, type=_Stored)
            result = JobResult(
                index,
                request,
                stored.generation,
                error=_error_from(stored.error_type, stored.error)
                if stored.error_type or stored.error
                else None,
                path=pathlib.Path(stored.path) if stored.path else None,
            )
        return Entry(datetime.fromisoformat(intent_at), task_id, result)

    def intend(self, index: int, request: AnyRequest) -> None:
        """Write down, durably, that this request is about to be submitted."""
        self._db.execute(
            "INSERT OR REPLACE INTO jobs (idx, digest, intent_at) VALUES (?, ?, ?)",
            (*request_key(index, request), datetime.now(UTC).isoformat()),
        )

    def forget(self, index: int, request: AnyRequest) -> None:
        """Drop an intent whose submit surely created nothing (a rerun tries it again)."""
        self._db.execute(
            "DELETE FROM jobs WHERE idx = ? AND digest = ? AND task_id IS NULL",
            request_key(index, request),
        )

    def submitted(self, index: int, request: AnyRequest, task_id: str) -> None:
        """Write down the task id the submit created."""
        self._db.execute(
            "UPDATE jobs SET task_id = ? WHERE idx = ? AND digest = ?",
            (task_id, *request_key(index, request)),
        )

    def finished(self, result: JobResult) -> None:
        """Write down a job's result; a later run replays it instead of doing the job."""
        error = result.error
        stored = _Stored(
            generation=result.generation,
            error_type=type(error).__name__ if error is not None else None,
            error=str(error) if error is not None else None,
            path=str(result.path) if result.path else None,
        )
        self._db.execute(
            "INSERT INTO jobs (idx, digest, intent_at, result) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (idx, digest) DO UPDATE SET result = excluded.result",
            (
                *request_key(result.index, result.request),
                datetime.now(UTC).isoformat(),
                _encode(stored),
            ),
        )
