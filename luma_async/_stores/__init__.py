"""Journal stores: where a run of `generate_many` keeps what prevents paying twice.

`open_store(journal, run=...)` picks the backend from `journal`: a `postgresql://` (or
`postgres://`) URL is a shared PostgreSQL run (extra `postgres`), anything else a SQLite file.
"""

from __future__ import annotations

import os

from ._base import (
    DEFAULT_RUN,
    Adopted,
    Claim,
    Entry,
    Row,
    Store,
    keep_alive,
    redact,
    request_digest,
)
from ._sqlite import SqliteStore

__all__ = [
    "DEFAULT_RUN",
    "Adopted",
    "Claim",
    "Entry",
    "Row",
    "SqliteStore",
    "Store",
    "keep_alive",
    "make_store",
    "redact",
    "request_digest",
]


def make_store(
    journal: str | os.PathLike[str],
    *,
    run: str = DEFAULT_RUN,
    lease: float = 30.0,
    reader: bool = False,
) -> Store:
    """The store for `journal=` (not opened yet: `await store.open()`); a `reader` (for
    `journal show`) takes no run lock and no lease."""
    if isinstance(journal, str) and journal.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgresStore

        return PostgresStore(journal, run=run, lease=lease, reader=reader)
    return SqliteStore(journal, run=run, reader=reader)
