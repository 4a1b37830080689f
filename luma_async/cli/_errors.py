"""Exit codes, and the one line the CLI prints for each kind of failure."""

from __future__ import annotations

import enum

from .._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PollTimeoutError,
    ProtocolError,
    QuotaExceededError,
    RateLimitError,
    SubmissionUncertainError,
    TransportError,
    UnsupportedFeatureError,
)

__all__ = ["CliError", "ExitCode", "describe", "exit_code_for"]


class ExitCode(enum.IntEnum):
    """What `luma-async` exits with; scripts may rely on these numbers."""

    #: Everything asked for was done.
    OK = 0
    #: Some jobs did not give a video: a generation failed, a request was refused, a line was bad.
    FAILED = 1
    #: Usage or bad input: arguments, configuration, an unreadable file, a value the dialect
    #: refuses, a task id the gateway does not know.
    USAGE = 2
    #: The key was refused, may not do this, or has run out of quota.
    AUTH = 3
    #: The network or the gateway failed (unreachable, timeouts, 5xx, 429, unreadable answers).
    NETWORK = 4
    #: `--timeout` passed with tasks still unfinished.
    TIMEOUT = 5
    #: A bug in luma-async: please report it with the `--debug` output.
    INTERNAL = 70
    #: Stopped by Ctrl-C (SIGINT).
    INTERRUPTED = 130


class CliError(Exception):
    """A failure the CLI reports as one line on stderr, then exits with `code`."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code a failure maps to (see `ExitCode`)."""
    if isinstance(exc, CliError):
        return exc.code
    if isinstance(exc, AuthenticationError | PermissionDeniedError | QuotaExceededError):
        return ExitCode.AUTH
    if isinstance(exc, PollTimeoutError):
        return ExitCode.TIMEOUT
    if isinstance(
        exc,
        InvalidRequestError | UnsupportedFeatureError | BadRequestError | NotFoundError,
    ):
        return ExitCode.USAGE
    if isinstance(exc, APIError | TransportError | ProtocolError | SubmissionUncertainError):
        return ExitCode.NETWORK
    if isinstance(exc, OSError | ValueError):
        return ExitCode.USAGE
    return ExitCode.INTERNAL


def describe(exc: BaseException) -> str:
    """One line that says what went wrong and, where it helps, what to do about it."""
    if isinstance(exc, AuthenticationError):
        return f"the gateway refused the API key ({exc}); check --api-key or $LUMA_API_KEY"
    if isinstance(exc, QuotaExceededError):
        return f"out of quota ({exc}); top up the account or use another key"
    if isinstance(exc, PermissionDeniedError):
        return f"permission denied ({exc}): the key may not do this"
    if isinstance(exc, RateLimitError):
        return f"rate limited by the gateway ({exc}); try again later"
    if isinstance(exc, NotFoundError):
        return f"not found ({exc})"
    if isinstance(exc, BadRequestError):
        return f"the gateway refused the request ({exc})"
    if isinstance(exc, APIError):
        return f"gateway error ({exc})"
    if isinstance(exc, SubmissionUncertainError):
        return f"{exc}; look for the task with `luma-async status` before submitting again"
    if isinstance(exc, TransportError):
        return f"network error: {exc}"
    if isinstance(exc, ProtocolError):
        return f"unexpected answer from the gateway: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    text = str(exc)
    return text if text else type(exc).__name__
