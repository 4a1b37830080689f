"""The official API's other operations on `LumaClient`: Photon images, modify, reframe,
concepts and ping. Relay dialects refuse them all with
`UnsupportedFeatureError` before anything is read or sent.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from ._models import (
    AnyRequest,
    Generation,
    ImageRequest,
    ModifyVideoRequest,
    ReframeImageRequest,
    ReframePosition,
    ReframeVideoRequest,
    VideoInput,
)
from ._options import (
    AspectRatio,
    ImageFormat,
    ImageInput,
    ImageModel,
    ModifyMode,
    ModifyVideoModel,
    ReframeVideoModel,
    WeightedImage,
)
from ._transport import Transport
from .dialects import Dialect

__all__ = ["MediaOperations"]


class MediaOperations(abc.ABC):
    """Images, modify, reframe, concepts and ping; `LumaClient` supplies `submit` and the rest."""

    dialect: Dialect
    transport: Transport

    @abc.abstractmethod
    async def submit(self, request: AnyRequest) -> Generation:
        """Create a generation from any request struct."""

    async def generate_image(
        self,
        prompt: str,
        *,
        model: ImageModel | None = None,
        aspect_ratio: AspectRatio | None = None,
        format: ImageFormat | None = None,
        image_ref: Sequence[WeightedImage] | None = None,
        style_ref: Sequence[WeightedImage] | None = None,
        character_ref: Sequence[ImageInput] | None = None,
        modify_image_ref: WeightedImage | None = None,
        callback_url: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> Generation:
        """A Photon image (official only); `model` is "photon-1" when not given.

        References are images (URL, data URI, `pathlib.Path`) or `(image, weight)` pairs.
        """
        return await self.submit(
            ImageRequest(
                prompt,
                model=model,
                aspect_ratio=aspect_ratio,
                format=format,
                image_ref=list(image_ref) if image_ref is not None else None,
                style_ref=list(style_ref) if style_ref is not None else None,
                character_ref=list(character_ref) if character_ref is not None else None,
                modify_image_ref=modify_image_ref,
                callback_url=callback_url,
                extra_body=dict(extra_body) if extra_body is not None else None,
            )
        )

    async def modify_video(
        self,
        video: VideoInput,
        *,
        mode: ModifyMode,
        prompt: str | None = None,
        model: ModifyVideoModel | None = None,
        first_frame: ImageInput | None = None,
        callback_url: str | None = None,
    ) -> Generation:
        """Restyle or edit a video (official only); `video` may be a completed task or its id."""
        return await self.submit(
            ModifyVideoRequest(
                video,
                mode,
                prompt=prompt,
                model=model,
                first_frame=first_frame,
                callback_url=callback_url,
            )
        )

    async def reframe_video(
        self,
        video: VideoInput,
        *,
        aspect_ratio: AspectRatio,
        model: ReframeVideoModel | None = None,
        prompt: str | None = None,
        first_frame: ImageInput | None = None,
        position: ReframePosition | None = None,
        callback_url: str | None = None,
    ) -> Generation:
        """A video at another aspect ratio (official only); `model` is "ray-2" when not given."""
        return await self.submit(
            ReframeVideoRequest(
                video,
                aspect_ratio,
                model=model,
                prompt=prompt,
                first_frame=first_frame,
                position=position,
                callback_url=callback_url,
            )
        )

    async def reframe_image(
        self,
        image: ImageInput | Generation,
        *,
        aspect_ratio: AspectRatio,
        model: ImageModel | None = None,
        prompt: str | None = None,
        format: ImageFormat | None = None,
        position: ReframePosition | None = None,
        callback_url: str | None = None,
    ) -> Generation:
        """An image at another aspect ratio (official only); `image` may be a completed image
        task or its id.
        """
        return await self.submit(
            ReframeImageRequest(
                image,
                aspect_ratio,
                model=model,
                prompt=prompt,
                format=format,
                position=position,
                callback_url=callback_url,
            )
        )

    async def concepts(self) -> list[str]:
        """The camera-motion concepts `generate(..., concepts=[...])` may name (official only)."""
        self.dialect.require("concepts")
        return self.dialect.parse_concepts(await self.transport.send(self.dialect.concepts()))

    async def ping(self) -> None:
        """Check the API answers and accepts the key; raises like any request otherwise."""
        self.dialect.require("ping")
        self.dialect.parse_ping(await self.transport.send(self.dialect.ping()))
