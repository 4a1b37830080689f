"""What every relay gateway shares: the `/luma/...` routes and how a submit body is laid out.

A relay dialect file only states its differences as class attributes (docs/dialects.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from .._http import HttpRequest, HttpResponse
from .._models import GenerateRequest, Generation
from ._base import Dialect
from ._relay_wire import relay_generation, relay_generations, relay_link

__all__ = ["RelayDialect"]

_RELAY_OPERATIONS = frozenset({"submit", "extend", "get", "batch", "no_watermark"})


class RelayDialect(Dialect):
    """The relay family: Luma's web API behind a gateway, paths under `{prefix}/luma`."""

    operations: ClassVar[frozenset[str]] = _RELAY_OPERATIONS
    #: The prompt's field name: most relays say `user_prompt`, RixAPI says `prompt`.
    prompt_field: ClassVar[str] = "user_prompt"
    #: xfusionai's document sends `expand_prompt` as the string "true"/"false".
    expand_prompt_as_string: ClassVar[bool] = False
    #: RixAPI sends images as `keyframes.frame0/frame1`; the others as `image_url`/`image_end_url`.
    keyframes: ClassVar[bool] = False
    #: Fields the gateway requires, with the value sent when the user gives none.
    required_defaults: ClassVar[dict[str, Any]] = {}
    #: Our option name -> the wire's, where they differ.
    wire_names: ClassVar[dict[str, str]] = {}

    def submit(self, request: GenerateRequest) -> HttpRequest:
        """`POST /luma/generations`."""
        return HttpRequest.json("POST", self.path("/luma/generations"), self.body(request))

    def extend(self, task_id: str, request: GenerateRequest) -> HttpRequest:
        """`POST /luma/generations/{id}/extend` with the same fields as a submit."""
        return HttpRequest.json(
            "POST", self.path("/luma/generations/{id}/extend", task_id), self.body(request)
        )

    def get(self, task_id: str) -> HttpRequest:
        """`GET /luma/generations/{id}`."""
        return HttpRequest("GET", self.path("/luma/generations/{id}", task_id))

    def batch(self, task_ids: Sequence[str]) -> HttpRequest:
        """`POST /luma/tasks` with `{"ids": [...]}`."""
        return HttpRequest.json("POST", self.path("/luma/tasks"), {"ids": list(task_ids)})

    def no_watermark(self, task_id: str) -> HttpRequest | None:
        """`GET /luma/generations/{id}/download_video_url`."""
        return HttpRequest("GET", self.path("/luma/generations/{id}/download_video_url", task_id))

    def body(self, request: GenerateRequest) -> dict[str, Any]:
        """The submit body for `request`, checked against what this gateway accepts."""
        self.check_options(request)
        body: dict[str, Any] = {self.prompt_field: request.prompt}
        options: dict[str, Any] = {
            "aspect_ratio": request.aspect_ratio,
            "model": self.models.get(request.model) if request.model else None,
            "resolution": request.resolution,
            "duration": self.duration_of(request),
            "loop": request.loop,
            "expand_prompt": request.expand_prompt,
            "callback_url": request.callback_url,
        }
        if self.expand_prompt_as_string and request.expand_prompt is not None:
            options["expand_prompt"] = "true" if request.expand_prompt else "false"
        for name, value in options.items():
            if value is None:
                value = self.required_defaults.get(name)
            if value is not None:
                body[self.wire_names.get(name, name)] = value
        self._images(body, request)
        return self.merge_extra(body, request)

    def _images(self, body: dict[str, Any], request: GenerateRequest) -> None:
        start, end = request.start_image, request.end_image
        if self.keyframes:
            frames = {
                name: {"type": "image", "url": str(url)}
                for name, url in (("frame0", start), ("frame1", end))
                if url is not None
            }
            if frames:
                body["keyframes"] = frames
            return
        if start is not None:
            body["image_url"] = str(start)
        if end is not None:
            body["image_end_url"] = str(end)

    def parse_task(self, response: HttpResponse) -> Generation:
        """A relay task from any of its answer shapes (flat, list, envelope)."""
        return relay_generation(response)

    def parse_batch(self, response: HttpResponse) -> list[Generation]:
        """A relay batch answer: a bare list or new-api's wrapper."""
        return relay_generations(response)

    def parse_url(self, response: HttpResponse) -> str:
        """`{"url": ...}` from the no-watermark route (also inside an envelope's `data`)."""
        return relay_link(response)
