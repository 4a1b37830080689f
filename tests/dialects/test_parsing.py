"""Answers each dialect parses: recorded tasks, envelopes, batches, links, official objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from luma_async._errors import ProtocolError
from luma_async._models import Generation, State, VideoAsset
from luma_async.dialects import Official, get_dialect

from .conftest import encode, fixture_json, response

RELAYS = ("anyapi", "rixapi", "xfusion", "gptge")


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


# -- relay task objects ------------------------------------------------------------------------

PENDING_OLD = Generation(
    id="9d4b7516-77e5-481a-b015-48313946f33b",
    state=State.QUEUED,
    raw_state="pending",
    prompt="cat dance",
    created_at=at(2024, 7, 19, 7, 35, 13, 498660),
)

#: fixture -> the Generation every relay dialect must read from it.
RELAY_TASKS: dict[str, Generation] = {
    "relay_pending_old": PENDING_OLD,
    "relay_submit_list": PENDING_OLD,
    "xfusion_submit": PENDING_OLD,
    "rixapi_submit_201": Generation(
        id="fc7fb008-7a5e-40ad-a7ff-dbb63db61be8",
        state=State.QUEUED,
        raw_state="pending",
        prompt="cat dance",
        created_at=at(2024, 7, 22, 12, 47, 28, 553735),
    ),
    "gptge_submit": Generation(
        id="e70fdf3c-ce95-4dd1-a967-220ce957aff5",
        state=State.QUEUED,
        raw_state="pending",
        prompt="美人鱼",
        created_at=at(2024, 12, 24, 18, 1, 25, 319129),
    ),
    "anyapi_submit": Generation(
        id="4665a07c-7641-4809-a133-10786201bb56",
        state=State.QUEUED,
        raw_state="pending",
        created_at=at(2024, 12, 22, 13, 38, 40, 139409),
    ),
    "anyapi_extend": Generation(
        id="749d328e-4fd0-43a8-8c89-32394d60da69",
        state=State.QUEUED,
        raw_state="pending",
        created_at=at(2024, 12, 22, 14, 48, 39, 947851),
    ),
    "anyapi_envelope_submit": Generation(
        id="4665a07c-7641-4809-a133-10786201bb56",
        state=State.QUEUED,
        raw_state="submitted",
        created_at=at(2024, 12, 22, 13, 38, 40, 139000),
    ),
    "relay_failed": Generation(
        id="5c1e2d3f-4a5b-4c6d-8e7f-901234567890",
        state=State.FAILED,
        raw_state="failed",
        prompt="a crowd at a concert",
        created_at=at(2024, 12, 22, 14, 48, 39, 947851),
        failure_reason="Your prompt was flagged by our moderation system",
    ),
    "relay_unknown_state": Generation(
        id="0e6f9d1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
        state=State.UNKNOWN,
        raw_state="moderating",
        prompt="ocean waves at dusk",
        created_at=at(2024, 12, 22, 14, 48, 39, 947851),
        estimate_wait_seconds=17.5,
    ),
}


@pytest.mark.parametrize("name", RELAYS)
@pytest.mark.parametrize("fixture", list(RELAY_TASKS))
@pytest.mark.parametrize("status", [200, 201])
def test_relay_task_fixture(name: str, fixture: str, status: int) -> None:
    """Every recorded relay answer (flat, list, envelope) reads the same at 200 and 201."""
    generation = get_dialect(name).parse_task(response(fixture, status))
    assert generation == RELAY_TASKS[fixture]


def test_completed_old_form() -> None:
    """The older completed form: every link, size, and the clean file as best_url."""
    generation = get_dialect("gptge").parse_task(response("relay_completed_old"))
    assert (generation.id, generation.state, generation.raw_state) == (
        "77aae5b1-...",
        State.COMPLETED,
        "completed",
    )
    assert generation.prompt == "..."
    assert generation.created_at == at(2024, 11, 1, 10, 20, 34, 197000)
    video = generation.video
    assert video is not None
    assert video.url == "https://.../x_watermarked_video0e8a.mp4"
    assert video.download_url == "https://.../x_video0e8a.mp4"
    assert video.raw_url == "https://.../x_video0e8a.mp4"
    assert video.best_url == "https://.../x_video0e8a.mp4"
    assert video.last_frame_url == ".../video_0_last_frame.jpg"
    assert video.thumbnail_url in ("...", "https://.../video_0_thumb.jpg")
    assert (video.width, video.height) == (656, 1552)
    assert generation.ok
    assert generation.is_terminal


def test_completed_new_form() -> None:
    """The newer form: artifact and palette ignored, video_raw.duration kept, best link clean."""
    generation = get_dialect("anyapi").parse_task(response("relay_completed_new"))
    base = "https://storage.cdn-luma.com/dream_machine/2b0f5e1c"
    assert generation.id == "2b0f5e1c-3a5d-4c8e-9f61-0d7a4e2b9c11"
    assert generation.state is State.COMPLETED
    assert generation.prompt == "a red fox running through fresh snow"
    assert generation.created_at == at(2025, 1, 14, 9, 12, 45, 123456)
    assert generation.failure_reason is None
    video = generation.video
    assert video is not None
    assert video.url == f"{base}/watermarked_video0.mp4"
    assert video.download_url == f"{base}/video0.mp4"
    assert video.raw_url == f"{base}/raw_video0.mp4"
    assert video.best_url == f"{base}/video0.mp4"
    assert video.last_frame_url == f"{base}/video_0_last_frame.jpg"
    assert video.thumbnail_url in (f"{base}/thumb.jpg", f"{base}/video_0_thumb.jpg")
    assert (video.width, video.height) == (1360, 752)
    assert video.duration == pytest.approx(5.041667)
    assert generation.ok


def completed(video: Any, video_raw: Any = None) -> dict[str, Any]:
    """The newer completed task with its `video` and `video_raw` replaced."""
    task = fixture_json("relay_completed_new")
    task["video"] = video
    task["video_raw"] = video_raw
    return dict(task)


W = "https://cdn.example/watermarked.mp4"
D = "https://cdn.example/download.mp4"
R = "https://cdn.example/raw.mp4"

#: (video, video_raw, expected best_url): download_url > video_raw.url > video.url, "" = missing
BEST_URLS: list[tuple[Any, Any, str | None]] = [
    ({"url": W, "download_url": D}, {"url": R}, D),
    ({"url": W, "download_url": ""}, {"url": R}, R),
    ({"url": W, "download_url": None}, {"url": R}, R),
    ({"url": W}, {"url": R}, R),
    ({"url": W, "download_url": ""}, {"url": ""}, W),
    ({"url": W}, None, W),
    ({"url": W, "download_url": D}, None, D),
    ({"url": ""}, {"url": R}, R),
    (None, {"url": R}, R),
    ({"url": "", "download_url": ""}, {"url": ""}, None),
    ({"url": ""}, None, None),
    (None, None, None),
]


@pytest.mark.parametrize(("video", "video_raw", "best"), BEST_URLS)
def test_best_url_preference(video: Any, video_raw: Any, best: str | None) -> None:
    """best_url prefers download_url, then video_raw.url, then video.url; empty means missing."""
    generation = get_dialect("xfusion").parse_task(response(completed(video, video_raw)))
    got = generation.video.best_url if generation.video else None
    assert got == best
    assert generation.ok is (best is not None)
    if generation.video is not None:
        assert generation.video.download_url != ""
        assert generation.video.raw_url != ""


def test_video_with_only_a_download_url_is_kept() -> None:
    """A completed task whose only link is `video.download_url` still has that link."""
    generation = get_dialect("gptge").parse_task(
        response(completed({"url": "", "download_url": D}))
    )
    assert generation.video is not None
    assert generation.video.best_url == D
    assert generation.ok


@pytest.mark.parametrize("name", RELAYS)
@pytest.mark.parametrize("video", [None, {"url": None}, {"url": ""}])
def test_completed_without_a_video_is_not_ok(name: str, video: Any) -> None:
    """`completed` before any link exists: state completed, `ok` False, polled on by the client."""
    task = completed(video)
    task["thumbnail"] = task["last_frame"] = None
    generation = get_dialect(name).parse_task(response(task))
    assert generation.state is State.COMPLETED
    assert generation.video is None
    assert not generation.ok
    assert generation.is_terminal


def test_failed_with_wrapper_style_fail_reason() -> None:
    """A failed task may carry `fail_reason` instead of `failure_reason`."""
    task = {"id": "t-1", "state": "failed", "fail_reason": "upstream timeout", "video": None}
    generation = get_dialect("rixapi").parse_task(response(task))
    assert generation.state is State.FAILED
    assert generation.failure_reason == "upstream timeout"


@pytest.mark.parametrize("reason", [None, ""])
def test_failed_without_a_reason(reason: str | None) -> None:
    """A failure_reason of null or "" is reported as None."""
    task = {"id": "t-1", "state": "failed", "failure_reason": reason}
    assert get_dialect("gptge").parse_task(response(task)).failure_reason is None


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("pending", State.QUEUED),
        ("processing", State.PROCESSING),
        ("completed", State.COMPLETED),
        ("failed", State.FAILED),
        ("Pending", State.QUEUED),
        ("COMPLETED", State.COMPLETED),
        ("moderating", State.UNKNOWN),
        ("", State.UNKNOWN),
        (None, State.UNKNOWN),
    ],
)
def test_relay_states(word: str | None, state: State) -> None:
    """Relay task states map to ours; unknown or missing states are UNKNOWN, never an error."""
    generation = get_dialect("anyapi").parse_task(response({"id": "t-1", "state": word}))
    assert generation.state is state
    assert generation.raw_state == (word or None)


def test_unknown_fields_are_ignored() -> None:
    """Fields nobody documented, at any depth, change nothing."""
    task = fixture_json("relay_pending_old")
    task.update(
        {
            "server_id": "srv-9",
            "queue_state": {"position": 3},
            "artifact": {"created_at": "0001-01-01T00:00:00Z", "whatever": [1, 2]},
            "palette": None,
            "liked": True,
        }
    )
    assert get_dialect("rixapi").parse_task(response(task)) == PENDING_OLD


@pytest.mark.parametrize(("value", "expected"), [(None, None), (0, 0.0), (42, 42.0), (3.5, 3.5)])
def test_estimate_wait_seconds(value: float | None, expected: float | None) -> None:
    """`estimate_wait_seconds` is null or a number of seconds."""
    task = {"id": "t-1", "state": "pending", "estimate_wait_seconds": value}
    assert get_dialect("gptge").parse_task(response(task)).estimate_wait_seconds == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-07-19T07:35:13.498660Z", at(2024, 7, 19, 7, 35, 13, 498660)),
        ("2024-07-19T07:35:13Z", at(2024, 7, 19, 7, 35, 13)),
        ("2024-07-19T09:35:13.5+02:00", at(2024, 7, 19, 7, 35, 13, 500000)),
        ("2024-07-19T07:35:13.498660", at(2024, 7, 19, 7, 35, 13, 498660)),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        ("yesterday", None),
        (None, None),
        (1734874720139, at(2024, 12, 22, 13, 38, 40, 139000)),
        (1719819313, at(2024, 7, 1, 7, 35, 13)),
    ],
)
def test_created_at(value: Any, expected: datetime | None) -> None:
    """created_at: ISO-8601 (Z, offset, naive as UTC), epoch s or ms; Go's zero time is unset."""
    generation = get_dialect("anyapi").parse_task(response({"id": "t", "created_at": value}))
    assert generation.created_at == expected
    if generation.created_at is not None:
        assert generation.created_at.utcoffset() is not None


