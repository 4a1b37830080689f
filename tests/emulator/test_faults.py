"""Seeded fault injection: each kind, the route filter, determinism, and the counters."""

from __future__ import annotations

import aiohttp
import pytest

from luma_async.emulator import FAULT_KINDS, Faults

from ._support import prompt_body, serve

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        ("anyapi", {"error": {"message": "internal error", "type": "new_api_error"}}),
        ("official", {"detail": "Internal Server Error"}),
    ],
)
async def test_http_500(dialect: str, body: object) -> None:
    """http_500: a JSON 500 in the dialect's shape, and nothing created."""
    async with serve(dialect=dialect, faults=Faults(http_500=1.0)) as api:
        path = "/luma/generations" if dialect == "anyapi" else "/generations/video"
        reply = await api.post(path, prompt_body(dialect))
        assert (reply.status, reply.body) == (500, body)
        stats = api.emu.stats
        assert (stats.faults_injected["http_500"], stats.creations, stats.rejected) == (1, 0, 0)


async def test_html_502() -> None:
    """html_502: an nginx HTML page, even for a request with a bad key."""
    async with serve(dialect="gptge", faults=Faults(html_502=1.0)) as api:
        reply = await api.get("/luma/generations/x", token="bad")
        assert reply.status == 502
        assert reply.headers["Content-Type"].startswith("text/html")
        assert "<center><h1>502 Bad Gateway</h1></center>" in reply.text
        assert reply.body is None


async def test_rate_429() -> None:
    """rate_429: a 429 with Retry-After, counted as a rejection."""
    async with serve(dialect="rixapi", faults=Faults(rate_429=1.0, retry_after=3)) as api:
        reply = await api.post("/luma/tasks", {"ids": []})
        assert (reply.status, reply.headers["Retry-After"]) == (429, "3")
        stats = api.emu.stats
        assert (stats.faults_injected["rate_429"], stats.rejected) == (1, 1)


async def test_reset() -> None:
    """reset: the connection closes with no answer, and nothing is created."""
    async with serve(dialect="anyapi", faults=Faults(reset=1.0)) as api:
        with pytest.raises(aiohttp.ClientConnectionError):
            await api.post("/luma/generations", prompt_body("anyapi"))
        stats = api.emu.stats
        assert (stats.faults_injected["reset"], stats.creations, stats.requests) == (1, 0, 1)


async def test_slow_trips_a_client_timeout_then_answers() -> None:
    """slow: the answer comes slow_seconds late (a short client timeout gives up first)."""
    async with serve(dialect="official", faults=Faults(slow=1.0, slow_seconds=0.3)) as api:
        with pytest.raises(TimeoutError):
            await api.get("/ping", limit=0.05)
        reply = await api.get("/ping", limit=5.0)
        assert (reply.status, reply.body) == (200, {"message": "pong"})
        assert api.emu.stats.faults_injected["slow"] == 2


async def test_slow_submit_creates_its_task_after_the_client_gave_up() -> None:
    """A submit the client abandoned still reached the gateway: the task appears later."""
    async with serve(dialect="anyapi", faults=Faults(slow=1.0, slow_seconds=0.2)) as api:
        with pytest.raises(TimeoutError):
            await api.post("/luma/generations", prompt_body("anyapi"), limit=0.05)
        await api.emu.close()  # waits for the request still in flight
        assert api.emu.stats.creations == 1


async def test_truncated() -> None:
    """truncated: full Content-Length, half the body, then the connection closes."""
    async with serve(
        dialect="anyapi", faults=Faults(truncated=1.0, routes=frozenset({"batch"}))
    ) as api:
        url = api.emu.base_url + "/luma/tasks"
        headers = {"Authorization": "Bearer test-key"}
        async with api.session.post(url, json={"ids": []}, headers=headers) as resp:
            assert resp.status == 200
            assert resp.content_length == 2  # "[]"
            with pytest.raises(aiohttp.ClientPayloadError):
                await resp.read()
        assert api.emu.stats.faults_injected["truncated"] == 1


async def test_truncated_submit_still_creates() -> None:
    """A truncated submit answer was produced after the task was made."""
    async with serve(dialect="gptge", faults=Faults(truncated=1.0)) as api:
        with pytest.raises(aiohttp.ClientPayloadError):
            await api.post("/luma/generations", prompt_body("gptge"))
        assert len(api.emu.tasks_created()) == 1


