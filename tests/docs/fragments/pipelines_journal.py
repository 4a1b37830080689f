"""docs/pipelines.md, "Resumable runs": the same run twice; the second submits nothing."""

import asyncio

from luma_async import LumaClient


async def run(client: LumaClient, requests: list[str]) -> list[int]:
    done: list[int] = []
    async with client.generate_many(requests, journal="run.sqlite") as results:
        async for result in results:
            ...
            done.append(result.index)
    return sorted(done)


async def main() -> None:
    requests = ["a red fox", "a blue whale", "a paper boat"]
    async with LumaClient(dialect="gptge") as client:
        assert await run(client, requests) == [0, 1, 2]
        assert await run(client, requests) == [0, 1, 2]  # replayed from the journal


asyncio.run(main())
