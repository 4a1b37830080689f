"""The exit code and the one line each kind of failure gets (the table in `luma-async --help`)."""

from __future__ import annotations

import pytest

from luma_async import (
    AuthenticationError,
    BadRequestError,
    InvalidRequestError,
    LumaError,
    NotFoundError,
    PermissionDeniedError,
    PollTimeoutError,
    ProtocolError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    SubmissionUncertainError,
    TransportError,
    UnsupportedFeatureError,
)
from luma_async.cli import CliError, ExitCode
from luma_async.cli._errors import describe, exit_code_for
from luma_async.cli._output import line_ranges


@pytest.mark.parametrize(
    ("error", "code", "says"),
    [
        (AuthenticationError("bad token", status=401), ExitCode.AUTH, "refused the API key"),
        (QuotaExceededError("no credit", status=402), ExitCode.AUTH, "out of quota"),
        (PermissionDeniedError("banned", status=403), ExitCode.AUTH, "permission denied"),
        (RateLimitError("slow down", status=429), ExitCode.NETWORK, "rate limited"),
        (ServerError("upstream", status=503), ExitCode.NETWORK, "gateway error"),
        (TransportError("no answer within 30 s"), ExitCode.NETWORK, "network error"),
        (ProtocolError("HTML page"), ExitCode.NETWORK, "unexpected answer"),
        (
            SubmissionUncertainError("answer lost", cause=TransportError("reset")),
            ExitCode.NETWORK,
            "luma-async status",
        ),
        (BadRequestError("bad field", status=400), ExitCode.USAGE, "refused the request"),
        (NotFoundError("no such task", status=404), ExitCode.USAGE, "not found"),
        (InvalidRequestError("aspect_ratio '2:1'"), ExitCode.USAGE, "aspect_ratio '2:1'"),
        (UnsupportedFeatureError("no 'model' option"), ExitCode.USAGE, "no 'model' option"),
        (PollTimeoutError("2 still pending", pending=["a", "b"]), ExitCode.TIMEOUT, "pending"),
        (FileNotFoundError(2, "No such file or directory", "in.jsonl"), ExitCode.USAGE, "in.jsonl"),
        (CliError("no API key", ExitCode.USAGE), ExitCode.USAGE, "no API key"),
        (LumaError(), ExitCode.INTERNAL, "LumaError"),
        (RuntimeError("boom"), ExitCode.INTERNAL, "boom"),
    ],
)
def test_each_failure_has_its_code_and_line(error: Exception, code: ExitCode, says: str) -> None:
    """Every error class maps to the documented exit code and a line that names it."""
    assert exit_code_for(error) is code
    line = describe(error)
    assert says in line
    assert "\n" not in line


def test_exit_codes_are_the_documented_numbers() -> None:
    """The numbers scripts rely on."""
    assert {code.name: code.value for code in ExitCode} == {
        "OK": 0,
        "FAILED": 1,
        "USAGE": 2,
        "AUTH": 3,
        "NETWORK": 4,
        "TIMEOUT": 5,
        "INTERNAL": 70,
        "INTERRUPTED": 130,
    }


@pytest.mark.parametrize(
    ("numbers", "text"),
    [([], ""), ([4], "4"), ([3, 1, 2], "1-3"), ([1, 2, 3, 7, 9, 10, 10], "1-3, 7, 9-10")],
)
def test_line_numbers_read_as_ranges(numbers: list[int], text: str) -> None:
    """Line lists in summaries are compressed into ranges."""
    assert line_ranges(numbers) == text
