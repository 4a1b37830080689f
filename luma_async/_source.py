"""The client as the poller's status source: batch where it pays, single GETs otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from ._errors import (
    BadRequestError,
    NotFoundError,
    ProtocolError,
    TransportError,
    UnreachableHostError,
)
from ._models import Generation

if TYPE_CHECKING:
    from ._client import LumaClient

__all__ = ["ClientSource", "Hints", "StatusSource", "Wakeable"]


class StatusSource(Protocol):
    """Where the poller gets task states from (the client provides one)."""

    batch_size: int
    #: The fewest ids worth a batch query (1 where a batch of one costs what a GET does).
    min_batch: int

    def can_batch(self) -> bool:
        """True while a batch query is worth trying."""

    async def batch(self, task_ids: Sequence[str]) -> dict[str, Generation]:
        """The tasks the gateway knows among `task_ids` (absent = unknown for now)."""

    async def one(self, task_id: str) -> Generation | None:
        """One task, or None when the gateway does not know it (yet)."""


class Wakeable(Protocol):
    """What callbacks wake: a poll stream."""

    def wake(self, task_id: str) -> None:
        """Look at `task_id` now."""


class Hints(Protocol):
    """Callbacks, as the poller sees them (a `CallbackReceiver`)."""

    def has_callback(self, task_id: str) -> bool:
        """True when the gateway posts this task's changes."""

    def finished(self, task_id: str) -> bool:
        """True when a callback said this task ended."""

    def forget(self, task_id: str) -> None:
        """The task was yielded: keep nothing more about it."""

    def subscribe(self, stream: Wakeable) -> None:
        """Wake `stream` on callbacks."""

    def unsubscribe(self, stream: Wakeable) -> None:
        """Stop waking `stream`."""


#: Batches in a row that found under half of what they asked for before batching stops.
_USELESS_BATCHES = 3


class ClientSource:
    """Status checks through one client, giving up on batch queries that do not pay.

    The official dialect's "batch" is the list endpoint, which only holds the newest
    generations: when it keeps missing most of what we ask for, single GETs are cheaper.
    """

    def __init__(self, client: LumaClient) -> None:
        self._client = client
        self.batch_size = client.dialect.batch_size
        # Some relays only put the links in the batch answer (AnyAPI's envelope form), so a
        # lone task is batched too; a listing is only worth it for several.
        self.min_batch = 2 if client.dialect.batch_is_listing else 1
        self._useless = 0

    def can_batch(self) -> bool:
        """True while the dialect has a batch route that answers and finds our tasks."""
        return (
            self._client.dialect.supports("batch")
            and not self._client.batch_unavailable
            and self._useless < _USELESS_BATCHES
        )

    async def batch(self, task_ids: Sequence[str]) -> dict[str, Generation]:
        """The known tasks among `task_ids`; a broken batch route turns batching off."""
        try:
            found = await self._client.batch_query(task_ids)
        except TransportError as exc:
            raise self._wrong_host(exc) from None
        except (BadRequestError, ProtocolError):
            # The route exists but will not take our query: poll singly from now on.
            self._useless = _USELESS_BATCHES
            return {}
        if self._client.dialect.batch_is_listing:
            self._useless = self._useless + 1 if len(found) * 2 < len(task_ids) else 0
        return found

    async def one(self, task_id: str) -> Generation | None:
        """One task, or None while the gateway does not know it (early 404s happen)."""
        try:
            return await self._client.get(task_id)
        except NotFoundError:
            return None
        except TransportError as exc:
            raise self._wrong_host(exc) from None

    def _wrong_host(self, error: TransportError) -> TransportError:
        """`error`, as an `UnreachableHostError` when no answer ever came from this host."""
        if error.sent or self._client.transport.answered:
            return error
        return UnreachableHostError(str(error), sent=False)
