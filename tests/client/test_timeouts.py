"""Timeouts, TLS and fail-fast connections, counted in attempts rather than timed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web

from luma_async import (
    LumaClient,
    RetryPolicy,
    SubmissionUncertainError,
    Timeout,
    TransportError,
)

from ..conftest import KEY

pytestmark = pytest.mark.anyio

RETRY = RetryPolicy(max_tries=4, max_time=20.0, base=0.001, cap=0.01)
TASK = "9d4b7516-77e5-481a-b015-48316ae5cd8e"


class Silent:
    """A real server that accepts every request and answers none until released."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.release = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.method)
        await request.read()
        await self.release.wait()
        return web.json_response({})


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[tuple[str, Silent]]:
    """A `Silent` server on loopback; yields its base URL and itself."""
    silent = Silent()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", silent.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", silent
    finally:
        silent.release.set()
        await runner.cleanup()


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A port whose listening socket never accepts and whose queue is full: connects hang."""
    with socket.socket() as server, socket.socket() as filler:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port: int = server.getsockname()[1]
        filler.connect(("127.0.0.1", port))  # takes the one place in the queue
        yield port


def test_timeout_values() -> None:
    """A number is the total; a Timeout spells out connect and submit; nonsense is refused."""
    assert Timeout.of(10) == Timeout(total=10, connect=5.0)
    assert Timeout.of(2).connect == 2
    assert Timeout(total=30).for_submit == 30
    assert Timeout(total=30, submit=120).for_submit == 120
    for bad in [{"total": 0}, {"connect": -1}, {"submit": 0}]:
        with pytest.raises(ValueError, match="must be > 0"):
            Timeout(**bad)
    with pytest.raises(ValueError, match="must be > 0"):
        LumaClient("http://127.0.0.1:1", KEY, timeout=0)
    client = LumaClient("http://127.0.0.1:1", KEY, timeout=Timeout(total=9, submit=99))
    assert client.transport.timeout == Timeout(total=9, submit=99)


async def test_a_read_without_an_answer_is_retried_to_the_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A read that gets no answer within `total` is tried max_tries times, then TransportError."""
    async with (
        silent_server() as (url, silent),
        LumaClient(url, KEY, "official", retry=RETRY, timeout=Timeout(total=0.2)) as client,
    ):
        with pytest.raises(TransportError, match=r"no answer within 0\.2 s"):
            await client.get(TASK)
    assert silent.seen == ["GET"] * RETRY.max_tries


async def test_a_slow_submit_has_its_own_timeout() -> None:
    """`submit` bounds a create: past it the create is uncertain, sent once, never again."""
    timeout = Timeout(total=30.0, submit=0.2)
    async with (
        silent_server() as (url, silent),
        LumaClient(url, KEY, "anyapi", retry=RETRY, timeout=timeout) as client,
    ):
        with pytest.raises(SubmissionUncertainError, match=r"no answer within 0\.2 s"):
            await client.generate("a red fox in the snow")
    assert silent.seen == ["POST"]


@pytest.mark.parametrize("dialect", ["official", "anyapi"])
async def test_a_connect_timeout_is_retried_once(
    dialect: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A host that never completes a connection fails after two tries, naming the host."""
    caplog.set_level(logging.DEBUG, logger="luma_async")
    timeout = Timeout(total=30.0, connect=0.2)
    with full_backlog() as port:
        url = f"http://127.0.0.1:{port}"
        async with LumaClient(url, KEY, dialect, retry=RETRY, timeout=timeout) as client:
            with pytest.raises(
                TransportError, match=r"cannot connect to 127\.0\.0\.1 within"
            ) as info:
                await client.get(TASK)
            assert info.value.sent is False
            assert type(info.value) is TransportError
            with pytest.raises(TransportError, match="cannot connect"):
                await client.generate("a red fox in the snow")  # nothing sent: safe to retry once
    failed = [r for r in caplog.records if " failed: " in r.getMessage()]
    assert len(failed) == 4  # two tries each, though the policy allows four


async def test_a_wrong_host_fails_after_two_tries(caplog: pytest.LogCaptureFixture) -> None:
    """A name that does not resolve fails at once, naming the host: one retry, no more."""
    caplog.set_level(logging.DEBUG, logger="luma_async")
    url = "http://no-such-host.invalid"
    async with LumaClient(url, KEY, "official", retry=RETRY) as client:
        with pytest.raises(TransportError, match=r"no-such-host\.invalid") as info:
            await client.get(TASK)
    assert info.value.sent is False
    assert sum(1 for r in caplog.records if " failed: " in r.getMessage()) == 2
    assert not client.transport.answered


# -- TLS -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, pathlib.Path]:
    """A self-signed certificate for 127.0.0.1 (made by the openssl command line)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@contextlib.asynccontextmanager
async def tls_server(cert: pathlib.Path, key: pathlib.Path) -> AsyncIterator[str]:
    """An HTTPS server on loopback that answers every request with a task-shaped 200."""

    async def handle(request: web.Request) -> web.Response:
        return web.json_response(
            {"id": TASK, "state": "queued", "created_at": "2024-01-01T00:00:00Z"}
        )

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_tls_with_a_private_ca(certificate: tuple[pathlib.Path, pathlib.Path]) -> None:
    """Default verification refuses a private CA; its SSLContext, or ssl=False, gets through."""
    cert, key = certificate
    trusting = ssl.create_default_context(cafile=str(cert))
    async with tls_server(cert, key) as url:
        async with LumaClient(url, KEY, "official", retry=RETRY) as client:
            with pytest.raises(TransportError) as info:
                await client.get(TASK)
            assert "certificate" in str(info.value).lower()
        for option in (trusting, False):
            async with LumaClient(url, KEY, "official", retry=RETRY, ssl=option) as client:
                assert (await client.get(TASK)).id == TASK