@pytest.mark.parametrize("name", RELAYS)
@pytest.mark.parametrize("fixture", list(RELAY_TASKS))
def test_created_at_is_aware(name: str, fixture: str) -> None:
    """Every parsed created_at is a timezone-aware datetime."""
    created_at = get_dialect(name).parse_task(response(fixture)).created_at
    assert created_at is not None
    assert created_at.tzinfo is not None


def test_prompt_falls_back_to_request() -> None:
    """With no top-level prompt (or an empty one), `request.prompt` is used."""
    task = {"id": "t", "state": "pending", "prompt": "", "request": {"prompt": "美人鱼"}}
    assert get_dialect("gptge").parse_task(response(task)).prompt == "美人鱼"


# -- AnyAPI's envelope -----------------------------------------------------------------------


def envelope(status: str = "submitted", code: Any = 200) -> dict[str, Any]:
    """AnyAPI's declared envelope with another `task_status` and `code`."""
    answer = fixture_json("anyapi_envelope_submit")
    answer["data"]["task_status"] = status
    answer["code"] = code
    return dict(answer)


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("submitted", State.QUEUED),
        ("processing", State.PROCESSING),
        ("succeed", State.COMPLETED),
        ("failed", State.FAILED),
        ("SUCCEED", State.COMPLETED),
        ("paused", State.UNKNOWN),
    ],
)
def test_envelope_task_status(word: str, state: State) -> None:
    """The envelope's task_status maps submitted/processing/succeed/failed; raw word kept."""
    generation = get_dialect("anyapi").parse_task(response(envelope(word)))
    assert generation.id == "4665a07c-7641-4809-a133-10786201bb56"
    assert generation.state is state
    assert generation.raw_state == word


