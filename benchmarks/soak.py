"""Soak: the client's memory at the start and the end of a long service loop.

The loop is the one of ``tests/client/test_memory.py`` (imported, not copied): one client, one
`CallbackReceiver` and one open poll stream; tasks are submitted and finished 256 at a time
against an AnyAPI-dialect emulator in its own process (time scale 0.0001, so lifetimes are
milliseconds). The client process's RSS is read after a warm-up (pools, caches and buffers at
their working size) and at the end. It runs in a fresh interpreter
(`python -m benchmarks.soak N WARM_UP`), so the benchmark process's own pages stay out of it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import subprocess
import sys
import time

import anyio

from ._common import Section, Settings, table

__all__ = ["measure", "run"]

ROOT = pathlib.Path(__file__).resolve().parent.parent


def measure(tasks: int, warm_up: int) -> dict[str, float]:
    """One soak of `tasks` after `warm_up`, in a fresh interpreter; its figures."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", str(tasks), str(warm_up)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    result: dict[str, float] = json.loads(done.stdout)
    result["wall"] = time.monotonic() - started
    return result


def run(settings: Settings) -> Section:
    """One soak (100,000 tasks in the full suite), rendered as a table."""
    tasks, warm_up = settings.pick((100_000, 3_000), (2_000, 500))
    r = measure(tasks, warm_up)
    mb = 2**20
    growth = r["rss_end"] - r["rss_start"]
    lines = [
        (
            f"{tasks:,}",
            f"{warm_up:,}",
            f"{r['rss_start'] / mb:.1f}",
            f"{r['rss_end'] / mb:.1f}",
            f"{growth / mb:+.2f}",
            f"{growth / tasks:.1f}",
            f"{r['receiver_tracked']:.0f}",
            f"{r['stream_pending']:.0f}",
            f"{r['wall']:.0f}",
        )
    ]
    header = (
        "tasks after the warm-up",
        "warm-up tasks",
        "RSS after the warm-up (MB)",
        "RSS at the end (MB)",
        "growth (MB)",
        "growth bytes/task",
        "receiver tokens left",
        "stream ids left",
        "wall (s)",
    )
    intro = (
        "The service loop of `tests/client/test_memory.py` (one `LumaClient`, one "
        "`CallbackReceiver`, one poll stream held open; 256 tasks in flight, each submitted, "
        "polled and handed out) against an AnyAPI-dialect emulator in its own process, time "
        f"scale 0.0001. {warm_up:,} warm-up tasks, then {tasks:,} more; the client process's "
        "RSS (/proc/self/statm, after a full collection) after the warm-up and at the end. "
        "A fresh interpreter per soak."
    )
    reading = (
        f"RSS went from {r['rss_start'] / mb:.1f} MB to {r['rss_end'] / mb:.1f} MB over "
        f"{tasks:,} tasks ({growth / tasks:.1f} bytes a task); nothing is kept per finished "
        f"task ({r['receiver_tracked']:.0f} receiver tokens, {r['stream_pending']:.0f} ids "
        "left)."
    )
    data = {"tasks": tasks, "warm_up": warm_up, **r}
    return Section(
        "soak",
        "Soak: memory over a long service loop",
        "\n\n".join([intro, table(header, lines), reading]),
        data,
    )


def _main(tasks: int, warm_up: int) -> None:
    from tests.client.test_memory import soak

    found = anyio.run(soak, tasks, warm_up)
    print(json.dumps(dataclasses.asdict(found)))


if __name__ == "__main__":
    _main(int(sys.argv[1]), int(sys.argv[2]))
