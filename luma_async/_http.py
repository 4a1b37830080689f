"""Plain data for one HTTP exchange: what the dialects build and parse, what the transport moves.

No I/O here: the dialects stay sans-IO by speaking only these two structs.
"""

from __future__ import annotations

import email.utils
import functools
import re
import time
from collections.abc import Mapping

import msgspec

from ._errors import InvalidRequestError

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "HttpRequest",
    "HttpResponse",
    "Timeout",
    "mask",
    "mask_bytes",
    "parse_retry_after",
]

#: Seconds to wait for a connection: a wrong or unreachable host shows up in seconds.
DEFAULT_CONNECT_TIMEOUT = 5.0

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


class Timeout(msgspec.Struct, frozen=True, kw_only=True):
    """Seconds for one API request: `total`, `connect` (its connection), `submit` (a create).

    `submit` defaults to `total`; downloads use `total` as a read timeout instead.
    """

    total: float = 30.0
    connect: float = DEFAULT_CONNECT_TIMEOUT
    submit: float | None = None

    def __post_init__(self) -> None:
        for name in ("total", "connect", "submit"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"Timeout.{name} must be > 0, not {value}")

    @property
    def for_submit(self) -> float:
        """The total timeout of a create."""
        return self.submit if self.submit is not None else self.total

    @classmethod
    def of(cls, value: float | Timeout) -> Timeout:
        """`value` as a Timeout: a number is the total (connect stays the default, or less)."""
        if isinstance(value, Timeout):
            return value
        if not value > 0:
            raise ValueError(f"timeout must be > 0, not {value}")
        return cls(total=value, connect=min(value, DEFAULT_CONNECT_TIMEOUT))


# A key is masked where it stands as a whole token: not inside a longer run of the characters
# keys are made of, so that a one-letter key "k" leaves "unknown" alone.
_EDGE = rb"A-Za-z0-9_\-"


@functools.lru_cache(maxsize=8)
def _pattern(secret: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"(?<![" + _EDGE + rb"])" + re.escape(secret) + rb"(?![" + _EDGE + rb"])")


#: A key this long is masked wherever it appears, also glued to other text (`%20<key>`, Go's
#: `\u003c<key>`): no ordinary word contains it. Shorter ones only as whole tokens.
_LONG_KEY = 8


def mask_bytes(data: bytes, secret: str | None) -> bytes:
    """`data` with every occurrence of `secret` replaced by `***` (whole tokens if short)."""
    if not secret:
        return data
    raw = secret.encode()
    if raw not in data:  # the usual case, and the cheap one
        return data
    if len(raw) >= _LONG_KEY:
        return data.replace(raw, b"***")
    return _pattern(raw).sub(b"***", data)


def mask(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` replaced by `***` (whole tokens if short)."""
    if not secret or secret not in text:
        return text
    return mask_bytes(text.encode("utf-8", "surrogatepass"), secret).decode(
        "utf-8", "surrogatepass"
    )
