"""The command line as a whole: arguments, settings, exit codes, secrets, dialects, emulator."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import anyio
import pytest

from luma_async.cli import ExitCode
from luma_async.cli._dialects import markdown_table
from luma_async.dialects import DIALECTS
from luma_async.emulator import Faults

from ..conftest import KEY, MakeEmulator
from .conftest import CLI, ROOT, RunCli, gateway, subprocess_env

pytestmark = pytest.mark.anyio

SECRET = "sk-cli-LeakCanary-51d0e7a9b3"
COMMANDS = ["demo", "emulator", "generate", "status", "wait", "download", "batch", "dialects"]


async def test_help_lists_every_command_and_exit_code(cli: RunCli) -> None:
    """--help names each command, the environment variables and the exit codes."""
    run = await cli("--help")
    assert run.code == ExitCode.OK
    for command in COMMANDS:
        assert command in run.out
    for name in ("LUMA_BASE_URL", "LUMA_API_KEY", "LUMA_DIALECT"):
        assert name in run.out
    for code in ExitCode:
        assert f"  {code.value} " in run.out


async def test_version(cli: RunCli) -> None:
    """--version prints the package version."""
    from luma_async import __version__

    run = await cli("--version")
    assert run.code == ExitCode.OK
    assert run.out.strip() == f"luma-async {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["status"],
        ["status", "x", "--bogus"],
        ["wait", "x", "--timeout", "-1"],
        ["wait", "x", "--timeout", "soon"],
        ["batch", "in.jsonl", "--concurrency", "many"],
        ["batch", "in.jsonl", "--concurrency", "0"],
        ["generate", "x", "--dialect", "nope"],
    ],
)
async def test_usage_errors_exit_2(cli: RunCli, argv: list[str]) -> None:
    """Bad arguments: argparse's message and exit code 2, nothing run."""
    run = await cli(*argv)
    assert run.code == ExitCode.USAGE
    assert "usage:" in run.err


async def test_missing_api_key_exits_2(cli: RunCli) -> None:
    """No --api-key and no $LUMA_API_KEY: one line that says how to give one."""
    run = await cli("status", "x", "--base-url", "http://127.0.0.1:9")
    assert run.code == ExitCode.USAGE
    assert run.err == "luma-async: error: no API key: set $LUMA_API_KEY (or pass --api-key)\n"


async def test_a_dialect_without_a_public_base_needs_one(cli: RunCli) -> None:
    """rixapi has no public base URL: --base-url or $LUMA_BASE_URL is required."""
    run = await cli("status", "x", "--dialect", "rixapi", "--api-key", "k")
    assert run.code == ExitCode.USAGE
    assert "pass --base-url or set $LUMA_BASE_URL" in run.err


