"""gpt.ge (seed 004): `user_prompt`, aspect ratio, loop, images, `notify_hook`."""

from __future__ import annotations

from typing import ClassVar

from ._relay import RelayDialect

__all__ = ["GptGe"]


class GptGe(RelayDialect):
    """gpt.ge's relay, at `https://api.gpt.ge`."""

    name = "gptge"
    default_base_url = "https://api.gpt.ge"
    options: ClassVar[frozenset[str]] = frozenset(
        {"aspect_ratio", "loop", "expand_prompt", "start_image", "end_image", "callback_url"}
    )
    wire_names: ClassVar[dict[str, str]] = {"callback_url": "notify_hook"}
