"""Seeded fault injection: which fault (if any) hits a request, and how each one misbehaves."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ._config import CREATE_ROUTES, FAULT_KINDS
from ._context import Context
from ._errors import bad_gateway_page, internal_error, rate_limited

# Faults answered at once, before auth: a proxy or a dying upstream does not look at the key.
IMMEDIATE = frozenset({"http_500", "html_502", "rate_429", "reset"})


def draw(ctx: Context, route: str | None) -> str | None:
    """One draw from the fault stream per API request on a route the faults cover."""
    faults = ctx.config.faults
    if route is None or not faults.active:
        return None
    if faults.routes is not None and route not in faults.routes:
        return None
    roll = ctx.fault_rng.random()
    edge = 0.0
    for kind in FAULT_KINDS:
        if (kind == "ambiguous_submit" and route not in CREATE_ROUTES) or kind == "cdn_cut":
            continue
        edge += faults.probability(kind)
        if roll < edge:
            return kind
    return None


def drop(request: web.Request, *, hard: bool = False) -> None:
    """Close the connection; `hard` aborts it (a TCP reset) instead of a clean close."""
    transport = request.transport
    if transport is None:
        return
    if hard:
        transport.abort()
    else:
        transport.close()


def immediate(ctx: Context, request: web.Request, kind: str) -> web.StreamResponse:
    """The answer of a fault that replaces the request's handling altogether."""
    if kind == "http_500":
        return internal_error(relay=ctx.relay)
    if kind == "html_502":
        return bad_gateway_page()
    if kind == "rate_429":
        return rate_limited(relay=ctx.relay, retry_after=ctx.config.faults.retry_after)
    drop(request, hard=True)
    # Nothing reaches the client: the transport is gone before aiohttp writes this.
    return web.Response(status=200)


async def slow(ctx: Context, request: web.Request) -> None:
    """Delay before answering (real time: it is there to trip client timeouts).

    The body is read first: a client that gives up still had its request reach the gateway,
    so a slow submit creates its task all the same.
    """
    await request.read()
    await asyncio.sleep(ctx.config.faults.slow_seconds)


async def truncate(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Send the real headers with the full Content-Length, half the body, then close."""
    body = response.body if isinstance(response, web.Response) else None
    data = body if isinstance(body, bytes) else b""
    out = web.StreamResponse(status=response.status, reason=response.reason)
    for name, value in response.headers.items():
        if name.lower() != "content-length":
            out.headers[name] = value
    out.content_length = len(data)
    await out.prepare(request)
    await out.write(data[: len(data) // 2])
    drop(request)
    return out


def cut_video(ctx: Context) -> bool:
    """Whether this CDN video answer is cut off half-way (drawn from the fault stream)."""
    chance = ctx.config.faults.cdn_cut
    if chance <= 0 or ctx.fault_rng.random() >= chance:
        return False
    ctx.stats.faults_injected["cdn_cut"] += 1
    return True
