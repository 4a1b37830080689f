"""The `Dialect` interface: build a gateway's requests and read its answers, with no I/O."""

from __future__ import annotations

import abc
import binascii
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from .._errors import InvalidRequestError, UnsupportedFeatureError
from .._http import HttpRequest, HttpResponse
from .._models import (
    AnyRequest,
    GenerateRequest,
    Generation,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframeVideoRequest,
)

__all__ = [
    "KIND_OPERATIONS",
    "MAX_IMAGE_BYTES",
    "MAX_VIDEO_BYTES",
    "OPERATIONS",
    "OPTIONS",
    "Dialect",
    "check_image",
    "check_media",
]

#: Every operation a dialect may offer, as named in `Dialect.operations`.
OPERATIONS = (
    "submit",
    "extend",
    "get",
    "batch",
    "no_watermark",
    "audio",
    "list",
    "delete",
    "upscale",
    "credits",
    "image",
    "modify_video",
    "reframe_video",
    "reframe_image",
    "concepts",
    "ping",
)
#: The operation that creates each request kind (`AnyRequest.kind`).
KIND_OPERATIONS = {
    "video": "submit",
    "image": "image",
    "modify_video": "modify_video",
    "reframe_video": "reframe_video",
    "reframe_image": "reframe_image",
}
#: Every request option, as named on `GenerateRequest`.
OPTIONS = (
    "aspect_ratio",
    "model",
    "resolution",
    "duration",
    "loop",
    "expand_prompt",
    "start_image",
    "end_image",
    "callback_url",
    "concepts",
)
#: Gateways refuse images above 10 MB (DIALECTS.md §0); we refuse them before uploading.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
#: A video sent inline as a data URI: no limit is documented, but a JSON body past this size
#: is not something any API takes; host it and pass its URL instead.
MAX_VIDEO_BYTES = 100 * 1024 * 1024


