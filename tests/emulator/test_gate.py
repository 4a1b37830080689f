"""Auth, quota, rate limit and the stats counters."""

from __future__ import annotations

import re

import pytest

from ._support import RELAY, FakeClock, prompt_body, serve

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("dialect", RELAY)
@pytest.mark.parametrize("token", [None, "", "wrong-key"])
async def test_relay_bad_key_is_new_api_401(dialect: str, token: str | None) -> None:
    """A missing, empty or wrong key is 401 with new-api's body and a request id."""
    async with serve(dialect=dialect) as api:
        reply = await api.post("/luma/generations", prompt_body(dialect), token=token)
        assert reply.status == 401
        assert reply.body["error"]["type"] == "new_api_error"
        assert re.fullmatch(r"无效的令牌 \(request id: \w+\)", reply.body["error"]["message"])
        stats = api.emu.stats
        assert (stats.creations, stats.rejected, stats.requests) == (0, 1, 1)


async def test_basic_auth_scheme_is_refused() -> None:
    """Only a Bearer token counts."""
    async with serve(dialect="anyapi") as api:
        headers = {"Authorization": "Basic test-key"}
        reply = await api.post(
            "/luma/generations", prompt_body("anyapi"), token=None, headers=headers
        )
        assert reply.status == 401


async def test_api_key_none_accepts_any_bearer() -> None:
    """api_key=None accepts any non-empty bearer token, but not none at all."""
    async with serve(dialect="gptge", api_key=None) as api:
        ok = await api.post("/luma/generations", prompt_body("gptge"), token="anything")
        assert ok.status == 200
        assert (await api.post("/luma/generations", prompt_body("gptge"), token=None)).status == 401


async def test_relay_quota_is_403_and_creates_nothing() -> None:
    """Once credits are spent: 403 quota_not_enough, no task (extend included)."""
    async with serve(dialect="anyapi", credits=1) as api:
        first = await api.post("/luma/generations", prompt_body("anyapi"))
        assert first.status == 200
        again = await api.post("/luma/generations", prompt_body("anyapi", "another"))
        assert again.status == 403
        assert again.body == {
            "code": "quota_not_enough",
            "message": "user quota is not enough",
            "data": None,
        }
        extend = await api.post(
            f"/luma/generations/{first.body['id']}/extend", prompt_body("anyapi")
        )
        assert extend.status == 403
        assert api.emu.tasks_created() == [first.body["id"]]
        assert api.emu.stats.creations == 1


async def test_zero_credits_refuses_the_first_submit() -> None:
    """credits=0 refuses at once."""
    async with serve(dialect="rixapi", credits=0) as api:
        assert (await api.post("/luma/generations", prompt_body("rixapi"))).status == 403


@pytest.mark.parametrize("dialect", ["anyapi", "official"])
async def test_rate_limit_answers_429_with_retry_after(dialect: str, clock: FakeClock) -> None:
    """Over rate_limit requests/second: 429 with an integer Retry-After; fine again later."""
    path = "/luma/tasks" if dialect == "anyapi" else "/ping"
    body: dict[str, list[str]] | None = {"ids": []} if dialect == "anyapi" else None
    async with serve(dialect=dialect, rate_limit=0.2, clock=clock) as api:

        async def hit() -> tuple[int, str | None]:
            reply = await (api.post(path, body) if body is not None else api.get(path))
            return reply.status, reply.headers.get("Retry-After")

        assert await hit() == (200, None)
        status, retry_after = await hit()
        assert (status, retry_after) == (429, "5")
        clock.advance(4.0)
        assert (await hit())[0] == 429
        clock.advance(1.0)
        assert (await hit())[0] == 200
        assert api.emu.stats.rejected == 2


async def test_rate_limit_bodies() -> None:
    """The relay 429 carries new-api's saturated-upstream message; Retry-After is at least 1."""
    async with serve(dialect="xfusion", rate_limit=50.0, clock=FakeClock()) as api:
        statuses = [(await api.post("/luma/tasks", {"ids": []})).status for _ in range(50)]
        assert statuses == [200] * 50
        reply = await api.post("/luma/tasks", {"ids": []})
        assert reply.status == 429
        assert reply.headers["Retry-After"] == "1"
        assert reply.body == {
            "error": {"message": "当前分组上游负载已饱和，请稍后再试", "type": "new_api_error"}
        }


async def test_unauthenticated_requests_do_not_spend_the_rate() -> None:
    """Auth is checked before the rate limit."""
    async with serve(dialect="anyapi", rate_limit=1.0, clock=FakeClock()) as api:
        for _ in range(3):
            assert (await api.post("/luma/tasks", {"ids": []}, token="bad")).status == 401
        assert (await api.post("/luma/tasks", {"ids": []})).status == 200


async def test_stats_count_requests_routes_and_rejections() -> None:
    """requests, by_route, creations and rejected add up; reset_stats zeroes them."""
    async with serve(dialect="anyapi") as api:
        task_id = (await api.post("/luma/generations", prompt_body("anyapi"))).body["id"]
        await api.get(f"/luma/generations/{task_id}")
        await api.get(f"/luma/generations/{task_id}")
        await api.post("/luma/tasks", {"ids": [task_id]})
        await api.post("/luma/generations", {"bad": 1})
        await api.get("/no/such/route")
        stats = api.emu.stats
        assert stats.requests == 6
        assert stats.by_route["submit"] == 2
        assert stats.by_route["get"] == 2
        assert stats.by_route["batch"] == 1
        assert sum(stats.by_route.values()) == 5
        assert (stats.creations, stats.rejected) == (1, 2)
        assert set(stats.faults_injected.values()) == {0}
        api.emu.reset_stats()
        fresh = api.emu.stats
        assert (fresh.requests, fresh.creations, fresh.rejected) == (0, 0, 0)
        assert set(fresh.by_route.values()) == {0}
        assert stats.requests == 6, "a stats object is a snapshot"
        assert api.emu.tasks_created() == [task_id]


async def test_duplicate_prompts_are_counted() -> None:
    """The same prompt and options twice counts once as a duplicate; callback URLs aside."""
    async with serve(dialect="gptge") as api:
        body = prompt_body("gptge", "same", aspect_ratio="1:1")
        await api.post("/luma/generations", {**body, "notify_hook": "https://h.example/1"})
        await api.post("/luma/generations", {**body, "notify_hook": "https://h.example/2"})
        await api.post("/luma/generations", prompt_body("gptge", "same", aspect_ratio="16:9"))
        await api.post("/luma/generations", prompt_body("gptge", "other"))
        stats = api.emu.stats
        assert (stats.creations, stats.duplicate_prompts) == (4, 1)


async def test_unknown_relay_route_is_new_api_404() -> None:
    """A path the relay does not serve answers new-api's Invalid URL."""
    async with serve(dialect="rixapi") as api:
        reply = await api.get("/v1/models")
        assert reply.status == 404
        assert reply.body["error"]["message"] == "Invalid URL (GET /v1/models)"
        wrong_method = await api.call("DELETE", "/luma/generations")
        assert wrong_method.status == 405
