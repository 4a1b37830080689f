"""CallbackReceiver: forgetting finished tasks, expiring old tokens, mounted in aiohttp and ASGI."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from starlette.applications import Starlette
from starlette.routing import Mount

from luma_async import CallbackReceiver, LumaClient
from luma_async.dialects import get_dialect
from luma_async.emulator import Emulator

from ..conftest import FAST_RETRY, KEY, MakeEmulator

pytestmark = pytest.mark.anyio


async def test_a_yielded_task_is_forgotten_by_the_receiver(emulator: MakeEmulator) -> None:
    """After the stream yields a hooked task, the receiver keeps no token, id or finish."""
    emu = await emulator("anyapi")
    async with (
        CallbackReceiver() as receiver,
        LumaClient(emu.base_url, KEY, "anyapi", callbacks=receiver, retry=FAST_RETRY) as client,
    ):
        made = [await client.generate(f"hooked {i}") for i in range(5)]
        assert receiver.tracked == 5
        async with client.poll([g.id for g in made], timeout=20) as stream:
            done = [g async for g in stream]
        assert len(done) == 5
        assert receiver.tracked == 0
        assert not any(receiver.has_callback(g.id) or receiver.finished(g.id) for g in made)


def test_tokens_of_tasks_never_yielded_expire_after_the_ttl() -> None:
    """A token older than token_ttl is dropped at the next issue; younger ones stay."""
    now = [0.0]
    receiver = CallbackReceiver(
        public_url="https://h.example", token_ttl=100.0, clock=lambda: now[0]
    )
    receiver.aiohttp_app()  # mounted: issue() needs no listening server
    dialect = get_dialect("anyapi")
    old, _ = receiver.issue(dialect)
    receiver.bind(old, "task-old")
    now[0] = 60.0
    young, _ = receiver.issue(dialect)
    assert receiver.tracked == 2
    now[0] = 130.0
    receiver.issue(dialect)
    assert receiver.tracked == 2  # the old one went, the young one and the new one stay
    assert not receiver.has_callback("task-old")
    receiver.bind(young, "task-young")
    assert receiver.has_callback("task-young")


def test_mounting_needs_a_public_url() -> None:
    """Without public_url a mounted receiver could not tell gateways where to post."""
    receiver = CallbackReceiver()
    with pytest.raises(ValueError, match="public_url"):
        receiver.aiohttp_app()
    with pytest.raises(ValueError, match="public_url"):
        receiver.asgi_app()
    with pytest.raises(RuntimeError):
        _ = receiver.url


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1, port 0; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def asgi_over_aiohttp(asgi: Any) -> web.Application:
    """A minimal ASGI server for the test (no uvicorn here): aiohttp takes the socket and
    hands each request to `asgi` as an HTTP scope."""

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": "http",
            "path": request.path,
            "raw_path": request.raw_path.encode(),
            "query_string": request.query_string.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in request.headers.items()],
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
        }
        delivered = False

        async def receive() -> MutableMapping[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        answer: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        await asgi(scope, receive, send)
        headers = {k.decode(): v.decode() for k, v in answer["headers"]}
        headers.pop("content-length", None)
        return web.Response(status=answer["status"], body=answer["body"], headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def _run_through_mount(receiver: CallbackReceiver, emu: Emulator, base: str) -> None:
    """Generate hooked tasks with a 60 s interval: callbacks through the mount finish them;
    forged posts through the mount are refused."""
    async with LumaClient(
        emu.base_url, KEY, "anyapi", callbacks=receiver, retry=FAST_RETRY
    ) as client:
        made = [await client.generate(f"mounted {i}") for i in range(4)]
        async with client.poll([g.id for g in made], timeout=20, interval=60) as stream:
            done = [g async for g in stream]
    assert sorted(g.id for g in done) == sorted(g.id for g in made)
    assert emu.stats.callbacks_sent >= 4
    assert receiver.accepted >= 4
    token, url = receiver.issue(get_dialect("anyapi"))
    assert url.startswith(base + "/hooks/luma-callback/")
    receiver.bind(token, "bound-task")
    async with aiohttp.ClientSession() as http:
        cases = [
            (base + "/hooks/luma-callback/not-a-token", {"id": "x", "state": "completed"}, 404),
            (url, {"id": "another-task", "state": "completed"}, 400),
            (url, {"nonsense": True}, 400),
            (url, {"id": "bound-task", "pad": "x" * 10_000}, 413),
            (url, {"id": "bound-task", "state": "completed"}, 200),
        ]
        for target, body, status in cases:
            async with http.post(target, json=body) as resp:
                assert resp.status == status, (target, body)
    assert receiver.finished("bound-task")


async def test_mounted_as_an_aiohttp_sub_app(emulator: MakeEmulator) -> None:
    """add_subapp("/hooks/", receiver.aiohttp_app()) in a served app: the same flow and rules."""
    emu = await emulator("anyapi")
    main = web.Application()
    receiver = CallbackReceiver(public_url="http://placeholder", max_body=4096)
    main.add_subapp("/hooks/", receiver.aiohttp_app())
    async with serve(main) as base:
        receiver.public_url = base + "/hooks"
        assert receiver.url == base + "/hooks"
        await _run_through_mount(receiver, emu, base)


async def test_mounted_in_a_starlette_app(emulator: MakeEmulator) -> None:
    """Mount("/hooks", receiver.asgi_app()) in Starlette, served over a real socket."""
    emu = await emulator("anyapi")
    receiver = CallbackReceiver(public_url="http://placeholder", max_body=4096)
    starlette = Starlette(routes=[Mount("/hooks", app=receiver.asgi_app())])
    async with serve(asgi_over_aiohttp(starlette)) as base:
        receiver.public_url = base + "/hooks"
        await _run_through_mount(receiver, emu, base)
        async with (
            aiohttp.ClientSession() as http,
            http.get(base + "/hooks/luma-callback/whatever") as resp,
        ):
            assert resp.status == 405
