"""`image`, `modify`, `reframe`, `concepts` and `ping` against the emulator, and the checks
each makes before it submits (and bills)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from luma_async.cli import ExitCode
from luma_async.cli._args import media_kind, source_value, weighted_image
from luma_async.emulator import Emulator

from ..conftest import KEY, MakeEmulator
from .conftest import RunCli, gateway

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
FAST = {"time_scale": 0.02}


async def sent(emu: Emulator, task_id: str) -> dict[str, Any]:
    """The request the official emulator echoes back for a task: what the CLI sent."""
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{emu.base_url}/generations/{task_id}", headers=headers) as answer,
    ):
        request: dict[str, Any] = (await answer.json())["request"]
        return request


def finished(emu: Emulator, kind: str = "video") -> str:
    """A completed task of `kind`, by id."""
    return emu.create_task(
        f"a finished {kind}",
        queue_seconds=0,
        run_seconds=0,
        kind="image" if kind == "image" else "video",
    )


async def test_image_sends_weighted_references_and_downloads_the_file(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """--ref IMG:W, --style, --character, --format png, --download: one PNG saved, all sent."""
    emu = await emulator("official", **FAST)
    (tmp_path / "face.png").write_bytes(PNG)
    folder = tmp_path / "out"
    run = await cli(
        "image",
        "a lighthouse keeper",
        "--ref",
        "https://img.example/a.png:0.6",
        "--ref",
        str(tmp_path / "face.png"),
        "--style",
        "https://img.example/style.jpg:0.25",
        "--character",
        str(tmp_path / "face.png"),
        "--format",
        "png",
        "--aspect-ratio",
        "3:4",
        "--download",
        str(folder),
        "--json",
        *gateway(emu),
    )
    assert run.code == ExitCode.OK, run.err
    (generation,) = run.json()["generations"]
    assert (generation["kind"], generation["ok"]) == ("image", True)
    assert generation["url"] == generation["image"]["url"]
    assert generation["video_url"] is None
    saved = Path(generation["path"])
    assert saved.parent == folder
    assert saved.suffix == ".png"
    assert saved.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    body = await sent(emu, generation["id"])
    assert body["image_ref"][0] == {"url": "https://img.example/a.png", "weight": 0.6}
    assert body["image_ref"][1]["url"].startswith("data:image/png;base64,")
    assert "weight" not in body["image_ref"][1]
    assert body["style_ref"] == [{"url": "https://img.example/style.jpg", "weight": 0.25}]
    assert len(body["character_ref"]["identity0"]["images"]) == 1
    assert (body["format"], body["aspect_ratio"]) == ("png", "3:4")


async def test_image_prints_its_id_and_status_shows_its_kind(
    cli: RunCli, emulator: MakeEmulator
) -> None:
    """Without --wait: the id alone; `status` then says `image` and gives the image's link."""
    emu = await emulator("official", **FAST)
    run = await cli(
        "image", "a red fox", "--modify", "https://img.example/fox.jpg:0.5", *gateway(emu)
    )
    assert run.code == ExitCode.OK, run.err
    task_id = run.out.strip()
    assert emu.tasks_created() == [task_id]
    assert (await sent(emu, task_id))["modify_image_ref"] == {
        "url": "https://img.example/fox.jpg",
        "weight": 0.5,
    }
    run = await cli("wait", task_id, *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    got_id, kind, state, link = run.out.split()
    assert (got_id, kind, state) == (task_id, "image", "completed")
    assert ".jpg" in link


@pytest.mark.parametrize(
    "argv",
    [
        ["image", "a fox"],
        ["modify", "some-task", "--mode", "flex_2"],
        ["reframe", "clip.mp4", "--aspect-ratio", "9:16"],
        ["concepts"],
        ["ping"],
    ],
    ids=lambda argv: argv[0],
)
async def test_relays_refuse_with_a_sentence_and_send_nothing(
    cli: RunCli, emulator: MakeEmulator, argv: list[str], tmp_path: Path, monkeypatch: Any
) -> None:
    """UnsupportedFeatureError: exit 2, one line naming the dialect, no request at all."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    emu = await emulator("anyapi")
    run = await cli(*argv, *gateway(emu))
    assert run.code == ExitCode.USAGE, run.err
    assert "anyapi" in run.err
    assert run.err.count("\n") == 1
    assert emu.stats.requests == 0


async def test_image_download_folder_is_checked_before_submitting(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """--download onto a file, or a reference file that is not there: exit 2, nothing created."""
    emu = await emulator("official")
    (tmp_path / "taken").write_text("a file")
    run = await cli("image", "a fox", "--download", str(tmp_path / "taken"), *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert "is a file, not a folder" in run.err
    run = await cli("image", "a fox", "--style", str(tmp_path / "gone.png:0.5"), *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert "no such file" in run.err
    run = await cli("image", "a fox", "--format", "gif", *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert emu.tasks_created() == []


async def test_modify_a_finished_video_by_id(cli: RunCli, emulator: MakeEmulator) -> None:
    """modify ID PROMPT --mode flex_2 --first-frame URL --wait: a new completed video."""
    emu = await emulator("official", **FAST)
    source = finished(emu)
    run = await cli(
        "modify",
        source,
        "make it winter",
        "--mode",
        "flex_2",
        "--first-frame",
        "https://img.example/frame.png",
        "--wait",
        "--json",
        *gateway(emu),
    )
    assert run.code == ExitCode.OK, run.err
    (generation,) = run.json()["generations"]
    assert (generation["kind"], generation["ok"]) == ("video", True)
    assert generation["url"] == generation["video_url"]
    body = await sent(emu, generation["id"])
    assert (body["generation_type"], body["mode"], body["prompt"]) == (
        "modify_video",
        "flex_2",
        "make it winter",
    )
    assert body["first_frame"] == {"url": "https://img.example/frame.png"}
    assert source in body["media"]["url"]


async def test_modify_takes_its_prompt_after_the_options(
    cli: RunCli, emulator: MakeEmulator
) -> None:
    """`modify ID --mode flex_2 "PROMPT"` as API.md writes it; two words left over stay an error."""
    emu = await emulator("official")
    run = await cli("modify", finished(emu), "--mode", "flex_2", "make it night", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert (await sent(emu, run.out.strip()))["prompt"] == "make it night"
    run = await cli("modify", finished(emu), "one", "--mode", "flex_2", "two", *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert "unrecognized arguments: two" in run.err
    run = await cli("modify", finished(emu), "--mode", "flex_2", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert "prompt" not in await sent(emu, run.out.strip())


async def test_modify_refuses_an_image_and_a_bad_mode(cli: RunCli, emulator: MakeEmulator) -> None:
    """An image task as the video, or a mode outside the spec: exit 2, nothing created."""
    emu = await emulator("official")
    run = await cli("modify", finished(emu, "image"), "--mode", "flex_1", *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert "image generation" in run.err
    run = await cli("modify", finished(emu), "--mode", "flex_9", *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert "invalid choice" in run.err
    assert emu.tasks_created() == []


@pytest.mark.parametrize("kind", ["video", "image"])
async def test_reframe_a_task_as_its_kind(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path, kind: str
) -> None:
    """A task id is reframed as what it made; position flags go out under the spec's names."""
    emu = await emulator("official", **FAST)
    run = await cli(
        "reframe",
        finished(emu, kind),
        "--aspect-ratio",
        "9:16",
        "--prompt",
        "more sky",
        "--grid-position-x",
        "10",
        "--resized-height",
        "720",
        "--download",
        str(tmp_path),
        "--json",
        *gateway(emu),
    )
    assert run.code == ExitCode.OK, run.err
    (generation,) = run.json()["generations"]
    assert (generation["kind"], generation["ok"]) == (kind, True)
    body = await sent(emu, generation["id"])
    assert body["generation_type"] == f"reframe_{kind}"
    assert (body["grid_position_x"], body["resized_height"]) == (10, 720)
    assert "x_start" not in body
    assert Path(generation["path"]).suffix == (".mp4" if kind == "video" else ".jpg")


async def test_reframe_a_file_by_its_extension_or_by_flag(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """picture.png is an image; a file with no telling extension needs --image or --video."""
    emu = await emulator("official", **FAST)
    (tmp_path / "picture.png").write_bytes(PNG)
    (tmp_path / "picture.bin").write_bytes(PNG)
    run = await cli(
        "reframe", str(tmp_path / "picture.png"), "--aspect-ratio", "1:1", *gateway(emu)
    )
    assert run.code == ExitCode.OK, run.err
    assert (await sent(emu, run.out.strip()))["generation_type"] == "reframe_image"
    run = await cli(
        "reframe", str(tmp_path / "picture.bin"), "--aspect-ratio", "1:1", *gateway(emu)
    )
    assert run.code == ExitCode.USAGE
    assert "--video or --image" in run.err
    run = await cli(
        "reframe", str(tmp_path / "picture.bin"), "--image", "--aspect-ratio", "1:1", *gateway(emu)
    )
    assert run.code == ExitCode.OK, run.err
    assert (await sent(emu, run.out.strip()))["media"]["url"].startswith("data:image/png")
    run = await cli(
        "reframe",
        str(tmp_path / "picture.png"),
        "--aspect-ratio",
        "1:1",
        "--first-frame",
        str(tmp_path / "picture.png"),
        *gateway(emu),
    )
    assert run.code == ExitCode.USAGE
    assert "--first-frame is for videos" in run.err
    (tmp_path / "clip.mov").write_bytes(PNG)
    run = await cli(
        "reframe",
        str(tmp_path / "clip.mov"),
        "--aspect-ratio",
        "1:1",
        "--format",
        "png",
        *gateway(emu),
    )
    assert run.code == ExitCode.USAGE
    assert "--format is for images" in run.err
    assert len(emu.tasks_created()) == 2


async def test_reframe_a_missing_file_or_unknown_id(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """A path that is not there is exit 2 at once; an id the gateway does not know, too."""
    emu = await emulator("official")
    run = await cli("reframe", str(tmp_path / "nope.mp4"), "--aspect-ratio", "9:16", *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert "no such file" in run.err
    run = await cli("reframe", "no-such-task", "--aspect-ratio", "9:16", *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert emu.tasks_created() == []


async def test_concepts_and_ping(cli: RunCli, emulator: MakeEmulator) -> None:
    """concepts: one key per line (or a JSON list); ping: exit 0, or 3 for a refused key."""
    emu = await emulator("official")
    run = await cli("concepts", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    keys = run.out.split()
    assert keys
    assert all(k.strip() for k in keys)
    run = await cli("concepts", "--json", *gateway(emu))
    assert run.json() == keys
    run = await cli("ping", "--json", *gateway(emu))
    assert (run.code, run.json()) == (ExitCode.OK, {"ok": True})
    run = await cli("ping", *gateway(emu))
    assert run.code == ExitCode.OK
    assert run.out == ""
    assert "ok" in run.err
    run = await cli("ping", "--base-url", emu.base_url, "--api-key", "wrong-key-entirely")
    assert run.code == ExitCode.AUTH


def test_weighted_images_and_sources(tmp_path: Path) -> None:
    """IMG:WEIGHT splits at a number after the last colon; URLs, ports and files stay whole."""
    assert weighted_image("https://a.test/x.png:0.5") == ("https://a.test/x.png", 0.5)
    assert weighted_image("https://a.test/x.png") == "https://a.test/x.png"
    assert weighted_image("https://a.test:8080") == "https://a.test:8080"
    assert weighted_image("style.png:1") == (Path("style.png"), 1.0)
    odd = tmp_path / "odd:2"
    odd.write_bytes(PNG)
    assert weighted_image(str(odd)) == odd
    assert media_kind("https://a.test/clip.MP4?sig=1") == "video"
    assert media_kind("data:image/png;base64,AAAA") == "image"
    assert media_kind("abc123") is None
    assert source_value("abc123", tmp_path) == "abc123"
    assert source_value("odd:2", tmp_path) == odd
    with pytest.raises(ValueError, match="no such file"):
        source_value("missing.png", tmp_path)
