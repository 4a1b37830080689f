"""Local images (and videos) become data URIs: gateways take a URL or base64, never an upload."""

from __future__ import annotations

import base64
import pathlib

import anyio

from ._errors import InvalidRequestError
from .dialects import MAX_IMAGE_BYTES, MAX_VIDEO_BYTES

__all__ = ["image_data_uri", "sniff_image_type", "sniff_video_type", "video_data_uri"]

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


#: ISO base-media files (MP4, MOV) start with a box whose type is one of these.
_MP4_BOXES = (b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide")


def sniff_video_type(data: bytes) -> str | None:
    """The MIME type of an MP4 (or QuickTime) file from its first box, or None."""
    if len(data) >= 8 and data[4:8] in _MP4_BOXES:
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    return None


async def _read(path: pathlib.Path, what: str, limit: int) -> bytes:
    apath = anyio.Path(path)
    try:
        size = (await apath.stat()).st_size
        if size > limit:
            raise InvalidRequestError(
                f"{what} {path} is {size} bytes; gateways accept up to {limit}"
            )
        return await apath.read_bytes()
    except OSError as exc:
        raise InvalidRequestError(f"cannot read {what} {path}: {exc.strerror}") from None


async def image_data_uri(path: pathlib.Path) -> str:
    """`path` read and encoded as `data:<mime>;base64,...`, refusing non-images and > 10 MB."""
    data = await _read(path, "image", MAX_IMAGE_BYTES)
    mime = sniff_image_type(data)
    if mime is None:
        raise InvalidRequestError(f"{path} is not a PNG, JPEG, GIF or WebP image")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


async def video_data_uri(path: pathlib.Path) -> str:
    """`path` read as `data:video/mp4;base64,...`, refusing non-MP4s and huge files."""
    data = await _read(path, "video", MAX_VIDEO_BYTES)
    mime = sniff_video_type(data)
    if mime is None:
        raise InvalidRequestError(f"{path} is not an MP4 video")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
