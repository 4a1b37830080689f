"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
import pathlib

from .._options import WeightedImage

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "image_value",
    "is_link",
    "media_kind",
    "positive_float",
    "positive_int",
    "source_value",
    "weighted_image",
]

#: Strings that are an image already; anything else names a local file.
_IMAGE_SCHEMES = ("http://", "https://", "data:")


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def positive_float(text: str) -> float:
    """A number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0")
    return value


def image_value(text: str, base: pathlib.Path | None = None) -> str | pathlib.Path:
    """An http(s) URL or data URI as given; anything else a local file (relative to `base`)."""
    if text.startswith(_IMAGE_SCHEMES):
        return text
    path = pathlib.Path(text).expanduser()
    return base / path if base is not None and not path.is_absolute() else path


#: File extensions that say what a source is, for `reframe` and batch sources.
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".webm", ".m4v", ".mkv"})
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif"})


def is_link(text: str) -> bool:
    """An http(s) URL or a data URI."""
    return text.startswith(_IMAGE_SCHEMES)


def weighted_image(text: str, base: pathlib.Path | None = None) -> WeightedImage:
    """`IMG` or `IMG:WEIGHT` (e.g. `style.png:0.8`): an image, or an `(image, weight)` pair.

    A text naming an existing file is that file, colons and all; otherwise a number after the
    last colon is the weight (a URL's port is never a whole image link on its own).
    """
    head, sep, tail = text.rpartition(":")
    whole = image_value(text, base)
    if not sep or (isinstance(whole, pathlib.Path) and whole.exists()):
        return whole
    try:
        weight = float(tail)
    except ValueError:
        return whole
    if head.endswith("/") or head in ("http", "https", "data") or not head:
        return whole
    if head.startswith(("http://", "https://")) and "/" not in head.split("://", 1)[1]:
        return whole  # scheme://host:PORT, not an image with a weight
    return (image_value(head, base), weight)


def media_kind(text: str) -> str | None:
    """ "video" or "image" from a data URI's type or a file's or URL's extension, else None."""
    if text.startswith("data:"):
        kind = text[5:].split("/", 1)[0]
        return kind if kind in ("video", "image") else None
    suffix = pathlib.PurePosixPath(text.split("?", 1)[0].split("#", 1)[0]).suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    return None


def source_value(text: str, base: pathlib.Path | None = None) -> str | pathlib.Path:
    """A source video or image: a link as given, a local file, or else a task id (a string).

    Something that looks like a file (a path separator, or a media extension) but is not one
    is refused, rather than sent to the gateway as a task id it cannot know.
    """
    if is_link(text):
        return text
    path = image_value(text, base)
    assert isinstance(path, pathlib.Path)
    if path.is_file():
        return path
    if "/" in text or "\\" in text or media_kind(text) is not None or text.startswith("~"):
        raise ValueError(f"no such file: {path}")
    return text
