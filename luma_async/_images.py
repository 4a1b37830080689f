"""Local images become data URIs: gateways take a URL or base64, never a file upload."""

from __future__ import annotations

import base64
import pathlib

import anyio

from ._errors import InvalidRequestError
from .dialects import MAX_IMAGE_BYTES

__all__ = ["image_data_uri", "sniff_image_type"]

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image_type(data: bytes) -> str | None:
    """The MIME type from the first bytes (PNG, JPEG, GIF, WebP), or None."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


async def image_data_uri(path: pathlib.Path) -> str:
    """`path` read and encoded as `data:<mime>;base64,...`, refusing non-images and > 10 MB."""
    apath = anyio.Path(path)
    try:
        size = (await apath.stat()).st_size
        if size > MAX_IMAGE_BYTES:
            raise InvalidRequestError(
                f"image {path} is {size} bytes; gateways accept up to {MAX_IMAGE_BYTES}"
            )
        data = await apath.read_bytes()
    except OSError as exc:
        raise InvalidRequestError(f"cannot read image {path}: {exc.strerror}") from None
    mime = sniff_image_type(data)
    if mime is None:
        raise InvalidRequestError(f"{path} is not a PNG, JPEG, GIF or WebP image")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