@pytest.mark.parametrize("code", [0, 200, "0", "200", "success", "succeed", "SUCCESS", "Succeed"])
def test_envelope_success_codes(code: Any) -> None:
    """Every success word of DIALECTS.md §3 (any case) lets the task through."""
    generation = get_dialect("anyapi").parse_task(response(envelope(code=code)))
    assert generation.state is State.QUEUED


def test_envelope_epoch_milliseconds() -> None:
    """The envelope's integer created_at is epoch milliseconds."""
    generation = get_dialect("anyapi").parse_task(response("anyapi_envelope_submit"))
    assert generation.created_at == at(2024, 12, 22, 13, 38, 40, 139000)


def test_envelope_around_a_flat_task() -> None:
    """An envelope whose data is the flat task object reads as that task."""
    answer = {"code": 0, "message": "ok", "data": fixture_json("relay_pending_old")}
    assert get_dialect("gptge").parse_task(response(answer)) == PENDING_OLD


# -- batches -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RELAYS)
def test_batch_bare_list(name: str) -> None:
    """A bare list of task objects: every task, in order, with its own state and links."""
    first, second = get_dialect(name).parse_batch(response("relay_batch_bare"))
    assert first.id == "9d4b7516-77e5-481a-b015-48313946f33b"
    assert first.state is State.PROCESSING
    assert first.estimate_wait_seconds == 42
    assert second.state is State.COMPLETED
    assert second.video is not None
    assert second.video.download_url is None
    assert second.video.best_url == "https://cdn.example/x_video0e8a.mp4"


