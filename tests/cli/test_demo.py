"""`demo`: the offline pipeline, end to end, into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from luma_async import GenerateRequest
from luma_async.cli import ExitCode
from luma_async.cli._demo import MEDIA_SAMPLES, SAMPLES
from luma_async.dialects import DIALECTS

from ..conftest import MakeClient, MakeEmulator
from .conftest import RunCli

pytestmark = pytest.mark.anyio


#: The first bytes of each kind's file.
MAGIC = {"video": (b"ftyp",), "image": (b"\xff\xd8\xff", b"\x89PNG")}


def expected(dialect: str) -> int:
    """How many requests the demo runs on `dialect`: the images and reframe where it has them."""
    return len(SAMPLES) + sum(DIALECTS[dialect]().supports(kind) for kind, _, _ in MEDIA_SAMPLES)


@pytest.mark.parametrize("dialect", list(DIALECTS))
async def test_demo_runs_on_every_dialect(cli: RunCli, tmp_path: Path, dialect: str) -> None:
    """Every sample but the [fail] one ends as a file of its kind in --out; exit 0."""
    out = tmp_path / "luma-demo"
    run = await cli(
        "demo", "--dialect", dialect, "--out", str(out), "--time-scale", "0.05", "--json"
    )
    assert run.code == ExitCode.OK, run.err
    data = run.json()
    assert data["dialect"] == dialect
    results = data["results"]
    assert len(results) == expected(dialect)
    failed = [r for r in results if r["status"] != "done"]
    assert [r["prompt"] for r in failed] == [p for p, _ in SAMPLES if "[fail]" in p]
    assert all(r["as_planned"] for r in results)
    videos_with_images = sum(r["images"] for r in results if r["kind"] == "video")
    assert videos_with_images == 4
    files = {f.stem: f for f in out.iterdir()}
    assert set(files) == {r["id"] for r in results if r["path"]}
    for row in results:
        if row["path"]:
            media = "image" if row["kind"] == "image" else "video"
            head = files[row["id"]].read_bytes()[:8]
            assert any(m in head[:8] for m in MAGIC[media]), row
    if dialect == "official":
        assert [r["kind"] for r in results[len(SAMPLES) :]] == [
            "image",
            "image",
            "reframe_video",
        ]
    else:
        assert {r["kind"] for r in results} == {"video"}


async def test_demo_names_files_by_their_kind(cli: RunCli, tmp_path: Path) -> None:
    """The demo's images are saved as .jpg and .png, its videos as .mp4."""
    out = tmp_path / "luma-demo"
    run = await cli("demo", "--out", str(out), "--time-scale", "0.05", "--json")
    assert run.code == ExitCode.OK, run.err
    suffixes = {r["id"]: Path(r["path"]).suffix for r in run.json()["results"] if r["path"]}
    assert sorted(set(suffixes.values())) == [".jpg", ".mp4", ".png"]


async def test_demo_draws_a_live_view_on_a_terminal(
    cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal: a live view (bar, ETA, rows) on stderr and a summary table on stdout."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    run = await cli("demo", "--out", str(tmp_path / "d"), "--time-scale", "0.05")
    assert run.code == ExitCode.OK, run.err
    assert "eta" in run.plain_err
    assert "prompt / why it failed" in run.plain_err
    assert "prompt rejected by the content filter" in run.plain_err
    assert "luma-async demo" in run.out
    assert "14 files saved in" in run.out
    assert "failed as planned" in run.out


async def test_demo_prints_a_line_per_job_elsewhere(cli: RunCli, tmp_path: Path) -> None:
    """Not on a terminal: one plain progress line per finished job, then the table."""
    run = await cli("demo", "--out", str(tmp_path), "--time-scale", "0.05", "--concurrency", "12")
    assert run.code == ExitCode.OK, run.err
    assert run.err.count(": done ") == expected("official") - 1
    assert run.err.count(": failed ") == 1
    assert "15 requests, 12 at a time" in run.err


async def test_demo_refuses_unknown_quirks(cli: RunCli, tmp_path: Path) -> None:
    """A quirk the emulator does not have: exit 2 before anything starts."""
    run = await cli("demo", "--out", str(tmp_path), "--quirks", "no_such_quirk")
    assert run.code == ExitCode.USAGE
    assert "unknown quirks" in run.err


async def test_demo_with_quirks_still_gets_every_video(cli: RunCli, tmp_path: Path) -> None:
    """Early 404s, late links and unknown states on the way change nothing in the end."""
    run = await cli(
        "demo",
        *("--dialect", "anyapi", "--out", str(tmp_path), "--time-scale", "0.05", "--json"),
        *("--quirks", "early_404,completed_without_link,unknown_state,batch_wrapper"),
    )
    assert run.code == ExitCode.OK, run.err


async def test_generate_many_downloads_into_a_folder_not_made_yet(
    emulator: MakeEmulator, client: MakeClient, tmp_path: Path
) -> None:
    """download_to names a folder (API.md), whether or not it exists yet."""
    emu = await emulator("anyapi")
    c = await client(emu)
    folder = tmp_path / "new"
    requests = [GenerateRequest(f"clip {i}") for i in range(2)]
    async with c.generate_many(requests, download_to=folder) as results:
        paths = [result.path async for result in results]
    assert folder.is_dir()
    assert sorted(p.name for p in folder.iterdir() if p) == sorted(
        f"{g}.mp4" for g in emu.tasks_created()
    )
    assert all(p is not None and p.parent == folder for p in paths)
