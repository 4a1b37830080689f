"""Download sinks: nothing under the final name unless complete, errors said plainly."""

from __future__ import annotations

import logging
import pathlib
import secrets
from typing import Any

import pytest

from luma_async._sinks import FolderSink, open_sink
from luma_async._sinks._s3 import MIN_PART, S3Sink

from .conftest import SECRET

pytestmark = pytest.mark.anyio


async def test_a_folder_gets_the_file_only_on_commit(tmp_path: pathlib.Path) -> None:
    """Until commit only a hidden temporary file exists; commit renames it into place."""
    sink = open_sink(tmp_path / "out")
    assert isinstance(sink, FolderSink)
    writer = await sink.open("task-1.mp4")
    await writer.write(b"wrong start")
    await writer.restart()
    await writer.write(b"abc")
    await writer.write(b"def")
    assert writer.written == 6
    assert not (tmp_path / "out" / "task-1.mp4").exists()
    assert await writer.commit() == str(tmp_path / "out" / "task-1.mp4")
    assert (tmp_path / "out" / "task-1.mp4").read_bytes() == b"abcdef"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["task-1.mp4"]


async def test_a_folder_abort_leaves_nothing(tmp_path: pathlib.Path) -> None:
    """Aborted: no final file, no temporary file; aborting twice is harmless."""
    sink = open_sink(str(tmp_path))
    writer = await sink.open("x.mp4")
    await writer.write(b"partial")
    await writer.abort()
    await writer.abort()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "..", "a/b.mp4", "../x.mp4", "a\\b"])
async def test_names_cannot_leave_the_destination(tmp_path: pathlib.Path, name: str) -> None:
    """A name with folder parts is refused before anything is written."""
    with pytest.raises(ValueError, match="plain file name"):
        await open_sink(tmp_path).open(name)


def test_an_unknown_scheme_is_refused() -> None:
    """A URL we have no sink for is a clear error, not a folder named `gs:`."""
    with pytest.raises(ValueError, match=r"no sink for gs://"):
        open_sink("gs://bucket/prefix")
    with pytest.raises(ValueError, match="no bucket"):
        open_sink("s3:///prefix")


async def make_bucket(s3: Any) -> str:
    """A fresh bucket."""
    bucket = f"videos-{secrets.token_hex(4)}"
    await s3._call_s3("create_bucket", Bucket=bucket)
    return bucket


async def exists(s3: Any, bucket: str, key: str) -> bool:
    """True when an object is under `key`."""
    try:
        await s3._call_s3("head_object", Bucket=bucket, Key=key)
    except FileNotFoundError:
        return False
    return True


async def test_s3_small_file_appears_whole_on_commit(s3: Any, s3_endpoint: str) -> None:
    """Below one part: nothing is sent until commit, then one PUT."""
    bucket = await make_bucket(s3)
    sink = open_sink(f"s3://{bucket}/runs/a", options={"endpoint_url": s3_endpoint})
    try:
        writer = await sink.open("t1.mp4")
        await writer.write(b"\x00\x00\x00\x18ftypmp42" + b"x" * 1000)
        assert not await exists(s3, bucket, "runs/a/t1.mp4")
        assert await writer.commit() == f"s3://{bucket}/runs/a/t1.mp4"
    finally:
        await sink.close()
    body = await s3._cat_file(f"{bucket}/runs/a/t1.mp4")
    assert body == b"\x00\x00\x00\x18ftypmp42" + b"x" * 1000


async def test_s3_multipart_completes_only_on_commit(
    s3: Any, s3_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Parts go up as they fill; the object appears only when the upload completes; no
    credential is ever logged."""
    caplog.set_level(logging.DEBUG)
    bucket = await make_bucket(s3)
    sink = S3Sink(f"s3://{bucket}/p", options={"endpoint_url": s3_endpoint}, part_size=MIN_PART)
    data = secrets.token_bytes(2 * MIN_PART + 1234)
    try:
        writer = await sink.open("big.mp4")
        for start in range(0, len(data), 1 << 20):
            await writer.write(data[start : start + (1 << 20)])
        uploads = await s3._call_s3("list_multipart_uploads", Bucket=bucket)
        assert len(uploads.get("Uploads", [])) == 1  # two parts are up already
        assert not await exists(s3, bucket, "p/big.mp4")
        await writer.commit()
    finally:
        await sink.close()
    assert await s3._cat_file(f"{bucket}/p/big.mp4") == data
    assert SECRET not in caplog.text
    assert SECRET not in repr(sink)


async def test_s3_abort_leaves_no_object_and_no_upload(s3: Any, s3_endpoint: str) -> None:
    """Aborted after parts went up: no object under the final key, the upload is gone."""
    bucket = await make_bucket(s3)
    sink = S3Sink(f"s3://{bucket}", options={"endpoint_url": s3_endpoint}, part_size=MIN_PART)
    try:
        writer = await sink.open("cut.mp4")
        await writer.write(secrets.token_bytes(MIN_PART + 10))
        await writer.abort()
        await writer.abort()
    finally:
        await sink.close()
    assert not await exists(s3, bucket, "cut.mp4")
    uploads = await s3._call_s3("list_multipart_uploads", Bucket=bucket)
    assert uploads.get("Uploads", []) == []


async def test_s3_restart_starts_the_object_over(s3: Any, s3_endpoint: str) -> None:
    """A restart drops the parts sent so far: the object holds only what came after."""
    bucket = await make_bucket(s3)
    sink = S3Sink(f"s3://{bucket}", options={"endpoint_url": s3_endpoint}, part_size=MIN_PART)
    data = secrets.token_bytes(MIN_PART + 5)
    try:
        writer = await sink.open("again.mp4")
        await writer.write(secrets.token_bytes(MIN_PART + 1))
        await writer.restart()
        await writer.write(data)
        await writer.commit()
    finally:
        await sink.close()
    assert await s3._cat_file(f"{bucket}/again.mp4") == data


async def test_a_bucket_that_refuses_writes_is_a_clear_error(s3: Any, s3_endpoint: str) -> None:
    """A missing bucket: an OSError naming the object and what was refused, nothing left."""
    sink = open_sink("s3://no-such-bucket-here/v", options={"endpoint_url": s3_endpoint})
    try:
        writer = await sink.open("t.mp4")
        await writer.write(b"data")
        with pytest.raises(FileNotFoundError, match=r"s3://no-such-bucket-here/v/t.mp4: writing"):
            await writer.commit()
        big = S3Sink("s3://no-such-bucket-here", options={"endpoint_url": s3_endpoint})
        try:
            writer = await big.open("t.mp4")
            with pytest.raises(OSError, match="starting an upload refused"):
                await writer.write(secrets.token_bytes(big.part_size))
            await writer.abort()
        finally:
            await big.close()
    finally:
        await sink.close()


async def test_a_folder_that_cannot_be_made_is_an_os_error(tmp_path: pathlib.Path) -> None:
    """download_to under a file: the OSError names the place; nothing is written."""
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(OSError, match="file"):
        await open_sink(tmp_path / "file" / "videos").open("a.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
