"""Hostile bodies, paths and headers: never a 5xx, never a task that breaks later answers.

Every error comes back as JSON in the dialect's own shape (official `{detail}`, relays
`{code, message, data}` or new-api's `{error: {message, type}}`).
"""

from __future__ import annotations

import gzip
import io
import json

import pytest

from ._support import RELAY, Api, Reply, prompt_body, serve, submit_path

pytestmark = pytest.mark.anyio

DIALECTS = ("official", *RELAY)
MAX_BODY = 32 * 1024 * 1024

HOSTILE: dict[str, bytes] = {
    "surrogate_prompt": b'{"prompt": "a \\ud800 cat", "user_prompt": "a \\ud800 cat",'
    b' "model": "ray-2", "aspect_ratio": "16:9"}',
    "big_integer": b'{"prompt": "a cat", "loop": ' + b"7" * 5000 + b"}",
    "deep_nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep_object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "nan": b'{"prompt": "a cat", "model": "ray-2", "weight": NaN}',
    "huge_float": b'{"prompt": "a cat", "model": "ray-2", "loop": 1e999}',
    "not_utf8": b'{"prompt": "\xff\xfe"}',
    "truncated": b'{"prompt": "a cat"',
    "empty": b"",
}


def body_routes(dialect: str, task_id: str) -> list[str]:
    """Every route of the dialect that reads a body."""
    if dialect == "official":
        paths = ["/generations/video", "/generations", "/generations/image"]
        paths += ["/generations/image/reframe", "/generations/video/reframe"]
        paths += ["/generations/video/modify"]
        return [*paths, f"/generations/{task_id}/upscale", f"/generations/{task_id}/audio"]
    paths = ["/luma/generations", "/luma/tasks", "/luma/generations/file_upload"]
    paths.append(f"/luma/generations/{task_id}/extend")
    if dialect == "rixapi":
        paths.append(f"/luma/generations/{task_id}/audio")
    return paths


def assert_dialect_error(dialect: str, reply: Reply) -> None:
    """A 4xx JSON answer in the dialect's error shape."""
    assert 400 <= reply.status < 500, (reply.status, reply.text[:200])
    assert reply.headers["Content-Type"].startswith("application/json"), reply.headers
    body = reply.body
    assert isinstance(body, dict), reply.text[:200]
    if dialect == "official":
        assert set(body) == {"detail"}
        assert isinstance(body["detail"], str)
    elif "error" in body:
        assert isinstance(body["error"]["message"], str)
    elif "detail" in body:  # an upstream 404 passed through by the relay (DIALECTS.md §2)
        assert reply.status == 404
    else:
        assert set(body) == {"code", "message", "data"}
        assert isinstance(body["message"], str)


async def _completed_task(api: Api) -> str:
    return api.emu.create_task("a finished one", queue_seconds=0, run_seconds=0)


async def _still_healthy(dialect: str, api: Api, task_id: str) -> None:
    """Reads keep working after the hostile requests."""
    path = "/generations" if dialect == "official" else f"/luma/generations/{task_id}"
    assert (await api.get(path)).status == 200


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", list(HOSTILE))
async def test_hostile_bodies_on_every_route(dialect: str, case: str) -> None:
    """Each hostile body on each body route: a 4xx in the dialect's shape, nothing created."""
    async with serve(dialect=dialect) as api:
        task_id = await _completed_task(api)
        headers = {"Content-Type": "application/json"}
        for path in body_routes(dialect, task_id):
            reply = await api.call("POST", path, data=HOSTILE[case], headers=headers)
            assert_dialect_error(dialect, reply)
        assert api.emu.stats.creations == 0
        await _still_healthy(dialect, api, task_id)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_lone_surrogate_prompt_creates_nothing(dialect: str) -> None:
    """The reported case: "\\ud800" in the prompt is a 400 and GET /generations stays 200."""
    async with serve(dialect=dialect) as api:
        task_id = await _completed_task(api)
        body = prompt_body(dialect, "PLACEHOLDER")
        raw = json.dumps(body).replace("PLACEHOLDER", "a \\ud800 lone surrogate").encode()
        reply = await api.call("POST", submit_path(dialect), data=raw)
        assert_dialect_error(dialect, reply)
        assert reply.status == 400
        assert api.emu.tasks_created() == []
        await _still_healthy(dialect, api, task_id)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_content_encoding(dialect: str) -> None:
    """A gzip body that does not decode is a 400 in the dialect's shape; a good one is read."""
    async with serve(dialect=dialect) as api:
        gz = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        reply = await api.call("POST", submit_path(dialect), data=b"not gzip", headers=gz)
        assert reply.status == 400
        assert_dialect_error(dialect, reply)
        good = gzip.compress(json.dumps(prompt_body(dialect)).encode())
        reply = await api.call("POST", submit_path(dialect), data=good, headers=gz)
        assert reply.status in (200, 201), reply.text
        assert api.emu.stats.creations == 1


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_body_too_large_is_a_413_in_the_dialect_shape(dialect: str) -> None:
    """Above the body limit: 413, JSON, the dialect's shape."""
    async with serve(dialect=dialect) as api:
        data = b'{"prompt": "' + b"a" * (MAX_BODY + 10) + b'"}'
        reply = await api.call("POST", submit_path(dialect), data=io.BytesIO(data))
        assert reply.status == 413
        assert_dialect_error(dialect, reply)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_hostile_paths_queries_and_headers(dialect: str) -> None:
    """Odd ids, query values and headers: never a 5xx, always JSON in the dialect's shape."""
    async with serve(dialect=dialect) as api:
        task_id = await _completed_task(api)
        get = "/generations/" if dialect == "official" else "/luma/generations/"
        odd_ids = ["%ED%A0%80", "%00", "..%2F..%2Fetc", "x" * 5000, "%F0%9F%98%80", "%FF"]
        for odd in odd_ids:
            reply = await api.get(get + odd)
            assert_dialect_error(dialect, reply)
        odd_headers: list[dict[str, str]] = [
            {"Authorization": "Bearer \u00ff\u00fe"},
            {"Authorization": "Basic x"},
            {"Range": "bytes=abc"},
            {"Content-Type": "text/plain; charset=nonsense"},
            {"Accept": "*/*;q=abc", "X-Request-Id": "é" * 3000},
        ]
        for headers in odd_headers:
            reply = await api.call("GET", get + task_id, headers=headers, token=None)
            assert reply.status < 500
            assert reply.headers["Content-Type"].startswith("application/json")
        if dialect == "official":
            for query in ("limit=1e9", "limit=-1", "offset=\u0661", "limit=" + "9" * 5000):
                reply = await api.get(f"/generations?{query}")
                assert reply.status < 500
                if reply.status >= 400:
                    assert_dialect_error(dialect, reply)
        await _still_healthy(dialect, api, task_id)
