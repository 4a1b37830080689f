"""File names a sink accepts."""

from __future__ import annotations

__all__ = ["check_name"]


def check_name(name: str) -> str:
    """`name` if it is a plain file name (no folder parts); ValueError otherwise."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name
