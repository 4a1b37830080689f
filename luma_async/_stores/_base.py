"""What every journal backend shares: the store protocol, request keys and stored results.

A store is the durable memory of one named run of `generate_many`. The pipeline asks it, in
order: `open()`, `join(requests)` (the run's whole input: new indexes join, a changed one is
refused), then per request `claim()` (or `lookup` + `intend`), `submitted`, `finished` (written
before the result is yielded; False means another worker settled it: do not yield), and at the
end `settled()` and `close()`. Nothing the store hands back ever asks for a second submit.
"""

from __future__ import annotations

import hashlib
import pathlib
import re
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import unquote

import anyio
import msgspec

from .. import _errors
from .._errors import JournalError, LumaError
from .._models import AnyRequest, Generation, JobResult

__all__ = [
    "DEFAULT_RUN",
    "Adopted",
    "Claim",
    "Entry",
    "Row",
    "RowState",
    "Store",
    "decode_result",
    "encode_request",
    "encode_result",
    "keep_alive",
    "legacy_digest",
    "make_row",
    "redact",
    "request_digest",
    "run_tag",
    "secrets_of",
    "warn_limits",
]

DEFAULT_RUN = "default"


def _encode_path(value: Any) -> Any:
    if isinstance(value, pathlib.PurePath):
        return str(value)
    raise NotImplementedError(f"cannot journal {type(value).__name__}")


_encode = msgspec.json.Encoder(enc_hook=_encode_path).encode


def encode_request(request: AnyRequest) -> bytes:
    """The request as JSON (its fields only; the kind is stored beside it)."""
    return _encode(request)


def request_digest(request: AnyRequest) -> str:
    """A hash of what the request asks for, its kind included (a video and an image request
    with the same fields are different jobs)."""
    kind: str = type(request).kind
    return hashlib.sha256(kind.encode() + b"\n" + _encode(request)).hexdigest()


def legacy_digest(request: AnyRequest) -> str:
    """The hash the first journal (`_journal.py`, video requests only) keyed requests by."""
    return hashlib.sha256(_encode(request)).hexdigest()


def run_tag(run: str) -> str:
    """A short hash of a run's name, safe in a file name."""
    return hashlib.sha256(run.encode()).hexdigest()[:16]


def warn_limits(
    run: str,
    limits: tuple[int | None, float | None],
    concurrency: int,
    submits_per_minute: float | None,
) -> None:
    """Warn a worker whose limits differ from the run's (the run's hold)."""
    if limits != (concurrency, submits_per_minute):
        warnings.warn(
            f"run {run!r} was created with concurrency={limits[0]}, "
            f"submits_per_minute={limits[1]}; those hold for the whole run, not "
            f"concurrency={concurrency}, submits_per_minute={submits_per_minute}",
            UserWarning,
            stacklevel=3,
        )


class _Stored(msgspec.Struct, omit_defaults=True):
    """A finished job as written down: the generation, or the error's class and message."""

    generation: Generation | None = None
    error_type: str | None = None
    error: str | None = None
    path: str | None = None


def encode_result(result: JobResult) -> bytes:
    """A result as the journal stores it (the same JSON the first journal wrote)."""
    error = result.error
    return _encode(
        _Stored(
            generation=result.generation,
            error_type=type(error).__name__ if error is not None else None,
            error=str(error) if error is not None else None,
            path=result.location or (str(result.path) if result.path else None),
        )
    )


def _error_from(kind: str | None, message: str | None) -> BaseException:
    cls = getattr(_errors, kind or "", None)
    if isinstance(cls, type) and issubclass(cls, LumaError) and cls.__init__ is LumaError.__init__:
        return cls(message or "")
    # Errors with extra fields (status, cause, ...) come back as their message only.
    return LumaError(f"{kind}: {message}" if kind else message or "")


