"""Helpers for driving the emulator with a plain aiohttp session over real sockets."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from luma_async.emulator import Emulator, EmulatorConfig

KEY = "test-key"
RELAY = ("anyapi", "rixapi", "xfusion", "gptge")
ISO_MICROS = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"
_UNSET: Any = object()


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        """Start at an arbitrary time."""
        self.now = start

    def __call__(self) -> float:
        """The current time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@dataclass
class Reply:
    """One HTTP answer: status, parsed JSON (or None), raw text, headers."""

    status: int
    body: Any
    text: str
    headers: Mapping[str, str]


class Api:
    """A thin wrapper over an aiohttp session aimed at one emulator."""

    def __init__(self, emu: Emulator, session: aiohttp.ClientSession) -> None:
        """Bind the emulator and the session."""
        self.emu = emu
        self.session = session

    async def call(
        self,
        method: str,
        path: str,
        body: Any = _UNSET,
        *,
        token: str | None = KEY,
        data: bytes | io.BytesIO | None = None,
        headers: Mapping[str, str] | None = None,
        limit: float | None = None,
    ) -> Reply:
        """Send a request to base_url + path (or an absolute URL) and read the whole answer."""
        url = path if path.startswith("http") else self.emu.base_url + path
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": sent}
        if body is not _UNSET:
            kwargs["json"] = body
        if data is not None:
            kwargs["data"] = data
        if limit is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=limit)
        async with self.session.request(method, url, **kwargs) as resp:
            raw = await resp.read()
            text = raw.decode("utf-8", "replace")
            try:
                parsed = json.loads(text) if text else None
            except json.JSONDecodeError:
                parsed = None
            return Reply(resp.status, parsed, text, dict(resp.headers))

    async def get(self, path: str, **kwargs: Any) -> Reply:
        """GET."""
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, body: Any = _UNSET, **kwargs: Any) -> Reply:
        """POST a JSON body."""
        return await self.call("POST", path, body, **kwargs)

    async def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Reply:
        """GET a CDN URL with no Authorization header, as a correct client does."""
        return await self.call("GET", url, token=None, headers=headers)


@asynccontextmanager
async def serve(**config: Any) -> AsyncIterator[Api]:
    """Start an emulator with these config fields and a session to talk to it."""
    async with Emulator(EmulatorConfig(**config)) as emu, aiohttp.ClientSession() as session:
        yield Api(emu, session)


def prompt_body(dialect: str, prompt: str = "a cat dancing", **extra: Any) -> dict[str, Any]:
    """The smallest valid submit body of a dialect."""
    if dialect == "official":
        return {"prompt": prompt, "model": "ray-2", **extra}
    if dialect == "rixapi":
        return {"prompt": prompt, "aspect_ratio": "16:9", **extra}
    return {"user_prompt": prompt, **extra}


def submit_path(dialect: str) -> str:
    """The submit route under base_url."""
    return "/generations/video" if dialect == "official" else "/luma/generations"


def get_path(dialect: str, task_id: str) -> str:
    """The single-query route under base_url."""
    return f"/generations/{task_id}" if dialect == "official" else f"/luma/generations/{task_id}"


def fast(**config: Any) -> dict[str, Any]:
    """Config fields for tasks that take exactly 1 s queued and 2 s processing."""
    return {"queue_seconds": (1.0, 1.0), "run_seconds": (2.0, 2.0), **config}
