"""The one seam to the network: aiohttp sessions, auth, timeouts, retries, failure mapping.

It moves bytes and decides retries from status codes; it gives answers no meaning (the
dialects do). aiohttp's exceptions are translated here and never chained: their reprs can
carry request headers, and with them the API key.
"""

from __future__ import annotations

import functools
import logging
import ssl as ssl_module
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import aiohttp
import anyio
import backoff
import yarl
from multidict import CIMultiDict

from ._attempts import ConnectFailure, Retry, Try, describe, log_giveup, log_retry
from ._errors import TransportError
from ._http import HttpRequest, HttpResponse, Timeout, mask_bytes, parse_retry_after
from ._limits import BucketName, RateLimit, Throttle
from ._retry import RetryPolicy, wait_gen
from ._version import __version__

__all__ = ["DEFAULT_MAX_DOWNLOADS", "RETRY_STATUSES", "Transport"]

logger = logging.getLogger("luma_async")

#: Answers worth another try for a read: overload and transient upstream failures.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
#: An API answer larger than this is not a task list we asked for.
MAX_BODY = 64 * 1024 * 1024
_CHUNK = 1 << 16
#: Downloads in flight at once, each on its own slot (never one of the API's).
DEFAULT_MAX_DOWNLOADS = 4
_USER_AGENT = f"luma_async/{__version__}"
_JSON = MappingProxyType({"Content-Type": "application/json"})
#: When the first try of the request being retried in this task began (see `send`).
_first_try: ContextVar[float] = ContextVar("luma_async_first_try")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class Transport:
    """HTTP for one client: a pooled session for reads, fresh connections for creates.

    A create (submit, extend, audio, upscale) goes over a new connection each time: a POST
    on a pooled keep-alive connection the server has just closed fails exactly like a POST
    whose answer was lost, and only the latter may have billed. Creates are rare, so the extra
    handshake is cheap. Downloads have a third session that carries no key at all, and slots
    of their own, so that slow downloads never hold up a status read.

    Creates and reads are paced apart (`Throttle`): a 429 slows only the kind that met it.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float | Timeout,
        max_concurrency: int,
        retry: RetryPolicy,
        headers: Mapping[str, str] | None = None,
        trust_env: bool = False,
        rate_limit: RateLimit | None = None,
        ssl: ssl_module.SSLContext | bool | None = None,
        max_downloads: int = DEFAULT_MAX_DOWNLOADS,
        final: Callable[[HttpResponse], bool] | None = None,
    ) -> None:
        if max_concurrency < 1 or max_downloads < 1:
            raise ValueError("max_concurrency and max_downloads must be >= 1")
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.timeout = Timeout.of(timeout)
        self._max_concurrency = max_concurrency
        self._max_downloads = max_downloads
        self._retry = retry
        # Case-insensitive, so that a caller's `authorization` or `user-agent` replaces ours
        # instead of travelling beside it.
        self._headers = CIMultiDict({"User-Agent": _USER_AGENT})
        self._headers.update(headers or {})
        self._trust_env = trust_env
        self._ssl: ssl_module.SSLContext | bool = True if ssl is None else ssl
        # A semaphore that skips the checkpoint when a slot is free: CapacityLimiter's
        # checkpoint and shielded scope cost ~10% of a status check's CPU (benchmarks page).
        self._limiter = anyio.Semaphore(max_concurrency, fast_acquire=True)
        self._download_slots = anyio.Semaphore(max_downloads, fast_acquire=True)
        #: Pacing per kind of request: a 429 on creates never delays status reads.
        self.buckets: dict[BucketName, Throttle] = {
            "create": Throttle("create"),
            "read": Throttle("read"),
            "download": Throttle("download"),
        }
        self._rate_limit = rate_limit
        self._final = final
        self._session: aiohttp.ClientSession | None = None
        self._fresh: aiohttp.ClientSession | None = None
        self._downloads: aiohttp.ClientSession | None = None
        self._origin = _origin(self.base_url)
        #: True once any HTTP answer came back: before it, a refused connection means a
        #: wrong host (fail fast); after it, a passing outage (try again later).
        self.answered = False
        waits = wait_gen(retry, lambda exc: exc.retry_after if isinstance(exc, Retry) else None)
        self._retrying = backoff.on_exception(
            cast(Any, waits),
            Retry,
            max_tries=retry.max_tries,
            # backoff starts its clock when it takes over, after the first try; the budget
            # counts from the first try, so what is left of it is computed at that moment.
            max_time=lambda: retry.max_time - (time.monotonic() - _first_try.get()),
            giveup=lambda exc: isinstance(exc, Retry) and exc.give_up,
            jitter=None,
            logger=None,
            on_backoff=functools.partial(log_retry, retry.max_tries),
            on_giveup=log_giveup,
        )(self._again)

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    @property
    def max_concurrency(self) -> int:
        """Requests in flight for this client at most (also the size of each pool)."""
        return self._max_concurrency

    @property
    def max_downloads(self) -> int:
        """Downloads in flight for this client at most."""
        return self._max_downloads

    async def open(self) -> None:
        """Create the sessions; must run inside the event loop that will use them."""
        if self._session is None:
            total, connect = self.timeout.total, self.timeout.connect
            self._session = self._new_session(self._api_headers(), False, total, connect)
            self._fresh = self._new_session(
                self._api_headers(), True, self.timeout.for_submit, connect
            )
            # The caller's headers may hold secrets too: downloads send them, with the key,
            # only to the gateway's own origin (see `stream`).
            self._downloads = self._new_session(
                {"User-Agent": _USER_AGENT}, False, None, connect, limit=self._max_downloads
            )

    def _new_session(
        self,
        headers: Mapping[str, str] | CIMultiDict[str],
        force_close: bool,
        total: float | None,
        connect: float,
        *,
        limit: int | None = None,
    ) -> aiohttp.ClientSession:
        # Headers and timeout are session defaults rather than per-call arguments: aiohttp
        # merges per-call ones on every request, which costs ~5% of a status check's CPU.
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=limit or self._max_concurrency,
                force_close=force_close,
                ttl_dns_cache=300,
                ssl=self._ssl,
            ),
            trust_env=self._trust_env,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=total, sock_connect=connect),
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
        """`data` with the API key masked wherever a gateway echoed it as a whole token."""
        return mask_bytes(data, self._key)

    def _sessions(
        self,
    ) -> tuple[aiohttp.ClientSession, aiohttp.ClientSession, aiohttp.ClientSession]:
        """The pooled, the fresh-connection and the download session (the client must be open)."""
        if self._session is None or self._fresh is None or self._downloads is None:
            raise RuntimeError("the client is not open: use `async with LumaClient(...)`")
        return self._session, self._fresh, self._downloads

    async def send(
        self,
        request: HttpRequest,
        *,
        idempotent: bool = True,
        bucket: Literal["create", "read"] | None = None,
    ) -> HttpResponse:
        """Send `request`, retrying within the policy; returns the last answer, whatever it is.

        With `idempotent=False` only failures that provably reached no one are retried (a
        refused connection, a 429); any other failure raises `TransportError(sent=True)`.
        `bucket` is the kind of request paced together ("create" or "read"; by default
        "read" when idempotent, else "create"). A 429 whose `Retry-After` is longer than what
        is left of the retry budget is returned at once: the caller raises `RateLimitError`.
        """
        # The first try runs bare: most requests succeed, and backoff's wrapper costs ~5% of a
        # status check's CPU. Only a failed first try enters it, replaying that failure first,
        # so the tries, the waits, Retry-After and max_time come out as if it ran them all.
        name: BucketName = bucket or ("read" if idempotent else "create")
        state = Try(self.buckets[name], idempotent, time.monotonic())
        try:
            return await self._once(request, state)
        except Retry as first:
            failure = first
        token = _first_try.set(state.started)
        try:
            return await self._retrying([failure], request, state)
        except Retry as retry:
            if retry.response is not None:
                return retry.response
            error = retry.error
        finally:
            _first_try.reset(token)
        if isinstance(error, ConnectFailure):
            error = TransportError(str(error), sent=False)  # the internal class stays inside
        raise error if error is not None else TransportError("retries exhausted")

    async def _again(self, replay: list[Retry], request: HttpRequest, state: Try) -> HttpResponse:
        """One try under backoff; the first call re-raises the failure `send` already met."""
        if replay:
            raise replay.pop()
        return await self._once(request, state)

    def _left(self, state: Try) -> float:
        """Seconds left of this send's retry budget."""
        return self._retry.max_time - (time.monotonic() - state.started)

    async def _once(self, request: HttpRequest, state: Try) -> HttpResponse:
        # A paused bucket is waited out as far as the budget allows, then the request goes
        # anyway: it meets its own 429 if the gateway still refuses, never a stored one.
        if not state.bucket.ready():  # the usual case: no coroutine to await
            await state.bucket.acquire(patience=max(self._left(state), 0.0))
        failure: TransportError | None = None
        async with self._limiter:
            # The rate limit is taken last, with a slot in hand: the request starts at once,
            # so no more than N start in any window, retries and 429s included.
            if self._rate_limit is not None:
                await self._rate_limit.acquire()
            started = time.monotonic()
            try:
                response = await self._exchange(request, state)
            except TransportError as exc:
                failure = exc
        if failure is not None:
            logger.debug("%s %s failed: %s", request.method, request.path, failure)
            if isinstance(failure, ConnectFailure):
                state.connect_failures += 1
                raise Retry(None, failure, give_up=state.connect_failures > 1)
            if not failure.sent or state.idempotent:
                raise Retry(None, failure)
            raise failure
        self.answered = True
        status = response.status
        logger.debug(
            "%s %s -> %d (%.0f ms, Authorization: %s)",
            request.method,
            request.path,
            status,
            (time.monotonic() - started) * 1000,
            "Bearer ***" if self._key else "none",
        )
        if status == 429:
            if self._final is not None and self._final(response):
                return response  # quota, not load: no retry and no pause can change it
            retry = Retry(response, None)
            state.bucket.throttled(retry.retry_after, self._retry.base)
            logger.warning(
                "%s %s -> 429: %s requests paused for %s",
                request.method,
                request.path,
                state.bucket.name,
                f"{retry.retry_after:g} s (Retry-After)"
                if retry.retry_after is not None
                else f"{self._retry.base:g} s",
            )
            after = retry.retry_after
            retry.give_up = after is not None and after > self._left(state)
            raise retry
        if state.bucket.rate is not None:
            state.bucket.succeeded()
        if status in RETRY_STATUSES and state.idempotent:
            raise Retry(response, None)
        return response

    async def _exchange(self, request: HttpRequest, state: Try) -> HttpResponse:
        pooled, fresh, _ = self._sessions()
        create = state.bucket.name == "create"
        # Every create on a fresh connection, with the submit timeout (see the class doc).
        unsafe = not state.idempotent and request.method not in ("GET", "HEAD")
        session = fresh if create or unsafe else pooled
        host = self._origin[1]
        message: str | None = None
        sent = True
        kind: type[TransportError] = TransportError
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
        except aiohttp.ClientConnectorDNSError as exc:
            message = f"cannot resolve the host {host!r}: {exc.os_error} (check the base URL)"
            kind, sent = ConnectFailure, False
        except aiohttp.ClientConnectorError as exc:
            message, sent = f"cannot connect to {host}: {exc.os_error}", False
        except aiohttp.ConnectionTimeoutError:
            message = f"cannot connect to {host} within {self.timeout.connect:g} s"
            kind, sent = ConnectFailure, False
        except TimeoutError:
            limit = self.timeout.for_submit if session is fresh else self.timeout.total
            message = f"no answer within {limit:g} s"
        except aiohttp.ClientError as exc:
            message = f"{type(exc).__name__}: {describe(exc)}"
        # Raised outside the `except` blocks on purpose: no aiohttp exception is chained.
        raise kind(f"{request.method} {request.path}: {message or 'failed'}", sent=sent)

    @asynccontextmanager
    async def stream(
        self, url: str, *, headers: Mapping[str, str] | None = None
    ) -> AsyncIterator[tuple[int, dict[str, str], AsyncIterator[bytes]]]:
        """GET `url` for a download: status, headers and the body in chunks.

        The API key goes only to the gateway's own origin; redirects are followed by hand so
        that a hop to another host never carries it. Timeouts are per read, not total. A
        download holds one of `max_downloads` slots, never one of the API requests'.
        """
        _, _, session = self._sessions()
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.timeout.connect, sock_read=self.timeout.total
        )
        failure: str | None = None
        # Nothing under the slot may send through this transport's downloads (a nested
        # download would wait for a slot its parent holds); API requests have their own.
        bucket = self.buckets["download"]
        async with self._download_slots:
            try:
                for _hop in range(6):
                    if not bucket.ready():
                        await bucket.acquire(patience=self._retry.max_time)
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
                        if resp.status == 429:  # the CDN's own limit: later downloads slow down
                            after = parse_retry_after(resp_headers.get("retry-after"))
                            bucket.throttled(after, self._retry.base)
                            logger.warning("download -> 429: downloads paused")
                        elif bucket.rate is not None:
                            bucket.succeeded()
                        yield resp.status, resp_headers, _chunks(resp)
                        return
                failure = "too many redirects"
            except aiohttp.ClientConnectorError as exc:
                failure = f"cannot connect to {urlsplit(url).hostname}: {exc.os_error}"
            except TimeoutError:
                failure = f"no data for {self.timeout.total:g} s"
            except aiohttp.ClientError as exc:
                failure = f"{type(exc).__name__}: {describe(exc)}"
        raise TransportError(f"download from {urlsplit(url).hostname}: {failure}")


def _merged(first: Mapping[str, str] | None, then: CIMultiDict[str] | None) -> CIMultiDict[str]:
    """`first` and then `then`, names compared without case."""
    merged = CIMultiDict(first or {})
    merged.update(then or {})
    return merged


async def _chunks(resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    async for chunk in resp.content.iter_chunked(_CHUNK):
        yield chunk
