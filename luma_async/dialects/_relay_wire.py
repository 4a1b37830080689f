"""Wire views of the relay family (Luma's web API relayed) and how they become `Generation`s.

One tolerant view reads every shape a relay answers with (docs/dialects.md): the flat task
object (old and new forms), AnyAPI's `{code, data: {task_id, task_status}}` envelope and
new-api's batch wrapper item. `data` stays raw until we know which of them we hold.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from .._errors import APIError, ProtocolError, QuotaExceededError
from .._http import HttpResponse
from .._models import Generation, State, VideoAsset
from ._decoding import DECODE_ERRORS, lenient
from ._errors import error_for, is_success_code

__all__ = [
    "check_answer",
    "decode_relay",
    "not_understood",
    "parse_time",
    "relay_generation",
    "relay_generations",
    "relay_link",
    "state_of",
]

#: Every state word we know, lower-cased: relay task states, the official API's, AnyAPI's
#: envelope `task_status` and new-api's wrapper `status` (DIALECTS.md §1, §3, §5).
_STATES: dict[str, State] = {
    "pending": State.QUEUED,
    "queued": State.QUEUED,
    "submitted": State.QUEUED,
    "not_start": State.QUEUED,
    "processing": State.PROCESSING,
    "dreaming": State.PROCESSING,
    "in_progress": State.PROCESSING,
    "completed": State.COMPLETED,
    "succeed": State.COMPLETED,
    "success": State.COMPLETED,
    "failed": State.FAILED,
    "failure": State.FAILED,
    "unknown": State.UNKNOWN,
}


def state_of(word: str | None) -> State:
    """Our state for a gateway's word; words we do not know are `UNKNOWN`, never an error."""
    if not word:
        return State.UNKNOWN
    return _STATES.get(word.strip().lower(), State.UNKNOWN)


class _Link(msgspec.Struct, gc=False):
    url: str | None = None


class _Media(msgspec.Struct, gc=False):
    url: str | None = None
    download_url: str | None = None
    # A string in the older form (DIALECTS.md §4); tolerate an object too.
    thumbnail: _Link | str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None


class _Request(msgspec.Struct, gc=False):
    prompt: str | None = None


class RelayView(msgspec.Struct):
    """Everything a relay might put at the top of an answer, all optional."""

    id: str | int | None = None
    state: str | None = None
    prompt: str | None = None
    created_at: str | float | None = None
    video: _Media | None = None
    video_raw: _Media | None = None
    thumbnail: _Link | str | None = None
    last_frame: _Media | None = None
    estimate_wait_seconds: float | None = None
    failure_reason: str | None = None
    request: _Request | None = None
    # AnyAPI's envelope and new-api's wrapper item
    code: str | int | None = None
    data: msgspec.Raw = msgspec.Raw()  # empty when absent
    task_id: str | None = None
    task_status: str | None = None
    status: str | None = None
    fail_reason: str | None = None
    progress: str | float | None = None
    submit_time: float | None = None


_decode_one = lenient(msgspec.json.Decoder(RelayView | list[RelayView], strict=False))
_decode_inner = lenient(msgspec.json.Decoder(RelayView | list[RelayView] | None, strict=False))


def check_answer(response: HttpResponse) -> None:
    """Raise for an error status, an HTML page or an empty body."""
    if response.status >= 300:
        raise error_for(response)
    if response.is_html or not response.body.strip():
        raise ProtocolError(
            f"expected JSON, got {'an HTML page' if response.is_html else 'an empty body'}",
            status=response.status,
            body=response.body,
        )


def decode_relay(response: HttpResponse) -> RelayView | list[RelayView]:
    """The answer's top level; an error status or an unreadable body raises."""
    check_answer(response)
    try:
        top: RelayView | list[RelayView] = _decode_one(response.body)
        return top
    except DECODE_ERRORS:
        # Not a task: maybe a 200 carrying one of the error layers; else it is unreadable.
        raise not_understood(response) from None


def not_understood(response: HttpResponse, what: str = "a task") -> APIError | ProtocolError:
    """The error for a 2xx answer that is not what we asked for.

    A gateway error body at 200 keeps its class when it has a code or speaks of quota
    (status first, words second: a 200 included); anything else is a protocol error.
    """
    error = error_for(response)
    if (
        isinstance(error, APIError)
        and error.code is None
        and response.status < 300
        and not isinstance(error, QuotaExceededError)
    ):
        return ProtocolError(
            f"the answer is not {what}", status=response.status, body=response.body
        )
    return error


