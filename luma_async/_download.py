"""Streaming a video or image to disk without ever leaving a partial file under its final name.

A temporary file beside the target, fsync, then an atomic move into place that never replaces
an existing file unless asked to. A dropped connection or a CDN 5xx is retried with jittered
backoff and resumed with `Range`; an expired link is refreshed once; the bytes must look like
the kind asked for (MP4, or JPEG/PNG) and stay under a size cap.
"""

from __future__ import annotations

import errno
import os
import pathlib
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

import anyio
from anyio import AsyncFile

from ._errors import ProtocolError, RateLimitError, ServerError, TransportError
from ._http import parse_retry_after
from ._retry import RetryPolicy, retry_delay
from ._sinks import Sink
from ._transport import Transport

__all__ = [
    "DOWNLOAD_RETRY",
    "MAX_DOWNLOAD_BYTES",
    "Media",
    "download_into",
    "download_to",
    "is_folder",
    "safe_filename",
    "target_path",
]

#: No Luma video comes near this; a bigger answer is not the file we asked for.
MAX_DOWNLOAD_BYTES = 4 * 1024**3
#: Tries for one download after the first, when the connection drops or the CDN answers a
#: transient error (each try resumes where the last one stopped).
_RESUMES = 4
#: The backoff between those tries, when the caller gives none.
DOWNLOAD_RETRY = RetryPolicy(max_tries=_RESUMES + 1, max_time=120.0, base=0.5, cap=8.0)
#: CDN answers worth another try: overload, a gateway in front timing out, throttling.
_TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
#: ISO base-media files (MP4) start with a box whose type is one of these.
_MP4_BOXES = (b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide")

Media = Literal["video", "image"]
_SUFFIXES = {"mp4": ".mp4", "jpeg": ".jpg", "png": ".png"}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")

Refresh = Callable[[], Awaitable[str]]
Sleep = Callable[[float], Awaitable[None]]


def safe_filename(task_id: str, suffix: str = ".mp4") -> str:
    """A file name from a task id that cannot leave its folder (`../../x` -> `x`)."""
    name = _UNSAFE.sub("_", task_id).strip("._")[:200]
    return (name or "video") + suffix


def is_folder(dest: str | os.PathLike[str]) -> bool:
    """True when `dest` names a folder: it is one already, or it ends with a separator."""
    text = os.fspath(dest)
    return pathlib.Path(text).is_dir() or text.endswith(("/", os.sep))


def target_path(dest: str | os.PathLike[str], task_id: str, suffix: str = ".mp4") -> pathlib.Path:
    """`dest` itself, or `<dest>/<task id><suffix>` when `dest` is a folder (`is_folder`)."""
    path = pathlib.Path(dest)
    if is_folder(dest):
        return path / safe_filename(task_id, suffix)
    return path


def _sniff(head: bytes) -> str | None:
    """ "mp4", "jpeg" or "png" from a file's first eight bytes, or None."""
    if head[4:8] in _MP4_BOXES:
        return "mp4"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def _guess_suffix(url: str, media: Media) -> str:
    """The suffix a file will most likely get, for the early existence check."""
    if media == "video":
        return ".mp4"
    return ".png" if url.split("?", 1)[0].lower().endswith(".png") else ".jpg"


class _Out(Protocol):
    """Where the bytes go: a temporary file, or a sink's writer (an object store)."""

    async def write(self, chunk: bytes) -> object:
        """Append `chunk`."""

    async def restart(self) -> None:
        """Drop what was written."""


class _FileOut:
    """A temporary file as an `_Out`."""

    def __init__(self, file: AsyncFile[bytes]) -> None:
        self.file = file

    async def write(self, chunk: bytes) -> None:
        await self.file.write(chunk)

    async def restart(self) -> None:
        await self.file.seek(0)
        await self.file.truncate()


class _Sink:
    """The temporary file, what has been written to it, and its first bytes for a sniff."""

    def __init__(self, out: _Out, max_bytes: int, media: Media) -> None:
        self.out = out
        self.max_bytes = max_bytes
        self.media = media
        self.written = 0
        self.total: int | None = None
        self.head = b""
        self.format: str | None = None

    async def restart(self) -> None:
        await self.out.restart()
        self.written = 0
        self.head = b""

    async def write(self, chunk: bytes) -> None:
        if len(self.head) < 8:
            self.head += chunk[: 8 - len(self.head)]
            if len(self.head) == 8:
                self.check()
        self.written += len(chunk)
        if self.written > self.max_bytes:
            raise ProtocolError(f"download larger than {self.max_bytes} bytes")
        await self.out.write(chunk)

    def check(self) -> None:
        """The file must be the kind asked for: an MP4 video, a JPEG or PNG image."""
        found = _sniff(self.head) if len(self.head) == 8 else None
        if self.media == "video" and found != "mp4":
            raise ProtocolError(f"not an MP4 file (it starts {self.head!r})")
        if self.media == "image" and found not in ("jpeg", "png"):
            raise ProtocolError(f"not a JPEG or PNG image (it starts {self.head!r})")
        self.format = found


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


async def _fetch(
    transport: Transport,
    url: str,
    sink: _Sink,
    refresh: Refresh | None,
    retry: RetryPolicy,
    sleep: Sleep,
) -> None:
    refreshed = False
    failures = 0
    for _attempt in range(2 * (_RESUMES + 1)):  # bounded: each pass below fails, or ends
        ranged = {"Range": f"bytes={sink.written}-"} if sink.written else None
        expired = False
        wait: float | None = None
        failure: Exception | None = None
        try:
            async with transport.stream(url, headers=ranged) as (status, headers, chunks):
                expired = status in (401, 403, 410) and refresh is not None and not refreshed
                if status in _TRANSIENT:
                    wait = parse_retry_after(headers.get("retry-after"))
                    message = f"download answered HTTP {status}"
                    failure = (
                        RateLimitError(message, status=status, retry_after=wait)
                        if status == 429
                        else ServerError(message, status=status)
                    )
                elif not expired:
                    if status not in (200, 206):
                        raise ProtocolError(f"download answered HTTP {status}", status=status)
                    if not _fits(status, headers, sink):
                        await sink.restart()  # the server ignored our Range: take it whole
                        if status == 206:
                            continue
                    async for chunk in chunks:
                        await sink.write(chunk)
        except TransportError as exc:
            failure = exc  # dropped mid-way: resume with Range where we stopped
        if failure is not None:
            failures += 1
            delay = retry_delay(failures, retry, retry_after=wait)
            # A Retry-After beyond the whole retry budget: give up now rather than hang.
            if failures > _RESUMES or delay > retry.max_time:
                raise failure
            # Backoff, not at once: a CDN that just cut or refused is often still busy.
            await sleep(delay)
            continue
        if expired:
            # A presigned link that expired: ask for a fresh one, once, with the connection
            # given back (the refresh is an API request of its own).
            refreshed = True
            url = await refresh() if refresh is not None else url
            continue
        if sink.total is None or sink.written == sink.total:
            return
        failures += 1  # the body ended early without an error: resume like a cut
        if failures > _RESUMES:
            break
        await sleep(retry_delay(failures, retry))
    raise TransportError(f"download cut short: {sink.written} of {sink.total} bytes")


def _place(temp: pathlib.Path, final: pathlib.Path, overwrite: bool) -> None:
    """Move the finished file into place; without `overwrite`, never over an existing one."""
    if overwrite:
        os.replace(temp, final)
        return
    try:
        # A hard link fails if the name is taken: the check and the move are one step.
        os.link(temp, final)
    except FileExistsError:
        raise _exists(final) from None
    except OSError:
        # No hard links on this file system: check, then move (a narrow race remains).
        if final.exists():
            raise _exists(final) from None
        os.replace(temp, final)
        return
    temp.unlink()


def _exists(path: pathlib.Path) -> FileExistsError:
    return FileExistsError(
        errno.EEXIST, f"{path} exists; pass overwrite=True to replace it", str(path)
    )


async def download_to(
    transport: Transport,
    url: str,
    path: pathlib.Path,
    *,
    name: str | None = None,
    media: Media = "video",
    overwrite: bool = True,
    refresh: Refresh | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    retry: RetryPolicy = DOWNLOAD_RETRY,
    sleep: Sleep = anyio.sleep,
) -> pathlib.Path:
    """Stream `url` into `path` through a temporary file beside it, then move it into place.

    With `name` (a task id), `path` is a folder and the file is `<name>.mp4`, `.jpg` or `.png`
    as its content says. Without `overwrite`, an existing file is kept (`FileExistsError`,
    checked before and again when the file is moved into place).
    """
    folder = path if name is not None else path.parent
    guess = path / safe_filename(name, _guess_suffix(url, media)) if name is not None else path
    if not overwrite and guess.exists():
        raise _exists(guess)
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    temp = folder / f".{guess.name}.{secrets.token_hex(4)}.part"
    try:
        async with await anyio.open_file(temp, "wb") as out:
            sink = _Sink(_FileOut(out), max_bytes, media)
            await _fetch(transport, url, sink, refresh, retry, sleep)
            if sink.format is None:
                sink.check()  # fewer than eight bytes, or never sniffed
            await out.flush()
            await anyio.to_thread.run_sync(os.fsync, out.wrapped.fileno())
        final = guess
        if name is not None:
            final = path / safe_filename(name, _SUFFIXES[sink.format or "mp4"])
        await anyio.to_thread.run_sync(_place, temp, final, overwrite)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.Path(temp).unlink(missing_ok=True)
        raise
    return final


async def download_into(
    transport: Transport,
    url: str,
    destination: Sink,
    name: str,
    *,
    media: Media = "video",
    refresh: Refresh | None = None,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    retry: RetryPolicy = DOWNLOAD_RETRY,
    sleep: Sleep = anyio.sleep,
) -> str:
    """Stream `url` into `destination` (a folder or an object-store prefix) as
    `<name>.<suffix>`, committed only once whole and of the right kind; where it is now.

    Streamed part by part (no full local copy); the suffix is the link's guess (`.mp4` for
    a video), since an object's key is chosen before its first byte arrives.
    """
    writer = await destination.open(safe_filename(name, _guess_suffix(url, media)))
    try:
        sink = _Sink(writer, max_bytes, media)
        await _fetch(transport, url, sink, refresh, retry, sleep)
        if sink.format is None:
            sink.check()  # fewer than eight bytes, or never sniffed
        return await writer.commit()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await writer.abort()
        raise
