"""The public data model: what every dialect's answers are turned into."""

from __future__ import annotations

import enum
import pathlib
from datetime import datetime
from typing import Any, ClassVar, TypeAlias

import msgspec

__all__ = [
    "REQUEST_TYPES",
    "AnyRequest",
    "GenerateRequest",
    "Generation",
    "JobResult",
    "State",
    "VideoAsset",
]


class State(enum.StrEnum):
    """Where a generation is in its life, the same word for every gateway.

    The gateway's own word is kept in `Generation.raw_state`; a word we do not know maps to
    `UNKNOWN` instead of failing, because gateways add states without notice.
    """

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    UNKNOWN = "unknown"


class VideoAsset(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """The links of a finished video; `best_url` picks the cleanest one there is."""

    url: str
    download_url: str | None = None
    raw_url: str | None = None
    thumbnail_url: str | None = None
    last_frame_url: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None

    @property
    def best_url(self) -> str | None:
        """The clean file first (download_url, raw_url), the watermarked `url` last."""
        return self.download_url or self.raw_url or self.url or None


class Generation(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """One generation task as a gateway reports it now."""

    id: str
    state: State
    raw_state: str | None = None
    prompt: str | None = None
    created_at: datetime | None = None
    video: VideoAsset | None = None
    failure_reason: str | None = None
    estimate_wait_seconds: float | None = None
    progress: float | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the task will not change any more (completed or failed)."""
        return self.state is State.COMPLETED or self.state is State.FAILED

    @property
    def ok(self) -> bool:
        """True when the task completed and has a link to fetch."""
        return (
            self.state is State.COMPLETED and self.video is not None and bool(self.video.best_url)
        )


class GenerateRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """What to generate; `None` means "not sent" (the dialect fills what it requires)."""

    #: The request's kind, as batch lines name it (`"kind"`) and the journal keys it.
    kind: ClassVar[str] = "video"

    prompt: str
    aspect_ratio: str | None = None
    model: str | None = None
    resolution: str | None = None
    duration: str | int | None = None
    loop: bool | None = None
    expand_prompt: bool | None = None
    start_image: str | pathlib.Path | None = None
    end_image: str | pathlib.Path | None = None
    callback_url: str | None = None
    extra_body: dict[str, Any] | None = None


#: Every request struct `submit()` and `generate_many()` take (more kinds join here).
AnyRequest: TypeAlias = GenerateRequest
REQUEST_TYPES: tuple[type, ...] = (GenerateRequest,)


class JobResult(msgspec.Struct, frozen=True):
    """The outcome of one request in `generate_many`, in completion order."""

    index: int
    request: AnyRequest
    generation: Generation | None = None
    error: BaseException | None = None
    path: pathlib.Path | None = None

    @property
    def ok(self) -> bool:
        """True when the video completed (and was downloaded, if downloads were asked for)."""
        return self.error is None and self.generation is not None and self.generation.ok
