"""Remembered timing: the cache file (corrupt, shared, off) and what it saves on a second run."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import subprocess
import sys

import pytest

from luma_async import GenerateRequest, LumaClient
from luma_async._timing import ENV_VAR, MAX_KEYS, PER_KEY, TimingCache, kind_key

from ..conftest import FAST_RETRY, KEY, MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


def test_kind_keys_name_the_gateway_without_port_or_secrets() -> None:
    """Host without port, dialect, operation, model, resolution, duration; nothing else."""
    key = kind_key("https://API.example.com:8443/v1", "anyapi", "video", "ray-2", "720p", "5s")
    assert key == "api.example.com|anyapi|video|ray-2|720p|5s"
    assert kind_key("http://127.0.0.1:9999", "official") == "127.0.0.1|official|*"


def test_a_corrupt_file_is_ignored_with_a_debug_line_and_then_replaced(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Garbage, a wrong shape or a wrong version read as empty; the next write is valid."""
    path = tmp_path / "timing.json"
    cache = TimingCache(path)
    for garbage in (b"\x00\xffnot json", b'{"v": 1, "kinds": [1, 2]}', b'{"v": 99, "kinds": {}}'):
        path.write_bytes(garbage)
        with caplog.at_level(logging.DEBUG, logger="luma_async"):
            assert cache.load() == {}
    assert sum("timing cache" in r.getMessage() for r in caplog.records) == 3
    assert all(r.levelno == logging.DEBUG for r in caplog.records)
    cache.merge({"h|d|*": [1.5, 2.5]})
    assert cache.load() == {"h|d|*": [1.5, 2.5]}


def test_the_file_is_bounded_per_key_and_in_keys(tmp_path: pathlib.Path) -> None:
    """Only the newest lifetimes per key and the most recently updated keys stay."""
    cache = TimingCache(tmp_path / "timing.json")
    cache.merge({"k": [float(i) for i in range(PER_KEY + 50)]})
    assert cache.load()["k"] == [float(i) for i in range(50, PER_KEY + 50)]
    cache.merge({f"key-{i}": [1.0] for i in range(MAX_KEYS + 20)})
    assert len(cache.load()) == MAX_KEYS


_WRITER = """
import sys
from luma_async._timing import TimingCache
cache = TimingCache(sys.argv[1])
for i in range(60):
    cache.merge({f"{sys.argv[2]}-{i % 20}": [float(i)], "shared": [float(i)]})
"""


def test_two_processes_writing_at_once_lose_nothing_and_corrupt_nothing(
    tmp_path: pathlib.Path,
) -> None:
    """Two writers, 60 merges each, side by side: the file parses and holds all their keys."""
    path = tmp_path / "timing.json"
    env = {**os.environ, "PYTHONPATH": str(pathlib.Path(__file__).parents[2])}
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), name], env=env)
        for name in ("a", "b")
    ]
    for writer in writers:
        assert writer.wait(timeout=60) == 0
    kinds = json.loads(path.read_bytes())["kinds"]
    assert {f"{n}-{i}" for n in "ab" for i in range(20)} <= set(kinds)
    assert len(kinds["shared"]["l"]) == 120  # every merge of both processes is in
    assert not list(tmp_path.glob("*.tmp"))


async def test_off_writes_nothing_and_the_default_place_can_be_moved_by_env(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, emulator: MakeEmulator
) -> None:
    """timing_cache=False: no file; None: the default place (here moved by the env var)."""
    path = tmp_path / "cache" / "timing.json"
    monkeypatch.setenv(ENV_VAR, str(path))
    emu = await emulator("gptge")
    request = GenerateRequest("a cat")
    for option in (False, None):
        async with LumaClient(
            emu.base_url, KEY, "gptge", retry=FAST_RETRY, timing_cache=option
        ) as client:
            task = emu.create_task("t", run_seconds=0.1, queue_seconds=0.0)
            async with client.poll([], interval=0.05, timeout=10) as stream:
                stream.add(task, kind=stream.kind_of(request))
                assert [g.id async for g in stream] == [task]
        assert path.exists() is (option is None)
    text = path.read_text()
    assert KEY not in text
    assert "a cat" not in text
    assert task not in text


async def test_a_second_run_spends_fewer_requests_than_the_first(
    tmp_path: pathlib.Path, emulator: MakeEmulator, client: MakeClient
) -> None:
    """Ten 4 s tasks with the default schedule: the run that remembers the first one's
    lifetimes looks at each task later and spends fewer status requests."""
    path = tmp_path / "timing.json"
    emu = await emulator("gptge", quirks=frozenset({"no_batch_route"}))
    request = GenerateRequest("a dog", model="ray-2")
    spent: list[int] = []
    for _ in range(2):
        c = await client(emu, timing_cache=path)
        before = emu.stats.by_route["get"]
        tasks = [emu.create_task(f"t{i}", run_seconds=4.0, queue_seconds=0.0) for i in range(10)]
        async with c.poll([], timeout=30) as stream:
            stream.add(*tasks, kind=stream.kind_of(request))
            assert len([g async for g in stream]) == 10
        spent.append(emu.stats.by_route["get"] - before)
        await c.aclose()
    first, second = spent
    assert second < first, spent
    # The first run looks every second (about 4-5 looks a task); the second sleeps until the
    # remembered finish (1-2 looks). Under load a few more land; half is a safe margin.
    assert second * 2 <= first, spent
    assert TimingCache(path).load()[kind_key(emu.base_url, "gptge")]


async def test_a_lone_task_on_a_batch_relay_is_looked_at_on_the_single_interval(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """One 2 s task alone on anyapi (batch links): about one look a second, not two."""
    emu = await emulator("anyapi")
    c = await client(emu)
    task = emu.create_task("alone", run_seconds=2.0, queue_seconds=0.0)
    async with c.poll([task], timeout=20) as stream:
        assert [g.id async for g in stream] == [task]
    looks = emu.stats.by_route["get"] + emu.stats.by_route["batch"]
    assert looks <= 3  # at 0.5 s it would be four or five
