"""Every parser of every dialect, fed anything: it answers or raises APIError/ProtocolError."""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luma_async._errors import APIError, ProtocolError
from luma_async._http import HttpResponse
from luma_async._models import GenerateRequest, Generation, State
from luma_async.dialects import Dialect, Official, get_dialect

ALL = ("official", "anyapi", "rixapi", "xfusion", "gptge")

#: Examples per test: 200 in the suite (deterministic, fast); the long run sets
#: LUMA_FUZZ_EXAMPLES=100000 and drops determinism to explore (`scripts/fuzz-long`, see the README).
_LONG = int(os.environ.get("LUMA_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_LONG or 200,
    deadline=None,
    derandomize=not _LONG,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Parser = Callable[[HttpResponse], object]


#: A create whose fate a listing is read for (`parse_created`), and when it began.
_SENT = Official().submit(GenerateRequest("a fox", aspect_ratio="16:9"))
_SINCE = datetime(2020, 1, 1, tzinfo=UTC)


def parsers(dialect: Dialect) -> dict[str, Parser]:
    """Every parser the dialect offers, by name."""
    found: dict[str, Parser] = {
        "parse_task": dialect.parse_task,
        "parse_batch": dialect.parse_batch,
    }
    if isinstance(dialect, Official):
        found["parse_credits"] = dialect.parse_credits
        found["parse_empty"] = dialect.parse_empty
        found["parse_concepts"] = dialect.parse_concepts
        found["parse_ping"] = dialect.parse_ping
        found["parse_created"] = functools.partial(
            dialect.parse_created, sent=_SENT, since=_SINCE, known=set()
        )
    else:
        found["parse_url"] = dialect.parse_url
    return found


PARSERS = [
    (name, parser, call) for name in ALL for parser, call in parsers(get_dialect(name)).items()
]


def check_generation(generation: object) -> None:
    """A parsed task honours the public model's promises."""
    assert isinstance(generation, Generation)
    assert isinstance(generation.id, str)
    assert generation.id
    assert isinstance(generation.state, State)
    if generation.created_at is not None:
        assert isinstance(generation.created_at, datetime)
        assert generation.created_at.tzinfo is not None
    if generation.progress is not None:
        assert 0.0 <= generation.progress <= 1.0
    if generation.video is not None:
        best = generation.video.best_url
        assert best is None or (isinstance(best, str) and best)
    assert generation.kind in ("video", "image")
    if generation.kind == "image":
        assert generation.video is None
    else:
        assert generation.image is None
    if generation.ok:
        assert isinstance(generation.link, str)
        assert generation.link


def feed(status: int, headers: Mapping[str, str], body: bytes) -> None:
    """Give one answer to every parser; each returns its kind of value or raises our errors."""
    answer = HttpResponse(status, dict(headers), body)
    for name, parser, parse in PARSERS:
        try:
            result = parse(answer)
        except (APIError, ProtocolError):
            continue
        except BaseException as exc:  # pragma: no cover - the failure being tested for
            raise AssertionError(f"{name}.{parser} raised {type(exc).__name__}: {exc}") from exc
        if parser == "parse_task":
            check_generation(result)
        elif parser == "parse_batch":
            assert isinstance(result, list)
            for generation in result:
                check_generation(generation)
        elif parser == "parse_url":
            assert isinstance(result, str)
            assert result
        elif parser == "parse_created":
            assert isinstance(result, list)
            assert all(isinstance(task_id, str) and task_id for task_id in result)
        elif parser == "parse_credits":
            assert isinstance(result, float)
        elif parser == "parse_concepts":
            assert isinstance(result, list)
            assert all(isinstance(key, str) and key for key in result)
        else:
            assert result is None


def dumps(value: Any) -> bytes:
    """JSON as a lenient encoder writes it (NaN and Infinity included, \\u escapes)."""
    return json.dumps(value).encode()


# -- strategies -------------------------------------------------------------------------------

statuses = st.integers(min_value=100, max_value=599)
headers = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.sampled_from(
            ["application/json", "text/html", "text/plain", "application/json; charset=utf-8"]
        )
        | st.text(max_size=20),
        "retry-after": st.sampled_from(
            ["120", "0", "-1", "1e999", "nan", "inf", "Wed, 21 Oct 2015 07:28:00 GMT", ""]
        )
        | st.text(max_size=40),
        "x-request-id": st.text(max_size=20),
    },
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        ["pending", "completed", "SUCCESS", "30%", "success", "0", "https://x.example/v.mp4"]
    )
)


