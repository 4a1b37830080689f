"""The submit side of `generate_many`: reading the input, requeueing, bounded shields."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

import anyio
import anyio.lowlevel

from ._errors import LumaError, RateLimitError, SubmissionUncertainError, TransportError
from ._models import REQUEST_TYPES, AnyRequest, GenerateRequest

__all__ = ["DEFAULT_SUBMIT_DEADLINE", "Shields", "one_request", "read_requests", "requeue_delay"]

#: Seconds a submit may keep meeting 429s or refused connections before it gets its error.
DEFAULT_SUBMIT_DEADLINE = 600.0
#: Backoff between two tries of a requeued submit when the gateway named no wait.
_REQUEUE_BASE = 1.0
_REQUEUE_CAP = 30.0
#: A Retry-After is honoured as a floor, spread by up to this share so that requeued
#: submits do not all come back in the same instant.
_SPREAD = 0.2

T = TypeVar("T")


def read_requests(requests: Iterable[AnyRequest | str]) -> list[AnyRequest]:
    """The whole input, checked before anything is sent: prompts become `GenerateRequest`s.

    Raises `TypeError` naming the index and the type of the first item that is neither a
    request struct nor a prompt string (a dict, `...`, None): nothing has been billed yet.
    """
    if isinstance(requests, (str, bytes, *REQUEST_TYPES)):
        raise TypeError(
            "generate_many takes an iterable of requests (a list of prompts or request "
            f"structs), not a single {type(requests).__name__}"
        )
    checked: list[AnyRequest] = []
    for index, item in enumerate(requests):
        if isinstance(item, str):
            checked.append(GenerateRequest(item))
        elif isinstance(item, REQUEST_TYPES):
            checked.append(item)
        else:
            kinds = ", ".join(t.__name__ for t in REQUEST_TYPES)
            raise TypeError(
                f"request {index} is a {type(item).__name__}, not a prompt string or a "
                f"request struct ({kinds}); nothing was submitted"
            )
    return checked


def one_request(first: AnyRequest | str, options: Mapping[str, Any]) -> AnyRequest:
    """`run()`'s request: a prompt with its options (None = not given), or a struct alone."""
    given = {name: value for name, value in options.items() if value is not None}
    if isinstance(first, str):
        return GenerateRequest(first, **given)
    if not isinstance(first, REQUEST_TYPES):
        raise TypeError(
            f"run() takes a prompt string or a request struct, not a {type(first).__name__}"
        )
    if given:
        raise TypeError(
            "run() takes options with a prompt, not with a request struct: put "
            f"{', '.join(sorted(given))} in the {type(first).__name__}"
        )
    return first


def requeue_delay(
    error: LumaError, tries: int, *, rand: Callable[[], float] = random.random
) -> float | None:
    """Seconds before a failed submit is tried again, or None when it is not worth it.

    Only failures that created nothing qualify: a 429 (its Retry-After honoured as a floor)
    and a connection refused before the request left. Whether a refused connection means a
    wrong host (before the client's first answer) is the caller's call, not this function's.
    """
    if isinstance(error, RateLimitError):
        if error.retry_after is not None:
            return error.retry_after * (1.0 + _SPREAD * rand())
    elif not (isinstance(error, TransportError) and not error.sent):
        return None
    ceiling = min(_REQUEUE_CAP, _REQUEUE_BASE * 2.0 ** min(tries - 1, 32))
    return ceiling * (0.5 + 0.5 * rand())  # half fixed, half jitter: never a tight loop


class Shields:
    """Shields for submits in flight, cut short once the run is being left.

    With a journal, a submit under way is allowed to finish when the run is cancelled, so
    that its task id is written down instead of an uncertain intent. That grace is bounded:
    once the run is being left, each shield gets a deadline `bound` seconds away (the
    request timeout, which bounds one exchange), so retries inside it cannot run on.
    """

    def __init__(self, bound: float) -> None:
        self._bound = bound
        self._open: set[anyio.CancelScope] = set()
        self._leaving = False

    async def guard(self) -> None:
        """Run beside the submitters; when cancelled, give every open shield its deadline."""
        try:
            await anyio.sleep_forever()
        finally:
            self._leaving = True
            deadline = anyio.current_time() + self._bound
            for scope in self._open:
                scope.deadline = min(scope.deadline, deadline)

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """`await call()` shielded from cancellation, for at most `bound` once leaving."""
        scope = anyio.CancelScope(shield=True)
        if self._leaving:
            scope.deadline = anyio.current_time() + self._bound
        self._open.add(scope)
        try:
            with scope:
                return await call()
        finally:
            self._open.discard(scope)
        # Only a deadline gets here, and deadlines are set only while the run is being
        # cancelled: this checkpoint raises that cancellation.
        await anyio.lowlevel.checkpoint()
        raise SubmissionUncertainError(
            "the submit was cut short while the run was being left; its task may exist",
            cause=LumaError("cancelled"),
        )