class Dialect(abc.ABC):
    """One gateway's wire format: requests out, `Generation`s or errors in. Sans-IO.

    Subclasses say what they offer in `operations` and `options`; every builder checks the
    request against those and the accepted values before anything is sent.
    """

    name: ClassVar[str]
    #: The public base URL, or None where every user has their own (base_url required).
    default_base_url: ClassVar[str | None] = None
    operations: ClassVar[frozenset[str]]
    options: ClassVar[frozenset[str]]
    aspect_ratios: ClassVar[frozenset[str]] = frozenset({"1:1", "4:3", "3:4", "16:9", "9:16"})
    #: Accepted model names, ours and the gateway's, mapped to what goes on the wire.
    models: ClassVar[dict[str, str]] = {}
    resolutions: ClassVar[frozenset[str]] = frozenset()
    durations: ClassVar[frozenset[str]] = frozenset()
    prompt_length: ClassVar[tuple[int, int]] = (1, 5000)
    #: How many ids one batch query may carry.
    batch_size: ClassVar[int] = 100
    #: True where the "batch" is a listing of recent tasks rather than a query by id.
    batch_is_listing: ClassVar[bool] = False

    def __init__(self, *, prefix: str = "") -> None:
        """`prefix` is a channel path some gateways put in front (`/pro` -> `/pro/luma/...`)."""
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self.prefix!r})"

    # -- capability checks ---------------------------------------------------------------

    def supports(self, operation: str) -> bool:
        """True when this gateway has `operation` (one of `OPERATIONS`)."""
        return operation in self.operations

    def require(self, operation: str) -> None:
        """Raise `UnsupportedFeatureError` unless this gateway has `operation`."""
        if operation not in self.operations:
            raise UnsupportedFeatureError(
                f"the {self.name} dialect has no {operation!r} operation; it has: "
                + ", ".join(op for op in OPERATIONS if op in self.operations)
            )

    def check_options(self, request: GenerateRequest) -> None:
        """Refuse options this gateway lacks and values it does not accept."""
        for option in OPTIONS:
            if getattr(request, option) is not None and option not in self.options:
                raise UnsupportedFeatureError(
                    f"the {self.name} dialect has no {option!r} option; it has: "
                    + ", ".join(o for o in OPTIONS if o in self.options)
                )
        low, high = self.prompt_length
        if not isinstance(request.prompt, str) or not low <= len(request.prompt.strip()) <= high:
            size = len(request.prompt) if isinstance(request.prompt, str) else "no"
            raise InvalidRequestError(
                f"prompt of {size} characters: the {self.name} dialect accepts {low}..{high}"
            )
        self._check_value("aspect_ratio", request.aspect_ratio, self.aspect_ratios)
        self._check_value("resolution", request.resolution, self.resolutions)
        self._check_value("model", request.model, self.models)
        self._check_value("duration", self.duration_of(request), self.durations)
        for option in ("start_image", "end_image"):
            check_image(option, getattr(request, option))
        concepts = request.concepts
        if concepts is not None and (
            not isinstance(concepts, list | tuple)
            or not all(isinstance(c, str) and c for c in concepts)
        ):
            raise InvalidRequestError(
                "concepts must be a list of concept keys (strings); client.concepts() lists them"
            )

    def _check_value(self, option: str, value: str | None, accepted: Collection[str]) -> None:
        if value is not None and value not in accepted:
            raise InvalidRequestError(
                f"{option} {value!r} is not accepted by the {self.name} dialect; "
                f"accepted: {', '.join(sorted(accepted))}"
            )

    @staticmethod
    def duration_of(request: GenerateRequest) -> str | None:
        """The duration as the wire spells it: an int 5 becomes "5s"."""
        duration = request.duration
        if duration is None or isinstance(duration, str):
            return duration
        if isinstance(duration, bool) or not isinstance(duration, int):
            raise InvalidRequestError(f"duration {duration!r} is neither a string nor seconds")
        return f"{duration}s"

    def path(self, template: str, task_id: str | None = None) -> str:
        """`template` under this dialect's prefix, with the task id quoted into `{id}`."""
        if task_id is None:
            return self.prefix + template
        if not isinstance(task_id, str) or task_id.strip(". ") == "":
            # "", "." and ".." would name another route once in the path.
            raise InvalidRequestError(f"{task_id!r} is not a task id")
        return self.prefix + template.replace("{id}", quote(task_id, safe=""))

    @staticmethod
    def merge_extra(body: dict[str, Any], request: GenerateRequest) -> dict[str, Any]:
        """`extra_body` merged over the built body as given, its keys winning."""
        if request.extra_body:
            body.update(request.extra_body)
        return body

    # -- requests ----------------------------------------------------------------------------

    @abc.abstractmethod
    def submit(self, request: GenerateRequest) -> HttpRequest:
        """Text- or image-to-video."""

    @abc.abstractmethod
    def extend(self, task_id: str, request: GenerateRequest) -> HttpRequest:
        """A new video that continues `task_id`."""

    @abc.abstractmethod
    def get(self, task_id: str) -> HttpRequest:
        """One task's status."""

    def batch(self, task_ids: Sequence[str]) -> HttpRequest:
        """Many tasks' status in one request."""
        self.require("batch")
        raise NotImplementedError

    def no_watermark(self, task_id: str) -> HttpRequest | None:
        """The route for a clean link, or None where the task itself carries it."""
        return None

    def listing(self, *, limit: int = 100, offset: int = 0) -> HttpRequest:
        """Recent tasks, newest first."""
        self.require("list")
        raise NotImplementedError

    def audio(
        self, task_id: str, prompt: str, negative_prompt: str | None, callback_url: str | None
    ) -> HttpRequest:
        """Generate a sound track for a finished video."""
        self.require("audio")
        raise NotImplementedError

    # -- answers -------------------------------------------------------------------------

    @abc.abstractmethod
    def parse_task(self, response: HttpResponse) -> Generation:
        """One task from a submit, extend, audio or single query answer."""

    @abc.abstractmethod
    def parse_batch(self, response: HttpResponse) -> list[Generation]:
        """The tasks in a batch query answer; unknown ids are simply absent."""

    def parse_url(self, response: HttpResponse) -> str:
        """The link in a no-watermark answer (only where `no_watermark` builds a request)."""
        raise UnsupportedFeatureError(
            f"the {self.name} dialect has no no-watermark route: the link is in the task"
        )

    def parse_created(
        self, listing: HttpResponse, sent: HttpRequest, since: datetime, known: set[str]
    ) -> list[str]:
        """Ids in a recent listing that the create `sent` may have made (needs `list`)."""
        self.require("list")
        raise NotImplementedError

    def parse_empty(self, response: HttpResponse) -> None:
        """Check an answer that carries nothing on success (delete)."""
        self.require("delete")
        raise NotImplementedError

    # -- the official API's other creates (DIALECTS.md §8); relays have none -----------------

    def create(self, request: AnyRequest) -> HttpRequest:
        """The create request for any request kind (what `client.submit()` sends)."""
        if isinstance(request, GenerateRequest):
            return self.submit(request)
        if isinstance(request, ImageRequest):
            return self.image(request)
        if isinstance(request, ModifyVideoRequest):
            return self.modify_video(request)
        if isinstance(request, ReframeVideoRequest):
            return self.reframe_video(request)
        if isinstance(request, ReframeImageRequest):
            return self.reframe_image(request)
        raise TypeError(f"not a request struct: {type(request).__name__}")

    def image(self, request: ImageRequest) -> HttpRequest:
        """A Photon image."""
        self.require("image")
        raise NotImplementedError

    def modify_video(self, request: ModifyVideoRequest) -> HttpRequest:
        """A restyled or edited video."""
        self.require("modify_video")
        raise NotImplementedError

    def reframe_video(self, request: ReframeVideoRequest) -> HttpRequest:
        """A video at another aspect ratio."""
        self.require("reframe_video")
        raise NotImplementedError

    def reframe_image(self, request: ReframeImageRequest) -> HttpRequest:
        """An image at another aspect ratio."""
        self.require("reframe_image")
        raise NotImplementedError

    def concepts(self) -> HttpRequest:
        """The camera-motion concepts a video create may name."""
        self.require("concepts")
        raise NotImplementedError

    def ping(self) -> HttpRequest:
        """A request that only checks the API is reachable and the key accepted."""
        self.require("ping")
        raise NotImplementedError

    def parse_concepts(self, response: HttpResponse) -> list[str]:
        """The concept keys of a concepts answer."""
        self.require("concepts")
        raise NotImplementedError

    def parse_ping(self, response: HttpResponse) -> None:
        """Check a ping's answer."""
        self.require("ping")
        raise NotImplementedError


