"""generate_many reads and checks its whole input before the first submit (issue 12 item 4)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from luma_async import (
    GenerateRequest,
    InvalidRequestError,
    JobResult,
    LumaClient,
    UnsupportedFeatureError,
)

from ..conftest import MakeClient, MakeEmulator

pytestmark = pytest.mark.anyio


async def collect(client: LumaClient, requests: Any, **options: Any) -> list[JobResult]:
    """All results of one generate_many run."""
    async with client.generate_many(requests, **options) as results:
        return [result async for result in results]


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [({"prompt": "a dict"}, "dict"), (..., "ellipsis"), (None, "NoneType"), (42, "int")],
)
async def test_a_non_request_item_is_refused_before_anything_is_sent(
    emulator: MakeEmulator, client: MakeClient, bad: object, type_name: str
) -> None:
    """A bad item at index 3 raises TypeError naming 3 and its type; nothing was sent."""
    emu = await emulator("gptge")
    c = await client(emu)
    requests: list[Any] = ["one", GenerateRequest("two"), "three", bad, "five"]
    with pytest.raises(TypeError, match=rf"request 3 is a {type_name}\b"):
        await collect(c, requests)
    assert emu.stats.requests == 0


async def test_a_generator_is_read_in_full_before_the_first_submit(
    emulator: MakeEmulator, client: MakeClient
) -> None:
    """A lazy input whose tenth item is bad: the TypeError comes before any submit."""
    emu = await emulator("gptge")
    c = await client(emu)
    taken: list[int] = []

    def lazy() -> Iterator[object]:
        for i in range(20):
            taken.append(i)
            yield f"clip {i}" if i != 9 else b"bytes are not a prompt"

    with pytest.raises(TypeError, match=r"request 9 is a bytes"):
        await collect(c, lazy())
    assert taken == list(range(10))
    assert emu.stats.requests == 0


@pytest.mark.parametrize("single", ["a lone prompt", GenerateRequest("a lone request")])
async def test_a_single_request_instead_of_a_list_is_refused(
    emulator: MakeEmulator, client: MakeClient, single: object
) -> None:
    """A string is iterable (of characters): passing one prompt is a TypeError, not 13 jobs."""
    emu = await emulator("gptge")
    c = await client(emu)
    with pytest.raises(TypeError, match="iterable of requests"):
        await collect(c, single)
    assert emu.stats.requests == 0


async def test_dialect_refusals_are_that_requests_error_not_the_runs(
    emulator: MakeEmulator, client: MakeClient, tmp_path: pathlib.Path
) -> None:
    """An option the dialect lacks, a value it refuses, an unreadable image: one row each."""
    emu = await emulator("gptge")
    c = await client(emu)
    requests: list[GenerateRequest | str] = [
        "fine one",
        GenerateRequest("gptge has no model option", model="ray-2"),
        GenerateRequest("bad ratio", aspect_ratio="2:1"),  # type: ignore[arg-type]
        GenerateRequest("no such image", start_image=tmp_path / "missing.png"),
        "",
        "fine two",
    ]
    results = await collect(c, requests, concurrency=2)
    by_index = {r.index: r for r in results}
    assert sorted(by_index) == list(range(6))
    assert by_index[0].ok
    assert by_index[5].ok
    assert isinstance(by_index[1].error, UnsupportedFeatureError)
    assert isinstance(by_index[2].error, InvalidRequestError)
    assert isinstance(by_index[3].error, InvalidRequestError)
    assert isinstance(by_index[4].error, InvalidRequestError)
    assert emu.stats.by_route["submit"] == 2  # refused locally: never sent
