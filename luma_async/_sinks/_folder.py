"""A local folder: a temporary file beside the target, fsync, then an atomic rename."""

from __future__ import annotations

import os
import pathlib
import secrets

import anyio
from anyio import AsyncFile

from ._names import check_name

__all__ = ["FolderSink", "FolderWriter"]


class FolderWriter:
    """One file being written to `.<name>.<random>.part`, renamed to `name` on commit."""

    def __init__(self, path: pathlib.Path, out: AsyncFile[bytes], temp: pathlib.Path) -> None:
        self.path = path
        self.written = 0
        self._out = out
        self._temp = temp
        self._done = False

    async def write(self, chunk: bytes) -> None:
        """Append `chunk` to the temporary file."""
        await self._out.write(chunk)
        self.written += len(chunk)

    async def restart(self) -> None:
        """Empty the temporary file."""
        await self._out.seek(0)
        await self._out.truncate()
        self.written = 0

    async def commit(self) -> str:
        """fsync, then rename into place (atomic: the old file or the whole new one)."""
        try:
            await self._out.flush()
            await anyio.to_thread.run_sync(os.fsync, self._out.wrapped.fileno())
            await self._out.aclose()
            await anyio.Path(self._temp).replace(self.path)
        except BaseException:
            await self.abort()
            raise
        self._done = True
        return str(self.path)

    async def abort(self) -> None:
        """Close and delete the temporary file."""
        if self._done:
            return
        self._done = True
        with anyio.CancelScope(shield=True):
            await self._out.aclose()
            await anyio.Path(self._temp).unlink(missing_ok=True)


class FolderSink:
    """Downloads into a local folder (made on first use)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = pathlib.Path(folder)
        self.url = str(self.folder)

    def __repr__(self) -> str:
        return f"FolderSink({self.url!r})"

    def location(self, name: str) -> str:
        """The final path of `name`."""
        return str(self.folder / check_name(name))

    async def open(self, name: str) -> FolderWriter:
        """A temporary file beside where `name` will be."""
        path = pathlib.Path(self.location(name))
        await anyio.Path(self.folder).mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        out = await anyio.open_file(temp, "wb")
        return FolderWriter(path, out, temp)

    async def close(self) -> None:
        """Nothing to let go of."""