@pytest.mark.parametrize("name", RELAYS)
def test_batch_wrapper_verbatim(name: str) -> None:
    """DIALECTS.md §5's wrapper: the inner task, with the wrapper's progress "30%" as 0.3."""
    (generation,) = get_dialect(name).parse_batch(response("relay_batch_wrapper"))
    assert generation.id == "9d4b..."
    assert generation.state is State.PROCESSING
    assert generation.progress == pytest.approx(0.3)
    assert generation.failure_reason is None


WRAPPER_STATES = {
    "t-not-start": (State.QUEUED, "NOT_START", 0.0),
    "t-submitted": (State.QUEUED, "SUBMITTED", 0.0),
    "t-queued": (State.QUEUED, "QUEUED", 0.1),
    "t-in-progress": (State.PROCESSING, "IN_PROGRESS", 0.3),
    "t-success": (State.COMPLETED, "SUCCESS", 1.0),
    "t-failure": (State.FAILED, "FAILURE", 1.0),
    "t-unknown": (State.UNKNOWN, "UNKNOWN", None),
}


@pytest.mark.parametrize("name", RELAYS)
def test_batch_wrapper_statuses(name: str) -> None:
    """Wrapper status words map as DIALECTS.md §5 says when the inner data is null."""
    generations = get_dialect(name).parse_batch(response("relay_batch_wrapper_statuses"))
    assert [g.id for g in generations] == list(WRAPPER_STATES)
    for generation in generations:
        state, raw, progress = WRAPPER_STATES[generation.id]
        assert generation.state is state, generation.id
        assert generation.raw_state == raw
        if progress is None:
            assert generation.progress is None
        else:
            assert generation.progress == pytest.approx(progress)
    failed = generations[5]
    assert failed.failure_reason == "upstream rejected the prompt"
    assert all(g.failure_reason is None for g in generations if g is not failed)


