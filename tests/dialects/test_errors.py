"""How gateway "no"s become our errors (DIALECTS.md §6), for every dialect and parser."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from luma_async._errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    LumaError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    UnsupportedFeatureError,
)
from luma_async._http import HttpResponse
from luma_async.dialects import Dialect, Official, get_dialect
from luma_async.dialects._errors import error_for, is_final

from .conftest import encode, fixture_bytes, fixture_json, response

ALL = ("official", "anyapi", "rixapi", "xfusion", "gptge")
RELAYS = ("anyapi", "rixapi", "xfusion", "gptge")
Parser = Callable[[HttpResponse], object]


def parsers(dialect: Dialect) -> dict[str, Parser]:
    """Every parser the dialect offers, by name."""
    found: dict[str, Parser] = {
        "parse_task": dialect.parse_task,
        "parse_batch": dialect.parse_batch,
    }
    if isinstance(dialect, Official):
        found["parse_credits"] = dialect.parse_credits
        found["parse_empty"] = dialect.parse_empty
    else:
        found["parse_url"] = dialect.parse_url
    return found


ALL_PARSERS = [(name, parser) for name in ALL for parser in parsers(get_dialect(name))]
ALL_PARSER_IDS = [f"{name}-{parser}" for name, parser in ALL_PARSERS]


def raised(parse: Parser, answer: HttpResponse) -> BaseException:
    """The exception `parse` raises for `answer` (fails the test when it returns)."""
    with pytest.raises(LumaError) as info:
        parse(answer)
    return info.value


# -- the three layers, recorded -------------------------------------------------------------------

#: (fixture, status, error class, message, code, request id)
LAYERS: list[tuple[str, int, type[LumaError], str, str | None, str | None]] = [
    (
        "gateway_invalid_token",
        401,
        AuthenticationError,
        "无效的令牌 (request id: 20240719073513498660458FqWyBs3k)",
        None,
        "20240719073513498660458FqWyBs3k",
    ),
    (
        "gateway_token_exhausted",
        401,
        QuotaExceededError,
        "该令牌额度已用尽 TokenStatusExhausted[sk-abc***xyz]"
        " (request id: 2024071907351349866045AbCdEf12)",
        None,
        "2024071907351349866045AbCdEf12",
    ),
    ("gateway_one_api_error", 401, AuthenticationError, "该令牌已过期", None, None),
    ("gateway_banned", 403, PermissionDeniedError, "用户已被封禁", None, None),
    (
        "gateway_model_forbidden",
        403,
        PermissionDeniedError,
        "该令牌无权使用模型：luma (request id: 20250101120000111222333AAAbbb)",
        None,
        "20250101120000111222333AAAbbb",
    ),
    (
        "gateway_no_channel",
        503,
        ServerError,
        "当前分组 default 下对于模型 luma 无可用渠道 (request id: 20240719073513498660458NoChAn1)",
        None,
        "20240719073513498660458NoChAn1",
    ),
    (
        "relay_error_quota",
        403,
        QuotaExceededError,
        "user quota is not enough",
        "quota_not_enough",
        None,
    ),
    ("relay_error_task_not_exist", 400, NotFoundError, "task_not_exist", "task_not_exist", None),
    (
        "relay_error_fail_to_fetch",
        500,
        ServerError,
        "fail to fetch task: upstream answered 502",
        "fail_to_fetch_task",
        None,
    ),
    (
        "relay_error_do_request_failed",
        500,
        ServerError,
        'do request failed: Post "https://internal-api.lumalabs.ai/api/photon/v1/generations/":'
        " context deadline exceeded",
        "do_request_failed",
        None,
    ),
    (
        "relay_error_invalid_request",
        400,
        BadRequestError,
        "invalid request: user_prompt is required",
        "invalid_request",
        None,
    ),
    (
        "relay_error_saturated",
        429,
        RateLimitError,
        "当前分组上游负载已饱和，请稍后再试 (request id: 20250301101010999888777SaTuRa)",
        None,
        "20250301101010999888777SaTuRa",
    ),
    (
        "upstream_detail_reason",
        400,
        BadRequestError,
        "Your prompt was flagged by our moderation system",
        "1",
        None,
    ),
    (
        "upstream_detail_string",
        429,
        RateLimitError,
        "Too many concurrent generations, please wait",
        None,
        None,
    ),
    ("upstream_detail_list", 422, BadRequestError, "Field required", None, None),
    (
        "official_error_invalid_key",
        401,
        AuthenticationError,
        "Invalid API key is provided",
        None,
        None,
    ),
]
LAYER_IDS = [case[0] for case in LAYERS]


@pytest.mark.parametrize(
    ("fixture", "status", "cls", "message", "code", "request_id"), LAYERS, ids=LAYER_IDS
)
def test_recorded_error_bodies(
    fixture: str,
    status: int,
    cls: type[LumaError],
    message: str,
    code: str | None,
    request_id: str | None,
) -> None:
    """Each recorded error body of the three layers gets its class, message, code, request id."""
    error = error_for(response(fixture, status))
    assert type(error) is cls
    assert isinstance(error, APIError)
    assert (error.status, error.message, error.code, error.request_id) == (
        status,
        message,
        code,
        request_id,
    )
    assert f"HTTP {status}" in str(error)


@pytest.mark.parametrize(("name", "parser"), ALL_PARSERS, ids=ALL_PARSER_IDS)
@pytest.mark.parametrize(
    ("fixture", "status", "cls", "message", "code", "request_id"), LAYERS, ids=LAYER_IDS
)
def test_every_parser_raises_the_same_error(
    name: str,
    parser: str,
    fixture: str,
    status: int,
    cls: type[LumaError],
    message: str,
    code: str | None,
    request_id: str | None,
) -> None:
    """Every parser of every dialect turns an error status into the same classified error."""
    error = raised(parsers(get_dialect(name))[parser], response(fixture, status))
    assert type(error) is cls
    assert isinstance(error, APIError)
    assert (error.message, error.code, error.request_id) == (message, code, request_id)


# -- rule 1: quota, status first --------------------------------------------------------------

QUOTA_WORDS = ["quota", "额度", "余额", "balance", "credit"]


@pytest.mark.parametrize("word", QUOTA_WORDS)
@pytest.mark.parametrize("status", [200, 400, 401, 402, 403, 404, 429])
def test_quota_word_in_message_below_500(word: str, status: int) -> None:
    """A message about quota or balance on a 2xx or 4xx is a QuotaExceededError."""
    body = {"error": {"message": f"账户 {word} problem", "type": "new_api_error"}}
    error = error_for(response(body, status))
    assert type(error) is QuotaExceededError
    assert error.status == status


@pytest.mark.parametrize("word", [*QUOTA_WORDS, "insufficient"])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_quota_word_on_a_5xx_is_a_server_error(word: str, status: int) -> None:
    """A 5xx is overload or an upstream failure whatever its words: never a quota error."""
    body = {"error": {"message": f"账户 {word} problem", "type": "new_api_error"}}
    assert type(error_for(response(body, status))) is ServerError


@pytest.mark.parametrize(
    "code", ["quota_not_enough", "insufficient_user_quota", "INSUFFICIENT_BALANCE", "余额不足"]
)
@pytest.mark.parametrize("status", [200, 400, 403, 429])
def test_quota_word_in_code(code: str, status: int) -> None:
    """A code about quota is a QuotaExceededError even with a neutral message."""
    error = error_for(response({"code": code, "message": "request refused", "data": None}, status))
    assert type(error) is QuotaExceededError
    assert error.code == code


#: Real refusals from gateways, relays and upstreams: (status, body, class). Sources: the
#: fixtures above, DIALECTS.md §6, one-api/new-api (relay quota and channel errors), OpenAI
#: (429 insufficient_quota), Anthropic (credit balance), and the overload messages of issue 11.
REAL_MESSAGES: list[tuple[int, Any, type[LumaError]]] = [
    (503, {"error": {"message": "Insufficient capacity, please retry later"}}, ServerError),
    (503, {"error": {"message": "no available backend", "type": "new_api_error"}}, ServerError),
    (500, {"detail": "insufficient GPU resources"}, ServerError),
    (503, {"error": {"message": "当前分组 default 下对于模型 luma 无可用渠道"}}, ServerError),
    (500, {"code": "quota_not_enough", "message": "user quota is not enough"}, ServerError),
    (
        500,
        {"error": {"message": "upstream: insufficient_user_quota", "type": "one_api_error"}},
        ServerError,
    ),
    (403, {"error": {"message": "insufficient permissions for this model"}}, PermissionDeniedError),
    (403, {"detail": "Insufficient permissions"}, PermissionDeniedError),
    (
        429,
        {
            "error": {
                "message": "You exceeded your current quota, please check your plan and "
                "billing details.",
                "type": "insufficient_quota",
                "code": "insufficient_quota",
            }
        },
        QuotaExceededError,
    ),
    (429, {"error": {"message": "当前分组上游负载已饱和，请稍后再试"}}, RateLimitError),
    (429, {"detail": "Too many concurrent generations, please wait"}, RateLimitError),
    (
        403,
        {
            "error": {
                "message": "user quota is not enough",
                "type": "one_api_error",
                "code": "insufficient_user_quota",
            }
        },
        QuotaExceededError,
    ),
    (
        403,
        {
            "error": {
                "message": "User's credit limit is insufficient, remaining credit limit: $0.00",
                "code": "insufficient_user_quota",
            }
        },
        QuotaExceededError,
    ),
    (
        403,
        {
            "error": {
                "message": "pre-consume quota failed, user quota: ＄0.000000, need quota: ＄0.5",
                "code": "pre_consume_token_quota_failed",
            }
        },
        QuotaExceededError,
    ),
    (401, {"error": {"message": "该令牌额度已用尽 TokenStatusExhausted"}}, QuotaExceededError),
    (403, {"code": "quota_not_enough", "message": "user quota is not enough"}, QuotaExceededError),
    (
        400,
        {"error": {"message": "Your credit balance is too low to access the API."}},
        QuotaExceededError,
    ),
    (400, {"detail": "Insufficient credits"}, QuotaExceededError),
    (402, {"message": "Payment Required"}, QuotaExceededError),
    (200, {"code": "quota_not_enough", "message": "user quota is not enough"}, QuotaExceededError),
    (200, {"code": 500, "message": "用户余额不足"}, QuotaExceededError),
    (401, {"error": {"message": "无效的令牌", "type": "new_api_error"}}, AuthenticationError),
    (403, {"error": {"message": "用户已被封禁"}}, PermissionDeniedError),
]


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    REAL_MESSAGES,
    ids=[f"{s}-{str(b)[:40]}" for s, b, _ in REAL_MESSAGES],
)
def test_real_messages(status: int, body: Any, cls: type[LumaError]) -> None:
    """Every real refusal found gets the class its status, then its words, say."""
    assert type(error_for(response(body, status))) is cls


@pytest.mark.parametrize(("status", "body", "cls"), REAL_MESSAGES)
def test_is_final_only_for_quota_below_500(status: int, body: Any, cls: type[LumaError]) -> None:
    """The transport's "do not retry" test agrees with the classification."""
    assert is_final(response(body, status)) is (cls is QuotaExceededError and status >= 400)


