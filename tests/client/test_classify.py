"""Status first, words second, through the real client: what is retried, what stops a run."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from luma_async import (
    LumaClient,
    NotFoundError,
    QuotaExceededError,
    RetryPolicy,
    ServerError,
    SubmissionUncertainError,
)

from ..conftest import KEY, MakeEmulator

pytestmark = pytest.mark.anyio

RETRY = RetryPolicy(max_tries=3, max_time=5.0, base=0.001, cap=0.01)


class Gateway:
    """A real HTTP server that gives every request the same answer and counts them."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(f"{request.method} {request.path}")
        if isinstance(self.body, str):  # a proxy's HTML page
            return web.Response(
                status=self.status, text=self.body, content_type="text/html", headers=self.headers
            )
        return web.Response(
            status=self.status,
            body=json.dumps(self.body).encode(),
            content_type="application/json",
            headers=self.headers,
        )


@contextlib.asynccontextmanager
async def serve(gateway: Gateway) -> AsyncIterator[str]:
    """Run `gateway` on a loopback port; yields its base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


OVERLOAD = [
    (503, {"error": {"message": "Insufficient capacity, please retry later"}}),
    (503, {"error": {"message": "no available backend", "type": "new_api_error"}}),
    (500, {"detail": "insufficient GPU resources"}),
    (500, {"code": "quota_not_enough", "message": "upstream quota exhausted"}),
]


@pytest.mark.parametrize(("status", "body"), OVERLOAD)
async def test_a_5xx_read_is_a_retried_server_error(status: int, body: Any) -> None:
    """A 5xx read is a ServerError, retried to the end of the policy, whatever its words."""
    gateway = Gateway(status, body)
    async with serve(gateway) as url, LumaClient(url, KEY, "official", retry=RETRY) as client:
        with pytest.raises(ServerError) as info:
            await client.get("9d4b7516-77e5-481a-b015-48316ae5cd8e")
    assert not isinstance(info.value, QuotaExceededError)
    assert len(gateway.seen) == RETRY.max_tries


@pytest.mark.parametrize(("status", "body"), OVERLOAD)
async def test_a_5xx_create_is_uncertain_not_quota(status: int, body: Any) -> None:
    """A 5xx on a create is SubmissionUncertainError (cause ServerError), sent once."""
    gateway = Gateway(status, body)
    async with serve(gateway) as url, LumaClient(url, KEY, "anyapi", retry=RETRY) as client:
        with pytest.raises(SubmissionUncertainError) as info:
            await client.generate("a red fox in the snow")
    assert type(info.value.cause) is ServerError
    assert [seen for seen in gateway.seen if seen.startswith("POST")] == [gateway.seen[0]]


async def test_a_429_about_quota_is_sent_once() -> None:
    """A 429 `insufficient_quota` is a QuotaExceededError at once: no retry can change it."""
    body = {
        "error": {
            "message": "You exceeded your current quota, please check your plan and billing.",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
    }
    gateway = Gateway(429, body, {"Retry-After": "0"})
    async with serve(gateway) as url, LumaClient(url, KEY, "official", retry=RETRY) as client:
        with pytest.raises(QuotaExceededError):
            await client.get("9d4b7516-77e5-481a-b015-48316ae5cd8e")
        with pytest.raises(QuotaExceededError):
            await client.generate("a red fox in the snow")
        assert all(bucket.paused_until == 0.0 for bucket in client.transport.buckets.values())
    assert len(gateway.seen) == 2


async def test_a_plain_429_is_retried() -> None:
    """A 429 about load is retried (the counterpart of the test above)."""
    gateway = Gateway(429, {"detail": "Too many requests"}, {"Retry-After": "0"})
    async with serve(gateway) as url, LumaClient(url, KEY, "official", retry=RETRY) as client:
        with pytest.raises(Exception, match="429"):
            await client.get("9d4b7516-77e5-481a-b015-48316ae5cd8e")
    assert len(gateway.seen) == RETRY.max_tries


@pytest.mark.parametrize("status", [404, 405])
@pytest.mark.parametrize("body", [{"detail": "Not Found"}, "<html><body>404</body></html>"])
async def test_a_missing_create_route_names_the_dialect(status: int, body: Any) -> None:
    """A 404/405 on a create is NotFoundError (nothing created), naming dialect and base URL."""
    gateway = Gateway(status, body)
    async with serve(gateway) as url, LumaClient(url, KEY, "rixapi", retry=RETRY) as client:
        with pytest.raises(NotFoundError) as info:
            await client.generate("a red fox in the snow")
    text = str(info.value)
    assert "rixapi" in text
    assert url in text
    assert "luma-async dialects" in text
    assert len(gateway.seen) == 1


async def test_the_wrong_dialect_against_the_emulator(emulator: MakeEmulator) -> None:
    """A relay dialect pointed at the official API: a NotFoundError with the hint, no task."""
    emu = await emulator("official")
    async with LumaClient(emu.base_url, KEY, "anyapi", retry=RETRY) as client:
        with pytest.raises(NotFoundError, match="anyapi dialect"):
            await client.generate("a red fox in the snow")
    assert emu.stats.creations == 0
