"""Three worker processes share one run that downloads to S3; one is killed with SIGKILL.

The bucket is a moto S3 server; the workers find it and their credentials through the
environment, as botocore does everywhere. Afterwards every object under the prefix is a
whole MP4 (its top-level boxes add up to its size exactly), one per completed request,
named by the journal's task id, and nothing was created twice. Counts, never times.
"""

from __future__ import annotations

import os
import pathlib
import signal
import sys
from typing import Any

import anyio
import pytest

from luma_async._stores import make_store

from ..sinks.conftest import s3, s3_credentials, s3_endpoint  # noqa: F401 (fixtures)
from .harness import EmulatorProcess, kill, start_worker, yielded

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL"),
]

COUNT = 90
CONCURRENCY = 9
PREFIX = "machines/run"


def whole_mp4(body: bytes) -> bool:
    """`ftyp` first, a `moov`, and top-level boxes that end exactly at the end of the body."""
    if body[4:8] != b"ftyp":
        return False
    offset, kinds = 0, []
    while offset + 8 <= len(body):
        size = int.from_bytes(body[offset : offset + 4], "big")
        kind = body[offset + 4 : offset + 8]
        if size == 1:  # a 64-bit size follows the type
            size = int.from_bytes(body[offset + 8 : offset + 16], "big")
        if size < 8:
            return False
        kinds.append(kind)
        offset += size
    return offset == len(body) and b"moov" in kinds


async def listing(fs: Any, prefix: str) -> list[str]:
    """The keys under `prefix` now (none before the first object is written)."""
    try:
        keys: list[str] = await fs._ls(prefix, detail=False, refresh=True)
    except FileNotFoundError:
        return []
    return sorted(keys)


async def test_three_workers_one_killed_leave_only_whole_objects(
    postgres_url: str,
    s3_endpoint: str,  # noqa: F811
    s3: Any,  # noqa: F811
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The worker processes inherit this environment: credentials (s3_credentials) and endpoint.
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    bucket = f"machines-{os.getpid()}"
    await s3._mkdir(bucket)
    dest = f"s3://{bucket}/{PREFIX}"
    emu = await anyio.to_thread.run_sync(EmulatorProcess)
    run = f"machines-s3-{os.getpid()}"
    outs = [tmp_path / f"worker-{n}.jsonl" for n in range(3)]
    workers = [
        start_worker(emu.base_url, postgres_url, run, COUNT, CONCURRENCY, out, dest) for out in outs
    ]
    try:
        with anyio.fail_after(240):  # a bound against a hang, not the assertion
            # Kill worker 0 once downloads are under way: some objects already written.
            while not await listing(s3, f"{bucket}/{PREFIX}"):  # noqa: ASYNC110
                await anyio.sleep(0.05)
            kill(workers[0])
            assert workers[0].returncode == -signal.SIGKILL  # killed mid-run, not finished
            for worker in workers[1:]:
                code = await anyio.to_thread.run_sync(worker.wait)
                assert worker.stderr is not None
                assert code == 0, worker.stderr.read().decode()[-3000:]
        stats = await anyio.to_thread.run_sync(emu.stats)
    finally:
        for worker in workers:
            if worker.poll() is None:
                kill(worker)
            if worker.stderr is not None:
                worker.stderr.close()
        await anyio.to_thread.run_sync(emu.close)

    reader = make_store(postgres_url, run=run, reader=True)
    await reader.open()
    try:
        rows = await reader.rows()
    finally:
        await reader.close()

    assert [r.index for r in rows] == list(range(COUNT))
    completed = [r for r in rows if r.state == "completed"]
    assert len(completed) >= COUNT - COUNT // 5, [(r.state, r.error) for r in rows]
    # One object per completed request, under its task id, and nothing else.
    keys = await listing(s3, f"{bucket}/{PREFIX}")
    assert len(keys) == len(completed)
    assert keys == sorted(f"{bucket}/{PREFIX}/{r.task_id}.mp4" for r in completed)
    for key in keys:
        body = await s3._cat_file(key)
        assert whole_mp4(body), (key, len(body), body[:16])
    # Every result a worker yielded as a success names an object that exists.
    for _, line in yielded(outs):
        if line["ok"]:
            assert line["task_id"]
            assert f"{bucket}/{PREFIX}/{line['task_id']}.mp4" in keys
    # Nothing created twice.
    assert stats["creates_by_body"], "nothing was created"
    assert set(stats["creates_by_body"].values()) == {1}
