"""Each quirk, switched on alone (and a few together), against the behaviour DIALECTS.md reports."""

from __future__ import annotations

from typing import Any

import pytest

from ._support import Api, FakeClock, fast, prompt_body, serve

pytestmark = pytest.mark.anyio


def quirky(*names: str, dialect: str = "anyapi", clock: FakeClock, **config: Any) -> dict[str, Any]:
    """Config fields: the quirks, a fake clock, tasks of 1 s queued + 2 s running."""
    return fast(dialect=dialect, clock=clock, quirks=frozenset(names), **config)


async def _submit(api: Api, dialect: str = "anyapi", prompt: str = "a cat") -> Any:
    reply = await api.post("/luma/generations", prompt_body(dialect, prompt))
    assert reply.status in (200, 201), reply.text
    return reply.body


async def test_early_404_hides_new_tasks(clock: FakeClock) -> None:
    """early_404: single query and batch do not know a task for early_404_seconds."""
    async with serve(**quirky("early_404", clock=clock, early_404_seconds=1.0)) as api:
        task_id = (await _submit(api))["id"]
        assert (await api.get(f"/luma/generations/{task_id}")).status == 404
        assert (await api.post("/luma/tasks", {"ids": [task_id]})).body == []
        clock.advance(1.0)
        assert (await api.get(f"/luma/generations/{task_id}")).status == 200
        assert len((await api.post("/luma/tasks", {"ids": [task_id]})).body) == 1


async def test_early_404_window_follows_time_scale(clock: FakeClock) -> None:
    """The window is early_404_seconds x time_scale."""
    config = quirky("early_404", clock=clock, early_404_seconds=2.0, time_scale=0.5)
    async with serve(**config) as api:
        task_id = (await _submit(api))["id"]
        clock.advance(0.9)
        assert (await api.get(f"/luma/generations/{task_id}")).status == 404
        clock.advance(0.1)
        assert (await api.get(f"/luma/generations/{task_id}")).status == 200


async def test_early_404_with_task_not_exist_400(clock: FakeClock) -> None:
    """With task_not_exist_400 the early answer is new-api's 400 task_not_exist."""
    async with serve(**quirky("early_404", "task_not_exist_400", clock=clock)) as api:
        task_id = (await _submit(api))["id"]
        reply = await api.get(f"/luma/generations/{task_id}")
        assert (reply.status, reply.body["code"]) == (400, "task_not_exist")


async def test_early_404_on_official(clock: FakeClock) -> None:
    """The official dialect can show early 404s too, on get and list."""
    config = quirky("early_404", dialect="official", clock=clock)
    async with serve(**config) as api:
        gen = (await api.post("/generations/video", prompt_body("official"))).body
        assert (await api.get(f"/generations/{gen['id']}")).status == 404
        assert (await api.get("/generations")).body["generations"] == []
        clock.advance(1.0)
        assert (await api.get(f"/generations/{gen['id']}")).status == 200


async def test_task_not_exist_400() -> None:
    """task_not_exist_400: an unknown id on single query is 400 task_not_exist."""
    async with serve(dialect="gptge", quirks=frozenset({"task_not_exist_400"})) as api:
        reply = await api.get("/luma/generations/nope")
        assert reply.status == 400
        assert reply.body == {"code": "task_not_exist", "message": "task_not_exist", "data": None}


@pytest.mark.parametrize("dialect", ["anyapi", "official"])
async def test_completed_without_link(dialect: str, clock: FakeClock) -> None:
    """completed_without_link: completed with no video for link_delay x time_scale seconds."""
    config = quirky(
        "completed_without_link", dialect=dialect, clock=clock, link_delay=2.0, time_scale=0.5
    )
    config.update(queue_seconds=(2.0, 2.0), run_seconds=(4.0, 4.0))  # 1 s + 2 s once scaled
    async with serve(**config) as api:
        emu = api.emu
        if dialect == "official":
            task_id = (await api.post("/generations/video", prompt_body(dialect))).body["id"]
            path, link_field = f"/generations/{task_id}", "assets"
        else:
            task_id = (await _submit(api))["id"]
            path, link_field = f"/luma/generations/{task_id}", "video"
        clock.advance(3.0)
        task = (await api.get(path)).body
        assert (task["state"], task[link_field]) == ("completed", None)
        assert emu.task_state(task_id) == "completed"
        assert emu.finished_at(task_id) is None
        if dialect == "anyapi":
            early = await api.get(f"/luma/generations/{task_id}/download_video_url")
            assert early.status == 400
        clock.advance(0.5)
        assert (await api.get(path)).body[link_field] is None
        clock.advance(0.5)
        assert (await api.get(path)).body[link_field] is not None
        assert emu.finished_at(task_id) == pytest.approx(1000.0 + 4.0)


