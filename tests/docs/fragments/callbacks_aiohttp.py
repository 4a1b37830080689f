"""docs/callbacks.md, "Mounting in an existing app": the receiver as a sub-app of a served app.

The app listens on a free port of 127.0.0.1 (the emulator posts there); a real deployment's
`public_url` is its public address, e.g. https://example.com/hooks.
"""

import asyncio
import socket

from aiohttp import web

from luma_async import CallbackReceiver, LumaClient


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def main() -> None:
    port = free_port()
    receiver = CallbackReceiver(public_url=f"http://127.0.0.1:{port}/hooks")  # the mount point
    app = web.Application()
    app.add_subapp("/hooks/", receiver.aiohttp_app())  # serves /hooks/luma-callback/<token>
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with LumaClient(dialect="official", callbacks=receiver) as client:
            task = await client.generate("a lighthouse in a storm")
            async with client.poll([task.id], interval=60) as stream:
                async for done in stream:  # woken by the callback through the mount
                    print(done.id, done.state)
        assert receiver.accepted >= 1, "no callback came through the mount"
    finally:
        await runner.cleanup()


asyncio.run(main())
