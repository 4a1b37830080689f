"""`extend`, `audio`, `upscale`, `list`, `delete`, `credits` against the emulator, and the
checks every creating command makes before it submits (and bills)."""

from __future__ import annotations

from pathlib import Path

import pytest

from luma_async.cli import ExitCode
from luma_async.emulator import Emulator

from ..conftest import MakeEmulator
from .conftest import RunCli, gateway

pytestmark = pytest.mark.anyio


def finished(emu: Emulator, prompt: str = "a finished clip") -> str:
    """A task that is already completed, by id."""
    return emu.create_task(prompt, queue_seconds=0, run_seconds=0)


async def test_extend_prints_the_new_task(cli: RunCli, emulator: MakeEmulator) -> None:
    """extend ID PROMPT creates one new task and prints its id alone."""
    emu = await emulator("anyapi")
    source = finished(emu)
    run = await cli("extend", source, "the fox runs on", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert run.out.strip() in emu.tasks_created()
    assert run.out.strip() != source


async def test_extend_wait_follows_it_to_the_end(cli: RunCli, emulator: MakeEmulator) -> None:
    """--wait --json reports the finished extension."""
    emu = await emulator("official")
    run = await cli(
        "extend", finished(emu), "and on", "--wait", "--json", "--model", "ray-2", *gateway(emu)
    )
    assert run.code == ExitCode.OK, run.err
    (generation,) = run.json()["generations"]
    assert generation["ok"] is True
    assert generation["id"] in emu.tasks_created()


@pytest.mark.parametrize("dialect", ["official", "rixapi"])
async def test_audio_downloads_the_result(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path, dialect: str
) -> None:
    """audio ID PROMPT --negative-prompt --download DIR: the new task's video is saved."""
    emu = await emulator(dialect)
    source = finished(emu)
    folder = tmp_path / "sound"
    run = await cli(
        "audio",
        source,
        "rain on leaves",
        "--negative-prompt",
        "music",
        "--download",
        str(folder),
        "--json",
        *gateway(emu),
    )
    assert run.code == ExitCode.OK, run.err
    (generation,) = run.json()["generations"]
    assert Path(generation["path"]).parent == folder
    assert Path(generation["path"]).read_bytes()[4:8] == b"ftyp"


@pytest.mark.parametrize(
    ("argv", "operation"),
    [
        (["audio", "ID", "rain"], "audio"),
        (["upscale", "ID", "1080p"], "upscale"),
        (["list"], "list"),
        (["delete", "ID"], "delete"),
        (["credits"], "credits"),
    ],
)
async def test_a_dialect_without_the_operation_exits_2(
    cli: RunCli, emulator: MakeEmulator, argv: list[str], operation: str
) -> None:
    """gptge has none of these: exit 2 with a sentence, and no request is sent."""
    emu = await emulator("gptge")
    run = await cli(*argv, *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert f"the gptge dialect has no {operation!r} operation; it has: " in run.err
    assert emu.stats.requests == 0


async def test_upscale_on_official(cli: RunCli, emulator: MakeEmulator) -> None:
    """upscale ID RESOLUTION --wait: the upscaled task completes."""
    emu = await emulator("official")
    run = await cli("upscale", finished(emu), "1080p", "--wait", "--json", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    (generation,) = run.json()["generations"]
    assert generation["ok"] is True


async def test_list_delete_and_credits(cli: RunCli, emulator: MakeEmulator) -> None:
    """list pages newest first; delete removes a task; credits shows one less per creation."""
    emu = await emulator("official", credits=10)
    first = (await cli("generate", "first clip", *gateway(emu))).out.strip()
    second = (await cli("generate", "second clip", *gateway(emu))).out.strip()
    run = await cli("list", "--json", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert [g["id"] for g in run.json()][:2] == [second, first]
    run = await cli("list", "--limit", "1", "--offset", "1", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert run.out.split()[0] == first
    run = await cli("credits", "--json", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert run.json() == {"credits": 8.0, "unit": "USD cents"}
    run = await cli("delete", first, *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert f"deleted {first}" in run.err
    run = await cli("status", first, *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert f"unknown task id: {first}" in run.err


@pytest.mark.parametrize("argv", [["list", "--limit", "0"], ["list", "--offset", "-1"]])
async def test_list_bounds_are_checked(cli: RunCli, argv: list[str]) -> None:
    """Limits below 1 and negative offsets are usage errors."""
    run = await cli(*argv)
    assert run.code == ExitCode.USAGE


@pytest.mark.parametrize(
    "argv",
    [
        ["generate", "a fox", "--timeout", "5"],
        ["extend", "ID", "more", "--timeout", "5"],
        ["audio", "ID", "rain", "--timeout", "5"],
        ["upscale", "ID", "4k", "--timeout", "5"],
    ],
)
async def test_timeout_without_wait_is_refused(
    cli: RunCli, emulator: MakeEmulator, argv: list[str]
) -> None:
    """--timeout alone would be ignored: it is exit 2 before anything is sent."""
    emu = await emulator("official")
    run = await cli(*argv, *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert "--timeout needs --wait or --download" in run.err
    assert emu.stats.requests == 0


async def test_a_download_folder_that_cannot_be_made_is_refused_before_submitting(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """--download under a file, or naming a file: exit 2 with a sentence, nothing billed."""
    emu = await emulator("anyapi")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = await cli("generate", "a fox", "--download", str(blocker / "videos"), *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert f"cannot save videos in {blocker / 'videos'}" in run.err
    run = await cli("generate", "a fox", "--download", str(blocker), *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert f"{blocker} is a file, not a folder" in run.err
    run = await cli("wait", "ID", "--download", str(blocker), *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert emu.tasks_created() == []
    assert emu.stats.requests == 0


async def test_download_to_a_file_name_writes_that_file(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """download ID video.mp4 writes a file; again it is kept unless --overwrite."""
    emu = await emulator("xfusion")
    task_id = finished(emu)
    target = tmp_path / "clips" / "video.mp4"
    run = await cli("download", task_id, str(target), "--json", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert run.json() == {"id": task_id, "path": str(target)}
    assert target.is_file()
    assert target.read_bytes()[4:8] == b"ftyp"
    target.write_bytes(b"mine")
    run = await cli("download", task_id, str(target), *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert f"{target} exists; pass --overwrite" in run.err
    assert target.read_bytes() == b"mine"
    run = await cli("download", task_id, str(target), "--overwrite", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert target.read_bytes()[4:8] == b"ftyp"


async def test_download_into_an_existing_folder(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """An existing folder (no trailing /) takes the video as <id>.mp4."""
    emu = await emulator("xfusion")
    task_id = finished(emu)
    run = await cli("download", task_id, str(tmp_path), *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert run.out.strip() == str(tmp_path / f"{task_id}.mp4")
