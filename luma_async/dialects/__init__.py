"""Sans-IO adapters, one per gateway: build a request, parse an answer. No sockets, no clock.

Adding a gateway is adding one file with a `Dialect` subclass and one line in `DIALECTS`.
"""

from __future__ import annotations

from ._base import KIND_OPERATIONS, MAX_IMAGE_BYTES, MAX_VIDEO_BYTES, OPERATIONS, OPTIONS, Dialect
from ._relay import RelayDialect
from .anyapi import AnyAPI
from .gptge import GptGe
from .official import Official
from .rixapi import RixAPI
from .xfusion import XFusion

__all__ = [
    "DIALECTS",
    "KIND_OPERATIONS",
    "MAX_IMAGE_BYTES",
    "MAX_VIDEO_BYTES",
    "OPERATIONS",
    "OPTIONS",
    "AnyAPI",
    "Dialect",
    "GptGe",
    "Official",
    "RelayDialect",
    "RixAPI",
    "XFusion",
    "get_dialect",
]

#: Every dialect by the name `LumaClient(dialect=...)` and `$LUMA_DIALECT` take.
DIALECTS: dict[str, type[Dialect]] = {
    cls.name: cls for cls in (Official, AnyAPI, RixAPI, XFusion, GptGe)
}


def get_dialect(dialect: str | Dialect) -> Dialect:
    """A `Dialect` from its name (case-insensitive) or as given."""
    if isinstance(dialect, Dialect):
        return dialect
    try:
        return DIALECTS[dialect.strip().lower()]()
    except KeyError:
        raise ValueError(
            f"unknown dialect {dialect!r}; known: {', '.join(sorted(DIALECTS))}"
        ) from None
