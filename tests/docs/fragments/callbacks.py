"""docs/callbacks.md, both blocks: a receiver on 127.0.0.1 (the emulator can reach it)."""

# ruff: noqa: SIM117  (written as the page shows it)

import asyncio

from luma_async import CallbackReceiver, LumaClient


async def main() -> None:
    async with CallbackReceiver(host="127.0.0.1", port=0, public_url=None) as receiver:
        async with LumaClient(dialect="official", callbacks=receiver) as client:
            task = await client.generate("a lighthouse in a storm")  # carries a callback URL
            async with client.poll([task.id], interval=60) as stream:
                async for done in stream:  # out within moments of the callback, not 60 s later
                    print(done.id, done.state)
    # "Public URLs": a receiver behind a proxy or tunnel (built here, not started).
    r = CallbackReceiver(host="127.0.0.1", port=8787, public_url="https://hooks.example.com")
    print(r)


asyncio.run(main())
