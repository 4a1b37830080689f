"""The typed options hold: `mypy --strict` refuses a wrong option name or value.

Runs the real mypy on a small program, so that a signature falling back to `**options: Any`
(or a `str` where a `Literal` belongs) fails here instead of in users' editors.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

PROGRAM = """\
import pathlib
from luma_async import LumaClient
from luma_async._models import GenerateRequest, ReframePosition


async def main(client: LumaClient) -> None:
    await client.generate("x", colour="red")  # line 7: no such option
    await client.generate("x", aspect_ratio=169)  # line 8: not a ratio
    await client.generate("x", aspect_ratio="2:1")  # line 9: not one of the ratios
    await client.generate("x", duration="7s")  # line 10
    await client.extend("id", "x", resolution="8k")  # line 11
    await client.generate_image("x", format="gif")  # line 12
    await client.modify_video("id", mode="flex_9")  # line 13
    await client.reframe_video("id")  # line 14: aspect_ratio is required
    await client.reframe_image("id", aspect_ratio="9:16", model="ray-2")  # line 15
    GenerateRequest("x", model="ray-9")  # line 16
    await client.generate("x", 5)  # line 17: options are keyword-only
    # Right ones: no error on any line below.
    await client.generate(
        "x", aspect_ratio="21:9", model="ray-flash-2", resolution="4k", duration="9s",
        loop=True, start_image=pathlib.Path("a.png"), concepts=["dolly_zoom"],
    )
    await client.extend("id", "x", model="ray-v2", duration="5s")
    await client.generate_image(
        "x", model="photon-flash-1", format="png", image_ref=["u", ("v", 0.5)],
        character_ref=[pathlib.Path("c.png")], modify_image_ref=("m", 1.0),
    )
    await client.modify_video("id", mode="reimagine_3", model="ray-2")
    await client.reframe_video(
        "id", aspect_ratio="9:21", model="ray-flash-2", position=ReframePosition(x_start=0)
    )
    await client.reframe_image("id", aspect_ratio="1:1", model="photon-1", format="jpg")
    concepts: list[str] = await client.concepts()
    await client.ping()
    await client.upscale("id", "1080p")
"""

EXPECTED_ERROR_LINES = {7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}


def test_mypy_strict_refuses_wrong_option_names_and_values(tmp_path: pathlib.Path) -> None:
    """Each wrong line is an error, each right line is not (real mypy --strict)."""
    program = tmp_path / "program.py"
    program.write_text(PROGRAM, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MYPYPATH": str(ROOT)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--config-file",
            os.devnull,
            str(program),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )
    errors = [
        line for line in run.stdout.splitlines() if re.match(r".*program\.py:\d+: error:", line)
    ]
    lines = {int(re.search(r"program\.py:(\d+):", line).group(1)) for line in errors}  # type: ignore[union-attr]
    assert lines == EXPECTED_ERROR_LINES, run.stdout + run.stderr
    by_line = {n: " ".join(e for e in errors if f"program.py:{n}:" in e) for n in lines}
    assert "colour" in by_line[7]
    assert "aspect_ratio" in by_line[8]
    assert "Literal" in by_line[9]
