"""Where downloads go: a local folder (the default) or an object store (`s3://bucket/prefix`).

A sink hands out one writer per file. The download writes the bytes into it as they come,
and calls `commit()` only after the whole file arrived and passed its size and content
checks; anything else ends in `abort()`. Nothing ever appears under the final name unless it
is complete: a folder gets a temporary file renamed into place, an object store a multipart
upload completed only on commit.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from ._folder import FolderSink

__all__ = ["FolderSink", "Sink", "SinkWriter", "open_sink"]


class SinkWriter(Protocol):
    """One file on its way to the sink."""

    #: Bytes written since the start (or the last `restart()`).
    written: int

    async def write(self, chunk: bytes) -> None:
        """Append `chunk` (a failure of the destination raises `OSError`)."""

    async def restart(self) -> None:
        """Drop everything written: the file starts over (the server ignored a `Range`)."""

    async def commit(self) -> str:
        """Make the file visible under its final name; returns where it is (path or URL)."""

    async def abort(self) -> None:
        """Drop the file; nothing is left under its final name. Safe to call twice."""


class Sink(Protocol):
    """A download destination: a folder or an object-store prefix."""

    #: The destination as given, without credentials (for messages and `journal show`).
    url: str

    def location(self, name: str) -> str:
        """Where a file named `name` ends up once committed."""

    async def open(self, name: str) -> SinkWriter:
        """A writer for the file `name` (a plain file name, no folders)."""

    async def close(self) -> None:
        """Let go of connections (writers must be committed or aborted first)."""


def open_sink(
    destination: str | os.PathLike[str], *, options: dict[str, Any] | None = None
) -> Sink:
    """The sink for `download_to=`: an `s3://` URL is an object store (extra `s3`; `options`
    go to `s3fs.S3FileSystem`, credentials come from the usual AWS sources), anything else a
    local folder."""
    text = os.fspath(destination)
    if isinstance(text, str) and "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme in ("s3", "s3a"):
            from ._s3 import S3Sink

            return S3Sink(text, options=options)
        if scheme != "file":
            raise ValueError(
                f"download_to={text!r}: no sink for {scheme}:// (supported: a folder, s3://)"
            )
        text = text.split("://", 1)[1]
    return FolderSink(text)
