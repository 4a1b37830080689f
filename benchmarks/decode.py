"""Decode cost per task object: bytes in, a model out, with no network in the way.

Bodies are the recorded answers in tests/fixtures (the official Generation example, a relay's
newer completed form) and an official list of 100 built from the former. The SDK is timed the
way it decodes a response (`json.loads`, then `construct_type`, pydantic's unvalidated build),
and with full pydantic validation (`model_validate_json`, its strict-validation mode).
"""

from __future__ import annotations

import json
import pathlib
import statistics
import timeit
import uuid
from collections.abc import Callable
from typing import Any

from lumaai._models import construct_type
from lumaai.types import Generation as SdkGeneration
from lumaai.types import GenerationListResponse

from luma_async._http import HttpResponse
from luma_async.dialects import get_dialect

from ._common import Section, Settings, ratio, table

__all__ = ["ONE", "OURS", "SDK", "VALIDATED", "bodies", "run"]

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"
LIST_SIZE = 100
SDK = "lumaai SDK as it decodes (json.loads + construct_type)"
OURS = "luma_async official.parse_task"
VALIDATED = "lumaai Generation.model_validate_json"
ONE = "official Generation (1 object)"


def bodies() -> dict[str, bytes]:
    """The answers decoded: one official Generation, a list of 100, one relay task."""
    official = (FIXTURES / "official_generation_completed.json").read_bytes()
    one = json.loads(official)
    items = [{**one, "id": str(uuid.UUID(int=i, version=4))} for i in range(LIST_SIZE)]
    listing = {"generations": items, "count": LIST_SIZE, "has_more": False, "limit": 100}
    return {
        "official": official,
        "official_list": json.dumps(listing).encode(),
        "relay": (FIXTURES / "relay_completed_new.json").read_bytes(),
    }


def cases(data: dict[str, bytes]) -> dict[str, dict[str, Callable[[], object]]]:
    """Per body, the contenders: a callable that decodes it once."""
    official, relay = get_dialect("official"), get_dialect("anyapi")
    one = HttpResponse(200, {"content-type": "application/json"}, data["official"])
    many = HttpResponse(200, {"content-type": "application/json"}, data["official_list"])
    task = HttpResponse(200, {"content-type": "application/json"}, data["relay"])
    return {
        ONE: {
            OURS: lambda: official.parse_task(one),
            SDK: lambda: construct_type(type_=SdkGeneration, value=json.loads(one.body)),
            VALIDATED: lambda: SdkGeneration.model_validate_json(one.body),
            "json.loads (dicts only)": lambda: json.loads(one.body),
        },
        f"official list of {LIST_SIZE} (per object)": {
            "luma_async official.parse_batch": lambda: official.parse_batch(many),
            SDK: lambda: construct_type(type_=GenerationListResponse, value=json.loads(many.body)),
            "lumaai GenerationListResponse.model_validate_json": lambda: (
                GenerationListResponse.model_validate_json(many.body)
            ),
            "json.loads (dicts only)": lambda: json.loads(many.body),
        },
        "relay task, newer form (1 object)": {
            "luma_async relay parse_task": lambda: relay.parse_task(task),
            "json.loads (dicts only)": lambda: json.loads(task.body),
        },
    }


def run(settings: Settings) -> Section:
    """Time every contender, interleaved, and render one table per body."""
    repeats = settings.repeats(15, 3)
    budget = settings.pick(0.05, 0.005)
    parts, data = [], {}
    for body, contenders in cases(bodies()).items():
        per = LIST_SIZE if "list" in body else 1
        timers = {name: timeit.Timer(fn) for name, fn in contenders.items()}
        # Calls per repeat: enough for `budget` seconds of the slowest contender's work.
        number = {
            name: max(1, int(budget / max(timer.timeit(3) / 3, 1e-9)))
            for name, timer in timers.items()
        }
        samples: dict[str, list[float]] = {name: [] for name in timers}
        for _ in range(repeats):
            for name, timer in timers.items():
                samples[name].append(timer.timeit(number[name]) / number[name] / per * 1e6)
        medians = {name: statistics.median(values) for name, values in samples.items()}
        base = medians.get(SDK)
        rows: list[tuple[Any, ...]] = [
            (
                name,
                f"{us:.2f}",
                f"{ratio(us, base):.3f}" if base else "n/a (the SDK reads no relay answers)",
            )
            for name, us in medians.items()
        ]
        parts.append(f"**{body}**\n\n" + table(("decoder", "µs per object", "vs SDK"), rows, "l"))
        data[body] = medians
    return Section("decode", "Decode cost per task object", "\n\n".join(parts), data)
