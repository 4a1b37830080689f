"""xfusionai (seed 003): `user_prompt`, aspect ratio, and `expand_prompt` as a string."""

from __future__ import annotations

from typing import ClassVar

from ._relay import RelayDialect

__all__ = ["XFusion"]


class XFusion(RelayDialect):
    """xfusionai's relay: no public base and no `loop` option.

    Its document's example sends `"expand_prompt": "true"`, a string, so this dialect does;
    the Go relay behind the other gateways rejects a string there with 400.
    """

    name = "xfusion"
    options: ClassVar[frozenset[str]] = frozenset(
        {"aspect_ratio", "expand_prompt", "start_image", "end_image", "callback_url"}
    )
    expand_prompt_as_string = True
    wire_names: ClassVar[dict[str, str]] = {"callback_url": "notify_hook"}