async def test_failed_tasks_do_not_wait_for_a_link(clock: FakeClock) -> None:
    """A failing task is terminal as soon as it fails, quirk or not."""
    async with serve(**quirky("completed_without_link", clock=clock)) as api:
        task_id = (await _submit(api, prompt="x [fail]"))["id"]
        clock.advance(3.0)
        assert api.emu.finished_at(task_id) == pytest.approx(1003.0)


async def test_list_submit(clock: FakeClock) -> None:
    """list_submit: submit and extend answer a one-element list; queries do not."""
    async with serve(**quirky("list_submit", clock=clock)) as api:
        reply = await _submit(api)
        assert isinstance(reply, list)
        assert len(reply) == 1
        task_id = reply[0]["id"]
        extended = await api.post(f"/luma/generations/{task_id}/extend", prompt_body("anyapi"))
        assert isinstance(extended.body, list)
        assert extended.body[0]["id"] != task_id
        assert (await api.get(f"/luma/generations/{task_id}")).body["id"] == task_id


async def test_envelope(clock: FakeClock) -> None:
    """envelope: submit, extend and query answer AnyAPI's envelope; links only via other routes."""
    async with serve(**quirky("envelope", clock=clock)) as api:
        reply = await _submit(api)
        assert set(reply) == {"code", "message", "request_id", "data"}
        assert (reply["code"], reply["message"]) == (200, "success")
        assert isinstance(reply["request_id"], str)
        data = reply["data"]
        assert set(data) == {"task_id", "task_status", "created_at", "updated_at"}
        assert data["task_status"] == "submitted"
        assert isinstance(data["created_at"], int)
        assert data["created_at"] > 1_600_000_000_000
        task_id = data["task_id"]
        assert api.emu.tasks_created() == [task_id]
        path = f"/luma/generations/{task_id}"
        clock.advance(1.5)
        processing = (await api.get(path)).body["data"]
        assert processing["task_status"] == "processing"
        assert processing["updated_at"] - processing["created_at"] == 1000
        extended = (await api.post(f"{path}/extend", prompt_body("anyapi"))).body
        assert extended["data"]["task_status"] == "submitted"
        clock.advance(2.0)
        done = (await api.get(path)).body
        assert done["data"]["task_status"] == "succeed"
        assert "video" not in done["data"]
        batch = (await api.post("/luma/tasks", {"ids": [task_id]})).body
        assert batch[0]["video"]["url"]
        assert (await api.get(f"{path}/download_video_url")).status == 200


async def test_envelope_failed_status(clock: FakeClock) -> None:
    """A failed task's envelope says failed."""
    async with serve(**quirky("envelope", clock=clock)) as api:
        task_id = (await _submit(api, prompt="[fail]"))["data"]["task_id"]
        clock.advance(5)
        assert (await api.get(f"/luma/generations/{task_id}")).body["data"][
            "task_status"
        ] == "failed"


async def test_batch_wrapper(clock: FakeClock) -> None:
    """batch_wrapper: new-api's wrapper with status, progress, fail_reason, times, inner task."""
    async with serve(**quirky("batch_wrapper", clock=clock)) as api:
        ok = (await _submit(api, prompt="fine"))["id"]
        bad = (await _submit(api, prompt="[fail] no"))["id"]

        async def items() -> list[dict[str, Any]]:
            reply = (await api.post("/luma/tasks", {"ids": [ok, bad]})).body
            assert (reply["code"], reply["message"]) == ("success", "")
            result: list[dict[str, Any]] = reply["data"]
            return result

        first = await items()
        assert [i["status"] for i in first] == ["SUBMITTED", "SUBMITTED"]
        assert first[0]["task_id"] == ok
        assert first[0]["platform"] == "luma"
        assert (first[0]["progress"], first[0]["finish_time"], first[0]["start_time"]) == (
            "0%",
            0,
            0,
        )
        assert isinstance(first[0]["id"], int)
        assert isinstance(first[0]["submit_time"], int)
        assert first[0]["data"]["state"] == "pending"
        clock.advance(2.0)
        middle = await items()
        assert [i["status"] for i in middle] == ["IN_PROGRESS", "IN_PROGRESS"]
        assert middle[0]["progress"] == "50%"
        assert middle[0]["start_time"] > 0
        clock.advance(2.0)
        done = await items()
        assert [i["status"] for i in done] == ["SUCCESS", "FAILURE"]
        assert done[0]["data"]["video"]["url"]
        assert done[0]["fail_reason"] == ""
        assert done[1]["fail_reason"]
        assert done[1]["finish_time"] >= done[1]["start_time"] > 0


