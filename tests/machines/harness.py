"""Processes for the many-machines test and benchmark: an emulator and journaled workers.

`python -m tests.machines.harness emulator DIALECT SEED`: serves an emulator with faults;
prints its base URL, then answers each `stats` line on stdin with one JSON line.
`python -m tests.machines.harness worker BASE_URL JOURNAL RUN COUNT CONCURRENCY OUT [DEST]`:
one worker of the shared run; writes one JSON line per result it yields to OUT.
Both are real processes, so that SIGKILL kills a worker as a lost machine would.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import IO, Any

import anyio

from luma_async import GenerateRequest, LumaClient, RetryPolicy
from luma_async.emulator import Emulator, EmulatorConfig, Faults

KEY = "sk-machines-7c1e9a2b4d6f"
ROOT = pathlib.Path(__file__).parents[2]
#: Transient faults on every API route: 429s (requeued), 500s and resets (retried, or a
#: submit's answer lost: reconciled by listing on the official API).
FAULTS = Faults(rate_429=0.03, http_500=0.02, reset=0.01)
FAST = RetryPolicy(max_tries=6, max_time=10.0, base=0.01, cap=0.2)


def prompts(count: int) -> list[GenerateRequest]:
    """The run's input: the same on every worker."""
    return [GenerateRequest(f"machines scene {i}") for i in range(count)]


async def serve_emulator(dialect: str, seed: int) -> None:
    """Serve until stdin closes; `stats` on stdin prints the counters as one JSON line."""
    config = EmulatorConfig(
        dialect=dialect,
        api_key=KEY,
        seed=seed,
        time_scale=0.05,
        queue_seconds=(2.0, 6.0),
        run_seconds=(10.0, 30.0),
        link_delay=0.0,
        faults=FAULTS,
    )
    async with Emulator(config) as emu:
        print(emu.base_url, flush=True)
        lines = anyio.wrap_file(sys.stdin)
        async for line in lines:
            if line.strip() == "stats":
                stats = emu.stats
                answer = {
                    "creations": stats.creations,
                    "max_in_flight": stats.max_in_flight,
                    "creates_by_body": stats.creates_by_body,
                    "faults": stats.faults_injected,
                    "tasks": emu.tasks_created(),
                }
                print(json.dumps(answer), flush=True)


async def work(
    base_url: str,
    journal: str,
    run: str,
    count: int,
    concurrency: int,
    out: str,
    dest: str | None,
) -> None:
    """One worker: the whole shared run, each yielded result written to `out` at once."""
    async with (
        LumaClient(base_url, KEY, "official", retry=FAST) as client,
        await anyio.open_file(out, "a") as sink,
        client.generate_many(
            prompts(count),
            concurrency=concurrency,
            journal=journal,
            run=run,
            lease=2.0,
            download_to=dest,
            interval=0.2,
        ) as results,
    ):
        async for result in results:
            line = {
                "index": result.index,
                "task_id": result.generation.id if result.generation else None,
                "ok": result.ok,
                "error": type(result.error).__name__ if result.error else None,
                "error_text": str(result.error) if result.error else None,
                "location": str(result.path) if result.path else None,
            }
            await sink.write(json.dumps(line) + "\n")
            await sink.flush()


class EmulatorProcess:
    """The emulator in its own process; `stats()` asks it for its counters."""

    def __init__(self, dialect: str = "official", seed: int = 7) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.machines.harness", "emulator", dialect, str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            self.close()
            raise RuntimeError("the emulator process did not start")

    def stats(self) -> dict[str, Any]:
        """The emulator's counters now."""
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None
        assert self.process.stdout is not None
        stdin.write("stats\n")
        stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer

    def close(self) -> None:
        """Stop it."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_worker(
    base_url: str,
    journal: str,
    run: str,
    count: int,
    concurrency: int,
    out: pathlib.Path,
    dest: str | None = None,
) -> subprocess.Popen[bytes]:
    """A worker process of the shared run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [base_url, journal, run, str(count), str(concurrency), str(out)]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.machines.harness",
            "worker",
            *args,
            *([dest] if dest else []),
        ],
        env=env,
        stderr=subprocess.PIPE,
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL, as a lost machine."""
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def yielded(paths: list[pathlib.Path]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(worker number, result line) for every result any worker yielded."""
    for n, path in enumerate(paths):
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    yield n, json.loads(line)


def main(argv: list[str]) -> None:
    """The command line of both processes."""
    if argv[0] == "emulator":
        anyio.run(serve_emulator, argv[1], int(argv[2]))
    else:
        base_url, journal, run, count, concurrency, out, *dest = argv[1:]
        destination = dest[0] if dest else None
        anyio.run(work, base_url, journal, run, int(count), int(concurrency), out, destination)


if __name__ == "__main__":
    main(sys.argv[1:])
