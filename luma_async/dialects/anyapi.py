"""AnyAPI (anyapi.vip): seeds 000 (extend) and 001 (submit)."""

from __future__ import annotations

from typing import ClassVar

from ._relay import RelayDialect

__all__ = ["AnyAPI"]


class AnyAPI(RelayDialect):
    """AnyAPI's relay: `user_prompt`, `model_name` ray-v1/ray-v2, resolution, a 5 s duration.

    It takes no aspect ratio (seed 001 lists none). Its page declares an envelope response
    while its example is the flat task; the relay parser reads both.
    """

    name = "anyapi"
    default_base_url = "https://www.anyapi.vip"
    options: ClassVar[frozenset[str]] = frozenset(
        {
            "model",
            "resolution",
            "duration",
            "loop",
            "expand_prompt",
            "start_image",
            "end_image",
            "callback_url",
        }
    )
    # Seed 001: "ray-v1、 ray-v2 官方显示是 ray1.6 ray2" - the wire takes its own names.
    models: ClassVar[dict[str, str]] = {
        "ray-1-6": "ray-v1",
        "ray-2": "ray-v2",
        "ray-v1": "ray-v1",
        "ray-v2": "ray-v2",
    }
    resolutions: ClassVar[frozenset[str]] = frozenset({"720p", "1080p"})
    durations: ClassVar[frozenset[str]] = frozenset({"5s"})
    wire_names: ClassVar[dict[str, str]] = {"model": "model_name", "callback_url": "notify_hook"}
