"""`CallbackReceiver`: the gateways' `notify_hook` / `callback_url` posts, as hints to the poller.

Each submit gets its own unguessable URL. A post there is parsed with the dialect of the
client that asked for the URL and, when it says the task ended, wakes the poll streams so that
they confirm it with one query at once. Polling stays the source of truth: a callback never
finishes a task by itself, so a forged one can at most cost one query.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from types import TracebackType
from typing import Any, Protocol, Self, TypeAlias

import msgspec
from aiohttp import web

from ._errors import LumaError
from ._http import HttpResponse
from ._models import Generation
from .dialects import Dialect

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_TOKEN_TTL", "CallbackReceiver", "Wakeable"]

#: A task object is a few KB; anything much larger is not a callback.
DEFAULT_MAX_BODY = 256 * 1024
#: Callbacks held for a task whose submit has not answered yet (the rest are dropped).
_HELD = 8
_PATH = "/luma-callback/"
#: How long a callback URL lives when its task is never yielded (a lost task, a stream closed
#: early): past it the token is forgotten, so a receiver that runs for weeks does not grow.
DEFAULT_TOKEN_TTL = 24 * 3600.0


# The ASGI callable's parts, spelled out so that no ASGI package is needed.
Scope: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send: TypeAlias = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Wakeable(Protocol):
    """What the receiver wakes: a poll stream."""

    def wake(self, task_id: str) -> None:
        """Look at `task_id` now."""


class _Slot:
    __slots__ = ("dialect", "held", "issued", "task_id")

    def __init__(self, dialect: Dialect, issued: float) -> None:
        self.dialect = dialect
        self.issued = issued
        self.task_id: str | None = None
        self.held: list[Generation] = []


class CallbackReceiver:
    """An HTTP server for the gateways' callbacks: `async with CallbackReceiver() as r: ...`.

    `public_url`, when given, is the address gateways are told to post to instead of `url`
    (a tunnel or a reverse proxy in front of this server).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.public_url = public_url.rstrip("/") if public_url else None
        self.max_body = max_body
        self.token_ttl = token_ttl
        self._clock = clock
        self._slots: dict[str, _Slot] = {}
        self._tokens: dict[str, str] = {}
        self._finished: set[str] = set()
        self._streams: set[Wakeable] = set()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._mounted = False
        #: Posts accepted, and refused (unknown URL, bad body, another task's body, too big).
        self.accepted = 0
        self.refused = 0

    def __repr__(self) -> str:
        return f"CallbackReceiver(url={self._url!r}, public_url={self.public_url!r})"

    @property
    def url(self) -> str:
        """The address it listens on; mounted in an app instead, the `public_url` it serves at."""
        if self._url is not None:
            return self._url
        if self._mounted and self.public_url:
            return self.public_url
        raise RuntimeError("the receiver is not started: use `async with`, or mount it")

    def aiohttp_app(self) -> web.Application:
        """An `aiohttp.web.Application` to mount with `app.add_subapp(prefix, ...)`.

        Gateways must reach it: `public_url` is required and names the mount point, prefix
        included (``https://example.com/hooks`` for ``add_subapp("/hooks/", ...)``).
        """
        self._mount()
        return self._app()

    def asgi_app(self) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
        """An ASGI application for Starlette/FastAPI `app.mount(prefix, ...)`, same rules.

        `public_url` is required and names the mount point, prefix included.
        """
        self._mount()
        return _AsgiReceiver(self)

    def _mount(self) -> None:
        if not self.public_url:
            raise ValueError(
                "a mounted CallbackReceiver needs public_url=: the address gateways post to, "
                "the mount prefix included (e.g. https://example.com/hooks)"
            )
        self._mounted = True

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body)
        app.router.add_post(_PATH + "{token}", self._receive)
        return app

    async def __aenter__(self) -> Self:
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        port = self._runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._url = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._url = None

    # -- the client's side ---------------------------------------------------------------

    def issue(self, dialect: Dialect) -> tuple[str, str]:
        """A fresh token and the callback URL that carries it, for one submit."""
        token = secrets.token_urlsafe(24)
        now = self._clock()
        self._expire(now)
        self._slots[token] = _Slot(dialect, now)
        return token, f"{self.public_url or self.url}{_PATH}{token}"

    def bind(self, token: str, task_id: str) -> None:
        """The submit behind `token` created `task_id`; callbacks held for it count now."""
        slot = self._slots.get(token)
        if slot is None:
            return
        slot.task_id = task_id
        self._tokens[task_id] = token
        held, slot.held = slot.held, []
        for generation in held:
            if generation.id == task_id:
                self._hint(generation)

    def discard(self, token: str) -> None:
        """The submit behind `token` failed: its URL accepts nothing any more."""
        self._slots.pop(token, None)

    def forget(self, task_id: str) -> None:
        """`task_id` was yielded: its URL accepts nothing more and nothing about it is kept."""
        token = self._tokens.pop(task_id, None)
        if token is not None:
            self._slots.pop(token, None)
        self._finished.discard(task_id)

    def _expire(self, now: float) -> None:
        """Forget the tokens older than `token_ttl` (slots are kept in issue order)."""
        cutoff = now - self.token_ttl
        stale: list[str] = []
        for token, slot in self._slots.items():
            if slot.issued > cutoff:
                break
            stale.append(token)
        for token in stale:
            slot = self._slots.pop(token)
            if slot.task_id is not None and self._tokens.get(slot.task_id) == token:
                del self._tokens[slot.task_id]
                self._finished.discard(slot.task_id)

    @property
    def tracked(self) -> int:
        """Callback URLs alive now (for monitoring a long-lived receiver)."""
        return len(self._slots)

    def has_callback(self, task_id: str) -> bool:
        """True when the gateway will post this task's changes here."""
        return task_id in self._tokens

    def finished(self, task_id: str) -> bool:
        """True when a callback said this task ended (to be confirmed by a query)."""
        return task_id in self._finished

    def subscribe(self, stream: Wakeable) -> None:
        """Wake `stream` for callbacks from now on."""
        self._streams.add(stream)

    def unsubscribe(self, stream: Wakeable) -> None:
        """Stop waking `stream`."""
        self._streams.discard(stream)

    # -- the gateway's side --------------------------------------------------------------

    def _hint(self, generation: Generation) -> None:
        if generation.is_terminal and generation.id in self._tokens:
            self._finished.add(generation.id)
            for stream in self._streams:
                stream.wake(generation.id)

    def _refuse(self, status: int, reason: str) -> tuple[int, dict[str, object]]:
        self.refused += 1
        return status, {"error": reason}

    def _check(self, token: str, length: int | None) -> _Slot | tuple[int, dict[str, object]]:
        """The slot a post to `token` is for, or the refusal (before the body is read)."""
        slot = self._slots.get(token)
        if slot is None:
            return self._refuse(404, "unknown callback URL")
        if (length or 0) > self.max_body:
            return self._refuse(413, "too large")
        return slot

    def _take(self, slot: _Slot, body: bytes) -> tuple[int, dict[str, object]]:
        """The answer to a post of `body` to `slot`'s URL (and the hint it gives)."""
        answer = HttpResponse(200, {"content-type": "application/json"}, body)
        try:
            generation = slot.dialect.parse_task(answer)
        except LumaError:
            return self._refuse(400, "not a task")
        if slot.task_id is None:
            # It came before the submit's answer: hold it until the id is known.
            if len(slot.held) >= _HELD:
                return self._refuse(429, "too many early callbacks")
            slot.held.append(generation)
            self.accepted += 1
            return 202, {"ok": True}
        if generation.id != slot.task_id:
            return self._refuse(400, "not the task of this URL")
        self.accepted += 1
        self._hint(generation)
        return 200, {"ok": True}

    async def _receive(self, request: web.Request) -> web.Response:
        checked = self._check(request.match_info["token"], request.content_length)
        if isinstance(checked, tuple):
            return web.json_response(checked[1], status=checked[0])
        chunks: list[bytes] = []
        size = 0
        while chunk := await request.content.read(65536):
            size += len(chunk)
            if size > self.max_body:  # a chunked body that announced no length
                status, payload = self._refuse(413, "too large")
                return web.json_response(payload, status=status)
            chunks.append(chunk)
        status, payload = self._take(checked, b"".join(chunks))
        return web.json_response(payload, status=status)


class _AsgiReceiver:
    """The receiver's one route as a bare ASGI app (no framework needed)."""

    def __init__(self, receiver: CallbackReceiver) -> None:
        self._receiver = receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]  # Starlette keeps the full path and names the mount
        token = path[len(_PATH) :] if path.startswith(_PATH) else ""
        if not token or "/" in token:
            await _answer(send, 404, {"error": "not found"})
            return
        if scope["method"] != "POST":
            await _answer(send, 405, {"error": "POST only"})
            return
        length = None
        for name, value in scope["headers"]:
            if name.lower() == b"content-length" and value.isdigit():
                length = int(value)
        checked = self._receiver._check(token, length)
        if isinstance(checked, tuple):
            await _answer(send, *checked)
            return
        body = await _read_body(receive, self._receiver.max_body)
        if body is None:
            status, payload = self._receiver._refuse(413, "too large")
        else:
            status, payload = self._receiver._take(checked, body)
        await _answer(send, status, payload)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None once it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, payload: dict[str, object]) -> None:
    body = msgspec.json.encode(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop: acknowledge both (the receiver lives as long as its owner)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
