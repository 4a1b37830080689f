"""The closed value sets of request options, as `Literal` types for signatures and editors.

These are the public spellings; a dialect that accepts fewer values says so at run time with
`InvalidRequestError`, and relay wire names stay the adapters' business (docs/dialects.md).
"""

from __future__ import annotations

import pathlib
from typing import Literal, TypeAlias

__all__ = [
    "AspectRatio",
    "Duration",
    "ImageFormat",
    "ImageInput",
    "ImageModel",
    "ModifyMode",
    "ModifyVideoModel",
    "ReframeVideoModel",
    "RequestKind",
    "Resolution",
    "VideoModel",
    "WeightedImage",
]

#: Aspect ratios; relay gateways accept the first five, the official API all seven.
AspectRatio: TypeAlias = Literal["1:1", "4:3", "3:4", "16:9", "9:16", "21:9", "9:21"]
#: Video models, with the relay aliases of AnyAPI's seed (`ray-v2` = `ray-2`, `ray-v1` = `ray-1-6`).
VideoModel: TypeAlias = Literal["ray-2", "ray-flash-2", "ray-1-6", "ray-v2", "ray-v1"]
#: Output resolutions of a video (and of an upscale).
Resolution: TypeAlias = Literal["540p", "720p", "1080p", "4k"]
#: Video lengths; an int number of seconds (5) is also accepted at run time and normalised.
Duration: TypeAlias = Literal["5s", "9s"]
#: Photon image models (also the models of an image reframe).
ImageModel: TypeAlias = Literal["photon-1", "photon-flash-1"]
#: The file format of a generated image.
ImageFormat: TypeAlias = Literal["jpg", "png"]
#: How far a modify may stray from its source video: adhere (least) to reimagine (most).
ModifyMode: TypeAlias = Literal[
    "adhere_1",
    "adhere_2",
    "adhere_3",
    "flex_1",
    "flex_2",
    "flex_3",
    "reimagine_1",
    "reimagine_2",
    "reimagine_3",
]
#: The models a video modify accepts.
ModifyVideoModel: TypeAlias = Literal["ray-2"]
#: The models a video reframe accepts.
ReframeVideoModel: TypeAlias = Literal["ray-2", "ray-flash-2"]
#: What a request creates, as batch lines name it (`"kind"`) and `Dialect.create` dispatches on.
RequestKind: TypeAlias = Literal["video", "image", "modify_video", "reframe_video", "reframe_image"]
#: An image: an http(s) URL, a `data:image/...;base64,` URI, or a local file (sent as a data URI).
ImageInput: TypeAlias = str | pathlib.Path
#: An image reference, alone (sent without a weight) or with its weight.
WeightedImage: TypeAlias = ImageInput | tuple[ImageInput, float]