def test_quota_words_outside_code_and_message_do_not_count() -> None:
    """Only the code or the message can make an error about quota: an echoed prompt cannot."""
    body = {"code": "do_request_failed", "data": {"prompt": "insufficient light at dusk"}}
    assert type(error_for(response(body, 500))) is ServerError


def test_402_is_quota() -> None:
    """402 Payment Required is a QuotaExceededError even without quota words."""
    assert type(error_for(response({"message": "pay first"}, 402))) is QuotaExceededError


@pytest.mark.parametrize("name", RELAYS)
@pytest.mark.parametrize("parser", ["parse_task", "parse_batch", "parse_url"])
def test_quota_envelope_at_200(name: str, parser: str) -> None:
    """A 200 carrying `{"code": "quota_not_enough", ...}` raises QuotaExceededError."""
    error = raised(parsers(get_dialect(name))[parser], response("relay_error_quota", 200))
    assert type(error) is QuotaExceededError
    assert isinstance(error, APIError)
    assert (error.status, error.code) == (200, "quota_not_enough")


#: Quota refusals without an envelope code, as gateways send them with HTTP 200.
QUOTA_AT_200 = [
    {"error": {"message": "该令牌额度已用尽 (request id: 2024abc)", "type": "new_api_error"}},
    {"message": "user quota is not enough"},
    {"detail": "insufficient balance"},
]


