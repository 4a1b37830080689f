"""The official listing read for a lost create: which generations the create may have made."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from luma_async._errors import ProtocolError
from luma_async._models import GenerateRequest
from luma_async.dialects import Official

from .conftest import response

SINCE = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
OFFICIAL = Official()
SENT = OFFICIAL.submit(GenerateRequest("a red fox in the snow", aspect_ratio="16:9"))


def generation(task_id: str, created_at: Any = "2026-11-22T12:00:05Z", **request: Any) -> Any:
    """A listed generation as the official API answers it."""
    said = {"prompt": "a red fox in the snow", "aspect_ratio": "16:9", "model": "ray-2", **request}
    return {"id": task_id, "state": "queued", "created_at": created_at, "request": said}


def created(*listed: Any, known: frozenset[str] = frozenset()) -> list[str]:
    """What parse_created finds in a listing of `listed`."""
    return OFFICIAL.parse_created(response({"generations": list(listed)}), SENT, SINCE, set(known))


def test_the_one_generation_made_since_with_the_same_request_is_found() -> None:
    """Same request, made after the submit began, not known: a candidate."""
    assert created(generation("mine")) == ["mine"]


def test_older_known_and_different_generations_are_not_candidates() -> None:
    """Made before, already claimed, or another prompt or ratio: none of them is ours."""
    listed = [
        generation("older", created_at="2026-11-22T11:59:59Z"),
        generation("claimed"),
        generation("other prompt", prompt="a blue fox"),
        generation("other ratio", aspect_ratio="9:16"),
        generation("other model", model="ray-flash-2"),
        generation("mine"),
    ]
    assert created(*listed, known=frozenset({"claimed"})) == ["mine"]


def test_two_lookalikes_are_both_reported() -> None:
    """Two matches: the caller must leave the submit uncertain rather than pick one."""
    assert created(generation("a"), generation("b")) == ["a", "b"]


@pytest.mark.parametrize(
    "spoiled",
    [
        {"created_at": 1_700_000_000},
        {"id": 12345},
        {"request": ["not", "an", "object"]},
    ],
)
def test_an_odd_field_refuses_the_listing_instead_of_narrowing_it(spoiled: Any) -> None:
    """If the odd generation were skipped, its lookalike would become the single match and
    the wrong task would be recovered; refusing the listing leaves the submit uncertain."""
    with pytest.raises(ProtocolError):
        created({**generation("mine"), **spoiled}, generation("theirs"))
