"""Streaming a video to disk without ever leaving a partial file under its final name.

A temporary file beside the target, fsync, then an atomic rename. A dropped connection is
resumed with `Range`; an expired link is refreshed once; the bytes must look like an MP4 and
stay under a size cap.
"""

from __future__ import annotations

import os
import pathlib
import re
import secrets
from collections.abc import Awaitable, Callable

import anyio
from anyio import AsyncFile

from ._errors import ProtocolError, TransportError
from ._transport import Transport

__all__ = ["MAX_DOWNLOAD_BYTES", "download_to", "safe_filename", "target_path"]

#: No Luma video comes near this; a bigger answer is not the video we asked for.
MAX_DOWNLOAD_BYTES = 4 * 1024**3
#: Tries for one download when the connection drops mid-way (each resumes where it stopped).
_RESUMES = 4
#: ISO base-media files (MP4) start with a box whose type is one of these.
_MP4_BOXES = (b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")

Refresh = Callable[[], Awaitable[str]]


def safe_filename(task_id: str, suffix: str = ".mp4") -> str:
    """A file name from a task id that cannot leave its folder (`../../x` -> `x`)."""
    name = _UNSAFE.sub("_", task_id).strip("._")[:200]
    return (name or "video") + suffix


def target_path(dest: str | os.PathLike[str], task_id: str) -> pathlib.Path:
    """`dest` itself, or `<dest>/<task id>.mp4` when `dest` is a folder (or ends with a /)."""
    path = pathlib.Path(dest)
    if path.is_dir() or str(dest).endswith(("/", os.sep)):
        return path / safe_filename(task_id)
    return path


class _Sink:
    """The temporary file, what has been written to it, and its first bytes for a sniff."""

    def __init__(self, out: AsyncFile[bytes], max_bytes: int) -> None:
        self.out = out
        self.max_bytes = max_bytes
        self.written = 0
        self.total: int | None = None
        self.head = b""

    async def restart(self) -> None:
        await self.out.seek(0)
        await self.out.truncate()
        self.written = 0
        self.head = b""

    async def write(self, chunk: bytes) -> None:
        if len(self.head) < 8:
            self.head += chunk[: 8 - len(self.head)]
            if len(self.head) == 8 and self.head[4:8] not in _MP4_BOXES:
                raise ProtocolError(f"not an MP4 file (it starts {self.head!r})")
        self.written += len(chunk)
        if self.written > self.max_bytes:
            raise ProtocolError(f"download larger than {self.max_bytes} bytes")
        await self.out.write(chunk)


def _fits(status: int, headers: dict[str, str], sink: _Sink) -> bool:
    """True when the answer continues the file where it stands (else start over from 0).

    Also learns the full size, from Content-Range on a 206 or Content-Length on a 200.
    """
    if status == 206:
        match = _CONTENT_RANGE.fullmatch(headers.get("content-range", "").strip())
        if match is None:
            raise ProtocolError("download answered 206 without a usable Content-Range")
        if match.group(3) != "*":
            sink.total = int(match.group(3))
        return int(match.group(1)) == sink.written
    length = headers.get("content-length", "")
    sink.total = int(length) if length.isdigit() else None
    return sink.written == 0


async def _fetch(transport: Transport, url: str, sink: _Sink, refresh: Refresh | None) -> None:
    refreshed = False
    for attempt in range(_RESUMES + 1):
        ranged = {"Range": f"bytes={sink.written}-"} if sink.written else None
        expired = False
        try:
            async with transport.stream(url, headers=ranged) as (status, headers, chunks):
                expired = status in (401, 403, 410) and refresh is not None and not refreshed
                if not expired:
                    if status not in (200, 206):
                        raise ProtocolError(f"download answered HTTP {status}", status=status)
                    if not _fits(status, headers, sink):
                        await sink.restart()  # the server ignored our Range: take it whole
                        if status == 206:
                            continue
                    async for chunk in chunks:
                        await sink.write(chunk)
        except TransportError:
            if attempt == _RESUMES:
                raise
            continue  # dropped mid-way: resume with Range where we stopped
        if expired:
            # A presigned link that expired: ask for a fresh one, once, with the connection
            # given back (the refresh is an API request of its own).
            refreshed = True
            url = await refresh() if refresh is not None else url
            continue
        if sink.total is None or sink.written == sink.total:
            return
    raise TransportError(f"download cut short: {sink.written} of {sink.total} bytes")


async def download_to(
    transport: Transport,
    url: str,
    path: pathlib.Path,
    *,
    refresh: Refresh | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> pathlib.Path:
    """Stream `url` into `path` through a temporary file beside it, then rename into place."""
    await anyio.Path(path.parent).mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        async with await anyio.open_file(temp, "wb") as out:
            sink = _Sink(out, max_bytes)
            await _fetch(transport, url, sink, refresh)
            if len(sink.head) < 8:
                raise ProtocolError(f"not an MP4 file ({sink.written} bytes)")
            await out.flush()
            await anyio.to_thread.run_sync(os.fsync, out.wrapped.fileno())
        await anyio.Path(temp).replace(path)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.Path(temp).unlink(missing_ok=True)
        raise
    return path
