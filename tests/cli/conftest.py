"""Running `luma-async` in-process (in a worker thread) or as a subprocess, against the emulator."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from luma_async.cli import main
from luma_async.emulator import Emulator

from ..conftest import KEY

ROOT = Path(__file__).resolve().parents[2]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Run:
    """What one `luma-async` run gave: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout as the one JSON document `--json` promises."""
        return json.loads(self.out)

    @property
    def plain_err(self) -> str:
        """stderr without terminal escape codes."""
        return _ANSI.sub("", self.err)


RunCli = Callable[..., Awaitable[Run]]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LUMA_* from the developer's shell, and a wide terminal so lines never wrap."""
    for name in ("LUMA_BASE_URL", "LUMA_API_KEY", "LUMA_DIALECT", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """`await cli("status", "ID", ...)`: `main(argv)` in a worker thread, output captured."""

    async def run(*argv: str) -> Run:
        capsys.readouterr()
        code = await anyio.to_thread.run_sync(main, list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def gateway(emu: Emulator) -> list[str]:
    """The flags that point the CLI at `emu`."""
    return ["--base-url", emu.base_url, "--api-key", KEY, "--dialect", emu.config.dialect]


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for `python -m luma_async.cli` from this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


CLI = [sys.executable, "-m", "luma_async.cli"]
