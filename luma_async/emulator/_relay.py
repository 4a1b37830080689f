"""Relay routes under `{prefix}/luma` (DIALECTS.md §2), for AnyAPI, RixAPI, xfusionai and gpt.ge."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import _validate
from ._context import CTX, Context
from ._errors import Rejection, json_response, missing_route_page, read_json
from ._gate import add_route
from ._relay_shapes import envelope, phase_of, task_object, wrapper
from ._tasks import RELAY_WORDS, Phase, Task

# Seeds 002 (RixAPI) and 003 (xfusionai) document 201 for a submit; AnyAPI and gpt.ge show 200.
CREATED_201 = frozenset({"rixapi", "xfusion"})


def _ctx(request: web.Request) -> Context:
    return request.app[CTX]


def _creation_status(ctx: Context) -> int:
    if ctx.config.dialect in CREATED_201 or ctx.config.has("status_201"):
        return 201
    return 200


def _single(ctx: Context, task: Task) -> dict[str, Any]:
    """What submit, extend and single query answer: the task object, or quirk envelope's shape."""
    return envelope(ctx, task) if ctx.config.has("envelope") else task_object(ctx, task)


def _created_answer(ctx: Context, task: Task) -> web.Response:
    body: Any = _single(ctx, task)
    if ctx.config.has("list_submit"):
        body = [body]  # DIALECTS.md §2: "sometimes a one-element list of task objects"
    return json_response(body, _creation_status(ctx))


def _parent(ctx: Context, request: web.Request) -> Task:
    task = ctx.store.get(request.match_info["task_id"])
    if task is None:
        # §2: an id from another account/channel (or none at all) is 400 task_not_exist.
        raise Rejection("task_not_exist", "task_not_exist")
    return task


async def submit(request: web.Request) -> web.StreamResponse:
    """POST /luma/generations."""
    ctx = _ctx(request)
    accepted = _validate.relay_submit(ctx.config.dialect, await read_json(request), ctx.known)
    return _created_answer(ctx, ctx.create(accepted, "submit"))


async def extend(request: web.Request) -> web.StreamResponse:
    """POST /luma/generations/{task_id}/extend: the same body as a submit."""
    ctx = _ctx(request)
    accepted = _validate.relay_submit(ctx.config.dialect, await read_json(request), ctx.known)
    parent = _parent(ctx, request)
    return _created_answer(ctx, ctx.create(accepted, "extend", parent=parent))


def _unknown(ctx: Context) -> Rejection:
    if ctx.config.has("task_not_exist_400"):
        return Rejection("task_not_exist", "task_not_exist")
    return Rejection("not_found", "task not found")


async def get(request: web.Request) -> web.StreamResponse:
    """GET /luma/generations/{task_id}."""
    ctx = _ctx(request)
    task = ctx.store.visible(request.match_info["task_id"])
    if task is None:
        raise _unknown(ctx)
    return json_response(_single(ctx, task))


async def batch(request: web.Request) -> web.StreamResponse:
    """POST /luma/tasks `{"ids": [...]}`: known ids only, in the order asked, each once."""
    ctx = _ctx(request)
    if ctx.config.has("no_batch_route"):
        # Gateways without the route answer 404, from nginx or from new-api: alternate both.
        html = ctx.stats.by_route["batch"] % 2 == 1
        return missing_route_page(request.method, request.path, html=html)
    ids = _validate.batch_ids(await read_json(request))
    tasks: list[Task] = []
    seen: set[str] = set()
    for task_id in ids:
        task = ctx.store.visible(task_id)
        if task is not None and task_id not in seen:
            seen.add(task_id)
            tasks.append(task)
    if ctx.config.has("batch_wrapper"):
        return json_response(wrapper(ctx, tasks))
    return json_response([task_object(ctx, t) for t in tasks])


async def no_watermark(request: web.Request) -> web.StreamResponse:
    """GET /luma/generations/{task_id}/download_video_url: the clean link, 400 until completed."""
    ctx = _ctx(request)
    if ctx.config.has("no_watermark_missing"):
        return missing_route_page(request.method, request.path, html=False)
    task = _parent(ctx, request)
    phase = phase_of(ctx, task)
    if phase is not Phase.COMPLETED:
        word = RELAY_WORDS[phase]
        reason = "has no video yet" if phase is Phase.WAITING_LINK else f"is {word}"
        raise Rejection("invalid_request", f"task {reason}: no video to download")
    return json_response({"url": ctx.links.raw(task.id)})


async def audio(request: web.Request) -> web.StreamResponse:
    """POST /luma/generations/{task_id}/audio (RixAPI; the route is unverified, §2)."""
    ctx = _ctx(request)
    accepted = _validate.relay_audio(await read_json(request))
    parent = _parent(ctx, request)
    if phase_of(ctx, parent) is not Phase.COMPLETED:
        raise Rejection("invalid_request", "task is not completed: no video to add audio to")
    task = ctx.create(accepted, "audio", kind="audio", parent=parent)
    return json_response(task_object(ctx, task), _creation_status(ctx))


async def file_upload(request: web.Request) -> web.StreamResponse:
    """POST /luma/generations/file_upload `{"url": ...}` -> `{id, presigned_url, public_url}`."""
    ctx = _ctx(request)
    _validate.upload_url(await read_json(request))
    upload_id = ctx.store.new_id()
    ctx.uploads.add(upload_id)
    return json_response(
        {
            "id": upload_id,
            "presigned_url": ctx.links.upload(upload_id),
            "public_url": f"{ctx.links.base}/uploads/{upload_id}.jpg",
        }
    )


def add_relay_routes(app: web.Application, ctx: Context) -> None:
    """Register the relay routes; audio only where the dialect has it (DIALECTS.md §0)."""
    base = f"{ctx.config.prefix}/luma"
    add_route(app, "POST", f"{base}/generations", submit, "submit")
    add_route(app, "POST", f"{base}/generations/file_upload", file_upload, "file_upload")
    add_route(app, "POST", f"{base}/generations/{{task_id}}/extend", extend, "extend")
    add_route(app, "GET", f"{base}/generations/{{task_id}}", get, "get")
    add_route(app, "POST", f"{base}/tasks", batch, "batch")
    add_route(
        app,
        "GET",
        f"{base}/generations/{{task_id}}/download_video_url",
        no_watermark,
        "no_watermark",
    )
    if ctx.config.dialect == "rixapi":
        add_route(app, "POST", f"{base}/generations/{{task_id}}/audio", audio, "audio")