def trees(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """JSON values: `leaves`, and lists and objects of them, a dozen leaves at most."""
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


json_values = trees(scalars)
#: Every key any dialect reads, so wrong types reach the decoders' fields.
KEYS = [
    "id",
    "task_id",
    "state",
    "status",
    "task_status",
    "prompt",
    "created_at",
    "video",
    "video_raw",
    "thumbnail",
    "last_frame",
    "estimate_wait_seconds",
    "failure_reason",
    "fail_reason",
    "progress",
    "request",
    "code",
    "message",
    "msg",
    "data",
    "url",
    "download_url",
    "error",
    "detail",
    "reason",
    "request_id",
    "generations",
    "credit_balance",
    "assets",
    "image",
    "generation_type",
    "model",
    "key",
    "width",
    "height",
    "duration",
]
keyed = st.recursive(
    st.dictionaries(st.sampled_from(KEYS), scalars, max_size=6),
    lambda inner: st.dictionaries(
        st.sampled_from(KEYS), inner | st.lists(inner, max_size=3) | scalars, max_size=6
    ),
    max_leaves=16,
)
huge_numbers = st.one_of(
    st.integers(min_value=-(10**300), max_value=10**300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**100, 1e308, -1e308, 5e-324]),
)
#: A task object with plausible values, one of which may be replaced by anything.
plausible_task = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["9d4b7516-77e5-481a-b015-48313946f33b", "x", ""]) | json_values,
        "state": st.sampled_from(["pending", "processing", "completed", "failed", "dreaming"]),
    },
    optional={
        "created_at": st.sampled_from(["2024-07-19T07:35:13.498660Z", "0001-01-01T00:00:00Z"])
        | huge_numbers
        | json_values,
        "video": st.fixed_dictionaries(
            {},
            optional={
                "url": st.sampled_from(["https://v/w.mp4", ""]) | json_values,
                "download_url": st.sampled_from(["https://v/d.mp4", ""]) | json_values,
                "width": huge_numbers,
            },
        )
        | json_values,
        "video_raw": st.fixed_dictionaries({"url": json_values, "duration": huge_numbers}),
        "estimate_wait_seconds": huge_numbers,
        "progress": huge_numbers | st.text(max_size=8).map(lambda s: s + "%"),
        "assets": st.fixed_dictionaries({"video": json_values}),
        "failure_reason": json_values,
        "request": st.fixed_dictionaries({"prompt": json_values}),
    },
)
wrapped = st.fixed_dictionaries(
    {"code": st.sampled_from([0, 200, "success", "SUCCEED", "error", None]) | json_values},
    optional={
        "message": json_values,
        "data": plausible_task
        | st.lists(
            st.fixed_dictionaries(
                {
                    "task_id": json_values,
                    "status": st.sampled_from(["SUCCESS", "FAILURE", "IN_PROGRESS"]) | json_values,
                },
                optional={"data": plausible_task | st.none(), "progress": json_values},
            ),
            max_size=3,
        )
        | json_values,
        "generations": st.lists(plausible_task, max_size=3) | json_values,
    },
)


# -- property tests ------------------------------------------------------------------------------


@FUZZ
@given(status=statuses, headers=headers, body=st.binary(max_size=512))
def test_arbitrary_bytes(status: int, headers: dict[str, str], body: bytes) -> None:
    """Arbitrary bytes at any status never raise anything but APIError or ProtocolError."""
    feed(status, headers, body)


