"""The media the CDN serves: real H.264 MP4s and JPEG/PNG stills, made by `scripts/make-media`.

Nothing is encoded at run time: a task gets one of a few committed files, picked by its id, with
a small marker naming the task added where every reader ignores it (a trailing MP4 `free` box,
a JPEG comment segment, a PNG `tEXt` chunk). So each task's file differs, and each still plays
or opens in any player or viewer.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib
from pathlib import Path

MEDIA = Path(__file__).resolve().parent / "media"
CLIPS = 4
STILLS = 4
IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def box(kind: bytes, payload: bytes) -> bytes:
    """An ISO BMFF box: 32-bit size, four-character type, payload."""
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _pick(name: str, count: int) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % count


@functools.lru_cache(maxsize=32)
def _asset(name: str) -> bytes:
    return (MEDIA / name).read_bytes()


@functools.lru_cache(maxsize=256)
def mp4(task_id: str, *, clean: bool) -> bytes:
    """A two-second H.264 MP4 for the task; the watermarked one carries a visible mark."""
    index = _pick(task_id, CLIPS)
    data = _asset(f"clip{index}.mp4" if clean else f"clip{index}_wm.mp4")
    variant = b"clean" if clean else b"watermarked"
    return data + box(b"free", b"luma-emulator " + task_id.encode() + b"/" + variant)


def _jpeg_named(data: bytes, name: str) -> bytes:
    """The JPEG with a comment (COM) segment naming it right after the start of image."""
    text = name.encode()[:65000]
    comment = b"\xff\xfe" + struct.pack(">H", 2 + len(text)) + text
    return data[:2] + comment + data[2:]


def _png_named(data: bytes, name: str) -> bytes:
    """The PNG with a tEXt chunk naming it right after the IHDR chunk."""
    text = b"Comment\x00" + name.encode("latin-1", "replace")
    chunk = struct.pack(">I", len(text)) + b"tEXt" + text
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + text) & 0xFFFFFFFF)
    ihdr_end = len(_PNG_SIGNATURE) + 8 + 13 + 4
    return data[:ihdr_end] + chunk + data[ihdr_end:]


@functools.lru_cache(maxsize=256)
def jpeg(name: str) -> bytes:
    """A real JPEG still (thumbnail, last frame, upload), different for every name."""
    return _jpeg_named(_asset(f"still{_pick(name, STILLS)}.jpg"), name)


@functools.lru_cache(maxsize=256)
def still(task_id: str, ext: str) -> bytes:
    """The output of an image generation: a real JPEG or PNG."""
    name = f"{task_id}.{ext}"
    if ext == "png":
        return _png_named(_asset(f"still{_pick(name, STILLS)}.png"), name)
    return jpeg(name)
