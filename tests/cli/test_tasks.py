"""`generate`, `status`, `wait` and `download` against the emulator."""

from __future__ import annotations

import base64
import itertools
from pathlib import Path

import pytest

from luma_async.cli import ExitCode
from luma_async.emulator import Emulator

from ..conftest import MakeEmulator
from .conftest import RunCli, gateway

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
DATA_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()


async def submitted(cli: RunCli, emu: Emulator, prompt: str = "a red fox in the snow") -> str:
    """A task created through `generate`, by id."""
    run = await cli("generate", prompt, *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    return run.out.strip()


async def test_generate_prints_the_task_id(cli: RunCli, emulator: MakeEmulator) -> None:
    """Without --wait, stdout is the new task's id alone, and a hint goes to stderr."""
    emu = await emulator("gptge")
    task_id = await submitted(cli, emu)
    assert emu.tasks_created() == [task_id]


async def test_generate_json_is_the_generation(cli: RunCli, emulator: MakeEmulator) -> None:
    """--json prints the submitted task as one JSON object."""
    emu = await emulator("official")
    run = await cli(
        "generate", "a red fox in the snow", "--aspect-ratio", "21:9", "--json", *gateway(emu)
    )
    assert run.code == ExitCode.OK
    data = run.json()
    assert data["id"] == emu.tasks_created()[0]
    assert data["state"] == "queued"
    assert data["ok"] is False


async def test_generate_wait_reports_the_link(cli: RunCli, emulator: MakeEmulator) -> None:
    """--wait follows the task to the end and prints its link."""
    emu = await emulator("rixapi")
    run = await cli("generate", "a lighthouse", "--wait", "--loop", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    task_id, kind, state, link = run.out.split()
    assert task_id == emu.tasks_created()[0]
    assert (kind, state) == ("video", "completed")
    assert link.startswith(emu.cdn_url)


async def test_generate_wait_on_a_failing_task_exits_1(cli: RunCli, emulator: MakeEmulator) -> None:
    """A generation that fails is reported with its reason, exit code 1."""
    emu = await emulator("anyapi")
    run = await cli("generate", "refuse this [fail]", "--wait", "--json", *gateway(emu))
    assert run.code == ExitCode.FAILED
    (generation,) = run.json()["generations"]
    assert generation["state"] == "failed"
    assert "content filter" in generation["failure_reason"]


async def test_generate_with_images_downloads_the_video(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """A local start image and a data-URI end image; --download saves the MP4."""
    emu = await emulator("xfusion")
    image = tmp_path / "start.png"
    image.write_bytes(PNG)
    out = tmp_path / "videos" / "new"
    run = await cli(
        "generate",
        "from the first frame to the last",
        "--image",
        str(image),
        "--end-image",
        DATA_URI,
        "--download",
        str(out),
        *gateway(emu),
    )
    assert run.code == ExitCode.OK, run.err
    (video,) = out.iterdir()
    assert video.name == f"{emu.tasks_created()[0]}.mp4"
    assert video.read_bytes()[4:8] == b"ftyp"
    assert str(video) in run.out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--aspect-ratio", "2:1"], "aspect_ratio '2:1' is not accepted"),
        (["--model", "ray-2"], "no 'model' option"),
        (["--image", "no/such/file.png"], "cannot read image"),
    ],
)
async def test_generate_refused_before_sending_exits_2(
    cli: RunCli, emulator: MakeEmulator, options: list[str], message: str
) -> None:
    """A value or option the dialect lacks, or a missing image file: exit 2, nothing sent."""
    emu = await emulator("gptge")
    run = await cli("generate", "a red fox", *options, *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert message in run.err
    assert len(run.err.strip().splitlines()) == 1, "one line, no traceback"
    assert emu.stats.requests == 0


async def test_status_reports_known_and_unknown_ids(cli: RunCli, emulator: MakeEmulator) -> None:
    """status --json lists each id in order; an unknown one is flagged and exits 2."""
    emu = await emulator("anyapi")
    first = await submitted(cli, emu)
    second = await submitted(cli, emu, "a blue whale")
    run = await cli("status", second, "no-such-task", first, "--json", *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert [item["id"] for item in run.json()] == [second, "no-such-task", first]
    assert run.json()[1] == {"id": "no-such-task", "error": "unknown task"}
    assert run.json()[0]["state"] in ("queued", "processing", "completed")
    assert "unknown task id: no-such-task" in run.err


async def test_status_prints_one_line_per_task(cli: RunCli, emulator: MakeEmulator) -> None:
    """Without --json: `<id>  <kind>  <gateway's state word>` per task."""
    emu = await emulator("gptge")
    task_id = await submitted(cli, emu)
    run = await cli("status", task_id, *gateway(emu))
    assert run.code == ExitCode.OK
    got_id, kind, state = run.out.split()[:3]
    assert (got_id, kind) == (task_id, "video")
    assert state in ("pending", "processing", "completed"), "the relay's own word"


async def test_wait_follows_several_tasks(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """wait reports each task once; one failed among them makes the exit code 1."""
    emu = await emulator("official")
    ids = [await submitted(cli, emu, f"clip number {i}") for i in range(3)]
    failing = await submitted(cli, emu, "this one will [fail]")
    run = await cli("wait", *ids, failing, "--download", str(tmp_path), "--json", *gateway(emu))
    assert run.code == ExitCode.FAILED
    data = run.json()
    assert data["pending"] == []
    states = {g["id"]: g["state"] for g in data["generations"]}
    assert states == {**dict.fromkeys(ids, "completed"), failing: "failed"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{i}.mp4" for i in ids)


async def test_wait_on_finished_tasks_returns_at_once(cli: RunCli, emulator: MakeEmulator) -> None:
    """Tasks already finished are reported from the first look, exit 0."""
    emu = await emulator("gptge")
    task_id = emu.create_task("done already", queue_seconds=0, run_seconds=0)
    run = await cli("wait", task_id, task_id, *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert run.out.split()[:3] == [task_id, "video", "completed"]
    assert len(run.out.strip().splitlines()) == 1, "the same id twice is followed once"


async def test_wait_timeout_exits_5_with_the_pending_ids(
    cli: RunCli, emulator: MakeEmulator
) -> None:
    """--timeout passes with the task still running: exit 5, the id listed as pending."""
    emu = await emulator("anyapi", time_scale=1.0)
    slow = emu.create_task("a very long video", queue_seconds=60, run_seconds=60)
    run = await cli("wait", slow, "--timeout", "0.5", "--json", *gateway(emu))
    assert run.code == ExitCode.TIMEOUT
    assert run.json() == {"generations": [], "pending": [slow]}
    assert f"still running: {slow}" in run.err


async def test_wait_for_an_unknown_id_exits_2(cli: RunCli, emulator: MakeEmulator) -> None:
    """An id the gateway never comes to know is an error, not an endless wait."""
    emu = await emulator("rixapi")
    run = await cli("wait", "00000000-0000-4000-8000-000000000000", *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert "unknown task id: 00000000-0000-4000-8000-000000000000" in run.err


async def test_a_failed_download_is_reported_with_its_exit_code(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """Links that expire before they are fetched: done, not saved, exit 4, no partial file."""
    ticks = itertools.count(0.0, 10.0)  # every reading of the emulator's clock is 10 s later
    emu = await emulator(
        "gptge", quirks=frozenset({"expire_links"}), link_ttl=0.0, clock=lambda: next(ticks)
    )
    task_id = emu.create_task("done already", queue_seconds=0, run_seconds=0)
    run = await cli("wait", task_id, "--download", str(tmp_path), "--json", *gateway(emu))
    assert run.code == ExitCode.NETWORK
    (generation,) = run.json()["generations"]
    assert generation["ok"] is True
    assert "HTTP 403" in generation["error"]
    assert "HTTP 403" in run.err
    assert list(tmp_path.iterdir()) == []


async def test_download_saves_a_finished_video(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """download ID DIR/ writes DIR/<id>.mp4 (DIR made if missing) and prints the path."""
    emu = await emulator("anyapi")
    task_id = emu.create_task("done already", queue_seconds=0, run_seconds=0)
    run = await cli("download", task_id, str(tmp_path / "out") + "/", "--json", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    path = tmp_path / "out" / f"{task_id}.mp4"
    assert run.json() == {"id": task_id, "path": str(path)}
    assert path.read_bytes()[4:8] == b"ftyp"


async def test_download_of_an_unfinished_or_failed_task_exits_1(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """No video yet, or none ever: a clear line and exit 1; nothing is written."""
    emu = await emulator("gptge", time_scale=1.0)
    running = emu.create_task("still going", queue_seconds=0, run_seconds=60)
    failed = emu.create_task("gone wrong", queue_seconds=0, run_seconds=0, outcome="failed")
    run = await cli("download", running, str(tmp_path), *gateway(emu))
    assert run.code == ExitCode.FAILED
    assert f"task {running} is processing: no video yet" in run.err
    run = await cli("download", failed, str(tmp_path), *gateway(emu))
    assert run.code == ExitCode.FAILED
    assert f"task {failed} failed" in run.err
    assert list(tmp_path.iterdir()) == []


async def test_download_of_an_unknown_task_exits_2(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """A task id the gateway does not know: exit 2."""
    emu = await emulator("xfusion")
    run = await cli("download", "no-such-task", str(tmp_path), *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert "not found" in run.err
