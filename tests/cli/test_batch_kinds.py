"""`batch` lines of every request kind: `"kind"` and that struct's fields, checked per line."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from luma_async.cli import ExitCode
from luma_async.cli._lines import label, parse_lines
from luma_async.dialects import DIALECTS

from ..conftest import MakeEmulator
from .conftest import RunCli, gateway

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def write_lines(path: Path, lines: list[Any]) -> Path:
    """A JSON-lines file: strings as they are, anything else as JSON."""
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    path.write_text(text, encoding="utf-8")
    return path


def records(path: Path) -> dict[int, dict[str, Any]]:
    """The results file by input line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {r["line"]: r for r in map(json.loads, lines)}


async def test_a_mixed_batch_runs_every_kind(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """Videos, images, modifies and reframes in one file; bad lines reported, the rest run."""
    emu = await emulator("official", time_scale=0.02)
    video = emu.create_task("a source clip", queue_seconds=0, run_seconds=0)
    image = emu.create_task("a source still", queue_seconds=0, run_seconds=0, kind="image")
    (tmp_path / "ref.png").write_bytes(PNG)
    source = write_lines(
        tmp_path / "mixed.jsonl",
        [
            {"prompt": "a red fox"},
            {
                "kind": "image",
                "prompt": "a lighthouse",
                "format": "png",
                "image_ref": [["ref.png", 0.7], "https://img.example/b.jpg"],
                "style_ref": [["https://img.example/s.jpg", 0.3]],
                "character_ref": ["ref.png"],
            },
            {"kind": "modify_video", "video": video, "mode": "reimagine_1", "prompt": "snow"},
            {
                "kind": "reframe_video",
                "video": video,
                "aspect_ratio": "9:16",
                "position": {"x_start": 4},
            },
            {"kind": "reframe_image", "image": "ref.png", "aspect_ratio": "1:1"},
            {"kind": "reframe_image", "image": image, "aspect_ratio": "21:9", "format": "png"},
            {"kind": "sound", "prompt": "rain"},
            {"kind": "image", "prompt": "a typo", "style_refs": ["ref.png"]},
            {"kind": "modify_video", "video": video, "mode": "flex_9"},
            {"kind": "reframe_video", "video": video},
            {"kind": "reframe_image", "image": "missing.png", "aspect_ratio": "1:1"},
            {"kind": "image", "prompt": "bad weight", "image_ref": [["ref.png", "heavy"]]},
            {
                "kind": "reframe_video",
                "video": video,
                "aspect_ratio": "9:16",
                "position": {"left": 1},
            },
        ],
    )
    folder = tmp_path / "files"
    run = await cli("batch", str(source), "--download", str(folder), "--json", *gateway(emu))
    assert run.code == ExitCode.FAILED, run.err
    for number in range(7, 14):
        assert f"{source}:{number}: " in run.err, number
    assert "'sound' is not one of: video, image, modify_video" in run.err
    assert "style_refs" in run.err
    assert "flex_9" in run.err
    assert "aspect_ratio" in run.err
    assert "no such file" in run.err
    assert len(emu.tasks_created()) == 6, "the good lines, nothing else"
    got = records(tmp_path / "mixed.results.jsonl")
    assert sorted(got) == list(range(1, 14))
    kinds = [got[n]["kind"] for n in range(1, 7)]
    assert kinds == [
        "video",
        "image",
        "modify_video",
        "reframe_video",
        "reframe_image",
        "reframe_image",
    ]
    assert all(got[n]["status"] == "done" for n in range(1, 7)), got
    assert all(got[n]["status"] == "invalid" for n in range(7, 14))
    suffixes = {n: Path(got[n]["path"]).suffix for n in range(1, 7)}
    assert got[2]["url"]
    assert got[2]["video_url"] is None
    assert got[3]["url"] == got[3]["video_url"]
    assert {suffixes[1], suffixes[3], suffixes[4]} == {".mp4"}
    saved = {n: Path(got[n]["path"]).read_bytes()[:8] for n in range(1, 7)}
    assert saved[2].startswith(b"\x89PNG"), "an image line's file is the image"
    assert saved[5].startswith(b"\xff\xd8\xff")
    assert saved[6].startswith(b"\x89PNG")
    summary = run.json()
    assert summary["counts"] == {"done": 6, "invalid": 7}


def test_every_kind_is_checked_by_the_dialect_before_the_run(tmp_path: Path) -> None:
    """A relay refuses every kind but video line by line; weights and positions are kept."""
    (tmp_path / "a.png").write_bytes(PNG)
    text = "\n".join(
        json.dumps(line)
        for line in [
            {"prompt": "a fox"},
            {"kind": "image", "prompt": "a fox", "modify_image_ref": ["a.png", 0.5]},
            {"kind": "reframe_video", "video": "task-1", "aspect_ratio": "9:16"},
            {
                "kind": "reframe_image",
                "image": "a.png",
                "aspect_ratio": "9:16",
                "position": {"grid_position_y": 2},
            },
        ]
    )
    jobs, bad = parse_lines(text, base=tmp_path, dialect=DIALECTS["anyapi"]())
    assert [j.line for j in jobs] == [1]
    assert [number for number, _ in bad] == [2, 3, 4]
    jobs, bad = parse_lines(text, base=tmp_path, dialect=DIALECTS["official"]())
    assert bad == []
    image, reframe_video, reframe_image = (j.request for j in jobs[1:])
    assert image.modify_image_ref == (tmp_path / "a.png", 0.5)  # type: ignore[union-attr]
    assert reframe_video.video == "task-1"  # type: ignore[union-attr]
    assert reframe_image.position.grid_position_y == 2  # type: ignore[union-attr]
    assert label(reframe_video) == "reframe_video of task-1 (9:16)"
    assert label(reframe_image) == "reframe_image of a.png (9:16)"


async def test_batch_image_files_are_named_by_kind(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """An image line's file is <id>.png or <id>.jpg, as its content is."""
    emu = await emulator("official", time_scale=0.02)
    source = write_lines(
        tmp_path / "images.jsonl",
        [{"kind": "image", "prompt": "a fox", "format": "png"}, {"kind": "image", "prompt": "owl"}],
    )
    run = await cli("batch", str(source), "--download", str(tmp_path / "out"), *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    got = records(tmp_path / "images.results.jsonl")
    assert [Path(got[n]["path"]).suffix for n in (1, 2)] == [".png", ".jpg"]


async def test_a_journaled_mixed_batch_run_twice_submits_nothing_twice(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """--journal with every kind: the second run replays each line, creating nothing new."""
    emu = await emulator("official", time_scale=0.02)
    video = emu.create_task("a source clip", queue_seconds=0, run_seconds=0)
    source = write_lines(
        tmp_path / "in.jsonl",
        [
            {"prompt": "a fox"},
            {"kind": "image", "prompt": "a fox"},
            {"kind": "modify_video", "video": video, "mode": "adhere_1"},
            {"kind": "reframe_video", "video": video, "aspect_ratio": "1:1"},
        ],
    )
    journal = str(tmp_path / "run.sqlite")
    first = await cli("batch", str(source), "--journal", journal, "--json", *gateway(emu))
    assert first.code == ExitCode.OK, first.err
    second = await cli("batch", str(source), "--journal", journal, "--json", *gateway(emu))
    assert second.code == ExitCode.OK, second.err
    assert second.json()["counts"] == {"done": 4}
    assert len(emu.tasks_created()) == 4
    got = records(tmp_path / "in.results.jsonl")
    assert sorted(r["id"] for r in got.values()) == sorted(emu.tasks_created())
    assert [got[n]["kind"] for n in (1, 2, 3, 4)] == [
        "video",
        "image",
        "modify_video",
        "reframe_video",
    ]
