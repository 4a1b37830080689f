"""`batch FILE.jsonl`: one result per line, bad lines skipped, exit codes, and Ctrl-C."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest

import luma_async.emulator
from luma_async.cli import ExitCode

from ..conftest import MakeEmulator
from .conftest import CLI, RunCli, gateway, subprocess_env

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def write_lines(path: Path, lines: list[Any]) -> Path:
    """A JSON-lines file: strings written as they are, anything else as JSON."""
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines),
        encoding="utf-8",
    )
    return path


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every line of a results file, each of which must be whole JSON."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_every_line_gets_one_result(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """Good, failing and bad lines: bad ones reported by number and skipped; exit 1."""
    emu = await emulator("gptge")
    source = write_lines(
        tmp_path / "in.jsonl",
        [
            {"prompt": "a red fox", "aspect_ratio": "16:9"},
            '{"prompt": "cut off',
            {"prompt": "a typo", "aspect": "1:1"},
            "",
            {"prompt": "a ratio no gateway has", "aspect_ratio": "2:1"},
            {"prompt": "refused by the filter [fail]"},
            {"prompt": "a blue whale", "loop": True},
            {"prompt": "an image that is not there", "start_image": "nope.png"},
            ["not", "an", "object"],
            {"prompt": "a model gptge has no option for", "model": "ray-2"},
        ],
    )
    out = tmp_path / "results.jsonl"
    run = await cli(
        "batch", str(source), "--out", str(out), "--download", str(tmp_path / "v"), *gateway(emu)
    )
    assert run.code == ExitCode.FAILED, run.err
    for line in (2, 3, 5, 8, 10):
        assert f"{source}:{line}: " in run.err
    assert f"{source}:10: the gptge dialect has no 'model' option" in run.err
    assert "not JSON" in run.err
    assert "unknown field `aspect`" in run.err
    by_line = {r["line"]: r for r in read_records(out)}
    assert sorted(by_line) == [1, 2, 3, 5, 6, 7, 8, 9, 10]
    assert {n: r["status"] for n, r in by_line.items()} == {
        1: "done",
        2: "invalid",
        3: "invalid",
        5: "invalid",
        6: "failed",
        7: "done",
        8: "invalid",
        9: "invalid",
        10: "invalid",
    }
    assert by_line[6]["error"] == "prompt rejected by the content filter"
    for n in (1, 7):
        assert Path(by_line[n]["path"]).read_bytes()[4:8] == b"ftyp"
        assert by_line[n]["id"] in emu.tasks_created()
    assert emu.stats.creations == 3
    assert "failed: line 6" in run.out
    assert "invalid: lines 2-3, 5, 8-10" in run.out


async def test_a_clean_run_exits_0_with_a_json_summary(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """All good: exit 0; results land beside the input by default; --json sums up."""
    emu = await emulator("official")
    source = write_lines(
        tmp_path / "prompts.jsonl",
        [{"prompt": f"clip number {i}", "duration": 5, "model": "ray-flash-2"} for i in range(6)],
    )
    run = await cli("batch", str(source), "--concurrency", "3", "--json", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    summary = run.json()
    assert summary["counts"] == {"done": 6}
    assert summary["lines"] == {"done": [1, 2, 3, 4, 5, 6]}
    assert summary["interrupted"] is False
    assert summary["out"] == str(tmp_path / "prompts.results.jsonl")
    records = read_records(tmp_path / "prompts.results.jsonl")
    assert sorted(r["id"] for r in records) == sorted(emu.tasks_created())
    assert run.err == "", "no progress lines under --json"


async def test_a_journaled_batch_run_twice_submits_nothing_twice(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """--journal: the second run replays the first's results and creates nothing new."""
    emu = await emulator("anyapi")
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": f"take {i}"} for i in range(4)])
    journal = str(tmp_path / "run.sqlite")
    first = await cli("batch", str(source), "--journal", journal, "--json", *gateway(emu))
    assert first.code == ExitCode.OK, first.err
    second = await cli("batch", str(source), "--journal", journal, "--json", *gateway(emu))
    assert second.code == ExitCode.OK, second.err
    assert second.json()["counts"] == {"done": 4}
    assert emu.stats.creations == 4
    records = read_records(tmp_path / "in.results.jsonl")
    assert sorted(r["id"] for r in records) == sorted(emu.tasks_created())