def decode_result(index: int, request: AnyRequest, blob: bytes) -> JobResult:
    """A stored result back as the `JobResult` it was."""
    try:
        stored = msgspec.json.decode(blob, type=_Stored)
    except msgspec.DecodeError as exc:
        raise JournalError(f"the journal's result for request {index} is unreadable") from exc
    error = (
        _error_from(stored.error_type, stored.error) if stored.error_type or stored.error else None
    )
    where = stored.path
    path = pathlib.Path(where) if where and "://" not in where else None
    return JobResult(index, request, stored.generation, error=error, path=path, location=where)


RowState = Literal["pending", "intended", "submitted", "completed", "failed", "uncertain"]


class Row(msgspec.Struct, frozen=True):
    """One request of a run as `journal show` prints it (`--json`: these fields)."""

    index: int
    kind: str
    state: RowState
    task_id: str | None = None
    url: str | None = None
    path: str | None = None
    error: str | None = None


def make_row(index: int, kind: str, intended: bool, task_id: str | None, blob: bytes | None) -> Row:
    """A row from what the journal holds: no intent = pending, intent without task id =
    intended (its answer may be lost), task id = submitted, then the result's outcome."""
    if blob is None:
        state: RowState = "submitted" if task_id else "intended" if intended else "pending"
        return Row(index, kind, state, task_id)
    try:
        stored = msgspec.json.decode(blob, type=_Stored)
    except msgspec.DecodeError:
        return Row(index, kind, "failed", task_id, error="unreadable result in the journal")
    generation = stored.generation
    url = generation.video.best_url if generation and generation.video else None
    error = f"{stored.error_type}: {stored.error}" if stored.error_type else stored.error
    if stored.error_type == "SubmissionUncertainError":
        state = "uncertain"
    elif error is None and generation is not None and generation.ok:
        state = "completed"
    else:
        state = "failed"
        error = error or (generation.failure_reason if generation else None)
    return Row(
        index,
        kind,
        state,
        task_id or (generation.id if generation else None),
        url,
        stored.path,
        error,
    )


class Entry(msgspec.Struct, frozen=True):
    """What the journal knows of one request: its intent (None for a result written without
    a submit, such as a refused request), its task, its result."""

    intent_at: datetime | None
    task_id: str | None = None
    result: JobResult | None = None


class Claim(msgspec.Struct, frozen=True):
    """A request this worker now owns, its intent already written: submit it (once)."""

    index: int
    request: AnyRequest


class Adopted(msgspec.Struct, frozen=True):
    """A request submitted by a worker that is gone, now owned by this one.

    With a `task_id`: poll it. Without one (its submit's answer was never written down):
    reconcile it from `intent_at` where the dialect can, or settle it as uncertain. Never
    submit it again.
    """

    index: int
    request: AnyRequest
    intent_at: datetime
    task_id: str | None = None


_QUERY_PASSWORD = re.compile(r"(?i)(?P<head>[?&]password=)[^&#]*")


def _userinfo_end(rest: str) -> int:
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    return rest.rfind("@", 0, cut)


def secrets_of(url: str) -> list[str]:
    """The password(s) in `url` as written and percent-decoded (to scrub from messages)."""
    found = []
    _, sep, rest = url.partition("://")
    at = _userinfo_end(rest) if sep else -1
    if at >= 0 and ":" in rest[:at]:
        found.append(rest[:at].split(":", 1)[1])
    found += [m.group(1) for m in re.finditer(r"(?i)[?&]password=([^&#]*)", url)]
    return [form for raw in found if raw for form in {raw, unquote(raw)}]


def redact(url: str) -> str:
    """`url` with any password replaced by `***` (for logs, errors and reprs).

    The user info ends at the last `@` before the query, so a password holding an unescaped
    `@` or `/` is hidden whole.
    """
    scheme, sep, rest = url.partition("://")
    at = _userinfo_end(rest) if sep else -1
    if at >= 0 and ":" in rest[:at]:
        rest = f"{rest[:at].split(':', 1)[0]}:***{rest[at:]}"
    return _QUERY_PASSWORD.sub(r"\g<head>***", scheme + sep + rest if sep else url)


