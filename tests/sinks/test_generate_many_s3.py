"""`generate_many(download_to="s3://...")`: whole, valid objects only; a refusing bucket
gives each job its error and keeps the video link in the journal."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from luma_async._stores import make_store

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


@pytest.fixture
def endpoint(s3_endpoint: str, s3_credentials: None, monkeypatch: pytest.MonkeyPatch) -> str:
    """The S3 server, found the way botocore finds any endpoint (no luma_async option)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    return s3_endpoint


async def test_every_object_is_whole_and_valid(
    endpoint: str, s3: Any, emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    emu = await emulator("anyapi")
    c = await client(emu)
    await s3._mkdir("videos")
    prompts = [f"bucket scene {i}" for i in range(6)]
    async with c.generate_many(
        prompts, download_to="s3://videos/run1", journal=tmp_path / "j.db", interval=0.05
    ) as out:
        results = [r async for r in out]
    assert all(r.ok for r in results), [repr(r.error) for r in results]
    assert all(r.path is None for r in results)
    keys = sorted(await s3._ls("videos/run1", detail=False))
    assert sorted(f"videos/run1/{r.generation.id}.mp4" for r in results if r.generation) == keys
    assert {r.location for r in results} == {f"s3://{k}" for k in keys}
    for key in keys:
        body = await s3._cat_file(key)
        assert body[4:8] == b"ftyp"  # an MP4, from its first box
        assert b"moov" in body  # with its sample table: the whole file
    assert emu.stats.creations == 6


async def test_a_bucket_that_refuses_writes_leaves_the_link_in_the_journal(
    endpoint: str, s3: Any, emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    emu = await emulator("anyapi")
    c = await client(emu)
    journal = tmp_path / "j.db"
    async with c.generate_many(
        ["no bucket 0", "no bucket 1"], download_to="s3://no-such-bucket/x", journal=journal
    ) as out:
        results = [r async for r in out]
    assert all(isinstance(r.error, OSError) for r in results)
    assert all(r.generation is not None and r.generation.ok for r in results)
    reader = make_store(journal, reader=True)
    await reader.open()
    try:
        rows = await reader.rows()
    finally:
        await reader.close()
    assert [r.state for r in rows] == ["failed", "failed"]
    assert all(r.url and r.task_id and r.error for r in rows)
