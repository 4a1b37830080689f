"""Every error luma_async raises, in one tree.

```
LumaError
├── TransportError             network failure or request timeout (nothing reached a verdict)
├── SubmissionUncertainError   a submit may have created a task and its answer was lost: .cause
├── ProtocolError              the answer could not be understood (HTML page, bad JSON, no task id)
├── APIError                   the gateway said no: .status, .message, .code, .request_id
│   ├── BadRequestError        400, 413, 422
│   ├── AuthenticationError    401 (unless the message is about quota)
│   ├── QuotaExceededError     402, or a 4xx (429 included: not retried) whose code/message
│   │                          is about quota or balance; never a 5xx
│   ├── PermissionDeniedError  403
│   ├── NotFoundError          404, or `task_not_exist` whatever the status
│   ├── RateLimitError         429, .retry_after
│   └── ServerError            5xx, 408
├── InvalidRequestError        refused before sending: a value the dialect does not accept
│                              (also a ValueError)
├── UnsupportedFeatureError    the dialect has no such option or operation
├── PollTimeoutError           .pending (also a TimeoutError)
└── JournalError               the journal failed or refused the run (changed input, run in use)
```

Messages are built from what the gateway said and what we asked; none of them ever holds the
API key, because the key is never handed to an exception (the transport masks it before logging).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "InvalidRequestError",
    "JournalError",
    "LumaError",
    "NotFoundError",
    "PermissionDeniedError",
    "PollTimeoutError",
    "ProtocolError",
    "QuotaExceededError",
    "RateLimitError",
    "ServerError",
    "SubmissionUncertainError",
    "TransportError",
    "UnsupportedFeatureError",
]


class LumaError(Exception):
    """The base of every error luma_async raises."""


class TransportError(LumaError):
    """The request failed on the network or timed out before any answer came back."""

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        #: False only when the request provably never left (connection refused, DNS failure).
        self.sent = sent


class SubmissionUncertainError(LumaError):
    """A submit may have created a task, but its answer was lost: resubmitting may bill twice.

    Raised instead of the underlying error (kept in `cause`) for any failure after the request
    may have reached the gateway: a timeout, a dropped connection, a 5xx, an HTML error page.
    """

    def __init__(self, message: str, *, cause: BaseException) -> None:
        super().__init__(message)
        self.cause = cause


class ProtocolError(LumaError):
    """The gateway answered something we cannot understand (HTML, bad JSON, no task id)."""

    def __init__(self, message: str, *, status: int | None = None, body: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        #: The first bytes of what came back, for diagnosis.
        self.body = body[:500]


class APIError(LumaError):
    """The gateway understood the request and said no."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"HTTP {status}: {message}" + (f" (code {code})" if code else ""))
        self.status = status
        self.message = message
        self.code = code
        self.request_id = request_id


class BadRequestError(APIError):
    """The gateway rejected the request as malformed (400, 413, 422)."""


class AuthenticationError(APIError):
    """The API key is missing, invalid or expired (401)."""


class QuotaExceededError(APIError):
    """The account has run out of credits or quota (402, or a 2xx/4xx that says so; never a 5xx)."""


class PermissionDeniedError(APIError):
    """The key may not do this: banned, or the model is not allowed (403)."""


class NotFoundError(APIError):
    """The gateway does not know this task (404, or `task_not_exist`)."""


class RateLimitError(APIError):
    """Too many requests (429); `retry_after` is the server's hint in seconds, if it gave one."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.retry_after = retry_after


class ServerError(APIError):
    """The gateway or something behind it failed (5xx, 408): transient, worth retrying reads."""


class InvalidRequestError(LumaError, ValueError):
    """Refused before sending: the dialect does not accept this value."""


class UnsupportedFeatureError(LumaError):
    """The dialect has no such option or operation."""


class PollTimeoutError(LumaError, TimeoutError):
    """The poll stream's deadline passed; `pending` lists the ids that had not finished."""

    def __init__(self, message: str, *, pending: Sequence[str]) -> None:
        super().__init__(message)
        self.pending = list(pending)


#: Errors that end a whole run: no later request can succeed with this key.
FATAL_ERRORS: tuple[type[APIError], ...] = (
    AuthenticationError,
    PermissionDeniedError,
    QuotaExceededError,
)


class UnreachableHostError(TransportError):
    """Internal: nothing at the base URL ever answered (refused, or no such name).

    Before the client's first answer that means a wrong host, not an outage: polling it for
    ever would hide the mistake, so the poll stream ends with it (a `TransportError`).
    """


class JournalError(LumaError):
    """The run's journal (SQLite file or PostgreSQL database) failed or refused the run."""
