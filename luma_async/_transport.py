"""The one seam to the network: aiohttp sessions, auth, timeouts, retries, failure mapping.

It moves bytes and decides retries from status codes; it gives answers no meaning (the
dialects do). aiohttp's exceptions are translated here and never chained: their reprs can
carry request headers, and with them the API key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, cast
from urllib.parse import urlsplit

import aiohttp
import anyio
import backoff
import yarl
from multidict import CIMultiDict

from ._errors import TransportError
from ._http import HttpRequest, HttpResponse, parse_retry_after
from ._limits import RateLimit
from ._retry import RetryPolicy, wait_gen
from ._version import __version__

__all__ = ["RETRY_STATUSES", "Transport"]

logger = logging.getLogger("luma_async")

#: Answers worth another try for a read: overload and transient upstream failures.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
#: An API answer larger than this is not a task list we asked for.
MAX_BODY = 64 * 1024 * 1024
_CHUNK = 1 << 16
_USER_AGENT = f"luma_async/{__version__}"
_JSON = MappingProxyType({"Content-Type": "application/json"})
#: When the first try of the request being retried in this task began (see `send`).
_first_try: ContextVar[float] = ContextVar("luma_async_first_try")


class _Retry(Exception):
    """Internal: one try failed in a way worth another (a status or a network failure)."""

    def __init__(self, response: HttpResponse | None, error: TransportError | None) -> None:
        self.response = response
        self.error = error
        self.retry_after = (
            parse_retry_after(response.headers.get("retry-after")) if response else None
        )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class Transport:
    """HTTP for one client: a pooled session for reads, fresh connections for creates.

    A create (submit, extend, audio, upscale) goes over a new connection each time: a POST
    on a pooled keep-alive connection the server has just closed fails exactly like a POST
    whose answer was lost, and only the latter may have billed. Creates are rare, so the extra
    handshake is cheap. Downloads have a third session that carries no key at all.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float,
        max_concurrency: int,
        retry: RetryPolicy,
        headers: Mapping[str, str] | None = None,
        trust_env: bool = False,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self._timeout = timeout
        self._max_concurrency = max_concurrency
        self._retry = retry
        # Case-insensitive, so that a caller's `authorization` or `user-agent` replaces ours
        # instead of travelling beside it.
        self._headers = CIMultiDict({"User-Agent": _USER_AGENT})
        self._headers.update(headers or {})
        self._trust_env = trust_env
        # A semaphore that skips the checkpoint when a slot is free: CapacityLimiter's
        # checkpoint and shielded scope cost ~10% of a status check's CPU (benchmarks page).
        self._limiter = anyio.Semaphore(max_concurrency, fast_acquire=True)
        self._pause_until = 0.0
        self._paused_by: HttpResponse | None = None
        self._rate_limit = rate_limit
        self._session: aiohttp.ClientSession | None = None
        self._fresh: aiohttp.ClientSession | None = None
        self._downloads: aiohttp.ClientSession | None = None
        self._origin = _origin(self.base_url)
        #: True once any HTTP answer came back: before it, a refused connection means a
        #: wrong host (fail fast); after it, a passing outage (try again later).
        self.answered = False
        waits = wait_gen(retry, lambda exc: exc.retry_after if isinstance(exc, _Retry) else None)
        self._retrying = backoff.on_exception(
            cast(Any, waits),
            _Retry,
            max_tries=retry.max_tries,
            # backoff starts its clock when it takes over, after the first try; the budget
            # counts from the first try, so what is left of it is computed at that moment.
            max_time=lambda: retry.max_time - (time.monotonic() - _first_try.get()),
            jitter=None,
            logger=None,
        )(self._again)

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    @property
    def max_concurrency(self) -> int:
        """Requests in flight for this client at most (also the size of each pool)."""
        return self._max_concurrency

    async def open(self) -> None:
        """Create the sessions; must run inside the event loop that will use them."""
        if self._session is None:
            self._session = self._new_session(self._api_headers(), force_close=False)
            self._fresh = self._new_session(self._api_headers(), force_close=True)
            # The caller's headers may hold secrets too: downloads send them, with the key,
            # only to the gateway's own origin (see `stream`).
            self._downloads = self._new_session({"User-Agent": _USER_AGENT}, force_close=False)

    def _new_session(
        self, headers: Mapping[str, str] | CIMultiDict[str], *, force_close: bool
    ) -> aiohttp.ClientSession:
        # Headers and timeout are session defaults rather than per-call arguments: aiohttp
        # merges per-call ones on every request, which costs ~5% of a status check's CPU.
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=self._max_concurrency, force_close=force_close, ttl_dns_cache=300
            ),
            trust_env=self._trust_env,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=self._timeout),
        )

    async def close(self) -> None:
        """Close the sessions and their connections."""
        sessions = [s for s in (self._session, self._fresh, self._downloads) if s is not None]
        self._session = self._fresh = self._downloads = None
        for session in sessions:
            await session.close()

    def _api_headers(self) -> CIMultiDict[str]:
        """Headers for the gateway itself: the caller's, ours, and the key."""
        merged = CIMultiDict(self._headers)
        if self._key:
            merged["Authorization"] = f"Bearer {self._key}"
        return merged

    def scrub(self, data: bytes) -> bytes:
        """`data` with the API key blanked out, in case a gateway echoes it back."""
        if self._key and self._key.encode() in data:
            return data.replace(self._key.encode(), b"***")
        return data

    def _sessions(
        self,
    ) -> tuple[aiohttp.ClientSession, aiohttp.ClientSession, aiohttp.ClientSession]:
        """The pooled, the fresh-connection and the download session (the client must be open)."""
        if self._session is None or self._fresh is None or self._downloads is None:
            raise RuntimeError("the client is not open: use `async with LumaClient(...)`")
        return self._session, self._fresh, self._downloads

    async def send(self, request: HttpRequest, *, idempotent: bool = True) -> HttpResponse:
        """Send `request`, retrying within the policy; returns the last answer, whatever it is.

        With `idempotent=False` only failures that provably reached no one are retried (a
        refused connection, a 429); any other failure raises `TransportError(sent=True)`.
        """
        # The first try runs bare: most requests succeed, and backoff's wrapper costs ~5% of a
        # status check's CPU. Only a failed first try enters it, replaying that failure first,
        # so the tries, the waits, Retry-After and max_time come out as if it ran them all.
        started = time.monotonic()
        try:
            return await self._once(request, idempotent)
        except _Retry as first:
            failure = first
        token = _first_try.set(started)
        try:
            return await self._retrying([failure], request, idempotent)
        except _Retry as retry:
            if retry.response is not None:
                return retry.response
            error = retry.error
        finally:
            _first_try.reset(token)
        raise error if error is not None else TransportError("retries exhausted")

    async def _again(
        self, replay: list[_Retry], request: HttpRequest, idempotent: bool
    ) -> HttpResponse:
        """One try under backoff; the first call re-raises the failure `send` already met."""
        if replay:
            raise replay.pop()
        return await self._once(request, idempotent)

    async def _once(self, request: HttpRequest, idempotent: bool) -> HttpResponse:
        refusal = await self._wait_for_pause()
        if refusal is not None:
            return refusal
        if self._rate_limit is not None:
            await self._rate_limit.acquire()
        failure: TransportError | None = None
        async with self._limiter:
            started = time.monotonic()
            try:
                response = await self._exchange(request, idempotent)
            except TransportError as exc:
                failure = exc
        if failure is None:
            self.answered = True
        else:
            logger.debug("%s %s failed: %s", request.method, request.path, failure)
            if not failure.sent or idempotent:
                raise _Retry(None, failure)
            raise failure
        logger.debug(
            "%s %s -> %d (%.0f ms, Authorization: %s)",
            request.method,
            request.path,
            response.status,
            (time.monotonic() - started) * 1000,
            "Bearer ***" if self._key else "none",
        )
        if response.status in RETRY_STATUSES and (idempotent or response.status == 429):
            retry = _Retry(response, None)
            if response.status == 429:
                self._pause(retry.retry_after, response)
            raise retry
        return response

    def _pause(self, seconds: float | None, response: HttpResponse) -> None:
        """A 429 slows every request of this client, not just the one that met it."""
        until = time.monotonic() + (seconds if seconds is not None else self._retry.base)
        if until > self._pause_until:
            self._pause_until, self._paused_by = until, response

    async def _wait_for_pause(self) -> HttpResponse | None:
        """Sleep out a pause; one longer than the retry budget answers its 429 at once."""
        delay = self._pause_until - time.monotonic()
        if delay > self._retry.max_time:
            return self._paused_by
        if delay > 0:
            await anyio.sleep(delay)
        return None

    async def _exchange(self, request: HttpRequest, idempotent: bool) -> HttpResponse:
        pooled, fresh, _ = self._sessions()
        session = pooled if idempotent or request.method in ("GET", "HEAD") else fresh
        message: str | None = None
        sent = True
        try:
            async with session.request(
                request.method,
                self.base_url + request.path,
                params=request.params or None,
                data=request.body,
                headers=_JSON if request.body is not None else None,
                allow_redirects=False,
            ) as resp:
                length = resp.content_length
                if length is not None and length > MAX_BODY:
                    message = f"answer of {length} bytes is larger than {MAX_BODY}"
                else:
                    body = await resp.read()
                    resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                    return HttpResponse(resp.status, resp_headers, self.scrub(body))
        except aiohttp.ClientConnectorError as exc:
            message, sent = f"cannot connect to {self._origin[1]}: {exc.os_error}", False
        except TimeoutError:
            message = f"no answer within {self._timeout:g} s"
        except aiohttp.ClientError as exc:
            message = f"{type(exc).__name__}: {_describe(exc)}"
        # Raised outside the `except` blocks on purpose: no aiohttp exception is chained.
        raise TransportError(f"{request.method} {request.path}: {message or 'failed'}", sent=sent)

    @asynccontextmanager
    async def stream(
        self, url: str, *, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[tuple[int, dict[str, str], AsyncIterator[bytes]]]:
        """GET `url` for a download: status, headers and the body in chunks.

        The API key goes only to the gateway's own origin; redirects are followed by hand so
        that a hop to another host never carries it. Timeouts are per read, not total.
        """
        _, _, session = self._sessions()
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self._timeout, sock_read=self._timeout
        )
        failure: str | None = None
        # One slot for the whole download. Nothing under it may send through this transport
        # (a link refresh, say): with every slot held by downloads that wait, none would come.
        async with self._limiter:
            try:
                for _hop in range(6):
                    own = _origin(url) == self._origin
                    async with session.get(
                        url,
                        # Built inline, never held in a local: tracebacks that print frame
                        # variables (pytest --showlocals, rich, Sentry) must not find the key.
                        headers=_merged(headers, self._api_headers() if own else None),
                        timeout=timeout,
                        allow_redirects=False,
                    ) as resp:
                        location = resp.headers.get("Location")
                        if resp.status in (301, 302, 303, 307, 308) and location:
                            url = str(resp.url.join(yarl.URL(location)))
                            continue
                        resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                        yield resp.status, resp_headers, _chunks(resp)
                        return
                failure = "too many redirects"
            except aiohttp.ClientConnectorError as exc:
                failure = f"cannot connect to {urlsplit(url).hostname}: {exc.os_error}"
            except TimeoutError:
                failure = f"no data for {self._timeout:g} s"
            except aiohttp.ClientError as exc:
                failure = f"{type(exc).__name__}: {_describe(exc)}"
        raise TransportError(f"download from {urlsplit(url).hostname}: {failure}")


def _merged(first: Mapping[str, str] | None, then: CIMultiDict[str] | None) -> CIMultiDict[str]:
    """`first` and then `then`, names compared without case."""
    merged = CIMultiDict(first or {})
    merged.update(then or {})
    return merged


async def _chunks(resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    async for chunk in resp.content.iter_chunked(_CHUNK):
        yield chunk


def _describe(exc: aiohttp.ClientError) -> str:
    """A message for an aiohttp error that never includes request headers."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"HTTP {exc.status} {exc.message}"
    args: Any = exc.args
    return str(args[0]) if args else type(exc).__name__
