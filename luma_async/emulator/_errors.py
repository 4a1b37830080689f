"""Error answers, shaped per layer as DIALECTS.md §6 describes them."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

JSON_TYPE = "application/json"

# Layer 1 (new-api gateway) messages, verbatim from DIALECTS.md §6.
INVALID_TOKEN = "无效的令牌"
UPSTREAM_SATURATED = "当前分组上游负载已饱和，请稍后再试"

NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
NGINX_404 = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class Rejection(Exception):
    """A refusal raised by a handler; the gate renders it in the dialect's error shape."""

    def __init__(
        self, kind: str, message: str, *, status: int | None = None, close: bool = False
    ) -> None:
        """`kind` is invalid_request, task_not_exist, quota, not_found or too_large.

        `close`: the connection cannot carry another request (its body could not be read).
        """
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.close = close


def dumps(body: Any) -> bytes:
    """Compact JSON, UTF-8, Chinese left readable as the gateways send it."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer with an explicit charset."""
    return web.Response(
        body=dumps(body), status=status, content_type=JSON_TYPE, charset="utf-8", headers=headers
    )


def gateway_error(message: str, kind: str = "new_api_error") -> dict[str, Any]:
    """Layer 1: the OpenAI-style body of new-api/one-api."""
    return {"error": {"message": message, "type": kind}}


def relay_error(code: str, message: str) -> dict[str, Any]:
    """Layer 2: the task relay's body."""
    return {"code": code, "message": message, "data": None}


def official_error(detail: str) -> dict[str, Any]:
    """Layer 3 and the official API: FastAPI's `detail`."""
    return {"detail": detail}


_RELAY_STATUS = {
    "invalid_request": 400,
    "task_not_exist": 400,
    "quota": 403,
    "not_found": 404,
    "too_large": 413,
}
_OFFICIAL_STATUS = {
    "invalid_request": 400,
    "task_not_exist": 400,
    "quota": 402,
    "not_found": 404,
    "too_large": 413,
}


def render_rejection(rejection: Rejection, *, relay: bool) -> web.Response:
    """The answer a dialect gives for a refusal."""
    if relay:
        status = rejection.status or _RELAY_STATUS[rejection.kind]
        if rejection.kind == "quota":
            body = relay_error("quota_not_enough", rejection.message)
        elif rejection.kind == "task_not_exist":
            body = relay_error("task_not_exist", "task_not_exist")
        elif rejection.kind == "not_found":
            # An id the gateway passes upstream, answered by the upstream (layer 3, DIALECTS.md §2).
            body = official_error("Not Found")
        else:
            body = relay_error("invalid_request", rejection.message)
        return json_response(body, status)
    status = rejection.status or _OFFICIAL_STATUS[rejection.kind]
    return json_response(official_error(rejection.message), status)


def unauthorized(*, relay: bool, request_id: str) -> web.Response:
    """401 for a missing or wrong key."""
    if relay:
        return json_response(gateway_error(f"{INVALID_TOKEN} (request id: {request_id})"), 401)
    return json_response(official_error("Invalid API key is provided"), 401)


def rate_limited(*, relay: bool, retry_after: int) -> web.Response:
    """429 with an integer Retry-After of at least one second."""
    headers = {"Retry-After": str(max(1, retry_after))}
    if relay:
        return json_response(gateway_error(UPSTREAM_SATURATED), 429, headers)
    return json_response(official_error("Too many requests, please slow down"), 429, headers)


def internal_error(*, relay: bool) -> web.Response:
    """A JSON 500."""
    if relay:
        return json_response(gateway_error("internal error"), 500)
    return json_response(official_error("Internal Server Error"), 500)


def bad_gateway_page() -> web.Response:
    """The HTML 502 a proxy in front of the gateway answers."""
    return web.Response(
        text=NGINX_502, status=502, content_type="text/html", headers={"Server": "nginx"}
    )


def unknown_route(method: str, path: str, status: int, *, relay: bool) -> web.Response:
    """404/405 for a path or method the gateway does not serve."""
    if relay:
        # new-api's answer to a route it does not know.
        body = gateway_error(f"Invalid URL ({method} {path})", "invalid_request_error")
        return json_response(body, status)
    return json_response(
        official_error("Not Found" if status == 404 else "Method Not Allowed"), status
    )


def missing_route_page(method: str, path: str, *, html: bool) -> web.Response:
    """A 404 for a route this gateway lacks: an nginx page or new-api's JSON."""
    if html:
        return web.Response(text=NGINX_404, status=404, content_type="text/html")
    return unknown_route(method, path, 404, relay=True)


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON (RFC 8259) does not have.
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def parse_json(raw: bytes) -> Any:
    """A JSON document every later step can handle, or a 400 saying what is wrong with it.

    Refused here, not later: invalid UTF-8, NaN/Infinity, integers beyond Python's digit limit,
    nesting deeper than the parser's recursion, and lone UTF-16 surrogates (valid JSON escapes
    that no UTF-8 answer or echo can carry: accepting one would create a task whose every later
    answer fails).
    """
    try:
        value = json.loads(raw or b"null", parse_constant=_no_constant, parse_float=_finite)
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeError:
        raise Rejection("invalid_request", "body: text that is not valid Unicode") from None
    except RecursionError:
        raise Rejection("invalid_request", "body: nested too deeply") from None
    except ValueError as exc:
        known = ("digits" in str(exc)) or str(exc).startswith("number out of range")
        reason = str(exc).split(":")[0] if known else "not valid JSON"
        raise Rejection("invalid_request", f"body: {reason}") from None
    return value


async def read_json(request: web.Request) -> Any:
    """The request's JSON body, or a 400 when it is not JSON (413 above the size limit)."""
    try:
        raw = await request.read()
    except RequestPayloadError:
        # A Content-Encoding that does not decode, or a body cut short mid-chunk.
        raise Rejection(
            "invalid_request", "body: could not be read or decoded", close=True
        ) from None
    return parse_json(raw)