async def test_an_unknown_dialect_in_the_environment_exits_2(
    cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$LUMA_DIALECT is checked like the flag."""
    monkeypatch.setenv("LUMA_DIALECT", "nope")
    run = await cli("status", "x", "--api-key", "k")
    assert run.code == ExitCode.USAGE
    assert "unknown dialect 'nope'" in run.err


async def test_the_environment_configures_the_client(
    cli: RunCli, emulator: MakeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$LUMA_BASE_URL, $LUMA_API_KEY and $LUMA_DIALECT alone are enough."""
    emu = await emulator("rixapi")
    task_id = emu.create_task("made already")
    monkeypatch.setenv("LUMA_BASE_URL", emu.base_url)
    monkeypatch.setenv("LUMA_API_KEY", KEY)
    monkeypatch.setenv("LUMA_DIALECT", "RixAPI")
    run = await cli("status", task_id)
    assert run.code == ExitCode.OK, run.err
    assert run.out.startswith(task_id)


async def test_flags_win_over_the_environment_before_or_after_the_command(
    cli: RunCli, emulator: MakeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flags override the environment, and may come before or after the command."""
    emu = await emulator("gptge")
    task_id = emu.create_task("made already")
    monkeypatch.setenv("LUMA_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LUMA_API_KEY", "wrong")
    monkeypatch.setenv("LUMA_DIALECT", "official")
    run = await cli(*gateway(emu), "--json", "status", task_id)
    assert run.code == ExitCode.OK, run.err
    assert run.json()[0]["id"] == task_id
    run = await cli("status", task_id, *gateway(emu))
    assert run.code == ExitCode.OK, run.err


async def test_a_refused_key_exits_3_and_is_never_printed(
    cli: RunCli, emulator: MakeEmulator
) -> None:
    """401: exit 3 with a hint; the key is in no output, not even with --debug."""
    emu = await emulator("anyapi")
    for extra in ([], ["--debug"], ["--json"]):
        run = await cli(
            "generate",
            "a fox",
            *("--base-url", emu.base_url, "--api-key", SECRET, "--dialect", "anyapi"),
            *extra,
        )
        assert run.code == ExitCode.AUTH
        assert "check --api-key or $LUMA_API_KEY" in run.err
        assert SECRET not in run.out + run.err
        assert SECRET[:12] not in run.out + run.err
        assert ("Traceback" in run.err) == ("--debug" in extra)


async def test_debug_shows_the_traceback_and_requests(cli: RunCli, emulator: MakeEmulator) -> None:
    """--debug adds the traceback and the request log, with the key masked."""
    emu = await emulator("gptge", api_key=SECRET)
    run = await cli("generate", "a fox", "--aspect-ratio", "2:1", "--debug", *gateway(emu))
    assert run.code == ExitCode.USAGE
    assert "Traceback (most recent call last)" in run.err
    assert run.err.rstrip().splitlines()[-1].startswith("luma-async: error: aspect_ratio")
    run = await cli(
        "status",
        "some-id",
        "--debug",
        "--base-url",
        emu.base_url,
        "--api-key",
        SECRET,
        "--dialect",
        "gptge",
    )
    assert "Bearer ***" in run.err
    assert SECRET not in run.out + run.err


async def test_quota_exhausted_exits_3(cli: RunCli, emulator: MakeEmulator) -> None:
    """An account out of credits: exit 3."""
    emu = await emulator("rixapi", credits=0)
    run = await cli("generate", "a fox", *gateway(emu))
    assert run.code == ExitCode.AUTH
    assert "out of quota" in run.err


async def test_an_unreachable_gateway_exits_4(cli: RunCli) -> None:
    """Nothing listens at the base URL: exit 4, one line."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run = await cli(
        "status",
        "x",
        "--base-url",
        f"http://127.0.0.1:{port}",
        "--api-key",
        "k",
        "--dialect",
        "gptge",
    )
    assert run.code == ExitCode.NETWORK
    assert run.err.startswith("luma-async: error: network error: ")
    assert len(run.err.splitlines()) == 1


async def test_a_gateway_that_keeps_failing_exits_4(cli: RunCli, emulator: MakeEmulator) -> None:
    """A submit answered by 502 pages may have created a task: exit 4 and say so."""
    emu = await emulator("xfusion", faults=Faults(html_502=1.0, routes=frozenset({"submit"})))
    run = await cli("generate", "a fox", *gateway(emu))
    assert run.code == ExitCode.NETWORK
    assert "luma-async status" in run.err


async def test_dialects_table_as_built(cli: RunCli) -> None:
    """`dialects` shows every dialect; --json gives the same as data."""
    run = await cli("dialects")
    assert run.code == ExitCode.OK
    for name in DIALECTS:
        assert name in run.out
    data = (await cli("dialects", "--json")).json()
    assert list(data) == list(DIALECTS)
    assert "aspect_ratio" not in data["anyapi"]["options"]
    assert data["official"]["required_defaults"] == {"model": "ray-2"}
    assert data["rixapi"]["required_defaults"] == {"aspect_ratio": "16:9"}
    assert data["rixapi"]["base_url"] is None
    assert "credits" in data["official"]["operations"]
    assert data["gptge"]["batch_query"] == "POST /luma/tasks"
    assert data["official"]["resolutions"] == ["540p", "720p", "1080p", "4k"]


async def test_the_readme_shows_the_dialect_table_as_built(cli: RunCli) -> None:
    """README.md carries `luma-async dialects --markdown` verbatim."""
    run = await cli("dialects", "--markdown")
    assert run.out.strip() == markdown_table()
    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


async def test_the_emulator_command_serves_until_interrupted(cli: RunCli, tmp_path: Path) -> None:
    """`luma-async emulator` prints its base URL, serves the CLI, and stops on Ctrl-C."""
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "emulator",
        "--dialect",
        "xfusion",
        "--port",
        "0",
        "--api-key",
        KEY,
        "--time-scale",
        "0.02",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=subprocess_env(),
    )
    try:
        assert process.stdout is not None
        with anyio.fail_after(30):
            base_url = (await process.stdout.readline()).decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        run = await cli(
            "generate",
            "a fox",
            "--download",
            str(tmp_path),
            "--base-url",
            base_url,
            "--api-key",
            KEY,
            "--dialect",
            "xfusion",
        )
        assert run.code == ExitCode.OK, run.err
        assert len(list(tmp_path.glob("*.mp4"))) == 1
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        with anyio.fail_after(30):
            _, err = await process.communicate()
    assert process.returncode == 0, err.decode()


async def test_main_runs_as_a_module() -> None:
    """`python -m luma_async.cli` is the same program."""
    done = await anyio.run_process(
        [*CLI, "dialects", "--markdown"], env=subprocess_env(), check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == markdown_table()


async def test_emulator_arguments_are_checked(cli: RunCli) -> None:
    """`emulator` hands its arguments to the emulator's own parser: bad ones exit 2."""
    run = await cli("emulator", "--dialect", "official", "--quirks", "envelope")
    assert run.code == ExitCode.USAGE
    assert "relay-only quirks" in run.err
    run = await cli("emulator", "--help")
    assert run.code == ExitCode.OK
    assert "--time-scale" in run.out
