"""docs/machines.md, "Three workers on one run": the block, with a PostgreSQL of its own.

The parent starts a throwaway PostgreSQL (pgserver) and passes its URL as LUMA_JOURNAL_URL;
the workers (this file again, with an argument) inherit it. The parent then checks that
together the three workers settled every request exactly once.
"""

import asyncio
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any

from luma_async import LumaClient

server: Any = None
data = ""
if "LUMA_JOURNAL_URL" not in os.environ:  # the parent: a PostgreSQL for this run only
    data = tempfile.mkdtemp(prefix="luma-docs-pg-")
    server = importlib.import_module("pgserver").get_server(data, cleanup_mode="stop")
    os.environ["LUMA_JOURNAL_URL"] = server.get_uri()


JOURNAL = os.environ["LUMA_JOURNAL_URL"]  # e.g. postgresql://user:pass@db/luma
PROMPTS = [f"a lighthouse at dusk, take {i}" for i in range(12)]


async def work(name: str) -> None:
    async with (
        LumaClient(dialect="official") as client,
        client.generate_many(
            PROMPTS, concurrency=4, journal=JOURNAL, run="lighthouse", lease=5.0
        ) as results,
    ):
        async for result in results:  # only the results this worker settled
            outcome = "ok" if result.ok else type(result.error).__name__
            print(name, result.index, outcome, flush=True)


if len(sys.argv) > 1:  # a worker
    asyncio.run(work(sys.argv[1]))
else:  # start three workers (on three machines: run `python this.py worker-N` on each)
    try:
        workers = [
            subprocess.Popen(
                [sys.executable, __file__, f"worker-{n}"], stdout=subprocess.PIPE, text=True
            )
            for n in range(3)
        ]
        settled = [line.split() for w in workers for line in w.communicate()[0].splitlines()]
        for name, index, outcome in settled:
            print(name, index, outcome)
        assert all(w.returncode == 0 for w in workers)
        # Together they settled every request, each exactly once.
        assert sorted(int(index) for _, index, _ in settled) == list(range(len(PROMPTS)))
        assert all(outcome == "ok" for _, _, outcome in settled)
    finally:
        if server is not None:
            server.cleanup()
            shutil.rmtree(data, ignore_errors=True)