@pytest.mark.parametrize("name", ALL)
def test_quota_message_at_200_without_code(name: str) -> None:
    """A 200 whose message alone says quota (rule 1, "200 included") raises QuotaExceededError."""
    wrong = []
    for body in QUOTA_AT_200:
        for parser_name, parse in parsers(get_dialect(name)).items():
            if parser_name == "parse_empty":
                continue  # a delete's 2xx is success whatever it carries
            try:
                parse(response(body, 200))
            except QuotaExceededError:
                continue
            except LumaError as exc:
                wrong.append(f"{parser_name} {body}: {type(exc).__name__}")
            else:
                wrong.append(f"{parser_name} {body}: returned normally")
    assert wrong == []


# -- rule 2: not found ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 400, 500])
def test_task_not_exist_at_any_status(status: int) -> None:
    """`task_not_exist` is a NotFoundError whatever the status (new-api says 400)."""
    error = raised(get_dialect("rixapi").parse_task, response("relay_error_task_not_exist", status))
    assert type(error) is NotFoundError


@pytest.mark.parametrize(
    "body",
    [b"", b"Not Found", b'{"detail":"Not Found"}', b"<html><body>404</body></html>", b"{"],
    ids=["empty", "text", "json", "html", "cut"],
)
@pytest.mark.parametrize("name", ALL)
def test_404_is_not_found(name: str, body: bytes) -> None:
    """Any 404, whatever its body, is a NotFoundError (early 404s are treated as pending)."""
    assert type(raised(get_dialect(name).parse_task, response(body, 404))) is NotFoundError


