"""The CDN site: signed video and image links, Range requests, and a count of leaked credentials."""

from __future__ import annotations

import hashlib
import re

from aiohttp import web

from ._context import CTX, Context
from ._faults import cut_video, truncate
from ._gate import Handler
from ._mp4 import IMAGE_TYPES, jpeg, mp4, still
from ._tasks import Phase

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_ACCESS_DENIED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>AccessDenied</Code><Message>{}</Message></Error>"
)


def _denied(message: str) -> web.Response:
    # Presigned object-store links answer 403 with an XML body when bad or expired.
    return web.Response(
        text=_ACCESS_DENIED.format(message), status=403, content_type="application/xml"
    )


def _ranged(request: web.Request, data: bytes, content_type: str) -> web.Response:
    """200 with the whole file, or 206 for one `bytes=` range, or 416; Content-Length always."""
    total = len(data)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": '"' + hashlib.sha256(data).hexdigest()[:16] + '"',
    }
    header = request.headers.get("Range")
    match = _RANGE.fullmatch(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        # No Range, or one this server does not do (several ranges, other units): the whole file.
        return web.Response(body=data, content_type=content_type, headers=headers)
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), total - 1) if last else total - 1
    else:
        start, end = max(0, total - int(last)), total - 1
        if int(last) == 0:
            start = total
    if start >= total or start > end:
        headers["Content-Range"] = f"bytes */{total}"
        return web.Response(status=416, headers=headers)
    headers["Content-Range"] = f"bytes {start}-{end}/{total}"
    return web.Response(
        body=data[start : end + 1], status=206, content_type=content_type, headers=headers
    )


def _check_link(ctx: Context, request: web.Request) -> web.Response | None:
    expires = request.query.get("expires")
    if not ctx.links.valid(request.path, expires, request.query.get("sig")):
        return _denied("Invalid signature")
    if ctx.config.has("expire_links") and expires and ctx.links.expired(expires):
        return _denied("Request has expired")
    return None


def _linked(ctx: Context, task_id: str) -> bool:
    task = ctx.store.get(task_id)
    if task is None:
        return False
    phase = task.phase(ctx.now(), unknown_state=ctx.config.has("unknown_state"))
    return phase is Phase.COMPLETED


async def video(request: web.Request) -> web.StreamResponse:
    """GET /videos/{id}.mp4 (watermarked) and /videos/{id}_raw.mp4 (clean)."""
    ctx = request.app[CTX]
    denied = _check_link(ctx, request)
    if denied is not None:
        return denied
    name = request.match_info["name"]
    stem = name.removesuffix(".mp4")
    clean = stem.endswith("_raw")
    task_id = stem.removesuffix("_raw")
    if stem == name or not _linked(ctx, task_id):
        raise web.HTTPNotFound()
    answer = _ranged(request, mp4(task_id, clean=clean), "video/mp4")
    if answer.status in (200, 206) and cut_video(ctx):
        return await truncate(request, answer)
    return answer


async def image(request: web.Request) -> web.StreamResponse:
    """GET /images/{id}_thumb.jpg and /images/{id}_last_frame.jpg."""
    ctx = request.app[CTX]
    denied = _check_link(ctx, request)
    if denied is not None:
        return denied
    name = request.match_info["name"]
    for suffix in ("_thumb.jpg", "_last_frame.jpg"):
        if name.endswith(suffix) and _linked(ctx, name.removesuffix(suffix)):
            return _ranged(request, jpeg(name), "image/jpeg")
    stem, _, ext = name.rpartition(".")
    task = ctx.store.get(stem)
    if task is not None and task.is_image and ext == task.image_format and _linked(ctx, stem):
        return _ranged(request, still(task.id, ext), IMAGE_TYPES[ext])
    raise web.HTTPNotFound()


async def upload(request: web.Request) -> web.StreamResponse:
    """GET /uploads/{id}.jpg: an uploaded image (public: no signature needed)."""
    ctx = request.app[CTX]
    upload_id = request.match_info["name"].removesuffix(".jpg")
    if upload_id not in ctx.uploads:
        raise web.HTTPNotFound()
    return _ranged(request, jpeg(upload_id), "image/jpeg")


@web.middleware
async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count CDN requests, and those that carried an Authorization header (a leaked API key)."""
    stats = request.app[CTX].stats
    stats.cdn_requests += 1
    if "Authorization" in request.headers:
        stats.cdn_auth_headers += 1
    return await handler(request)


def build_cdn_app(ctx: Context) -> web.Application:
    """The CDN application."""
    app = web.Application(middlewares=[count])
    app[CTX] = ctx
    app.router.add_get("/videos/{name}", video)
    app.router.add_get("/images/{name}", image)
    app.router.add_get("/uploads/{name}", upload)
    return app