@pytest.mark.parametrize(
    ("progress", "expected"),
    [("30%", 0.3), ("0%", 0.0), ("100%", 1.0), (" 45.5% ", 0.455), ("", None), ("n/a", None)],
)
def test_wrapper_progress(progress: str, expected: float | None) -> None:
    """The wrapper's progress percentage becomes a float in 0..1 (None when unreadable)."""
    answer = fixture_json("relay_batch_wrapper")
    answer["data"][0]["progress"] = progress
    (generation,) = get_dialect("rixapi").parse_batch(response(answer))
    if expected is None:
        assert generation.progress is None
    else:
        assert generation.progress == pytest.approx(expected)


def test_wrapper_fail_reason_fills_in() -> None:
    """A failed wrapper item's fail_reason is reported when the inner task gives none."""
    answer = fixture_json("relay_batch_wrapper")
    item = answer["data"][0]
    item.update({"status": "FAILURE", "fail_reason": "moderation", "progress": "100%"})
    item["data"] = {"id": "9d4b...", "state": "failed", "failure_reason": None}
    (generation,) = get_dialect("gptge").parse_batch(response(answer))
    assert generation.state is State.FAILED
    assert generation.failure_reason == "moderation"


def test_wrapper_terminal_status_wins_over_a_stale_inner_state() -> None:
    """A wrapper FAILURE (e.g. new-api's task timeout) wins over the stale inner task's state."""
    answer = fixture_json("relay_batch_wrapper")
    item = answer["data"][0]
    item.update({"status": "FAILURE", "fail_reason": "任务超时", "progress": "100%"})
    (generation,) = get_dialect("gptge").parse_batch(response(answer))
    assert generation.state is State.FAILED
    assert generation.failure_reason == "任务超时"


@pytest.mark.parametrize("name", RELAYS)
def test_batch_leaves_unknown_ids_out(name: str) -> None:
    """Ids the gateway does not know are absent; entries without an id are skipped."""
    answer = [{"state": "pending"}, fixture_json("relay_pending_old"), {"id": "", "state": "x"}]
    generations = get_dialect(name).parse_batch(response(answer))
    assert generations == [PENDING_OLD]


@pytest.mark.parametrize("answer", [[], {"code": "success", "message": "", "data": []}])
def test_batch_of_nothing(answer: Any) -> None:
    """An empty list (bare or wrapped) is no tasks, not an error."""
    assert get_dialect("anyapi").parse_batch(response(answer)) == []


def test_batch_of_one_flat_task() -> None:
    """A batch answered with a single flat task object is a list of that task."""
    assert get_dialect("xfusion").parse_batch(response("relay_pending_old")) == [PENDING_OLD]