@pytest.mark.parametrize("dialect", ["anyapi", "official"])
async def test_ambiguous_submit(dialect: str) -> None:
    """ambiguous_submit: the task is created and counted, then the connection drops."""
    faults = Faults(ambiguous_submit=1.0)
    async with serve(dialect=dialect, faults=faults) as api:
        path = "/luma/generations" if dialect == "anyapi" else "/generations/video"
        with pytest.raises(aiohttp.ClientConnectionError):
            await api.post(path, prompt_body(dialect))
        created = api.emu.tasks_created()
        assert len(created) == 1
        stats = api.emu.stats
        assert (stats.creations, stats.faults_injected["ambiguous_submit"]) == (1, 1)
        found = await api.get(
            ("/luma/generations/" if dialect == "anyapi" else "/generations/") + created[0]
        )
        assert found.status == 200


async def test_ambiguous_submit_only_hits_submits() -> None:
    """Other routes never get ambiguous_submit, and a refused submit is answered normally."""
    async with serve(dialect="anyapi", faults=Faults(ambiguous_submit=1.0)) as api:
        assert (await api.post("/luma/tasks", {"ids": []})).status == 200
        assert (await api.post("/luma/generations", {"nope": 1})).status == 400
        assert api.emu.stats.faults_injected["ambiguous_submit"] == 0


async def test_routes_limit_where_faults_land() -> None:
    """Faults.routes confines faults to the named routes."""
    faults = Faults(http_500=1.0, routes=frozenset({"get"}))
    async with serve(dialect="xfusion", faults=faults) as api:
        submitted = await api.post("/luma/generations", prompt_body("xfusion"))
        assert submitted.status == 201
        assert (await api.get(f"/luma/generations/{submitted.body['id']}")).status == 500
        assert (await api.post("/luma/tasks", {"ids": []})).status == 200


async def test_faults_spare_the_cdn() -> None:
    """The CDN never gets faults."""
    faults = Faults(http_500=1.0, routes=frozenset({"submit"}))
    async with serve(dialect="anyapi", faults=faults, time_scale=0.0) as api:
        task_id = api.emu.create_task("x", queue_seconds=0, run_seconds=0)
        task = (await api.get(f"/luma/generations/{task_id}")).body
        assert (await api.fetch(task["video"]["url"])).status == 200


async def test_fault_draws_are_seeded() -> None:
    """The same seed gives the same fault pattern; another seed a different one."""

    async def pattern(seed: int) -> list[int]:
        async with serve(dialect="anyapi", seed=seed, faults=Faults(http_500=0.5)) as api:
            return [(await api.post("/luma/tasks", {"ids": []})).status for _ in range(24)]

    first = await pattern(7)
    assert first == await pattern(7)
    assert set(first) == {200, 500}
    assert first != await pattern(8)


async def test_kinds_share_one_draw() -> None:
    """Several kinds at once: each request gets at most one, and all are counted."""
    faults = Faults(http_500=0.25, html_502=0.25, rate_429=0.25, slow=0.25, slow_seconds=0.0)
    async with serve(dialect="anyapi", faults=faults) as api:
        for _ in range(40):
            await api.post("/luma/tasks", {"ids": []})
        counts = api.emu.stats.faults_injected
        assert sum(counts.values()) == 40
        assert all(counts[k] > 0 for k in ("http_500", "html_502", "rate_429", "slow"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"http_500": 1.5},
        {"reset": -0.1},
        {"http_500": 0.6, "reset": 0.6},
        {"routes": frozenset({"nope"})},
        {"retry_after": 0},
    ],
)
def test_bad_faults_are_refused(kwargs: dict[str, object]) -> None:
    """Impossible fault settings raise ValueError."""
    with pytest.raises(ValueError):  # noqa: PT011  (the message varies per setting)
        Faults(**kwargs)  # type: ignore[arg-type]


def test_fault_kinds_are_the_documented_names() -> None:
    """The public list of fault kinds."""
    assert set(FAULT_KINDS) == {
        "http_500",
        "html_502",
        "rate_429",
        "reset",
        "slow",
        "truncated",
        "ambiguous_submit",
        "cdn_cut",
    }
