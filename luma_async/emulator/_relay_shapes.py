"""Relay answers: task object (DIALECTS.md §4), AnyAPI's envelope (§3), new-api's wrapper (§5)."""

from __future__ import annotations

import hashlib
from typing import Any

from ._context import Context
from ._tasks import RELAY_WORDS, Phase, Task

GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # §4: artifact.created_at can be Go's zero time
VIDEO_SECONDS = 5.0

# AnyAPI's declared envelope words (§3); an unknown phase word passes through as it is.
ENVELOPE_STATUS = {
    Phase.QUEUED: "submitted",
    Phase.PROCESSING: "processing",
    Phase.RENDERING: "rendering",
    Phase.WAITING_LINK: "succeed",
    Phase.COMPLETED: "succeed",
    Phase.FAILED: "failed",
}
# new-api task statuses (§5); a state new-api cannot map becomes UNKNOWN.
WRAPPER_STATUS = {
    Phase.QUEUED: "SUBMITTED",
    Phase.PROCESSING: "IN_PROGRESS",
    Phase.RENDERING: "UNKNOWN",
    Phase.WAITING_LINK: "SUCCESS",
    Phase.COMPLETED: "SUCCESS",
    Phase.FAILED: "FAILURE",
}
TERMINAL = frozenset({Phase.WAITING_LINK, Phase.COMPLETED, Phase.FAILED})


def phase_of(ctx: Context, task: Task) -> Phase:
    """The task's phase now, with quirk unknown_state applied."""
    return task.phase(ctx.now(), unknown_state=ctx.config.has("unknown_state"))


def _eta(ctx: Context, task: Task, phase: Phase) -> int | None:
    # Real relays send null (§4); config.eta turns a countdown on for schedulers that use hints.
    if not ctx.config.eta or phase in TERMINAL:
        return None
    return max(0, round(task.ended - ctx.now()))


def _batch_id(task: Task) -> str:
    return hashlib.sha256(f"batch:{task.id}".encode()).hexdigest()[:32]


def _assets(ctx: Context, task: Task, *, new_form: bool) -> dict[str, Any]:
    """The link-bearing fields of a completed task (§4, completed examples)."""
    width, height = task.size
    links = ctx.links
    thumb = links.thumbnail(task.id)
    video: dict[str, Any] = {
        "url": links.video(task.id),
        "width": width,
        "height": height,
        "thumbnail": thumb,
        "download_url": links.raw(task.id),
    }
    if ctx.config.has("no_download_url"):
        # §4: download_url "can be missing or empty": alternate both, only video_raw stays clean.
        if task.seq % 2:
            del video["download_url"]
        else:
            video["download_url"] = ""
    video_raw: dict[str, Any] = {"url": links.raw(task.id), "width": width, "height": height}
    thumbnail = {"url": thumb, "width": width, "height": height}
    last_frame = {"url": links.last_frame(task.id), "width": width, "height": height}
    out: dict[str, Any] = {
        "batch_id": _batch_id(task),
        "video": video,
        "video_raw": video_raw,
        "thumbnail": thumbnail,
        "last_frame": last_frame,
    }
    if new_form:
        video_raw["duration"] = VIDEO_SECONDS
        out["artifact"] = {
            "video": video,
            "thumbnail": thumbnail,
            "video_raw": video_raw,
            "last_frame": last_frame,
            "created_at": GO_ZERO_TIME,
        }
        # The palette's shape is not documented anywhere; a small object tests tolerance.
        out["palette"] = {"colors": ["#1f2a44", "#d9a441", "#f2efe9"]}
    return out


def task_object(ctx: Context, task: Task) -> dict[str, Any]:
    """The relay task object, older form unless quirk new_form."""
    phase = phase_of(ctx, task)
    new_form = ctx.config.has("new_form")
    obj: dict[str, Any] = {
        "id": task.id,
        "prompt": task.prompt,
        "state": RELAY_WORDS[phase],
        "created_at": ctx.iso(task.created),
        "video": None,
        "liked": None,
        "estimate_wait_seconds": _eta(ctx, task, phase),
    }
    if new_form:
        obj.update(
            queue_state=None,
            batch_id="",
            video_raw=None,
            thumbnail=None,
            last_frame=None,
            request={"prompt": task.prompt, "aspect_ratio": task.aspect_ratio},
            artifact=None,
            media_type="video",
            palette=None,
            failure_reason=None,
        )
    if ctx.config.dialect == "rixapi":
        obj["server_id"] = f"rix-{task.seq % 4 + 1:02d}"  # RixAPI's task answer (seed 002)
    if phase is Phase.FAILED:
        obj["failure_reason"] = task.failure_reason
    elif phase is Phase.COMPLETED:
        obj.update(_assets(ctx, task, new_form=new_form))
    return obj


def _updated(task: Task, now: float) -> float:
    marks = [task.created, task.started, task.ended, task.finished]
    return max(m for m in marks if m <= now) if now >= task.created else task.created


def envelope(ctx: Context, task: Task) -> dict[str, Any]:
    """Quirk envelope: AnyAPI's declared response schema (§3); no task object, no link."""
    phase = phase_of(ctx, task)
    return {
        "code": 200,
        "message": "success",
        "request_id": ctx.request_id(),
        "data": {
            "task_id": task.id,
            "task_status": ENVELOPE_STATUS[phase],
            "created_at": ctx.millis(task.created),
            "updated_at": ctx.millis(_updated(task, ctx.now())),
        },
    }


def wrapper_item(ctx: Context, task: Task) -> dict[str, Any]:
    """One item of new-api's batch wrapper (§5); inner `data` is the task object."""
    now = ctx.now()
    phase = phase_of(ctx, task)
    return {
        "id": task.seq,
        "task_id": task.id,
        "platform": "luma",
        "action": "LUMA_VIDEO",
        "status": WRAPPER_STATUS[phase],
        "fail_reason": task.failure_reason if phase is Phase.FAILED else "",
        "submit_time": int(ctx.wall(task.created)),
        "start_time": int(ctx.wall(task.started)) if now >= task.started else 0,
        "finish_time": int(ctx.wall(task.ended)) if phase in TERMINAL else 0,
        "progress": f"{round(task.progress(now) * 100)}%",
        "data": task_object(ctx, task),
    }


def wrapper(ctx: Context, tasks: list[Task]) -> dict[str, Any]:
    """Quirk batch_wrapper: `{"code":"success","message":"","data":[...]}`."""
    return {"code": "success", "message": "", "data": [wrapper_item(ctx, t) for t in tasks]}