def test_wrapper_item_alone_with_null_data() -> None:
    """A lone wrapper item (a callback body, DIALECTS.md §7) with null data reads as its task."""
    item = fixture_json("relay_batch_wrapper_statuses")["data"][5]
    generation = get_dialect("rixapi").parse_task(response(item))
    assert generation.id == "t-failure"
    assert generation.state is State.FAILED
    assert generation.failure_reason == "upstream rejected the prompt"


def test_wrapper_item_alone_keeps_its_own_fields() -> None:
    """A lone wrapper item around a task keeps the wrapper's fail_reason and progress."""
    item = fixture_json("relay_batch_wrapper")["data"][0]
    item.update({"status": "FAILURE", "fail_reason": "moderation", "progress": "100%"})
    item["data"] = {"id": "9d4b...", "state": "failed", "failure_reason": None}
    generation = get_dialect("gptge").parse_task(response(item))
    assert generation.state is State.FAILED
    assert generation.failure_reason == "moderation"
    assert generation.progress == pytest.approx(1.0)


# -- no-watermark links --------------------------------------------------------------------------

LINK = (
    "https://storage.cdn-luma.com/dream_machine/2b0f5e1c/video0.mp4"
    "?X-Amz-Expires=3600&X-Amz-Signature=abc123"
)


@pytest.mark.parametrize("name", RELAYS)
@pytest.mark.parametrize(
    "answer",
    [
        {"url": LINK},
        {"code": "success", "message": "", "data": {"url": LINK}},
        {"code": 0, "data": LINK},
        LINK,
    ],
    ids=["flat", "envelope", "envelope-string", "bare-string"],
)
def test_link(name: str, answer: Any) -> None:
    """The no-watermark answer's link, flat, inside an envelope, or as a bare JSON string."""
    assert get_dialect(name).parse_url(response(encode(answer))) == LINK


def test_link_fixture() -> None:
    """The recorded no-watermark answer gives its presigned link."""
    assert get_dialect("anyapi").parse_url(response("relay_link")) == LINK


@pytest.mark.parametrize(
    "answer", [{}, {"url": ""}, {"url": None}, {"code": "success", "data": {}}, [], "not a url"]
)
def test_no_link_is_a_protocol_error(answer: Any) -> None:
    """An answer without a link raises ProtocolError."""
    with pytest.raises(ProtocolError):
        get_dialect("gptge").parse_url(response(encode(answer)))


# -- the official API ----------------------------------------------------------------------------

OFFICIAL_PROMPT = "A serene lake surrounded by mountains at sunset"
DREAM_ID = "0b7c3f5e-6a1d-4e2f-9c8b-7a6d5e4f3a21"
DREAM_AT = at(2025, 3, 4, 8, 15, 30, 512345)

OFFICIAL_GENERATIONS: dict[str, Generation] = {
    "official_generation_completed": Generation(
        id="123e4567-e89b-12d3-a456-426614174000",
        state=State.COMPLETED,
        raw_state="completed",
        prompt=OFFICIAL_PROMPT,
        created_at=at(2023, 6, 1, 12),
        video=VideoAsset(url="https://example.com/video.mp4"),
    ),
    "official_generation_queued": Generation(
        id=DREAM_ID,
        state=State.QUEUED,
        raw_state="queued",
        prompt=OFFICIAL_PROMPT,
        created_at=DREAM_AT,
    ),
    "official_generation_dreaming": Generation(
        id=DREAM_ID,
        state=State.PROCESSING,
        raw_state="dreaming",
        prompt=OFFICIAL_PROMPT,
        created_at=DREAM_AT,
    ),
    "official_generation_failed": Generation(
        id=DREAM_ID,
        state=State.FAILED,
        raw_state="failed",
        prompt=OFFICIAL_PROMPT,
        created_at=at(2025, 3, 4, 8, 15, 30),
        failure_reason="400: prompt not allowed because advanced moderation failed",
    ),
    "official_generation_audio": Generation(
        id="c4d5e6f7-0000-4111-8222-933344455566",
        state=State.QUEUED,
        raw_state="queued",
        prompt="waves and gulls",
        created_at=at(2025, 3, 4, 9, 0, 0, 1),
    ),
}


