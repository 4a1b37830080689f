"""The API middleware: counting, faults, auth, rate limit, errors in the dialect's shape."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import _faults
from ._context import CTX, Context
from ._errors import (
    Rejection,
    internal_error,
    rate_limited,
    render_rejection,
    unauthorized,
    unknown_route,
)

log = logging.getLogger("luma_async.emulator")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ROUTE_NAMES: web.AppKey[dict[Handler, str]] = web.AppKey("luma_emulator_routes", dict)


def add_route(app: web.Application, method: str, path: str, handler: Handler, name: str) -> None:
    """Register a handler under one of the route names stats and faults use."""
    app.router.add_route(method, path, handler)
    app[ROUTE_NAMES][handler] = name


def _bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _access(ctx: Context, request: web.Request) -> web.StreamResponse | None:
    """401 for a wrong or missing key, then 429 over the rate limit (new-api checks auth first)."""
    token = _bearer(request)
    expected = ctx.config.api_key
    if not token or (expected is not None and token != expected):
        return unauthorized(relay=ctx.relay, request_id=ctx.request_id())
    if ctx.limiter is not None:
        # Per key, as new-api limits per token (the key is checked above).
        wait = ctx.limiter.take(token)
        if wait is not None:
            ctx.stats.rate_limited += 1
            return rate_limited(relay=ctx.relay, retry_after=wait)
    return None


async def _handle(ctx: Context, request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Rejection as rejection:
        answer = render_rejection(rejection, relay=ctx.relay)
        if rejection.close:
            answer.force_close()
        return answer
    except web.HTTPException as exc:
        if exc.status in (404, 405):
            answer = unknown_route(request.method, request.path, exc.status, relay=ctx.relay)
            if exc.status == 405:
                # RFC 9110: a 405 names the methods the resource has.
                answer.headers["Allow"] = exc.headers.get("Allow", "")
            return answer
        if exc.status == 413:
            # aiohttp refuses a body above client_max_size while reading it.
            too_large = Rejection("too_large", "body: request body too large")
            return render_rejection(too_large, relay=ctx.relay)
        if exc.status < 400:
            raise
        return render_rejection(
            Rejection("invalid_request", exc.reason, status=exc.status), relay=ctx.relay
        )
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception:
        # A bug of the emulator: still a JSON answer in the dialect's shape, and a log line.
        log.exception("emulator: unexpected error on %s %s", request.method, request.path)
        return internal_error(relay=ctx.relay)


async def _answer(
    ctx: Context, request: web.Request, handler: Handler, route: str | None
) -> tuple[web.StreamResponse, bool]:
    """The response, and whether the client gets to see its status."""
    fault = _faults.draw(ctx, route)
    if fault is not None and fault != "ambiguous_submit":
        ctx.stats.faults_injected[fault] += 1
    if fault in _faults.IMMEDIATE:
        return _faults.immediate(ctx, request, fault), fault != "reset"
    try:
        if fault == "slow":
            await _faults.slow(ctx, request)
        response = None if route is None else _access(ctx, request)
        if response is None:
            response = await _handle(ctx, request, handler)
    except ConnectionResetError:
        # The client left before its body was read: nobody to answer.
        return web.Response(status=499), False
    if fault == "truncated":
        return await _faults.truncate(request, response), True
    if fault == "ambiguous_submit" and 200 <= response.status < 300:
        # The task exists and is counted; the answer is lost (API.md: SubmissionUncertainError).
        ctx.stats.faults_injected[fault] += 1
        _faults.drop(request, hard=True)
        return response, False
    return response, True


@web.middleware
async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the request, apply faults, check access, and render refusals per dialect."""
    ctx = request.app[CTX]
    ctx.stats.requests += 1
    route = request.app[ROUTE_NAMES].get(request.match_info.handler)
    if route is not None:
        ctx.stats.by_route[route] += 1
    response, seen = await _answer(ctx, request, handler, route)
    if seen and 400 <= response.status < 500:
        ctx.stats.rejected += 1
    return response
