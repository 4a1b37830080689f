"""Turning a gateway's "no" into our error tree (docs/errors.md), shared by every dialect.

Three layers of error body meet a client on any route: the gateway's own OpenAI-style
`{"error": {"message", "type"}}`, the task relay's `{"code", "message", "data"}`, and the
upstream's `{"detail": ...}` passed through. One tolerant view reads all three.
"""

from __future__ import annotations

import re

import msgspec

from .._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from .._http import HttpResponse, parse_retry_after
from ._decoding import DECODE_ERRORS, lenient

__all__ = ["SUCCESS_CODES", "error_for", "is_final", "is_success_code"]

#: Envelope codes that mean success (DIALECTS.md §3), compared case-insensitively.
SUCCESS_CODES = frozenset({"0", "200", "success", "succeed"})

#: Words of a quota or balance refusal. Not "insufficient" alone: a 503 "insufficient
#: capacity" is overload and a 403 "insufficient permissions" is a permission error.
_QUOTA_WORDS = ("quota", "额度", "余额", "balance", "credit", "billing", "欠费")
_REQUEST_ID = re.compile(r"request id:\s*([\w-]+)", re.IGNORECASE)


class _ErrorObject(msgspec.Struct):
    message: str | None = None
    type: str | None = None
    code: str | int | None = None


class _DetailObject(msgspec.Struct):
    reason: str | None = None
    msg: str | None = None
    code: str | int | None = None


class _ErrorView(msgspec.Struct):
    error: _ErrorObject | str | None = None
    message: str | None = None
    msg: str | None = None
    code: str | int | None = None
    request_id: str | None = None
    detail: _DetailObject | str | list[_DetailObject] | None = None


_decode_error = lenient(msgspec.json.Decoder(_ErrorView, strict=False))


def is_success_code(code: str | int | None) -> bool:
    """True when an envelope's `code` is absent or one of the success words."""
    return code is None or str(code).strip().lower() in SUCCESS_CODES


def _read(body: bytes) -> _ErrorView:
    try:
        view = _decode_error(body)
    except DECODE_ERRORS:
        return _ErrorView()
    return view


def _message_of(view: _ErrorView) -> str | None:
    """First of error.message, message, msg, detail.reason, detail."""
    if isinstance(view.error, _ErrorObject) and view.error.message:
        return view.error.message
    if isinstance(view.error, str) and view.error:
        return view.error
    if view.message:
        return view.message
    if view.msg:
        return view.msg
    detail = view.detail
    if isinstance(detail, list):
        detail = detail[0] if detail else None
    if isinstance(detail, _DetailObject):
        return detail.reason or detail.msg
    return detail or None


def _code_of(view: _ErrorView) -> str | None:
    for code in (
        view.code,
        view.error.code if isinstance(view.error, _ErrorObject) else None,
        view.detail.code if isinstance(view.detail, _DetailObject) else None,
    ):
        if code is not None and str(code) != "":
            return str(code)
    return None


def _short(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace").strip()
    return " ".join(text.split()) or "empty body"


def _about_quota(text: str) -> bool:
    return any(word in text for word in _QUOTA_WORDS)


def is_final(response: HttpResponse) -> bool:
    """True for an answer no retry can change: a 429 (or any 4xx) about quota or balance.

    The transport retries 429s; given this, it sends a 429 `insufficient_quota` only once.
    """
    status = response.status
    if status >= 500 or status < 400 or response.is_html:
        return status == 402
    view = _read(response.body)
    return status == 402 or _about_quota(
        f"{_code_of(view) or ''} {_message_of(view) or ''}".lower()
    )


def error_for(response: HttpResponse) -> APIError | ProtocolError:
    """The error a failed answer stands for: classified by status first, words second."""
    status = response.status
    view = _ErrorView() if response.is_html else _read(response.body)
    message = _message_of(view)
    code = _code_of(view)
    request_id = view.request_id or response.headers.get("x-request-id")
    if request_id is None and message and (found := _REQUEST_ID.search(message)):
        request_id = found.group(1)
    # Only the code and the message speak for the gateway (DIALECTS.md §6 rule 1): a quota
    # word elsewhere in a body (a prompt echoed back) must not stop a whole run.
    text = f"{code or ''} {message or ''}".lower()
    if message is None:
        kind = "an HTML page" if response.is_html else repr(_short(response.body))
        message = f"the gateway answered {kind}"

    def make(cls: type[APIError]) -> APIError:
        return cls(message, status=status, code=code, request_id=request_id)

    # Status first, words second (DIALECTS.md §6 rule 1): a 5xx is overload or an upstream
    # failure whatever its words, never a reason to stop a whole run.
    if status == 402 or (status < 500 and _about_quota(text)):
        return make(QuotaExceededError)
    if "task_not_exist" in text or status == 404:
        return make(NotFoundError)
    if status == 401:
        return make(AuthenticationError)
    if status == 403:
        return make(PermissionDeniedError)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimitError(
            message, status=status, code=code, request_id=request_id, retry_after=retry_after
        )
    if status in (400, 413, 422):
        return make(BadRequestError)
    if status == 408 or status >= 500:
        return make(ServerError)
    return ProtocolError(
        f"unexpected answer (HTTP {status}): {message}", status=status, body=response.body
    )