def check_image(option: str, image: object) -> None:
    """An image must be an http(s) URL or a base64 data URI of at most 10 MB."""
    check_media(option, image, "image")


def check_media(option: str, media: object, kind: str) -> None:
    """Media (`kind` "image" or "video") must be an http(s) URL or a base64 data URI of that
    kind, within the size limit (images 10 MB, videos `MAX_VIDEO_BYTES`).
    """
    if media is None:
        return
    if not isinstance(media, str):
        raise InvalidRequestError(
            f"{option} must be a URL or a data URI (the client reads a pathlib.Path into one), "
            f"not {type(media).__name__}"
        )
    if media.startswith(("http://", "https://")):
        return
    if media.startswith(f"data:{kind}/") and ";base64," in media:
        payload = media.partition(";base64,")[2]
        size = len(payload) * 3 // 4 - (len(payload) - len(payload.rstrip("=")))
        limit = MAX_IMAGE_BYTES if kind == "image" else MAX_VIDEO_BYTES
        if size > limit:
            raise InvalidRequestError(
                f"{option} is {size} bytes; gateways accept {kind}s up to {limit} bytes"
            )
        try:
            data = binascii.a2b_base64(payload, strict_mode=True)
        except binascii.Error:
            data = b""
        if not data:
            raise InvalidRequestError(f"{option} is not {kind} data in valid base64")
        return
    shown = media[:40] + ("..." if len(media) > 40 else "")
    raise InvalidRequestError(
        f"{option} {shown!r} is neither an http(s) URL nor a data:{kind}/...;base64 URI"
    )