@FUZZ
@given(status=statuses, headers=headers, value=json_values)
def test_arbitrary_json(status: int, headers: dict[str, str], value: Any) -> None:
    """Any JSON value at any status is parsed or refused with our errors."""
    feed(status, headers, dumps(value))


@FUZZ
@given(status=statuses, value=keyed)
def test_right_keys_wrong_types(status: int, value: Any) -> None:
    """Objects with the keys the parsers read, holding values of any type, nested."""
    feed(status, {}, dumps(value))


@FUZZ
@given(status=st.sampled_from([200, 201]), value=plausible_task)
def test_plausible_tasks(status: int, value: Any) -> None:
    """Task-shaped answers with odd values in any field, huge numbers included."""
    feed(status, {"content-type": "application/json"}, dumps(value))
    feed(status, {}, dumps([value]))


@FUZZ
@given(status=statuses, value=wrapped)
def test_envelopes_and_wrappers(status: int, value: Any) -> None:
    """Envelope- and wrapper-shaped answers with any code and any data."""
    feed(status, {}, dumps(value))


#: Fields that describe a task but do not say which task or in which state: spoiling one of them
#: must cost that field only (dialects/_decoding.py), never the task.
DESCRIPTIVE = {
    "relay": [
        "prompt",
        "created_at",
        "video",
        "video_raw",
        "thumbnail",
        "last_frame",
        "estimate_wait_seconds",
        "failure_reason",
        "request",
    ],
    "official": ["failure_reason", "created_at", "assets", "request"],
}


#: JSON values a strict encoder writes: NaN and Infinity are malformed JSON, rightly refused.
strict_values = trees(scalars.filter(lambda v: not isinstance(v, float) or math.isfinite(v)))


@st.composite
def odd_task(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A dialect's name and a task of it with one to three descriptive fields of any value."""
    name = draw(st.sampled_from(ALL))
    fields = DESCRIPTIVE["official" if name == "official" else "relay"]
    odd = draw(st.dictionaries(st.sampled_from(fields), strict_values, min_size=1, max_size=3))
    return name, {"id": "task-1", "state": "dreaming", **odd}


@FUZZ
@given(case=odd_task())
def test_odd_descriptive_fields_keep_the_task(case: tuple[str, dict[str, Any]]) -> None:
    """A task with odd values in fields that only describe it keeps its id and state."""
    name, task = case
    generation = get_dialect(name).parse_task(HttpResponse(200, {}, dumps(task)))
    check_generation(generation)
    assert generation.id == "task-1"
    assert generation.state is State.PROCESSING


#: Bytes that are not UTF-8 (a lone continuation byte, 0xff, a cut sequence, a surrogate):
#: msgspec raises UnicodeDecodeError for them inside a JSON string, not DecodeError.
NOT_UTF8 = [b"\x80", b"\xff", b"\xc3", b"\xed\xa0\x80"]


def spoil(body: bytes, where: int, bad: bytes) -> bytes:
    """`body` with `bad` put just after one of its quote marks, so inside a key or a string."""
    quotes = [i for i, byte in enumerate(body) if byte == ord('"')]
    if not quotes:
        return bad + body
    at = quotes[where % len(quotes)] + 1
    return body[:at] + bad + body[at:]


@FUZZ
@given(
    status=statuses,
    value=wrapped | plausible_task | st.lists(plausible_task, max_size=2),
    where=st.integers(min_value=0, max_value=1000),
    bad=st.sampled_from(NOT_UTF8),
)
def test_invalid_utf8_inside_strings(status: int, value: Any, where: int, bad: bytes) -> None:
    """Well-formed JSON but for bytes that are not UTF-8 inside one of its strings."""
    feed(status, {}, spoil(dumps(value), where, bad))


@pytest.mark.parametrize(
    "body",
    [
        b'"\x80"',
        b'{"id":"\xff","state":"completed"}',
        b'{"url":"https://x/\xc3.mp4"}',
        b'{"code":"success","data":{"url":"\x80"}}',
        b'{"error":{"message":"\xed\xa0\x80"}}',
        b'{"code":"success","data":[{"task_id":"\xff","status":"SUCCESS"}]}',
    ],
)
@pytest.mark.parametrize("status", [200, 400, 500])
def test_invalid_utf8_found_by_the_long_run(status: int, body: bytes) -> None:
    """The long run's first find: `"\x80"` made parse_url raise UnicodeDecodeError."""
    feed(status, {}, body)


@FUZZ
@given(status=statuses, text=st.text(max_size=200))
def test_arbitrary_text(status: int, text: str) -> None:
    """Any text, HTML-looking or not, UTF-8 encoded."""
    feed(status, {}, text.encode("utf-8", "surrogatepass"))
    feed(status, {"content-type": "text/html"}, ("<html>" + text).encode("utf-8", "surrogatepass"))


# -- deep nesting and huge numbers, built as bytes -------------------------------------------------

DEPTH = 10_000


def nested_lists(depth: int = DEPTH) -> bytes:
    """`depth` nested JSON lists."""
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int = DEPTH) -> bytes:
    """`depth` nested JSON objects."""
    return b'{"a":' * depth + b"1" + b"}" * depth


