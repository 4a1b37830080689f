"""`python -m luma_async.emulator`: starts, prints its base URL first, answers, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
import anyio
import pytest

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "luma_async.emulator",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
    )


async def test_serves_until_terminated() -> None:
    """--port 0 picks a free port; the first stdout line is the base URL; SIGTERM exits 0."""
    proc = await _spawn(
        "--dialect",
        "anyapi",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--cdn-port",
        "0",
        "--api-key",
        "KEY",
        "--quirks",
        "early_404,envelope",
        "--time-scale",
        "0.1",
        "--seed",
        "0",
    )
    try:
        assert proc.stdout is not None
        with anyio.fail_after(30):
            base_url = (await proc.stdout.readline()).decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer KEY"}) as session:
            async with session.post(
                f"{base_url}/luma/generations", json={"user_prompt": "a cat"}
            ) as resp:
                assert resp.status == 200
                body = await resp.json()
            assert body["data"]["task_status"] == "submitted"
            async with session.get(
                f"{base_url}/luma/generations/{body['data']['task_id']}"
            ) as resp:
                assert resp.status == 404, "early_404 is on"
    finally:
        if proc.returncode is None:
            proc.terminate()
        with anyio.fail_after(30):
            out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert b"cdn: http://127.0.0.1:" in out


async def test_bad_arguments_exit_2() -> None:
    """An unknown quirk is reported on stderr with exit status 2."""
    proc = await _spawn("--dialect", "official", "--quirks", "envelope")
    with anyio.fail_after(30):
        _, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"relay-only quirks" in err
