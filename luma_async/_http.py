"""Plain data for one HTTP exchange: what the dialects build and parse, what the transport moves.

No I/O here: the dialects stay sans-IO by speaking only these two structs.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

import msgspec

from ._errors import InvalidRequestError

__all__ = ["HttpRequest", "HttpResponse", "parse_retry_after"]

_json_encode = msgspec.json.Encoder().encode


class HttpRequest(msgspec.Struct, frozen=True):
    """A request relative to the gateway's base URL (`path` starts with "/")."""

    method: str
    path: str
    body: bytes | None = None
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, method: str, path: str, payload: object) -> HttpRequest:
        """A request whose body is `payload` encoded as JSON."""
        try:
            body = _json_encode(payload)
        except (TypeError, ValueError) as exc:
            raise InvalidRequestError(f"the request body cannot be sent as JSON: {exc}") from None
        return cls(method, path, body)


class HttpResponse(msgspec.Struct, frozen=True):
    """An answer as received: status, headers (lower-case names) and the whole body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def is_html(self) -> bool:
        """True for the HTML error pages proxies put in front of gateways."""
        first = self.body.lstrip()[:1]
        if first in (b"{", b"["):
            return False  # JSON mislabelled as text/html is still JSON
        return first == b"<" or "html" in self.headers.get("content-type", "")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), 3600.0)