async def test_a_live_view_on_a_terminal(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the rows that matter are drawn live; a long file shows "+N more"."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    emu = await emulator("anyapi")
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": f"clip {i}"} for i in range(30)])
    run = await cli("batch", str(source), "--concurrency", "10", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert "more" in run.plain_err
    assert "30/30" in run.plain_err
    assert "30 done" in run.out


async def test_images_are_read_relative_to_the_input(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """A start image named by a relative path is found next to the input file."""
    emu = await emulator("rixapi")
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "a.png").write_bytes(PNG)
    source = write_lines(
        tmp_path / "in.jsonl",
        [{"prompt": "from this frame", "start_image": "frames/a.png", "aspect_ratio": "9:16"}],
    )
    run = await cli("batch", str(source), "--out", str(tmp_path / "r.jsonl"), *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert emu.stats.rejected == 0


@pytest.mark.parametrize(("content", "message"), [(None, "No such file"), ("\n\n", "no requests")])
async def test_a_missing_or_empty_file_exits_2(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path, content: str | None, message: str
) -> None:
    """Nothing to do is a usage error."""
    emu = await emulator("anyapi")
    source = tmp_path / "in.jsonl"
    if content is not None:
        source.write_text(content, encoding="utf-8")
    run = await cli("batch", str(source), *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert message in run.err


@pytest.mark.parametrize("flag", ["FILE", "--out", "--journal"])
async def test_a_folder_where_a_file_belongs_exits_2(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path, flag: str
) -> None:
    """The input, --out or --journal naming a folder: a sentence and exit 2, nothing sent."""
    emu = await emulator("gptge")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": "a fox"}])
    argv = ["batch", str(folder if flag == "FILE" else source)]
    if flag != "FILE":
        argv += [flag, str(folder)]
    run = await cli(*argv, *gateway(emu))
    assert run.code == ExitCode.USAGE, run.err
    assert f"{folder} is a folder; name a file" in run.err
    assert "bug" not in run.err
    assert emu.stats.requests == 0


async def test_the_output_must_not_be_the_input(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """--out naming the input file is refused before anything is written."""
    emu = await emulator("anyapi")
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": "a fox"}])
    run = await cli("batch", str(source), "--out", str(source), *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert json.loads(source.read_text(encoding="utf-8")) == {"prompt": "a fox"}


async def test_quota_running_out_stops_submitting_exit_3(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """Out of quota half-way: the rest are not sent and carry the error; exit 3."""
    emu = await emulator("xfusion", credits=2)
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": f"clip {i}"} for i in range(5)])
    run = await cli("batch", str(source), "--concurrency", "1", *gateway(emu))
    assert run.code == ExitCode.AUTH
    records = read_records(tmp_path / "in.results.jsonl")
    assert Counter(r["status"] for r in records) == {"done": 2, "error": 3}
    assert all("out of quota" in r["error"] for r in records if r["status"] == "error")
    assert emu.stats.creations == 2


async def test_an_unreachable_gateway_stops_submitting_exit_4(cli: RunCli, tmp_path: Path) -> None:
    """When the first submit cannot connect at all, the run stops: every line gets that error
    (the library shares it with every request not yet submitted)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": f"clip {i}"} for i in range(4)])
    run = await cli(
        "batch",
        str(source),
        *("--base-url", f"http://127.0.0.1:{port}", "--api-key", "k", "--dialect", "gptge"),
    )
    assert run.code == ExitCode.NETWORK
    records = {r["line"]: r["status"] for r in read_records(tmp_path / "in.results.jsonl")}
    assert records == {1: "error", 2: "error", 3: "error", 4: "error"}
    assert "cannot connect" in run.err


async def test_ctrl_c_stops_submitting_and_leaves_nothing_half_written(
    emulator: MakeEmulator, tmp_path: Path
) -> None:
    """SIGINT: exit 130; every line accounted for, in whole lines; no partial videos."""
    emu = await emulator("gptge", time_scale=0.2)
    lines = 30
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": f"clip {i}"} for i in range(lines)])
    out, videos = tmp_path / "out.jsonl", tmp_path / "videos"
    process = await asyncio.create_subprocess_exec(
        *CLI,
        *("batch", str(source), "--out", str(out), "--download", str(videos)),
        *("--concurrency", "2", *gateway(emu)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=subprocess_env(),
    )
    assert process.stderr is not None
    try:
        with anyio.fail_after(60):
            while b": done " not in (line := await process.stderr.readline()):
                assert line, "the batch ended before its first job was done"
    finally:
        process.send_signal(signal.SIGINT)
        with anyio.fail_after(60):
            stdout, _ = await process.communicate()
    assert process.returncode == ExitCode.INTERRUPTED
    records = read_records(out)
    assert sorted(r["line"] for r in records) == list(range(1, lines + 1))
    status = Counter(r["status"] for r in records)
    assert status["done"] >= 1
    assert status["not submitted"] >= 1
    assert set(status) <= {"done", "interrupted", "uncertain", "not submitted"}
    # Every task the gateway created is in the results, by its id, or on a line marked
    # uncertain (no journal, so a submit under way was not waited for).
    known = {r["id"] for r in records if r["id"]}
    created = set(emu.tasks_created())
    assert known <= created
    assert len(created - known) <= status["uncertain"]
    assert [p.name for p in videos.iterdir() if p.suffix != ".mp4"] == []
    for record in records:
        if record["status"] == "done":
            assert Path(record["path"]).read_bytes()[4:8] == b"ftyp"
    text = stdout.decode()
    assert "not submitted: lines" in text
    assert "interrupted: nothing more was submitted" in text
    if status["interrupted"]:
        assert "luma-async wait " in text


@pytest.mark.parametrize("dialect", ["official", "gptge"])
async def test_the_cli_page_example_runs_clean(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path, dialect: str
) -> None:
    """The JSON-lines example of docs/cli.md, as printed there, ends `done` on every line."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    example = page.split("## batch", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "fox.png").write_bytes(PNG)
    source = tmp_path / "prompts.jsonl"
    source.write_text(example, encoding="utf-8")
    emu = await emulator(dialect, time_scale=0.02)
    run = await cli("batch", str(source), "--json", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert run.json()["counts"] == {"done": 3}


async def test_the_cli_page_kinds_example_runs_clean(
    cli: RunCli, emulator: MakeEmulator, tmp_path: Path
) -> None:
    """The second JSON-lines example of docs/cli.md (every kind), its task ids filled in."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    example = page.split("## batch", 1)[1].split("```json\n")[2].split("```", 1)[0]
    emu = await emulator("official", time_scale=0.02)
    video = emu.create_task("a source clip", queue_seconds=0, run_seconds=0)
    image = emu.create_task("a source still", queue_seconds=0, run_seconds=0, kind="image")
    example = example.replace("VIDEO-TASK-ID", video).replace("IMAGE-TASK-ID", image)
    (tmp_path / "ink.png").write_bytes(PNG)
    (tmp_path / "clips").mkdir()
    clip = Path(luma_async.emulator.__file__).parent / "media" / "clip0.mp4"
    (tmp_path / "clips" / "beach.mp4").write_bytes(clip.read_bytes())
    source = tmp_path / "kinds.jsonl"
    source.write_text(example, encoding="utf-8")
    run = await cli("batch", str(source), "--json", *gateway(emu))
    assert run.code == ExitCode.OK, run.err
    assert run.json()["counts"] == {"done": 4}
    kinds = [r["kind"] for r in read_records(tmp_path / "kinds.results.jsonl")]
    assert sorted(kinds) == ["image", "modify_video", "reframe_image", "reframe_video"]
