"""docs/polling.md, tuning: a client with a request rate cap polling at a 2 s interval."""

# ruff: noqa: SIM117  (written as the page shows it)

import asyncio

from luma_async import LumaClient


async def main() -> None:
    ids = [(await _submit(prompt)) for prompt in ("a red fox", "a blue whale")]
    client = LumaClient(dialect="official", max_requests_per_second=10, max_concurrency=16)
    async with client:
        async with client.poll(ids, interval=2.0, timeout=3600) as stream:
            ...
            print([generation.state async for generation in stream])


async def _submit(prompt: str) -> str:
    async with LumaClient(dialect="official") as client:
        return (await client.generate(prompt)).id


asyncio.run(main())
