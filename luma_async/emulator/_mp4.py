"""Small, real-looking media files: MP4 boxes that start with `ftyp`, and JPEG-ish stills."""

from __future__ import annotations

import functools
import hashlib
import struct

MDAT_BYTES = 4096
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def box(kind: bytes, payload: bytes) -> bytes:
    """An ISO BMFF box: 32-bit size, four-character type, payload."""
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _mvhd(duration_ms: int) -> bytes:
    payload = (
        struct.pack(">B3xIIII", 0, 0, 0, 1000, duration_ms)
        + struct.pack(">IH10x", 0x10000, 0x100)
        + _MATRIX
        + bytes(24)
        + struct.pack(">I", 2)
    )
    return box(b"mvhd", payload)


def _noise(seed: bytes, size: int) -> bytes:
    out = bytearray()
    block = seed
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


@functools.lru_cache(maxsize=256)
def mp4(task_id: str, *, clean: bool, duration_ms: int = 5000) -> bytes:
    """A few KB of MP4 whose `moov` names the task, so every file differs."""
    variant = b"clean" if clean else b"watermarked"
    ident = task_id.encode() + b"/" + variant
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    moov = box(b"moov", _mvhd(duration_ms) + box(b"udta", box(b"luma", ident)))
    mdat = box(b"mdat", _noise(ident, MDAT_BYTES if clean else MDAT_BYTES + 512))
    return ftyp + moov + mdat


@functools.lru_cache(maxsize=256)
def jpeg(name: str) -> bytes:
    """A tiny JPEG-ish still: SOI, a JFIF APP0, a comment naming it, some bytes, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    text = name.encode()
    comment = b"\xff\xfe" + struct.pack(">H", 2 + len(text)) + text
    return b"\xff\xd8" + app0 + comment + _noise(text, 256) + b"\xff\xd9"


IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


def still(task_id: str, ext: str) -> bytes:
    """The output of an image generation."""
    return jpeg(f"{task_id}.{ext}")