# -- rule 3: statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (429, RateLimitError),
        (400, BadRequestError),
        (413, BadRequestError),
        (422, BadRequestError),
    ],
)
@pytest.mark.parametrize("name", ALL)
def test_status_classes(name: str, status: int, cls: type[APIError]) -> None:
    """401, 403, 429 and 400/413/422 map to their classes on every dialect."""
    body = {"error": {"message": "refused", "type": "new_api_error"}}
    error = raised(get_dialect(name).parse_task, response(body, status))
    assert type(error) is cls
    assert isinstance(error, APIError)
    assert (error.status, error.message) == (status, "refused")


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [("120", 120, 120), ("0", 0, 0), (" 7 ", 7, 7), ("1.5", 1.5, 1.5), ("-5", 0, 0)],
)
def test_retry_after_seconds(value: str, low: float, high: float) -> None:
    """A 429's Retry-After in seconds is kept as `retry_after`."""
    headers = {"content-type": "application/json", "retry-after": value}
    error = error_for(response("relay_error_saturated", 429, headers))
    assert isinstance(error, RateLimitError)
    assert error.retry_after is not None
    assert low <= error.retry_after <= high


def test_retry_after_http_date() -> None:
    """A 429's Retry-After as an HTTP date becomes the seconds until then."""
    when = email.utils.formatdate(time.time() + 90, usegmt=True)
    error = error_for(response("relay_error_saturated", 429, {"retry-after": when}))
    assert isinstance(error, RateLimitError)
    assert error.retry_after is not None
    assert 85 <= error.retry_after <= 90


