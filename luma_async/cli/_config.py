"""Where the CLI's settings come from (flags over environment) and the client it builds."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._client import LumaClient
from .._errors import LumaError, TransportError
from .._models import AnyRequest, Generation
from ..dialects import DIALECTS
from ._errors import CliError

__all__ = [
    "DEFAULT_DIALECT",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_DIALECT",
    "ObservedClient",
    "Settings",
    "scrub",
]

ENV_BASE_URL = "LUMA_BASE_URL"
ENV_API_KEY = "LUMA_API_KEY"
ENV_DIALECT = "LUMA_DIALECT"
DEFAULT_DIALECT = "official"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The options every command shares, resolved: a flag wins over its environment variable."""

    base_url: str | None
    api_key: str | None
    dialect: str
    json: bool
    debug: bool

    def __repr__(self) -> str:
        # Never show the key, not even in a debugger or a traceback's locals.
        return f"Settings(base_url={self.base_url!r}, dialect={self.dialect!r}, api_key=***)"

    @classmethod
    def from_args(cls, args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
        """Flags first, then `$LUMA_BASE_URL`, `$LUMA_API_KEY`, `$LUMA_DIALECT`."""
        dialect = getattr(args, "dialect", None) or environ.get(ENV_DIALECT) or DEFAULT_DIALECT
        dialect = dialect.strip().lower()
        if dialect not in DIALECTS:
            raise CliError(
                f"unknown dialect {dialect!r} (from --dialect or ${ENV_DIALECT}); "
                f"known: {', '.join(DIALECTS)}"
            )
        return cls(
            base_url=getattr(args, "base_url", None) or environ.get(ENV_BASE_URL) or None,
            api_key=getattr(args, "api_key", None) or environ.get(ENV_API_KEY) or None,
            dialect=dialect,
            json=bool(getattr(args, "json", False)),
            debug=bool(getattr(args, "debug", False)),
        )

    def client(self) -> ObservedClient:
        """A client for the configured gateway; refuses to start without a base URL or key."""
        if self.base_url is None and DIALECTS[self.dialect].default_base_url is None:
            raise CliError(
                f"the {self.dialect} dialect has no public base URL: "
                f"pass --base-url or set ${ENV_BASE_URL}"
            )
        if self.api_key is None:
            raise CliError(f"no API key: set ${ENV_API_KEY} (or pass --api-key)")
        return ObservedClient(self.base_url, self.api_key, self.dialect)


class ObservedClient(LumaClient):
    """A `LumaClient` that reports every task it submits or reads, for live progress views.

    The pipeline and the poller read task states through `submit`, `get` and `batch_query`;
    observing those three shows every state change without sending a single extra request.
    """

    #: Called with each request that became a task, and that task.
    on_submit: Callable[[Any, Generation], None] | None = None
    #: Called with every task state read from the gateway.
    on_seen: Callable[[Generation], None] | None = None
    #: Set when a submit could not reach the gateway at all (nothing was sent).
    unreachable: TransportError | None = None

    def __init__(self, base_url: str | None, api_key: str | None, dialect: str) -> None:
        super().__init__(base_url, api_key, dialect)
        #: Requests (by `id()`) whose submit was sent and has had no answer: when the run is
        #: stopped, each may have become a task on the gateway (and been billed).
        self.in_flight: dict[int, AnyRequest] = {}

    async def submit(self, request: AnyRequest) -> Generation:
        """`LumaClient.submit`, reported to `on_submit`."""
        self.in_flight[id(request)] = request
        try:
            generation = await super().submit(request)
        except LumaError as exc:  # an answer, or the error says what to do: not in flight
            if isinstance(exc, TransportError) and not exc.sent:
                self.unreachable = exc
            self.in_flight.pop(id(request), None)
            raise
        # Left in `in_flight` on cancellation: that submit may well have gone through.
        self.in_flight.pop(id(request), None)
        if self.on_submit is not None:
            self.on_submit(request, generation)
        return generation

    async def get(self, task_id: str) -> Generation:
        """`LumaClient.get`, reported to `on_seen`."""
        generation = await super().get(task_id)
        self._seen(generation)
        return generation

    async def batch_query(self, task_ids: Sequence[str]) -> dict[str, Generation]:
        """`LumaClient.batch_query`, each task reported to `on_seen`."""
        found = await super().batch_query(task_ids)
        for generation in found.values():
            self._seen(generation)
        return found

    def _seen(self, generation: Generation) -> None:
        if self.on_seen is not None:
            self.on_seen(generation)


#: Keys shorter than this are not blanked out: "k" would take every k with it. Real keys
#: are far longer, and the library never puts a key in a message in the first place.
MIN_SCRUBBED = 8


def scrub(text: str, secret: str | None) -> str:
    """`text` with the API key blanked out: a last guard on everything the CLI prints."""
    return text.replace(secret, "***") if secret and len(secret) >= MIN_SCRUBBED else text
