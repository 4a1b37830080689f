"""Remembered timing: how long tasks took, per gateway and kind, kept between runs.

A small JSON file in the user cache directory holds the latest lifetimes of finished tasks
under keys such as ``api.example.com|anyapi|video|ray-2|720p|5s`` (gateway host without port,
dialect, operation, model, resolution, duration) and one overall key per gateway
(``api.example.com|anyapi|*``). The schedule is seeded from it, so that the first look at a new
task comes when tasks like it start finishing, from the first task of a run on.

Nothing secret goes in: no key, no prompt, no task id. The file is bounded (lifetimes per key,
keys per file), written atomically (a temporary file, then `os.replace`) under a lock file, so
that several processes can share it; an unreadable or corrupt file is ignored with a DEBUG line.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pathlib
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import urlsplit

import anyio
import msgspec

if TYPE_CHECKING:
    from ._schedule import Schedule

__all__ = [
    "ENV_VAR",
    "MAX_KEYS",
    "PER_KEY",
    "Timing",
    "TimingCache",
    "TimingCacheOption",
    "default_path",
    "kind_key",
]

logger = logging.getLogger("luma_async")

#: What `LumaClient(timing_cache=...)` takes: None/True = the default place, False = off, a path.
TimingCacheOption: TypeAlias = bool | str | os.PathLike[str] | None
#: Set to "off" (or "0", "false") to turn the default cache off, e.g. in a test suite; any
#: other value is the path of the file to use instead of the default one.
ENV_VAR = "LUMA_ASYNC_TIMING_CACHE"
#: Lifetimes kept per key (the newest), and keys kept per file (the most recently updated).
PER_KEY = 300
MAX_KEYS = 200
_OFF = frozenset({"off", "0", "false", "no", ""})


class _Entry(msgspec.Struct):
    t: float  # when the key was last updated (epoch seconds): the least recent goes first
    l: list[float]  # noqa: E741 - short on purpose: the file holds thousands of these


class _File(msgspec.Struct):
    v: int
    kinds: dict[str, _Entry]


_VERSION = 1
_decoder = msgspec.json.Decoder(_File)
_encoder = msgspec.json.Encoder()


def default_path() -> pathlib.Path:
    """The file in the user cache directory (platformdirs)."""
    import platformdirs

    return pathlib.Path(platformdirs.user_cache_dir("luma_async")) / "timing.json"


def kind_key(
    base_url: str,
    dialect: str,
    operation: str = "*",
    model: object = None,
    resolution: object = None,
    duration: object = None,
) -> str:
    """The key lifetimes are kept under; ``operation="*"`` is the gateway's overall record."""
    host = (urlsplit(base_url).hostname or base_url).lower()
    if operation == "*":
        return f"{host}|{dialect}|*"
    parts = (model, resolution, duration)
    return "|".join([host, dialect, operation, *("" if p is None else str(p) for p in parts)])


@contextlib.contextmanager
def _locked(path: pathlib.Path) -> Iterator[None]:
    """An exclusive lock on `path` + ".lock", across processes."""
    lock = path.with_name(path.name + ".lock")
    with open(lock, "a+b") as handle:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class TimingCache:
    """The file: load what it holds, merge new lifetimes in. Blocking: run in a thread."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = pathlib.Path(path)
        #: The last load and the file's (mtime, size) then: a client that opens a poll per
        #: task (`wait` in a service) reads and decodes the file only when it changed.
        self._loaded: tuple[tuple[int, int], dict[str, list[float]]] | None = None

    def __repr__(self) -> str:
        return f"TimingCache({str(self.path)!r})"

    def load(self) -> dict[str, list[float]]:
        """Lifetimes per key; {} when the file is missing, unreadable or corrupt."""
        try:
            stat = self.path.stat()
        except OSError:
            return {}
        version = (stat.st_mtime_ns, stat.st_size)
        if self._loaded is not None and self._loaded[0] == version:
            return self._loaded[1]
        kinds = {key: entry.l for key, entry in self._read().items()}
        self._loaded = (version, kinds)
        return kinds

    def _read(self) -> dict[str, _Entry]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            logger.debug("timing cache %s unreadable, ignored: %s", self.path, exc)
            return {}
        try:
            decoded = _decoder.decode(data)
        except msgspec.DecodeError as exc:
            logger.debug("timing cache %s corrupt, ignored: %s", self.path, exc)
            return {}
        if decoded.v != _VERSION:
            logger.debug("timing cache %s has version %s, ignored", self.path, decoded.v)
            return {}
        for entry in decoded.kinds.values():
            entry.l = [x for x in entry.l if math.isfinite(x) and x >= 0][-PER_KEY:]
        return decoded.kinds

    def merge(self, fresh: dict[str, list[float]]) -> None:
        """Add `fresh` lifetimes to what the file holds now (another process may have written)."""
        if not fresh:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _locked(self.path):
                kinds = self._read()
                now = time.time()
                for key, lifetimes in fresh.items():
                    entry = kinds.setdefault(key, _Entry(now, []))
                    entry.t = now
                    entry.l = (entry.l + lifetimes)[-PER_KEY:]
                if len(kinds) > MAX_KEYS:
                    newest = sorted(kinds.items(), key=lambda item: item[1].t)[-MAX_KEYS:]
                    kinds = dict(newest)
                self._write(_encoder.encode(_File(_VERSION, kinds)))
        except OSError as exc:
            logger.debug("timing cache %s not written: %s", self.path, exc)

    def _write(self, data: bytes) -> None:
        fd, temp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)  # readers see the old file or the new one, never half
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise


def resolve(option: TimingCacheOption) -> TimingCache | None:
    """The cache `LumaClient(timing_cache=option)` uses, or None when it is off."""
    if option is False:
        return None
    if option is None or option is True:
        env = os.environ.get(ENV_VAR)
        if env is not None:
            return None if env.strip().lower() in _OFF else TimingCache(env)
        return TimingCache(default_path())
    return TimingCache(option)


class Timing:
    """One poll's link to the cache: its gateway's keys, seeding and remembering."""

    def __init__(self, cache: TimingCache | None, base_url: str, dialect: str) -> None:
        self.cache = cache
        self.base_url = base_url
        self.dialect = dialect
        self.overall = kind_key(base_url, dialect)
        self._prefix = self.overall[:-1]

    def kind_of(self, request: object) -> str:
        """The key of the tasks `request` makes (its operation, model, resolution, duration)."""
        return kind_key(
            self.base_url,
            self.dialect,
            str(getattr(request, "kind", "video")),
            getattr(request, "model", None),
            getattr(request, "resolution", None),
            getattr(request, "duration", None),
        )

    async def seed(self, schedule: Schedule) -> None:
        """Start `schedule` from this gateway's remembered lifetimes."""
        if self.cache is None:
            return
        kinds = await anyio.to_thread.run_sync(self.cache.load)
        for key, lifetimes in kinds.items():
            if key == self.overall:
                schedule.seed(None, lifetimes)
            elif key.startswith(self._prefix):
                schedule.seed(key, lifetimes)

    async def remember(self, schedule: Schedule) -> None:
        """Write the lifetimes `schedule` learnt from tasks of a known kind, and forget them."""
        fresh, schedule.fresh = schedule.fresh, []
        if self.cache is None or not fresh:
            return
        grouped: dict[str, list[float]] = {self.overall: []}
        for key, lifetime in fresh:
            grouped.setdefault(key, []).append(lifetime)
            grouped[self.overall].append(lifetime)
        await anyio.to_thread.run_sync(self.cache.merge, grouped)