class Store(Protocol):
    """The durable memory of one named run, shared by every worker that joins it.

    Every method raises `JournalError` on any database failure (and nothing else from the
    database layer). Requests are identified by their input index; `request_digest` guards
    that an index still means the same request.
    """

    #: The run's name (`"default"` unless given).
    run: str
    #: The worker's lease in seconds: `heartbeat()` must be called well within it.
    lease: float
    #: True when one process holds the run at a time (SQLite): a rerun replays the results
    #: of earlier sessions. False when workers share it (PostgreSQL).
    exclusive: bool

    async def open(self) -> None:
        """Connect, create or migrate the schema, take this worker's place in the run."""

    async def close(self) -> None:
        """Let go of the run (its lock, its lease) and of the connection. Idempotent."""

    async def join(
        self,
        requests: Sequence[AnyRequest],
        *,
        concurrency: int,
        submits_per_minute: float | None,
    ) -> None:
        """Add the run's input: new indexes join, an index whose request changed is refused.

        The first worker to join a run fixes its `concurrency` and `submits_per_minute`; a
        worker passing others gets a `UserWarning` and the run's values.
        """

    async def lookup(self, index: int, request: AnyRequest) -> Entry | None:
        """What the journal holds for this request: None if it was never attempted."""

    async def intend(self, index: int, request: AnyRequest) -> None:
        """Write down, durably, that this request is about to be submitted (by this worker)."""

    async def submitted(self, index: int, request: AnyRequest, task_id: str) -> None:
        """Write down the task id the submit (or a reconcile) found."""

    async def finished(self, result: JobResult, *, retry: bool = False) -> bool:
        """Write down a result before it is yielded; False when it was already settled (by
        another worker, or earlier): then it must not be yielded again.

        `retry=True` for an error a later session of the run should try again (nothing was
        created: a refused connection, a 429 past `submit_deadline`, a fatal error before
        the submit): settled for this session, pending again when the run is next joined
        with no other worker live. It is written only where nobody else holds an intent
        (a peer may have claimed the request meanwhile: then False).
        """

    async def forget(self, index: int, request: AnyRequest) -> None:
        """Drop an intent whose submit surely created nothing: the request is pending again
        (claimable at once; with claims, `finished(..., retry=True)` settles it instead)."""

    async def claim(self) -> Claim | None:
        """The next request nobody has attempted, its intent written, within the run-wide
        `concurrency` and `submits_per_minute` (waits for room); None when none is left."""

    async def adopt_expired(self) -> list[Adopted]:
        """Take over the unfinished submits of workers whose lease expired."""

    async def heartbeat(self) -> bool:
        """Renew this worker's lease; False if it had already expired (others may have
        adopted its tasks: a result they settle first is then not this worker's to yield)."""

    async def settled(self) -> bool:
        """True when every request of the run is finished, failed or uncertain."""

    async def results(self) -> list[JobResult]:
        """Every result written in the run so far, by index (requests this worker joined)."""

    async def rows(self) -> list[Row]:
        """Every request of the run as it stands, by index (no input needed: for the CLI)."""

    async def runs(self) -> list[str]:
        """The names of every run in this journal."""


async def keep_alive(
    store: Store, *, on_error: Callable[[JournalError], None] | None = None
) -> None:
    """Renew `store`'s lease every third of it, forever (run it beside the pipeline).

    A failed renewal is handed to `on_error` (the lease may lapse: others then adopt this
    worker's tasks, and `finished()` keeps results single) and the beat goes on.
    """
    if store.lease == float("inf"):
        return
    while True:
        await anyio.sleep(store.lease / 3)
        try:
            await store.heartbeat()
        except JournalError as exc:
            if on_error is not None:
                on_error(exc)
