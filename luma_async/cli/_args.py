"""Argument types shared by the commands."""

from __future__ import annotations

import argparse
import pathlib

__all__ = ["image_value", "positive_float", "positive_int"]

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