def test_retry_after_http_date_in_the_past() -> None:
    """A Retry-After date already past means no wait."""
    error = error_for(
        response("relay_error_saturated", 429, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
    )
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 0


@pytest.mark.parametrize("headers", [{}, {"retry-after": "soon"}, {"retry-after": ""}])
def test_retry_after_missing_or_unreadable(headers: Mapping[str, str]) -> None:
    """Without a readable Retry-After, `retry_after` is None."""
    error = error_for(response("relay_error_saturated", 429, headers))
    assert isinstance(error, RateLimitError)
    assert error.retry_after is None


# -- rule 4: server errors -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504, 520, 599])
@pytest.mark.parametrize("name", ALL)
def test_408_and_5xx_are_server_errors(name: str, status: int) -> None:
    """408 and every 5xx are transient ServerErrors."""
    body = {"code": "do_request_failed", "message": "upstream went away", "data": None}
    assert type(raised(get_dialect(name).parse_task, response(body, status))) is ServerError


def test_503_no_channel_is_transient() -> None:
    """503 `无可用渠道` (no channel) is a ServerError, retried on reads."""
    error = error_for(response("gateway_no_channel", 503))
    assert type(error) is ServerError
    assert isinstance(error, APIError)
    assert "无可用渠道" in error.message


@pytest.mark.parametrize(("name", "parser"), ALL_PARSERS, ids=ALL_PARSER_IDS)
@pytest.mark.parametrize(
    ("fixture", "status"), [("nginx_502", 502), ("cloudflare_504", 504)], ids=["502", "504"]
)
def test_html_error_page_from_a_proxy(name: str, parser: str, fixture: str, status: int) -> None:
    """A proxy's HTML 502/504 page is a ServerError on every parser."""
    error = raised(parsers(get_dialect(name))[parser], response(fixture, status))
    assert type(error) is ServerError
    assert isinstance(error, APIError)
    assert "HTML" in error.message


# -- rule 5 and the 200s that are not answers ---------------------------------------------

TASK_PARSERS = [case for case in ALL_PARSERS if case[1] != "parse_empty"]
TASK_PARSER_IDS = [f"{name}-{parser}" for name, parser in TASK_PARSERS]


@pytest.mark.parametrize(("name", "parser"), TASK_PARSERS, ids=TASK_PARSER_IDS)
@pytest.mark.parametrize(
    "headers",
    [{"content-type": "text/html; charset=utf-8"}, {}],
    ids=["html-header", "no-header"],
)
def test_html_at_200_is_a_protocol_error(
    name: str, parser: str, headers: Mapping[str, str]
) -> None:
    """An HTML page with status 200 (a login wall, a captive portal) is a ProtocolError."""
    body = fixture_bytes("nginx_502").replace(b"502 Bad Gateway", b"Welcome")
    error = raised(parsers(get_dialect(name))[parser], response(body, 200, headers))
    assert type(error) is ProtocolError


@pytest.mark.parametrize(("name", "parser"), ALL_PARSERS, ids=ALL_PARSER_IDS)
def test_html_at_200_fails_every_parser(name: str, parser: str) -> None:
    """No parser, the delete check included, accepts a web page sent with 200."""
    body = fixture_bytes("cloudflare_504")
    error = raised(parsers(get_dialect(name))[parser], response(body, 200, {}))
    assert type(error) is ProtocolError


@pytest.mark.parametrize(("name", "parser"), TASK_PARSERS, ids=TASK_PARSER_IDS)
@pytest.mark.parametrize(
    "body",
    [b"", b"   \n", b'{"id":"9d4b7516-77e5', b'[{"id":"9d4b7516-77e5-481a-b015-4831', b"\xff\xfe"],
    ids=["empty", "blank", "cut-object", "cut-list", "not-utf8"],
)
def test_empty_or_cut_off_200_is_a_protocol_error(name: str, parser: str, body: bytes) -> None:
    """An empty, blank, cut-off or undecodable 200 body is a ProtocolError."""
    error = raised(parsers(get_dialect(name))[parser], response(body, 200))
    assert type(error) is ProtocolError
    assert isinstance(error, ProtocolError)
    assert error.status == 200


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("body", [b"", b'{"code":"do_request_fai'], ids=["empty", "cut"])
def test_empty_or_cut_off_5xx_is_a_server_error(name: str, body: bytes) -> None:
    """An empty or cut-off body with a 5xx status is still a ServerError."""
    assert type(raised(get_dialect(name).parse_task, response(body, 502))) is ServerError


NOT_TASKS: list[Any] = [
    {},
    {"foo": 1},
    [],
    "text",
    42,
    None,
    True,
    {"id": None, "state": "pending"},
    {"id": "", "state": "pending"},
    {"detail": "Invalid API key is provided"},
    {"error": {"message": "something odd", "type": "new_api_error"}},
]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("body", NOT_TASKS, ids=[repr(b)[:40] for b in NOT_TASKS])
def test_200_that_is_not_a_task(name: str, body: Any) -> None:
    """A 200 that carries no task is a ProtocolError, never a half-empty Generation."""
    error = raised(get_dialect(name).parse_task, response(encode(body), 200))
    assert type(error) is ProtocolError


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "body",
    [{"foo": 1}, {"error": {"message": "something odd", "type": "new_api_error"}}, "text", 42],
    ids=["object", "error", "string", "number"],
)
def test_batch_200_that_is_not_a_batch(name: str, body: Any) -> None:
    """A batch answer that is neither a list nor a wrapper is a ProtocolError, not "no tasks"."""
    error = raised(get_dialect(name).parse_batch, response(encode(body), 200))
    assert type(error) is ProtocolError


