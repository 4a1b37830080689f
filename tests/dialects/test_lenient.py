"""A field of the wrong type costs that field, never the task it belongs to."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from luma_async._errors import ProtocolError, QuotaExceededError
from luma_async._models import State
from luma_async.dialects import get_dialect
from luma_async.dialects._decoding import MAX_DROPPED, _drop, _steps, lenient

from .conftest import fixture_json, response

RELAYS = ("anyapi", "rixapi", "xfusion", "gptge")


@pytest.mark.parametrize("name", RELAYS)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        (("video", "width"), "wide"),
        (("video", "thumbnail"), 42),
        (("video_raw", "duration"), {"seconds": 5}),
        (("estimate_wait_seconds",), "soon"),
        (("failure_reason",), {"code": 7}),
        (("prompt",), ["a", "list"]),
        (("last_frame",), "a string, not an object"),
        (("video", "height"), 1.5),
        (("video", "height"), 10**30),
    ],
)
def test_a_completed_relay_task_survives_one_odd_field(
    name: str, field: tuple[str, ...], value: Any
) -> None:
    """The recorded completed task with one field spoiled still gives its video."""
    task = fixture_json("relay_completed_old")
    parent = task
    for key in field[:-1]:
        parent = parent[key]
    parent[field[-1]] = value
    generation = get_dialect(name).parse_task(response(task))
    assert generation.state is State.COMPLETED
    assert generation.video is not None
    assert generation.video.best_url


def test_a_spoiled_field_is_dropped_and_the_rest_is_kept() -> None:
    """Only the field that was wrong goes; its neighbours are read as usual."""
    task = fixture_json("relay_completed_old")
    # ("656" would be read as 656: the decoders take numbers written as strings.)
    task["video"]["width"] = task["video_raw"]["width"] = "wide"
    generation = get_dialect("anyapi").parse_task(response(task))
    assert generation.video is not None
    assert generation.video.width is None
    assert generation.video.height == task["video"]["height"]
    assert generation.video.download_url == task["video"]["download_url"]


def test_an_official_task_with_an_odd_failure_reason_is_still_failed() -> None:
    """Official: `failure_reason` as an object is dropped, the state is kept."""
    task = fixture_json("official_generation_failed")
    task["failure_reason"] = {"message": "moderation"}
    task["created_at"] = 1_700_000_000
    generation = get_dialect("official").parse_task(response(task))
    assert generation.state is State.FAILED
    assert generation.failure_reason is None
    assert generation.created_at is None


def test_one_spoiled_task_in_a_batch_leaves_the_others() -> None:
    """A bare batch list with a string where a task should be, and a task with an odd field."""
    batch = fixture_json("relay_batch_bare")
    assert len(batch) >= 2
    batch[0]["video"] = {"url": 5}
    batch.append("not a task")
    found = get_dialect("rixapi").parse_batch(response(batch))
    assert [g.id for g in found] == [task["id"] for task in batch[:-1]]


def test_an_official_list_with_one_spoiled_generation() -> None:
    """The official list: a spoiled `assets` costs that generation its video only."""
    listing = fixture_json("official_list")
    listing["generations"][0]["assets"] = ["not", "an", "object"]
    found = get_dialect("official").parse_batch(response(listing))
    assert [g.id for g in found] == [g["id"] for g in listing["generations"]]
    assert found[0].video is None


def test_an_error_body_with_an_odd_field_still_speaks() -> None:
    """`error.message` of the wrong type is dropped; the top-level message still says quota."""
    body = {"error": {"message": 5, "type": "x"}, "message": "user quota is not enough"}
    with pytest.raises(QuotaExceededError):
        get_dialect("anyapi").parse_task(response(body, status=403))


def test_a_task_whose_id_is_wrong_is_still_not_understood() -> None:
    """Dropping the id leaves no task: that is a ProtocolError, as before."""
    task = fixture_json("relay_completed_old")
    task["id"] = {"nested": "id"}
    with pytest.raises(ProtocolError):
        get_dialect("gptge").parse_task(response(task))


def test_too_many_odd_fields_is_not_understood() -> None:
    """Past MAX_DROPPED spoiled fields in one answer it is refused rather than gutted."""
    task = fixture_json("relay_completed_old")
    task["estimate_wait_seconds"] = "soon"
    assert len(get_dialect("anyapi").parse_batch(response([task] * MAX_DROPPED))) == MAX_DROPPED
    with pytest.raises(ProtocolError):
        get_dialect("anyapi").parse_batch(response([task] * (MAX_DROPPED + 1)))


class _Inner(msgspec.Struct):
    n: int | None = None


class _Outer(msgspec.Struct):
    inner: list[_Inner] | None = None
    table: dict[str, int] | None = None


def test_paths_msgspec_names_are_walked_and_others_refused() -> None:
    """`$.inner[1].n` is walked; `$.table[...]` (a dict value) cannot be, so it is refused."""
    decode = lenient(msgspec.json.Decoder(_Outer))
    outer = decode(b'{"inner":[{"n":1},{"n":"two"},{"n":3}]}')
    assert outer.inner == [_Inner(1), _Inner(None), _Inner(3)]
    with pytest.raises(msgspec.ValidationError):
        decode(b'{"table":{"a":"x"}}')
    assert _steps("Expected `int`, got `str` - at `$.inner[1].n`") == ["inner", 1, "n"]
    assert _steps("Expected `int`, got `str` - at `$.table[...]`") is None
    assert _steps("Expected `object`, got `int`") is None
    tree: Any = {"a": [1, 2]}
    assert not _drop(tree, ["a", 5])
    assert not _drop(tree, ["b", "c"])
    assert _drop(tree, ["a", 0])
    assert tree == {"a": [2]}
