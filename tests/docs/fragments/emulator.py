"""docs/emulator.md, "In Python": the emulator and a client in one program."""

import asyncio

from luma_async import LumaClient
from luma_async.emulator import Emulator, EmulatorConfig, Faults

config = EmulatorConfig(
    dialect="anyapi", api_key="test-key", time_scale=0.05, quirks=frozenset({"early_404"})
)


async def main() -> None:
    async with Emulator(config) as emulator:  # 127.0.0.1, a free port
        async with LumaClient(emulator.base_url, "test-key", "anyapi") as client:
            task = await client.generate("a red fox")
            ...
            print(task.id, task.state)
        emulator.stats.requests, emulator.stats.by_route["get"]  # what the client sent
        print(emulator.stats.requests, emulator.stats.by_route["get"])
    print(Faults(http_500=0.1))  # faults are configured the same way: EmulatorConfig(faults=...)


asyncio.run(main())
