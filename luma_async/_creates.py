"""Creating tasks without paying twice: callback URLs, uncertain answers, reconciling.

A create (submit, extend, audio, upscale) is sent once. When its answer is lost the task may
exist; where the dialect can list recent tasks (official), the one it made is looked for.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ._callbacks import CallbackReceiver
from ._errors import (
    APIError,
    LumaError,
    NotFoundError,
    ProtocolError,
    ServerError,
    SubmissionUncertainError,
    TransportError,
)
from ._http import HttpRequest, HttpResponse
from ._models import Generation
from ._transport import Transport
from .dialects import Dialect
from .dialects._errors import error_for

__all__ = ["Creates", "route_missing"]

#: How many created ids a client remembers for reconciling lost creates.
_REMEMBERED = 10_000
#: Recent generations read when looking for a lost create.
_RECONCILE_PAGE = 50
#: Seconds the gateway's clock may run behind ours.
_CLOCK_SKEW = 30.0


def route_missing(
    request: HttpRequest, response: HttpResponse, dialect: Dialect, base_url: str
) -> NotFoundError:
    """The error for a 404/405 on a route `dialect` should have: which dialect, which URL."""
    said = error_for(response)
    words = said.message if isinstance(said, APIError) else "no such route"
    return NotFoundError(
        f"{words}; {request.method} {base_url}{request.path} with the {dialect.name} dialect: "
        "nothing was created. Check the base URL and the dialect (`luma-async dialects` lists "
        "them; pick one with `--dialect` or dialect=)",
        status=response.status,
        code=said.code if isinstance(said, APIError) else None,
        request_id=said.request_id if isinstance(said, APIError) else None,
    )


class Creates:
    """The creates of one client, and the ids they made (so none is ever claimed twice)."""

    def __init__(
        self,
        transport: Transport,
        dialect: Dialect,
        callbacks: CallbackReceiver | None,
        retry_submits: bool,
    ) -> None:
        self._transport = transport
        self._dialect = dialect
        self._callbacks = callbacks
        self._retry = retry_submits
        self._created: collections.deque[str] = collections.deque()
        self._created_set: set[str] = set()

    async def create(
        self, build: Callable[[str | None], HttpRequest], callback_url: str | None = None
    ) -> Generation:
        """Build and send a create, with the receiver's callback URL unless one is given.

        `build` makes the request from the callback URL to send (None: none).
        """
        receiver, token = self._callbacks, None
        if callback_url is None and receiver is not None:
            token, callback_url = receiver.issue(self._dialect)
        try:
            generation = await self._send(build(callback_url or None))
        except BaseException:
            if receiver is not None and token is not None:
                receiver.discard(token)
            raise
        if receiver is not None and token is not None:
            receiver.bind(token, generation.id)
        return generation

    async def _send(self, request: HttpRequest) -> Generation:
        """Send a request that creates (and bills) a task; see `SubmissionUncertainError`."""
        started = datetime.now(UTC)
        try:
            response = await self._transport.send(request, idempotent=self._retry, bucket="create")
            if response.status in (404, 405):
                # No such route: nothing was created, whatever the body says (API.md).
                raise route_missing(request, response, self._dialect, self._transport.base_url)
            generation = self._dialect.parse_task(response)
        except TransportError as exc:
            if not exc.sent:
                raise
            cause: LumaError = exc
        except (ServerError, ProtocolError) as exc:
            cause = exc
        else:
            self._remember(generation.id)
            return generation
        if (found := await self.reconcile(request, started)) is not None:
            return found
        raise SubmissionUncertainError(
            f"{request.method} {request.path}: the task may have been created, but its answer "
            f"was lost ({cause}); not resent, to avoid paying twice",
            cause=cause,
        )

    def _remember(self, task_id: str) -> None:
        """Ids this client created, so that reconciling never claims one twice."""
        self._created.append(task_id)
        self._created_set.add(task_id)
        if len(self._created) > _REMEMBERED:
            self._created_set.discard(self._created.popleft())

    async def reconcile(self, request: HttpRequest, started: datetime) -> Generation | None:
        """Find the task a lost create made, where the dialect can list recent tasks.

        Exactly one unclaimed match, created after the create began (less clock skew) with
        the same request, recovers it; none or several leave the create uncertain.
        """
        if not self._dialect.supports("list"):
            return None
        since = started - timedelta(seconds=_CLOCK_SKEW)
        try:
            listing = await self._transport.send(self._dialect.listing(limit=_RECONCILE_PAGE))
            ids = self._dialect.parse_created(listing, request, since, self._created_set)
            if len(ids) != 1:
                return None
            found = await self._transport.send(self._dialect.get(ids[0]))
            generation = self._dialect.parse_task(found)
        except LumaError:
            return None
        self._remember(generation.id)
        return generation
