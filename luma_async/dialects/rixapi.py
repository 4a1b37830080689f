"""The RixAPI format (seed 002): `prompt`, a required aspect ratio, `keyframes`, audio."""

from __future__ import annotations

from typing import ClassVar, Literal

from .._http import HttpRequest
from ._relay import RelayDialect

__all__ = ["RixAPI"]


class RixAPI(RelayDialect):
    """RixAPI-format gateways: no public base, so `base_url` is required.

    `audio_route` picks how video-to-audio is asked for, since no document confirms it
    (docs/dialects.md): "route" posts to `/luma/generations/{id}/audio`; "task_id" posts a
    submit carrying `task_id`, as the seed's field list hints.
    """

    name = "rixapi"
    operations: ClassVar[frozenset[str]] = RelayDialect.operations | {"audio"}
    options: ClassVar[frozenset[str]] = frozenset(
        {"aspect_ratio", "loop", "expand_prompt", "start_image", "end_image", "callback_url"}
    )
    prompt_field = "prompt"
    keyframes = True
    required_defaults: ClassVar[dict[str, object]] = {"aspect_ratio": "16:9"}
    wire_names: ClassVar[dict[str, str]] = {"callback_url": "notify_hook"}

    def __init__(self, *, prefix: str = "", audio_route: Literal["route", "task_id"] = "route"):
        super().__init__(prefix=prefix)
        self.audio_route = audio_route

    def audio(
        self, task_id: str, prompt: str, negative_prompt: str | None, callback_url: str | None
    ) -> HttpRequest:
        """Video to audio: a new task, polled like a video."""
        body: dict[str, object] = {"prompt": prompt}
        if negative_prompt is not None:
            body["negative_prompt"] = negative_prompt
        if callback_url is not None:
            body["notify_hook"] = callback_url
        if self.audio_route == "task_id":
            # Seed 002 marks aspect_ratio required on this route too.
            body["task_id"] = task_id
            body["aspect_ratio"] = self.required_defaults["aspect_ratio"]
            return HttpRequest.json("POST", self.path("/luma/generations"), body)
        return HttpRequest.json("POST", self.path("/luma/generations/{id}/audio", task_id), body)