@pytest.mark.parametrize("fixture", list(OFFICIAL_GENERATIONS))
@pytest.mark.parametrize("status", [200, 201])
def test_official_generation(fixture: str, status: int) -> None:
    """Official Generation objects: queued/dreaming/completed/failed, assets.video as the link."""
    assert Official().parse_task(response(fixture, status)) == OFFICIAL_GENERATIONS[fixture]


def test_official_completed_links() -> None:
    """The official video asset is both the link and the best link; `ok` holds."""
    generation = Official().parse_task(response("official_generation_completed"))
    assert generation.video is not None
    assert generation.video.best_url == "https://example.com/video.mp4"
    assert generation.ok


def test_official_image_asset_is_the_thumbnail() -> None:
    """`assets.image` next to a video is its thumbnail."""
    answer = fixture_json("official_generation_completed")
    answer["assets"]["image"] = "https://example.com/image.jpg"
    generation = Official().parse_task(response(answer))
    assert generation.video is not None
    assert generation.video.thumbnail_url == "https://example.com/image.jpg"


@pytest.mark.parametrize("assets", [None, {}, {"video": ""}, {"video": None}])
def test_official_completed_without_video_is_not_ok(assets: Any) -> None:
    """An official `completed` with no video asset is completed but not `ok`."""
    answer = fixture_json("official_generation_completed")
    answer["assets"] = assets
    generation = Official().parse_task(response(answer))
    assert generation.state is State.COMPLETED
    assert not generation.ok


def test_official_unknown_state() -> None:
    """A state the OpenAPI description lacks is UNKNOWN with the word kept."""
    answer = fixture_json("official_generation_queued")
    answer["state"] = "paused"
    generation = Official().parse_task(response(answer))
    assert (generation.state, generation.raw_state) == (State.UNKNOWN, "paused")


def test_official_list() -> None:
    """The OpenAPI list example gives its one generation."""
    generations = Official().parse_batch(response("official_list"))
    assert generations == [OFFICIAL_GENERATIONS["official_generation_completed"]]


def test_official_list_many_and_bare() -> None:
    """A list answer keeps order; a bare list of generations is read too."""
    items = [fixture_json(name) for name in OFFICIAL_GENERATIONS]
    wrapped = Official().parse_batch(response({"generations": items, "has_more": True}))
    bare = Official().parse_batch(response(items))
    assert wrapped == bare == list(OFFICIAL_GENERATIONS.values())


def test_official_list_skips_entries_without_id() -> None:
    """List entries without an id cannot be matched and are left out."""
    items = [{"state": "queued"}, fixture_json("official_generation_queued")]
    generations = Official().parse_batch(response({"generations": items}))
    assert [g.id for g in generations] == [DREAM_ID]


def test_official_credits() -> None:
    """`GET /credits` gives the balance in USD cents as a float."""
    assert Official().parse_credits(response("official_credits")) == 12345.5
    assert Official().parse_credits(response({"credit_balance": 0})) == 0.0


@pytest.mark.parametrize(("status", "body"), [(204, b""), (200, b"{}"), (200, b"")])
def test_official_delete_answer(status: int, body: bytes) -> None:
    """A delete's 204 (or any 2xx, empty or not) is success."""
    Official().parse_empty(response(body, status))


def test_official_parses_relay_style_state_words() -> None:
    """The shared state table reads relay words on the official side too (gateways mix them)."""
    generation = Official().parse_task(response({"id": "x", "state": "processing"}))
    assert generation.state is State.PROCESSING


def test_fixture_bytes_are_sent_as_recorded() -> None:
    """A parsed fixture equals the same JSON re-encoded: the parsers read values, not bytes."""
    assert get_dialect("gptge").parse_task(
        response(encode(fixture_json("gptge_submit")))
    ) == get_dialect("gptge").parse_task(response("gptge_submit"))
