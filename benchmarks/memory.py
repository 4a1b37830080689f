"""Memory: the resident size of one poller tracking 10,000 and 100,000 tasks.

Each size is measured in a fresh interpreter (`python -m benchmarks.memory N`) that imports
luma_async, makes N task ids, then adds them to a `PollStream` whose status source is never
asked; VmRSS from /proc/self/status is read before and after each step. A process's RSS only
grows, so a fresh process per size keeps one measurement from hiding in another's pages.
"""

from __future__ import annotations

import gc
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import uuid
from collections.abc import Sequence

import anyio

from luma_async import Generation
from luma_async._poller import PollStream
from luma_async._schedule import Schedule

from ._common import Section, Settings, table

__all__ = ["probe", "run"]

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET_MB = 200.0


class Silent:
    """A status source that is never asked: the probe only adds tasks."""

    batch_size = 100
    min_batch = 1

    def can_batch(self) -> bool:
        """Batching on, as for most relays."""
        return True

    async def batch(self, task_ids: Sequence[str]) -> dict[str, Generation]:
        """Never called."""
        raise AssertionError("not polled here")

    async def one(self, task_id: str) -> Generation | None:
        """Never called."""
        raise AssertionError("not polled here")


def rss_mb() -> float:
    """This process's resident set size now, in MB (after a full collection)."""
    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _probe(n: int) -> dict[str, float]:
    base = rss_mb()
    rng = random.Random(n)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]
    with_ids = rss_mb()
    stream = PollStream(Silent(), schedule=Schedule())
    stream.add(*ids)
    tracked = rss_mb()
    assert len(stream.pending) == n
    stream.close()
    return {
        "base": base,
        "ids": with_ids - base,
        "poller": tracked - with_ids,
        "total": tracked,
        "per_task": (tracked - with_ids) * 1024 * 1024 / n,
    }


def probe(n: int) -> dict[str, float]:
    """The measurement itself, in this process (run it in a fresh one)."""
    return anyio.run(_probe, n)


def measure(n: int) -> dict[str, float]:
    """`probe(n)` in a fresh interpreter."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", str(n)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def run(settings: Settings) -> Section:
    """Measure each size in fresh processes, interleaved, and render the table."""
    sizes = settings.pick((10_000, 100_000), (1_000, 10_000))
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in sizes}
    for _ in range(settings.repeats(3)):
        for n in sizes:
            runs[n].append(measure(n))
    rows = {n: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for n, rs in runs.items()}
    lines = [
        (
            f"{n:,}",
            f"{r['base']:.1f}",
            f"{r['ids']:.1f}",
            f"{r['poller']:.1f}",
            f"{r['per_task']:.0f}",
            f"{r['total']:.1f}",
        )
        for n, r in rows.items()
    ]
    header = (
        "tasks tracked",
        "RSS, luma_async imported (MB)",
        "+ the ids (MB)",
        "+ the poller (MB)",
        "poller bytes/task",
        "RSS total (MB)",
    )
    return Section("memory", "Memory", table(header, lines), {"rows": rows})


if __name__ == "__main__":
    print(json.dumps(probe(int(sys.argv[1]))))
