"""Luma's official Dream Machine API (reference/luma-official-openapi.yaml)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import msgspec

from .._errors import InvalidRequestError
from .._http import HttpRequest, HttpResponse
from .._models import (
    GenerateRequest,
    Generation,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframeVideoRequest,
)
from ._base import Dialect
from ._official_media import image_body, modify_body, reframe_image_body, reframe_video_body
from ._official_wire import (
    official_concepts,
    official_created,
    official_credits,
    official_generation,
    official_generations,
    official_ping,
)
from ._relay_wire import check_answer

__all__ = ["Official"]


class Official(Dialect):
    """`https://api.lumalabs.ai/dream-machine/v1`: the only dialect with list, delete, upscale,
    credits, Photon images, modify, reframe, concepts and ping. Its batch query is the list
    endpoint (newest first), so ids older than one page are fetched singly.
    """

    name = "official"
    default_base_url = "https://api.lumalabs.ai/dream-machine/v1"
    operations: ClassVar[frozenset[str]] = frozenset(
        {"submit", "extend", "get", "batch", "no_watermark", "audio"}
        | {"list", "delete", "upscale", "credits"}
        | {"image", "modify_video", "reframe_video", "reframe_image", "concepts", "ping"}
    )
    options: ClassVar[frozenset[str]] = frozenset(
        {
            "aspect_ratio",
            "model",
            "resolution",
            "duration",
            "loop",
            "start_image",
            "end_image",
            "callback_url",
            "concepts",
        }
    )
    aspect_ratios: ClassVar[frozenset[str]] = Dialect.aspect_ratios | {"21:9", "9:21"}
    models: ClassVar[dict[str, str]] = {
        "ray-2": "ray-2",
        "ray-flash-2": "ray-flash-2",
        "ray-1-6": "ray-1-6",
        # The relay names (AnyAPI's seed 001) for the same models.
        "ray-v2": "ray-2",
        "ray-v1": "ray-1-6",
    }
    resolutions: ClassVar[frozenset[str]] = frozenset({"540p", "720p", "1080p", "4k"})
    durations: ClassVar[frozenset[str]] = frozenset({"5s", "9s"})
    prompt_length = (3, 5000)
    batch_is_listing = True
    #: The API requires a model; this is sent when the user names none (API.md).
    default_model = "ray-2"

    def __init__(self, *, prefix: str = "", submit_path: str = "/generations/video") -> None:
        """`submit_path`: older deployments take `POST /generations` instead."""
        super().__init__(prefix=prefix)
        self.submit_path = submit_path

    def body(self, request: GenerateRequest, *, extends: str | None = None) -> dict[str, Any]:
        """The create body; `extends` puts a generation in frame0 (that is what extend is)."""
        self.check_options(request)
        if extends is not None and request.start_image is not None:
            raise InvalidRequestError("an extend starts from its task: start_image cannot be set")
        body: dict[str, Any] = {
            "prompt": request.prompt,
            "model": self.models[request.model or self.default_model],
        }
        for name in ("aspect_ratio", "resolution", "loop", "callback_url"):
            if (value := getattr(request, name)) is not None:
                body[name] = value
        if (duration := self.duration_of(request)) is not None:
            body["duration"] = duration
        frames: dict[str, dict[str, str]] = {}
        if extends is not None:
            frames["frame0"] = {"type": "generation", "id": extends}
        elif request.start_image is not None:
            frames["frame0"] = {"type": "image", "url": str(request.start_image)}
        if request.end_image is not None:
            frames["frame1"] = {"type": "image", "url": str(request.end_image)}
        if frames:
            body["keyframes"] = frames
        if request.concepts is not None:
            body["concepts"] = [{"key": key} for key in request.concepts]
        return self.merge_extra(body, request)

    def submit(self, request: GenerateRequest) -> HttpRequest:
        """`POST /generations/video`."""
        return HttpRequest.json("POST", self.path(self.submit_path), self.body(request))

    def extend(self, task_id: str, request: GenerateRequest) -> HttpRequest:
        """A new generation whose frame0 is `{type: generation, id}`."""
        body = self.body(request, extends=task_id)
        return HttpRequest.json("POST", self.path(self.submit_path), body)

    def get(self, task_id: str) -> HttpRequest:
        """`GET /generations/{id}`."""
        return HttpRequest("GET", self.path("/generations/{id}", task_id))

    def batch(self, task_ids: Sequence[str]) -> HttpRequest:
        """The list endpoint: the newest generations, whichever they are."""
        return self.listing(limit=min(max(len(task_ids), 1), self.batch_size))

    def listing(self, *, limit: int = 100, offset: int = 0) -> HttpRequest:
        """`GET /generations?limit=&offset=`, newest first."""
        if limit < 1 or offset < 0:
            raise InvalidRequestError(f"limit {limit} / offset {offset}: need limit>=1, offset>=0")
        params = (("limit", str(limit)), ("offset", str(offset)))
        return HttpRequest("GET", self.path("/generations"), params=params)

    def delete(self, task_id: str) -> HttpRequest:
        """`DELETE /generations/{id}`."""
        return HttpRequest("DELETE", self.path("/generations/{id}", task_id))

    def upscale(self, task_id: str, resolution: str) -> HttpRequest:
        """`POST /generations/{id}/upscale`."""
        self._check_value("resolution", resolution, self.resolutions)
        body = {"generation_type": "upscale_video", "resolution": resolution}
        return HttpRequest.json("POST", self.path("/generations/{id}/upscale", task_id), body)

    def audio(
        self, task_id: str, prompt: str, negative_prompt: str | None, callback_url: str | None
    ) -> HttpRequest:
        """`POST /generations/{id}/audio` with `generation_type: add_audio`."""
        body: dict[str, Any] = {"generation_type": "add_audio", "prompt": prompt}
        if negative_prompt is not None:
            body["negative_prompt"] = negative_prompt
        if callback_url is not None:
            body["callback_url"] = callback_url
        return HttpRequest.json("POST", self.path("/generations/{id}/audio", task_id), body)

    def credits(self) -> HttpRequest:
        """`GET /credits`."""
        return HttpRequest("GET", self.path("/credits"))

    def image(self, request: ImageRequest) -> HttpRequest:
        """`POST /generations/image` (Photon); `model` is "photon-1" when not given."""
        body = image_body(request, prompt_low=self.prompt_length[0])
        return HttpRequest.json("POST", self.path("/generations/image"), body)

    def modify_video(self, request: ModifyVideoRequest) -> HttpRequest:
        """`POST /generations/video/modify`; `model` is "ray-2" when not given."""
        body = modify_body(request)
        return HttpRequest.json("POST", self.path("/generations/video/modify"), body)

    def reframe_video(self, request: ReframeVideoRequest) -> HttpRequest:
        """`POST /generations/video/reframe`; `model` is "ray-2" when not given."""
        body = reframe_video_body(request)
        return HttpRequest.json("POST", self.path("/generations/video/reframe"), body)

    def reframe_image(self, request: ReframeImageRequest) -> HttpRequest:
        """`POST /generations/image/reframe`; `model` is "photon-1" when not given."""
        body = reframe_image_body(request)
        return HttpRequest.json("POST", self.path("/generations/image/reframe"), body)

    def concepts(self) -> HttpRequest:
        """`GET /generations/concepts/list`."""
        return HttpRequest("GET", self.path("/generations/concepts/list"))

    def ping(self) -> HttpRequest:
        """`GET /ping`."""
        return HttpRequest("GET", self.path("/ping"))

    def parse_concepts(self, response: HttpResponse) -> list[str]:
        """The concept keys: a list of strings."""
        return official_concepts(response)

    def parse_ping(self, response: HttpResponse) -> None:
        """Any 2xx is a pong; errors are raised like any other answer's."""
        official_ping(response)

    def parse_task(self, response: HttpResponse) -> Generation:
        """A Generation object."""
        return official_generation(response)

    def parse_batch(self, response: HttpResponse) -> list[Generation]:
        """The generations of a list answer."""
        return official_generations(response)

    def parse_created(
        self, listing: HttpResponse, sent: HttpRequest, since: datetime, known: set[str]
    ) -> list[str]:
        """Ids in a recent listing that the create `sent` may have made (for reconciling)."""
        body = msgspec.json.decode(sent.body) if sent.body else {}
        return official_created(listing, body if isinstance(body, dict) else {}, since, known)

    def parse_credits(self, response: HttpResponse) -> float:
        """The balance in USD cents."""
        return official_credits(response)

    def parse_empty(self, response: HttpResponse) -> None:
        """A delete's answer: 204 (or any 2xx) is success."""
        check_answer(HttpResponse(response.status, response.headers, response.body or b"{}"))