@pytest.mark.parametrize("code", ["fail_to_fetch_task", "error", 500, 1, "-1", "failed"])
@pytest.mark.parametrize("name", RELAYS)
def test_200_envelope_with_a_failure_code(name: str, code: Any) -> None:
    """A 200 envelope whose code is not a success word is an error, not a task (rule 5)."""
    body = {"code": code, "message": "could not do it", "data": None}
    error = raised(get_dialect(name).parse_task, response(body, 200))
    assert type(error) is ProtocolError
    assert "could not do it" in str(error)


@pytest.mark.parametrize("name", RELAYS)
def test_200_envelope_with_a_failure_code_and_a_task(name: str) -> None:
    """A failure code wins over data that looks like a task."""
    body = {"code": "fail_to_fetch_task", "message": "stale", "data": fixture_json("relay_failed")}
    assert type(raised(get_dialect(name).parse_task, response(body, 200))) is ProtocolError


@pytest.mark.parametrize("name", RELAYS)
def test_200_envelope_task_not_exist(name: str) -> None:
    """A 200 envelope saying `task_not_exist` is a NotFoundError."""
    error = raised(get_dialect(name).parse_task, response("relay_error_task_not_exist", 200))
    assert type(error) is NotFoundError


@pytest.mark.parametrize("status", [301, 302, 304, 405, 409, 418, 451])
@pytest.mark.parametrize("name", ALL)
def test_other_statuses_are_protocol_errors(name: str, status: int) -> None:
    """A status no rule names is a ProtocolError that keeps the status and the body."""
    body = encode({"message": "teapot"})
    error = raised(get_dialect(name).parse_task, response(body, status))
    assert type(error) is ProtocolError
    assert isinstance(error, ProtocolError)
    assert error.status == status
    assert error.body == body


def test_protocol_error_keeps_only_the_start_of_the_body() -> None:
    """A ProtocolError keeps the first 500 bytes of a large body for diagnosis."""
    body = b"x" * 10_000
    error = raised(get_dialect("gptge").parse_task, response(body, 200))
    assert isinstance(error, ProtocolError)
    assert error.body == body[:500]


# -- message and request id ----------------------------------------------------------------------

