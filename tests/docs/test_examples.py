"""Every Python block of README.md and docs/*.md runs against the emulator (see blocks.py).

Complete programs run as they stand; fragments run as the file that completes them; pytest
blocks run as a small pytest project. Each runs in a fresh folder holding the files the docs
refer to (painting.png, prompts.txt), in a subprocess with a generous safety timeout.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from ..conftest import KEY, MakeEmulator
from .blocks import ROOT, Block, blocks, missing_lines

pytestmark = pytest.mark.anyio

#: The made-up host of the docs, served by the emulator in this test.
DOCS_HOST = "https://gateway.example"
#: A safety net only: an example that hangs fails instead of stalling CI.
SAFETY_TIMEOUT = 180.0
#: Emulated generations take a few hundredths of their real time.
TIME_SCALE = 0.02
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
ALL = blocks()


@dataclass(frozen=True)
class Runnable:
    """Something the test runs: a program (a block or a completion) or a pytest project."""

    name: str
    kind: str
    files: tuple[tuple[str, str], ...]
    dialect: str


def runnables() -> list[Runnable]:
    """Programs, fragment completions (once each) and pytest projects (one per page)."""
    found: list[Runnable] = []
    completions: dict[str, Block] = {}
    projects: dict[str, list[Block]] = {}
    for block in ALL:
        if block.kind == "program":
            found.append(
                Runnable(block.name, "program", (("example.py", block.code),), block.dialect)
            )
        elif block.kind == "fragment":
            assert block.target is not None
            completions.setdefault(block.target, block)
        else:
            projects.setdefault(block.page, []).append(block)
    for target, block in completions.items():
        code = (ROOT / target).read_text(encoding="utf-8")
        found.append(
            Runnable(
                target,
                "program",
                (("example.py", code),),
                Block(block.page, block.line, code, "program").dialect,
            )
        )
    for page, group in projects.items():
        files = tuple((b.target or "", b.code) for b in group)
        found.append(Runnable(f"{page} (pytest)", "pytest", files, "official"))
    return found


def test_every_block_is_found_and_marked_right() -> None:
    """Blocks exist; fragments name a completion that holds them; pytest blocks name files."""
    assert len(ALL) >= 15
    for block in ALL:
        if block.kind == "fragment":
            assert block.target is not None
            assert block.target.startswith("tests/docs/fragments/"), block.name
            completion = ROOT / block.target
            assert completion.is_file(), f"{block.name}: {block.target} does not exist"
            missing = missing_lines(block.code, completion.read_text(encoding="utf-8"))
            assert missing == [], f"{block.name}: not in {block.target}: {missing}"
        elif block.kind == "pytest":
            assert block.target is not None
            assert block.target.endswith(".py"), block.name
        else:
            compile(block.code, block.name, "exec")  # a complete program at least parses


def test_fragment_completions_are_all_used() -> None:
    """No completion file is left over from a block that is gone."""
    used = {b.target for b in ALL if b.kind == "fragment"}
    present = {str(p.relative_to(ROOT)) for p in (ROOT / "tests/docs/fragments").glob("*.py")}
    assert present == used


def _environment(base_url: str, dialect: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LUMA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(LUMA_BASE_URL=base_url, LUMA_API_KEY=KEY, LUMA_DIALECT=dialect)
    return env


def _workspace(folder: Path) -> None:
    """The files the examples read: an image and a few prompts."""
    (folder / "painting.png").write_bytes(PNG)
    (folder / "prompts.txt").write_text("a red fox\na blue whale\na paper boat\n")


@pytest.mark.parametrize("runnable", runnables(), ids=lambda r: r.name)
async def test_the_example_runs(runnable: Runnable, emulator: MakeEmulator, tmp_path: Path) -> None:
    """Exit 0 against an emulator of the dialect the example names."""
    emu = await emulator(runnable.dialect, time_scale=TIME_SCALE)
    for name, code in runnable.files:
        (tmp_path / name).write_text(code.replace(DOCS_HOST, emu.base_url), encoding="utf-8")
    _workspace(tmp_path)
    if runnable.kind == "pytest":
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    else:
        command = [sys.executable, str(tmp_path / "example.py")]
    with anyio.fail_after(SAFETY_TIMEOUT):
        done = await anyio.run_process(
            command,
            cwd=tmp_path,
            env=_environment(emu.base_url, runnable.dialect),
            check=False,
        )
    output = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 0, f"{runnable.name} exited {done.returncode}:\n{output}"


def test_the_examples_type_check(tmp_path: Path) -> None:
    """`mypy --strict` accepts every example as a reader would paste it."""
    for number, runnable in enumerate(runnables()):
        for name, code in runnable.files:
            target = name if runnable.kind == "pytest" else f"example_{number}.py"
            (tmp_path / target).write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MYPYPATH"] = str(ROOT)  # this checkout's luma_async, whatever else is installed
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "."],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SAFETY_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