@pytest.mark.parametrize("dialect", ["gptge", "official"])
async def test_unknown_state(dialect: str, clock: FakeClock) -> None:
    """unknown_state: the first half of processing is in state "rendering"."""
    async with serve(**quirky("unknown_state", dialect=dialect, clock=clock)) as api:
        if dialect == "official":
            task_id = (await api.post("/generations/video", prompt_body(dialect))).body["id"]
            path, later = f"/generations/{task_id}", "dreaming"
        else:
            task_id = (await _submit(api, dialect))["id"]
            path, later = f"/luma/generations/{task_id}", "processing"
        clock.advance(1.5)
        assert (await api.get(path)).body["state"] == "rendering"
        assert api.emu.task_state(task_id) == "rendering"
        clock.advance(1.0)
        assert (await api.get(path)).body["state"] == later


async def test_no_batch_route() -> None:
    """no_batch_route: /luma/tasks is a 404, from nginx (HTML) or new-api (JSON)."""
    async with serve(dialect="anyapi", quirks=frozenset({"no_batch_route"})) as api:
        first = await api.post("/luma/tasks", {"ids": []})
        second = await api.post("/luma/tasks", {"ids": []})
        assert (first.status, second.status) == (404, 404)
        kinds = {
            first.headers["Content-Type"].split(";")[0],
            second.headers["Content-Type"].split(";")[0],
        }
        assert kinds == {"text/html", "application/json"}
        assert api.emu.stats.by_route["batch"] == 2


async def test_no_watermark_missing(clock: FakeClock) -> None:
    """no_watermark_missing: the link route is a 404 even for a completed task."""
    async with serve(**quirky("no_watermark_missing", clock=clock)) as api:
        task_id = (await _submit(api))["id"]
        clock.advance(5)
        assert (await api.get(f"/luma/generations/{task_id}/download_video_url")).status == 404


@pytest.mark.parametrize("dialect", ["anyapi", "gptge"])
async def test_status_201(dialect: str) -> None:
    """status_201: every relay creation answers 201."""
    async with serve(dialect=dialect, quirks=frozenset({"status_201"})) as api:
        reply = await api.post("/luma/generations", prompt_body(dialect))
        assert reply.status == 201
        extended = await api.post(
            f"/luma/generations/{reply.body['id']}/extend", prompt_body(dialect)
        )
        assert extended.status == 201


async def test_new_form(clock: FakeClock) -> None:
    """new_form: queue_state, request, artifact (Go zero time), durations, media_type, palette."""
    async with serve(**quirky("new_form", clock=clock)) as api:
        task = await _submit(api, prompt="cat dance")
        for key in (
            "queue_state",
            "video_raw",
            "thumbnail",
            "last_frame",
            "artifact",
            "failure_reason",
        ):
            assert task[key] is None, key
        assert task["batch_id"] == ""
        assert task["request"] == {"prompt": "cat dance", "aspect_ratio": "16:9"}
        clock.advance(5)
        done = (await api.get(f"/luma/generations/{task['id']}")).body
        artifact = done["artifact"]
        assert artifact["created_at"] == "0001-01-01T00:00:00Z"
        assert artifact["video"]["url"] == done["video"]["url"]
        assert isinstance(done["video_raw"]["duration"], float)
        assert done["media_type"] == "video"
        assert done["palette"] is not None
        assert done["failure_reason"] is None


async def test_no_download_url(clock: FakeClock) -> None:
    """no_download_url: download_url missing or empty; video_raw.url is the clean link."""
    async with serve(**quirky("no_download_url", clock=clock)) as api:
        ids = [(await _submit(api, prompt=f"p{i}"))["id"] for i in range(2)]
        clock.advance(5)
        videos = [(await api.get(f"/luma/generations/{i}")).body for i in ids]
        forms = sorted(repr(v["video"].get("download_url", "<missing>")) for v in videos)
        assert forms == ["''", "'<missing>'"]
        for task in videos:
            assert f"/videos/{task['id']}_raw.mp4?" in task["video_raw"]["url"]
            assert f"/videos/{task['id']}.mp4?" in task["video"]["url"]


async def test_quirks_compose(clock: FakeClock) -> None:
    """list_submit with envelope answers a list holding one envelope."""
    async with serve(**quirky("list_submit", "envelope", "status_201", clock=clock)) as api:
        reply = await api.post("/luma/generations", prompt_body("anyapi"))
        assert reply.status == 201
        assert reply.body[0]["data"]["task_status"] == "submitted"
