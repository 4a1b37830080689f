"""Streaming a video to disk without ever leaving a partial file under its final name."""

from __future__ import annotations

import os
import pathlib
import re
import secrets

import anyio

from ._errors import ProtocolError, TransportError
from ._transport import Transport

__all__ = ["download_to", "safe_filename", "target_path"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


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


async def download_to(transport: Transport, url: str, path: pathlib.Path) -> pathlib.Path:
    """Stream `url` into `path` through a temporary file beside it, then rename into place."""
    await anyio.Path(path.parent).mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        async with transport.stream(url) as (status, headers, chunks):
            if status != 200:
                raise ProtocolError(f"download answered HTTP {status}", status=status)
            expected = headers.get("content-length")
            written = 0
            async with await anyio.open_file(temp, "wb") as out:
                async for chunk in chunks:
                    await out.write(chunk)
                    written += len(chunk)
                await out.flush()
                await anyio.to_thread.run_sync(os.fsync, out.wrapped.fileno())
        if expected is not None and expected.isdigit() and int(expected) != written:
            raise TransportError(f"download cut short: {written} of {expected} bytes")
        await anyio.Path(temp).replace(path)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.Path(temp).unlink(missing_ok=True)
        raise
    return path
