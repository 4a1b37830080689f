"""A field of the wrong type costs that field, never the task it belongs to."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from luma_async._errors import ProtocolError, QuotaExceededError
from luma_async._models import State
from luma_async.dialects import get_dialect
from luma_async.dialects._decoding import SALVAGE_LIMIT, _drop, _path, lenient

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


def test_every_task_of_a_batch_with_the_same_quirk_is_read() -> None:
    """One odd field in each of 100 tasks: 100 rounds of dropping, within the work bound."""
    task = fixture_json("relay_completed_old")
    tasks = [dict(task, id=f"t{i}", estimate_wait_seconds="soon") for i in range(100)]
    found = get_dialect("rixapi").parse_batch(response(tasks))
    assert [g.id for g in found] == [f"t{i}" for i in range(100)]
    assert all(g.video is not None for g in found)


def test_list_items_are_never_dropped() -> None:
    """A one-element list whose first item is odd must not make the second one "the" task."""
    task = fixture_json("relay_completed_old")
    with pytest.raises(ProtocolError):
        get_dialect("anyapi").parse_task(response([1, dict(task, id="other")]))
    with pytest.raises(ProtocolError):
        get_dialect("anyapi").parse_batch(response([task, "not a task"]))


@pytest.mark.parametrize(
    "odd",
    [
        {"id": "mine", "state": {"word": "completed"}, "task_id": "other", "status": "SUCCESS"},
        {"code": {"nested": 1}, "data": {"id": "t", "state": "completed"}},
        {"id": "t", "state": "completed", "data": 5, "code": "success"},
        {"id": ["t"], "state": "completed"},
        {"task_id": 5.5, "status": "SUCCESS"},
    ],
)
def test_fields_that_identify_or_classify_are_never_dropped(odd: dict[str, Any]) -> None:
    """Dropping these would change which task, which state, or what kind of answer it is."""
    with pytest.raises(ProtocolError):
        get_dialect("gptge").parse_task(response(odd))


def test_bodies_above_the_salvage_limit_are_refused_as_before() -> None:
    """Salvaging decodes the whole body again per round: large ones are not worth it."""
    task = fixture_json("relay_completed_old")
    task["estimate_wait_seconds"] = "soon"
    task["padding"] = "x" * SALVAGE_LIMIT
    with pytest.raises(ProtocolError):
        get_dialect("anyapi").parse_task(response(task))


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
    assert _path("Expected `int`, got `str` - at `$.inner[1].n`") == ["inner", 1, "n"]
    assert _path("Expected `int`, got `str` - at `$.table[...]`") is None
    assert _path("Expected `object`, got `int`") is None
    tree: Any = {"a": [{"b": 1}, 2], "id": 3}
    assert not _drop(tree, ["a", 1])  # a list item
    assert not _drop(tree, ["a", 5, "b"])
    assert not _drop(tree, ["id"])  # kept
    assert not _drop(tree, ["x", "y"])
    assert _drop(tree, ["a", 0, "b"])
    assert tree == {"a": [{}, 2], "id": 3}