def nested_in(field: str, inner: bytes) -> bytes:
    """A task-shaped object whose `field` holds `inner`."""
    return b'{"id":"t-1","state":"completed","' + field.encode() + b'":' + inner + b"}"


DEEP: dict[str, bytes] = {
    "lists": nested_lists(),
    "objects": nested_objects(),
    "unclosed": b"[" * DEPTH,
    "mixed": b'[{"a":' * (DEPTH // 2) + b"null" + b"}]" * (DEPTH // 2),
    **{
        f"{field}-{kind}": nested_in(field, inner)
        for field in ("video", "data", "detail", "error", "request", "generations", "url")
        for kind, inner in (("lists", nested_lists()), ("objects", nested_objects()))
    },
    "envelope-data": b'{"code":"success","data":' + nested_lists() + b"}",
    "envelope-envelope": b'{"code":0,"data":' * 50 + b'{"url":"https://x/y.mp4"}' + b"}" * 50,
    "wrapper-inner": b'{"code":"success","data":[{"task_id":"t","status":"SUCCESS","data":'
    + nested_objects()
    + b"}]}",
}

BIG = b"1" + b"0" * 5000
WRAPPED_ITEM = b'{"code":"success","data":[{"task_id":"t","status":"SUCCESS","progress":%s}]}'
HUGE: dict[str, bytes] = {
    "bare": BIG,
    "negative": b"-" + BIG,
    "exponent": b"1e999999",
    "created_at": nested_in("created_at", BIG),
    "created_at-float": nested_in("created_at", b"1e308"),
    "created_at-negative": nested_in("created_at", b"-1e308"),
    "created_at-ms-overflow": nested_in("created_at", b"99999999999999999999"),
    "estimate": nested_in("estimate_wait_seconds", BIG),
    "estimate-exponent": nested_in("estimate_wait_seconds", b"1e999"),
    "progress": WRAPPED_ITEM % b"1e999",
    "progress-text": WRAPPED_ITEM % b'"1e999%"',
    "progress-nan": WRAPPED_ITEM % b'"nan%"',
    "width": nested_in("video", b'{"url":"https://v/x.mp4","width":' + BIG + b"}"),
    "duration": nested_in("video_raw", b'{"url":"https://v/x.mp4","duration":1e999}'),
    "credits": b'{"credit_balance":' + BIG + b"}",
    "credits-exponent": b'{"credit_balance":1e999}',
    "code": b'{"code":' + BIG + b',"message":"x","data":null}',
    "id": b'{"id":' + BIG + b',"state":"pending"}',
    "long-string": b'{"id":"' + b"x" * 1_000_000 + b'","state":"pending"}',
}


@pytest.mark.parametrize("status", [200, 400, 502])
@pytest.mark.parametrize("body", list(DEEP.values()), ids=list(DEEP))
def test_deep_nesting(body: bytes, status: int) -> None:
    """10,000 levels of nesting, bare or inside any field, never escape as RecursionError."""
    feed(status, {}, body)


@pytest.mark.parametrize("status", [200, 429])
@pytest.mark.parametrize("body", list(HUGE.values()), ids=list(HUGE))
def test_huge_numbers(body: bytes, status: int) -> None:
    """Numbers beyond any machine type, in every numeric field, are parsed or refused cleanly."""
    feed(status, {"retry-after": "1e999"}, body)


@pytest.mark.parametrize("status", [100, 101, 199, 200, 204, 299, 300, 399, 404, 499, 500, 599])
@pytest.mark.parametrize(
    "body",
    [b"", b"{}", b"null", b'{"id":"t","state":"pending"}', b"<html></html>"],
    ids=["empty", "object", "null", "task", "html"],
)
def test_every_status_class(status: int, body: bytes) -> None:
    """The edges of every status class, with small bodies."""
    feed(status, {}, body)


# -- the official API's other creates, built from anything ----------------------------------

_OFFICIAL = Official()
_anything = st.none() | scalars | st.lists(scalars, max_size=3) | st.tuples(scalars, scalars)
_sources = _anything | st.sampled_from(
    [
        "https://example.com/a.mp4",
        "data:video/mp4;base64,AAAAGGZ0eXA=",
        "data:image/png;base64,iVBORw0KGgo=",
        Generation("g", State.COMPLETED),
    ]
)


@FUZZ
@given(
    kind=st.sampled_from(["image", "modify_video", "reframe_video", "reframe_image"]),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "prompt",
                "model",
                "aspect_ratio",
                "format",
                "image_ref",
                "style_ref",
                "character_ref",
                "modify_image_ref",
                "mode",
                "first_frame",
                "callback_url",
            ]
        ),
        _anything,
        max_size=6,
    ),
    source=_sources,
)
def test_new_creates_build_or_refuse_with_invalid_request(
    kind: str, fields: dict[str, Any], source: Any
) -> None:
    """Any field values: a JSON request, or InvalidRequestError (never another exception)."""
    from luma_async._errors import InvalidRequestError
    from luma_async._models import (
        ImageRequest,
        ModifyVideoRequest,
        ReframeImageRequest,
        ReframeVideoRequest,
    )

    allowed: dict[str, tuple[str, ...]] = {
        "image": (
            "model",
            "aspect_ratio",
            "format",
            "image_ref",
            "style_ref",
            "character_ref",
            "modify_image_ref",
            "callback_url",
        ),
        "modify_video": ("prompt", "model", "first_frame", "callback_url"),
        "reframe_video": ("prompt", "model", "first_frame", "callback_url"),
        "reframe_image": ("prompt", "model", "format", "callback_url"),
    }
    given_fields = {k: v for k, v in fields.items() if k in allowed[kind]}
    request: Any
    if kind == "image":
        request = ImageRequest(fields.get("prompt", "a lighthouse"), **given_fields)
    elif kind == "modify_video":
        request = ModifyVideoRequest(source, fields.get("mode", "flex_1"), **given_fields)
    elif kind == "reframe_video":
        request = ReframeVideoRequest(source, fields.get("aspect_ratio", "9:16"), **given_fields)
    else:
        request = ReframeImageRequest(source, fields.get("aspect_ratio", "9:16"), **given_fields)
    try:
        built = _OFFICIAL.create(request)
    except InvalidRequestError:
        return
    assert built.body is not None
    assert isinstance(json.loads(built.body), dict)
