"""The public data model: what every dialect's answers are turned into."""

from __future__ import annotations

import enum
import pathlib
from datetime import datetime
from typing import Any, ClassVar, Literal, TypeAlias

import msgspec

from ._options import (
    AspectRatio,
    Duration,
    ImageFormat,
    ImageInput,
    ImageModel,
    ModifyMode,
    ModifyVideoModel,
    ReframeVideoModel,
    Resolution,
    VideoModel,
    WeightedImage,
)

__all__ = [
    "REQUEST_TYPES",
    "AnyRequest",
    "GenerateRequest",
    "Generation",
    "ImageAsset",
    "ImageRequest",
    "JobResult",
    "ModifyVideoRequest",
    "ReframeImageRequest",
    "ReframePosition",
    "ReframeVideoRequest",
    "State",
    "VideoAsset",
    "VideoInput",
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


class ImageAsset(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """The link of a finished image (Photon, or an image reframe)."""

    url: str


class Generation(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """One generation task as a gateway reports it now.

    `kind` is "image" for Photon images and image reframes, whose file is `image`; every
    other task is a "video" (a video's thumbnail stays `VideoAsset.thumbnail_url`).
    """

    id: str
    state: State
    raw_state: str | None = None
    prompt: str | None = None
    created_at: datetime | None = None
    video: VideoAsset | None = None
    failure_reason: str | None = None
    estimate_wait_seconds: float | None = None
    progress: float | None = None
    kind: Literal["video", "image"] = "video"
    image: ImageAsset | None = None

    @property
    def link(self) -> str | None:
        """The file to fetch for this task's kind: the image, or the video's best link."""
        if self.kind == "image":
            return (self.image.url if self.image else None) or None
        return self.video.best_url if self.video else None

    @property
    def is_terminal(self) -> bool:
        """True once the task will not change any more (completed or failed)."""
        return self.state is State.COMPLETED or self.state is State.FAILED

    @property
    def ok(self) -> bool:
        """True when the task completed and has the link of its kind to fetch."""
        return self.state is State.COMPLETED and bool(self.link)


class GenerateRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """What to generate; `None` means "not sent" (the dialect fills what it requires)."""

    #: The request's kind, as batch lines name it (`"kind"`) and the journal keys it.
    kind: ClassVar[str] = "video"

    prompt: str
    aspect_ratio: AspectRatio | None = None
    model: VideoModel | None = None
    resolution: Resolution | None = None
    duration: Duration | int | None = None
    loop: bool | None = None
    expand_prompt: bool | None = None
    start_image: ImageInput | None = None
    end_image: ImageInput | None = None
    callback_url: str | None = None
    extra_body: dict[str, Any] | None = None
    #: Camera-motion concept keys (official: `client.concepts()` lists them).
    concepts: list[str] | None = None


#: A source video: a URL, a data URI, a local file, or a completed video `Generation` or its id.
VideoInput: TypeAlias = str | pathlib.Path | Generation


class ImageRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """A Photon image (official only); `model` is "photon-1" when not given."""

    kind: ClassVar[str] = "image"

    prompt: str
    model: ImageModel | None = None
    aspect_ratio: AspectRatio | None = None
    format: ImageFormat | None = None
    #: Images to draw from: plain images, or `(image, weight)` pairs.
    image_ref: list[WeightedImage] | None = None
    #: Images whose style to follow: plain images, or `(image, weight)` pairs.
    style_ref: list[WeightedImage] | None = None
    #: Images of one character to keep (the spec's `identity0`).
    character_ref: list[ImageInput] | None = None
    #: One image to modify, plain or with its weight.
    modify_image_ref: WeightedImage | None = None
    callback_url: str | None = None
    extra_body: dict[str, Any] | None = None


class ReframePosition(msgspec.Struct, frozen=True, omit_defaults=True):
    """Where the source sits in the reframed output (pixels); `None` is not sent."""

    grid_position_x: int | None = None
    grid_position_y: int | None = None
    x_start: int | None = None
    x_end: int | None = None
    y_start: int | None = None
    y_end: int | None = None
    resized_width: int | None = None
    resized_height: int | None = None


class ModifyVideoRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """Restyle or edit a video (official only); `model` is "ray-2" when not given."""

    kind: ClassVar[str] = "modify_video"

    video: VideoInput
    mode: ModifyMode
    prompt: str | None = None
    model: ModifyVideoModel | None = None
    first_frame: ImageInput | None = None
    callback_url: str | None = None


class ReframeVideoRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """A video at another aspect ratio (official only); `model` is "ray-2" when not given."""

    kind: ClassVar[str] = "reframe_video"

    video: VideoInput
    aspect_ratio: AspectRatio
    model: ReframeVideoModel | None = None
    prompt: str | None = None
    first_frame: ImageInput | None = None
    position: ReframePosition | None = None
    callback_url: str | None = None


class ReframeImageRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """An image at another aspect ratio (official only); `model` is "photon-1" when not given.

    `image` also takes a completed image `Generation` or its id.
    """

    kind: ClassVar[str] = "reframe_image"

    image: str | pathlib.Path | Generation
    aspect_ratio: AspectRatio
    model: ImageModel | None = None
    prompt: str | None = None
    format: ImageFormat | None = None
    position: ReframePosition | None = None
    callback_url: str | None = None


#: Every request struct `submit()` and `generate_many()` take.
AnyRequest: TypeAlias = (
    GenerateRequest | ImageRequest | ModifyVideoRequest | ReframeVideoRequest | ReframeImageRequest
)
REQUEST_TYPES: tuple[type, ...] = (
    GenerateRequest,
    ImageRequest,
    ModifyVideoRequest,
    ReframeVideoRequest,
    ReframeImageRequest,
)


class JobResult(msgspec.Struct, frozen=True):
    """The outcome of one request in `generate_many`, in completion order."""

    index: int
    request: AnyRequest
    generation: Generation | None = None
    error: BaseException | None = None
    #: The downloaded file, when `download_to` is a local folder.
    path: pathlib.Path | None = None
    #: Where the download is: the file's path, or its object-store URL (`s3://...`).
    location: str | None = None

    @property
    def ok(self) -> bool:
        """True when the task completed (and was downloaded, if downloads were asked for)."""
        return self.error is None and self.generation is not None and self.generation.ok
