"""The official Dream Machine API under `/dream-machine/v1` (luma-official-openapi.yaml)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import _validate, _validate_more
from ._context import CTX, Context
from ._errors import Rejection, json_response, read_json
from ._gate import add_route
from ._tasks import OFFICIAL_WORDS, Phase, Task

BASE_PATH = "/dream-machine/v1"
DEFAULT_MODEL = "ray-2"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
UNLIMITED_CREDITS = 1_000_000.0
NOT_FOUND = "Generation not found"


def _ctx(request: web.Request) -> Context:
    return request.app[CTX]


def generation(ctx: Context, task: Task) -> dict[str, Any]:
    """The OpenAPI `Generation` object."""
    phase = task.phase(ctx.now(), unknown_state=ctx.config.has("unknown_state"))
    assets: dict[str, str] | None = None
    if phase is Phase.COMPLETED and task.is_image:
        assets = {"image": ctx.links.still(task.id, task.image_format)}
    elif phase is Phase.COMPLETED:
        # API videos carry no watermark: the asset is the clean file. No progress_video: the
        # spec types it as a string, and a finished generation has no progress to show.
        assets = {"video": ctx.links.raw(task.id), "image": ctx.links.thumbnail(task.id)}
    return {
        "id": task.id,
        # The spec's GenerationType has two values; modify, reframe, upscale and audio of a
        # video are videos.
        "generation_type": "image" if task.is_image else "video",
        "state": OFFICIAL_WORDS[phase],
        "failure_reason": task.failure_reason if phase is Phase.FAILED else None,
        "created_at": ctx.iso(task.created),
        "assets": assets,
        "model": task.model or DEFAULT_MODEL,
        "request": task.request,
    }


def _existing(ctx: Context, request: web.Request) -> Task:
    task = ctx.store.visible(request.match_info["id"])
    if task is None:
        raise Rejection("not_found", NOT_FOUND)
    return task


def _completed(ctx: Context, request: web.Request) -> Task:
    task = _existing(ctx, request)
    phase = task.phase(ctx.now(), unknown_state=ctx.config.has("unknown_state"))
    if phase is not Phase.COMPLETED:
        raise Rejection("invalid_request", f"Generation {task.id} is not completed")
    return task


async def submit(request: web.Request) -> web.StreamResponse:
    """POST /generations/video (and the older POST /generations): 201 with a Generation."""
    ctx = _ctx(request)
    accepted = _validate.official_submit(await read_json(request), ctx.known)
    # Extend = frame0 (or frame1) referencing a generation; the first reference is the parent.
    parent = ctx.store.get(accepted.generation_refs[0]) if accepted.generation_refs else None
    body = {"generation_type": "video", **accepted.body}
    task = ctx.create(accepted, "submit", request=body, parent=parent)
    return json_response(generation(ctx, task), 201)


def _creator(kind: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """POST /generations/image, /image/reframe, /video/reframe, /video/modify: 201."""

    async def create(request: web.Request) -> web.StreamResponse:
        ctx = _ctx(request)
        accepted = _validate_more.official_kind(kind, await read_json(request), ctx.known)
        task = ctx.create(accepted, kind, kind=kind)
        return json_response(generation(ctx, task), 201)

    create.__doc__ = f"Create a {kind} generation."
    return create


async def get(request: web.Request) -> web.StreamResponse:
    """GET /generations/{id}."""
    ctx = _ctx(request)
    return json_response(generation(ctx, _existing(ctx, request)))


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _validate.invalid(name, f"expected an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise _validate.invalid(name, f"must be between {low} and {high}")
    return value


async def list_generations(request: web.Request) -> web.StreamResponse:
    """GET /generations?limit=&offset=: newest first."""
    ctx = _ctx(request)
    limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 0, 2**31)
    tasks = [t for t in ctx.store.newest_first() if not ctx.store.hidden(t)]
    page = tasks[offset : offset + limit]
    return json_response(
        {
            "has_more": offset + len(page) < len(tasks),
            "count": len(page),
            "limit": limit,
            "offset": offset,
            "generations": [generation(ctx, t) for t in page],
        }
    )


async def delete(request: web.Request) -> web.StreamResponse:
    """DELETE /generations/{id}: 204."""
    ctx = _ctx(request)
    _existing(ctx, request).deleted = True
    return web.Response(status=204)


async def upscale(request: web.Request) -> web.StreamResponse:
    """POST /generations/{id}/upscale `{generation_type: "upscale_video", resolution}`."""
    ctx = _ctx(request)
    parent = _completed(ctx, request)
    accepted = _validate.official_upscale(await read_json(request))
    body = {**accepted.body, "generation_type": "upscale_video"}
    task = ctx.create(accepted, "upscale", kind="upscale", request=body, parent=parent)
    # The OpenAPI documents 200 (not 201) for upscale and audio.
    return json_response(generation(ctx, task))


async def audio(request: web.Request) -> web.StreamResponse:
    """POST /generations/{id}/audio `{generation_type: "add_audio", prompt, negative_prompt}`."""
    ctx = _ctx(request)
    parent = _completed(ctx, request)
    accepted = _validate.official_audio(await read_json(request))
    body = {**accepted.body, "generation_type": "add_audio"}
    task = ctx.create(accepted, "audio", kind="audio", request=body, parent=parent)
    return json_response(generation(ctx, task))


async def credits(request: web.Request) -> web.StreamResponse:
    """GET /credits: what is left (one credit per creation), or a large number when unlimited."""
    left = _ctx(request).credits_left
    return json_response({"credit_balance": UNLIMITED_CREDITS if left is None else float(left)})


async def ping(request: web.Request) -> web.StreamResponse:
    """GET /ping."""
    return json_response({"message": "pong"})


async def concepts(request: web.Request) -> web.StreamResponse:
    """GET /generations/concepts/list: the concept keys a request may name."""
    return json_response(list(_validate.CONCEPTS))


def add_official_routes(app: web.Application, ctx: Context) -> None:
    """Register the official routes."""
    base = f"{ctx.config.prefix}{BASE_PATH}"
    # Fixed paths first: /generations/image must not be taken for /generations/{id}.
    for path, kind in (
        ("image", "image"),
        ("image/reframe", "reframe_image"),
        ("video/reframe", "reframe_video"),
        ("video/modify", "modify_video"),
    ):
        add_route(app, "POST", f"{base}/generations/{path}", _creator(kind), kind)
    add_route(app, "POST", f"{base}/generations/video", submit, "submit")
    add_route(app, "POST", f"{base}/generations", submit, "submit")
    add_route(app, "GET", f"{base}/generations", list_generations, "list")
    add_route(app, "GET", f"{base}/generations/concepts/list", concepts, "concepts")
    add_route(app, "GET", f"{base}/generations/{{id}}", get, "get")
    add_route(app, "DELETE", f"{base}/generations/{{id}}", delete, "delete")
    add_route(app, "POST", f"{base}/generations/{{id}}/upscale", upscale, "upscale")
    add_route(app, "POST", f"{base}/generations/{{id}}/audio", audio, "audio")
    add_route(app, "GET", f"{base}/credits", credits, "credits")
    add_route(app, "GET", f"{base}/ping", ping, "ping")
