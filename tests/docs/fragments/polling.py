"""docs/polling.md, "The stream": two tasks, one added while polling."""

# ruff: noqa: B018  (written as the page shows it)

import asyncio

from luma_async import LumaClient


async def main() -> None:
    async with LumaClient(dialect="official") as client:
        ids = [(await client.generate("a red fox")).id]
        another = await client.generate("a blue whale")
        seen: list[str] = []
        async with client.poll(ids, timeout=None, interval=None, unknown_after=600.0) as stream:
            stream.add(another.id)  # more tasks may join while polling
            stream.counts  # {State: int}: pending tasks now, finished ones as running totals
            stream.pending  # ids not handed out yet
            async for generation in stream:  # each task once, as soon as it is terminal
                ...
                seen.append(generation.id)
                if len(seen) == 2:
                    break
        assert sorted(seen) == sorted([*ids, another.id])


asyncio.run(main())
