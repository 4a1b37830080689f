"""`luma-async batch --journal URL --run NAME`, `journal show` and `journal runs`, on
PostgreSQL (a password in the URL is never printed) and SQLite."""

from __future__ import annotations

import json
import os
import pathlib
from urllib.parse import urlsplit, urlunsplit

import anyio
import pytest

from luma_async.cli import main

from ..conftest import KEY, MakeEmulator

pytestmark = pytest.mark.anyio

PASSWORD = "s3cr3t-pw-9f2a"


@pytest.fixture
def url_with_password(postgres_url: str) -> str:
    """The test database's URL with a password in it (pgserver trusts local connections)."""
    parts = urlsplit(postgres_url)
    if parts.password:
        return postgres_url  # an external server: its own password is the one to hide
    netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname or ''}"
    netloc += f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=netloc))


async def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`main(argv)` in a worker thread, its exit code and output."""
    capsys.readouterr()
    code = await anyio.to_thread.run_sync(main, list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_batch_on_a_shared_run_then_show_it(
    url_with_password: str,
    emulator: MakeEmulator,
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    emu = await emulator("anyapi")
    lines = tmp_path / "in.jsonl"
    lines.write_text("".join(json.dumps({"prompt": f"cli scene {i}"}) + "\n" for i in range(4)))
    run = f"cli-{os.getpid()}"
    gateway = ["--base-url", emu.base_url, "--api-key", KEY, "--dialect", "anyapi"]
    code, out, err = await run_cli(
        capsys, "batch", str(lines), "--journal", url_with_password, "--run", run, *gateway
    )
    assert code == 0, err
    assert emu.stats.creations == 4
    code, out, err = await run_cli(
        capsys, "journal", "show", url_with_password, "--run", run, "--json"
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    assert {r["state"] for r in rows} == {"completed"}
    assert all(r["task_id"] and r["url"] for r in rows)
    assert set(rows[0]) >= {"index", "task_id", "state", "url", "path", "error"}
    code, text, err = await run_cli(capsys, "journal", "show", url_with_password, "--run", run)
    assert code == 0
    assert "4 completed" in text
    assert len(text.splitlines()) == 5
    code, names, _ = await run_cli(capsys, "journal", "runs", url_with_password)
    assert code == 0
    assert run in names.split()
    code, _, missing = await run_cli(capsys, "journal", "show", url_with_password, "--run", "x")
    assert code != 0
    assert "no run 'x'" in missing
    password = urlsplit(url_with_password).password
    assert password
    for shown in (out, text, names, err, missing):
        assert password not in shown


async def test_journal_show_on_a_sqlite_file(
    emulator: MakeEmulator, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = await emulator("anyapi")
    lines = tmp_path / "in.jsonl"
    lines.write_text(json.dumps({"prompt": "one"}) + "\n" + json.dumps({"prompt": "two"}) + "\n")
    journal = str(tmp_path / "run.sqlite")
    gateway = ["--base-url", emu.base_url, "--api-key", KEY, "--dialect", "anyapi"]
    code, _, err = await run_cli(capsys, "batch", str(lines), "--journal", journal, *gateway)
    assert code == 0, err
    code, out, _ = await run_cli(capsys, "journal", "show", journal)
    assert code == 0
    assert "2 completed" in out
    code, out, _ = await run_cli(capsys, "journal", "runs", journal)
    assert out.split() == ["default"]