def parse_time(value: str | float | None) -> datetime | None:
    """An aware datetime from ISO-8601 or epoch (s or ms); None for unset or unreadable."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
        else:
            # AnyAPI's envelope gives epoch milliseconds (DIALECTS.md §3); seconds are smaller.
            parsed = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    # Go's zero time (0001-01-01) stands for "not set" in the newer relay form.
    return None if parsed.year < 1971 else parsed


def _progress(value: str | float | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip().rstrip("%")) / 100 if isinstance(value, str) else value
    except ValueError:
        return None
    if number > 1.0 and not isinstance(value, str):
        number /= 100
    return min(max(number, 0.0), 1.0) if number == number else None


def _url_of(media: _Link | str | None) -> str | None:
    return (media.url if isinstance(media, _Link) else media) or None


def _video(view: RelayView) -> VideoAsset | None:
    video, raw = view.video, view.video_raw
    url = (
        (video.url if video else None)
        or (raw.url if raw else None)
        or (video.download_url if video else None)
    )
    if not url:
        return None
    return VideoAsset(
        url=url,
        download_url=(video.download_url if video else None) or None,
        raw_url=(raw.url if raw else None) or None,
        thumbnail_url=_url_of(view.thumbnail) or _url_of(video.thumbnail if video else None),
        last_frame_url=(view.last_frame.url if view.last_frame else None) or None,
        width=(video.width if video else None) or (raw.width if raw else None),
        height=(video.height if video else None) or (raw.height if raw else None),
        duration=raw.duration if raw else None,
    )


def _from_task(view: RelayView) -> Generation:
    task_id = view.id if isinstance(view.id, str) and view.id else view.task_id
    if not task_id:
        raise ProtocolError("the answer carries no task id")
    word = view.state or view.task_status
    prompt = view.prompt or (view.request.prompt if view.request else None)
    return Generation(
        id=task_id,
        state=state_of(word),
        raw_state=word,
        prompt=prompt or None,
        created_at=parse_time(view.created_at if view.created_at else view.submit_time),
        video=_video(view),
        failure_reason=view.failure_reason or view.fail_reason or None,
        estimate_wait_seconds=view.estimate_wait_seconds,
        progress=_progress(view.progress),
    )


def _is_wrapper_item(view: RelayView) -> bool:
    """new-api's batch item: `task_id` and `status` outside, the task object in `data`."""
    return view.task_id is not None and view.status is not None and view.state is None


def _from_wrapper_item(item: RelayView) -> Generation:
    """A wrapper item; the wrapper's own record wins where it is terminal (new-api's wrapper)."""
    inner = None
    if item.data:
        try:
            inner = _decode_inner(item.data)
        except DECODE_ERRORS:
            inner = None
    outer = msgspec.structs.replace(item, id=item.task_id, state=item.status, data=msgspec.Raw())
    if not isinstance(inner, RelayView) or not (inner.id or inner.task_id):
        return _from_task(outer)
    generation = _from_task(inner)
    wrapper_state = state_of(item.status)
    changes: dict[str, object] = {}
    if wrapper_state in (State.COMPLETED, State.FAILED) or generation.raw_state is None:
        # A terminal wrapper status beats an inner task object that was not refreshed.
        changes.update(state=wrapper_state, raw_state=item.status)
    if not generation.failure_reason and item.fail_reason:
        changes["failure_reason"] = item.fail_reason
    if generation.progress is None and item.progress is not None:
        changes["progress"] = _progress(item.progress)
    if generation.created_at is None and item.submit_time:
        changes["created_at"] = parse_time(item.submit_time)
    return msgspec.structs.replace(generation, **changes) if changes else generation


def _unwrap(view: RelayView, response: HttpResponse) -> RelayView | list[RelayView]:
    """The task (or list of tasks) behind an envelope; envelope errors raise."""
    if not is_success_code(view.code):
        raise error_for(response)
    if not view.data:
        if view.id is None and view.task_id is None:
            raise not_understood(response)
        return view
    try:
        inner: RelayView | list[RelayView] | None = _decode_inner(view.data)
    except DECODE_ERRORS:
        raise ProtocolError(
            "the envelope's data is not a task", status=response.status, body=response.body
        ) from None
    if inner is None:
        raise not_understood(response)
    return inner


def _one(item: RelayView) -> Generation:
    return _from_wrapper_item(item) if _is_wrapper_item(item) else _from_task(item)


def _top(response: HttpResponse) -> RelayView | list[RelayView]:
    top = decode_relay(response)
    if (
        isinstance(top, RelayView)
        and not _is_wrapper_item(top)
        and (top.data or top.code is not None)
    ):
        top = _unwrap(top, response)
    return top


def relay_generation(response: HttpResponse) -> Generation:
    """One task from a relay answer: flat, a one-element list, an envelope, a wrapper item."""
    top = _top(response)
    if isinstance(top, list):
        if not top:
            raise ProtocolError("an empty list where a task was expected", body=response.body)
        top = top[0]
    if not (top.id or top.task_id):
        raise not_understood(response)
    return _one(top)


def relay_generations(response: HttpResponse) -> list[Generation]:
    """All tasks in a batch answer: a bare list, or new-api's wrapper around one."""
    top = _top(response)
    if isinstance(top, RelayView):
        if not (top.id or top.task_id):
            raise not_understood(response, "a list of tasks")
        top = [top]
    out = []
    for item in top:
        try:
            out.append(_one(item))
        except ProtocolError:
            continue  # an entry without an id cannot be matched to anything we asked for
    return out


class _LinkView(msgspec.Struct):
    url: str | None = None
    code: str | int | None = None
    data: msgspec.Raw = msgspec.Raw()  # empty when absent


_decode_link = lenient(msgspec.json.Decoder(_LinkView | str | None, strict=False))


def relay_link(response: HttpResponse) -> str:
    """The link in a no-watermark answer: `{"url": ...}`, possibly inside an envelope."""
    check_answer(response)
    body = response.body
    for _ in range(3):  # an envelope inside an envelope at most; deeper is not a link answer
        try:
            view = _decode_link(body)
        except DECODE_ERRORS:
            break
        if isinstance(view, str) and view.startswith(("http://", "https://")):
            return view
        if not isinstance(view, _LinkView):
            break
        if not is_success_code(view.code):
            raise error_for(response)
        if view.url and view.url.startswith(("http://", "https://")):
            return view.url
        if not view.data:
            break
        body = view.data
    raise not_understood(response, "a link")
