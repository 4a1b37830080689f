"""What one request has met on its tries: the failures worth another, and their log lines.

Kept apart from the transport so that the exchange itself stays short; nothing here does I/O.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from ._errors import TransportError
from ._http import HttpRequest, HttpResponse, parse_retry_after
from ._limits import Throttle

__all__ = ["ConnectFailure", "Retry", "Try", "describe", "log_giveup", "log_retry"]

logger = logging.getLogger("luma_async")


class Try:
    """What one `send` has met so far: when it began, and how many connections failed."""

    __slots__ = ("bucket", "connect_failures", "idempotent", "started")

    def __init__(self, bucket: Throttle, idempotent: bool, started: float) -> None:
        self.bucket = bucket
        self.idempotent = idempotent
        self.started = started
        self.connect_failures = 0


class Retry(Exception):
    """Internal: one try failed in a way worth another (a status or a network failure)."""

    def __init__(
        self, response: HttpResponse | None, error: TransportError | None, *, give_up: bool = False
    ) -> None:
        self.response = response
        self.error = error
        self.retry_after = (
            parse_retry_after(response.headers.get("retry-after")) if response else None
        )
        #: No further try can help (a second failed connect, a Retry-After past the budget).
        self.give_up = give_up


class ConnectFailure(TransportError):
    """Internal: no connection could be made (DNS, connect timeout): retried at most once."""


def what(failure: Retry) -> str:
    """A short account of a failed try: its status, or what went wrong on the network."""
    if failure.response is not None:
        return f"HTTP {failure.response.status}"
    return str(failure.error) if failure.error is not None else "failed"


def _request_of(details: Any) -> str:
    """ "METHOD /path" of the request a backoff hook is about."""
    args: tuple[Any, ...] = tuple(details.get("args") or ())
    request = args[1] if len(args) > 1 and isinstance(args[1], HttpRequest) else None
    return f"{request.method} {request.path}" if request is not None else "request"


def log_retry(max_tries: int, details: Any) -> None:
    """backoff's hook: one line per retry, with what failed and the try number."""
    failure = details.get("exception")
    logger.info(
        "%s: %s; try %d of %s in %.2f s",
        _request_of(details),
        what(failure) if isinstance(failure, Retry) else "failed",
        details["tries"] + 1,
        max_tries,
        details.get("wait") or 0.0,
    )


def log_giveup(details: Any) -> None:
    """backoff's hook: one line when a request is given up."""
    failure = details.get("exception")
    logger.warning(
        "%s: giving up after %d tries (%.1f s): %s",
        _request_of(details),
        details["tries"],
        details.get("elapsed") or 0.0,
        what(failure) if isinstance(failure, Retry) else "failed",
    )


def describe(exc: aiohttp.ClientError) -> str:
    """A message for an aiohttp error that never includes request headers."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status} {exc.message}"
    args: Any = exc.args
    return str(args[0]) if args else type(exc).__name__