MESSAGES: list[tuple[Any, str]] = [
    ({"error": {"message": "A"}, "message": "B", "detail": {"reason": "C"}}, "A"),
    ({"error": {"message": ""}, "message": "B", "detail": {"reason": "C"}}, "B"),
    ({"error": {"type": "new_api_error"}, "message": "B", "detail": "D"}, "B"),
    ({"message": "B", "detail": "D"}, "B"),
    ({"message": "", "detail": {"reason": "C"}}, "C"),
    ({"detail": {"reason": "C", "code": 1}}, "C"),
    ({"detail": "D"}, "D"),
    ({"error": "E"}, "E"),
    ({"detail": [{"loc": ["body", "prompt"], "msg": "F", "type": "missing"}]}, "F"),
]


@pytest.mark.parametrize(("body", "message"), MESSAGES)
def test_message_extraction_order(body: Any, message: str) -> None:
    """The message is the first of error.message, message, detail.reason, detail."""
    error = error_for(response(body, 400))
    assert isinstance(error, APIError)
    assert error.message == message


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"", 500), (b"Bad Gateway", 502), (b"{}", 400), (b"[1, 2]", 400)],
)
def test_message_without_one_in_the_body(body: bytes, status: int) -> None:
    """With no message field the error still says what came back."""
    error = error_for(response(body, status))
    assert isinstance(error, APIError)
    assert error.message
    assert "the gateway answered" in error.message


@pytest.mark.parametrize(
    ("body", "headers", "request_id"),
    [
        ({"code": "x", "message": "m", "request_id": "from-body"}, {}, "from-body"),
        ({"code": "x", "message": "m"}, {"x-request-id": "from-header"}, "from-header"),
        (
            {"code": "x", "message": "m", "request_id": "from-body"},
            {"x-request-id": "from-header"},
            "from-body",
        ),
        ({"error": {"message": "无效的令牌 (request id: 2024-abc_1)"}}, {}, "2024-abc_1"),
        ({"error": {"message": "bad (Request ID: ZZ9)"}}, {}, "ZZ9"),
        ({"error": {"message": "no id here"}}, {}, None),
    ],
)
def test_request_id_sources(body: Any, headers: Mapping[str, str], request_id: str | None) -> None:
    """request_id comes from the body, else the x-request-id header, else the message."""
    error = error_for(response(body, 400, headers))
    assert isinstance(error, APIError)
    assert error.request_id == request_id


@pytest.mark.parametrize("name", ALL)
def test_request_id_header_through_a_parser(name: str) -> None:
    """The x-request-id header reaches the error raised by any dialect's parser."""
    answer = response("relay_error_invalid_request", 400, {"x-request-id": "hdr-1"})
    error = raised(get_dialect(name).parse_task, answer)
    assert isinstance(error, APIError)
    assert error.request_id == "hdr-1"


@pytest.mark.parametrize("name", RELAYS)
def test_request_id_header_on_a_200_envelope_error(name: str) -> None:
    """A 200 envelope refusal keeps the x-request-id header as its request id."""
    answer = response("relay_error_quota", 200, {"x-request-id": "hdr-2"})
    error = raised(get_dialect(name).parse_task, answer)
    assert isinstance(error, QuotaExceededError)
    assert error.request_id == "hdr-2"


def test_rate_limit_has_retry_after_only_on_429() -> None:
    """Only RateLimitError carries `retry_after`; other classes are plain APIErrors."""
    error = error_for(response("gateway_invalid_token", 401, {"retry-after": "5"}))
    assert not isinstance(error, RateLimitError)
    assert not hasattr(error, "retry_after")


def test_relay_parse_empty_is_unsupported() -> None:
    """Relay dialects have no delete, so their delete check refuses to run."""
    with pytest.raises(UnsupportedFeatureError):
        get_dialect("gptge").parse_empty(response(b"", 204))


def test_official_parse_url_raises_a_luma_error() -> None:
    """The official dialect has no link route; its parse_url still raises only LumaErrors."""
    with pytest.raises(LumaError):
        Official().parse_url(response({"url": "https://example.com/video.mp4"}))
