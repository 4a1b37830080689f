"""Decoding answers: what it may raise, and giving up one bad field rather than the answer.

A gateway that sends `"width": "656"` or a `failure_reason` object must not make a finished
video unreadable: the typed decoder fails on the field, so the answer is decoded untyped, the
field msgspec named is dropped, and the typed decode runs again. Only answers that failed pay
for this; the happy path is the plain msgspec decoder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

__all__ = ["DECODE_ERRORS", "MAX_DROPPED", "lenient"]

#: What decoding a body can raise: malformed or mistyped JSON, nesting deeper than the stack,
#: and invalid UTF-8 inside a string, for which msgspec raises UnicodeDecodeError rather than
#: DecodeError (found by the long fuzz run, `scripts/fuzz-long`).
DECODE_ERRORS = (msgspec.DecodeError, RecursionError, UnicodeDecodeError)

T = TypeVar("T")

#: Fields dropped from one answer at most before it counts as not understood.
MAX_DROPPED = 16
#: msgspec ends a validation message with the place: "... - at `$.video[0].width`".
_WHERE = re.compile(r" - at `\$(.*)`$")
_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[(\d+)\]")


def lenient(decoder: msgspec.json.Decoder[T]) -> Callable[[bytes], T]:
    """`decoder.decode`, but a value of the wrong type is dropped as if it were absent."""
    decode = decoder.decode

    def decode_leniently(body: bytes) -> T:
        try:
            return decode(body)
        except msgspec.ValidationError as exc:
            return _salvage(decode, body, exc)

    return decode_leniently


def _salvage(decode: Callable[[bytes], T], body: bytes, first: msgspec.ValidationError) -> T:
    try:
        tree = msgspec.json.decode(body)
    except DECODE_ERRORS:
        raise first from None
    error = first
    for _ in range(MAX_DROPPED):
        if not _drop(tree, _steps(str(error))):
            break
        try:
            return decode(msgspec.json.encode(tree))
        except msgspec.ValidationError as exc:
            error = exc
        except (*DECODE_ERRORS, msgspec.EncodeError, OverflowError):
            break
    raise first from None


def _steps(message: str) -> list[str | int] | None:
    """The path in a validation message as keys and indexes; None when there is none."""
    found = _WHERE.search(message)
    if found is None or not found.group(1):
        return None
    path = found.group(1)
    steps: list[str | int] = []
    at = 0
    for step in _STEP.finditer(path):
        if step.start() != at:  # `[...]` (a dict value) or anything else we cannot walk
            return None
        steps.append(step.group(1) if step.group(1) is not None else int(step.group(2)))
        at = step.end()
    return steps if at == len(path) else None


def _drop(tree: Any, steps: list[str | int] | None) -> bool:
    """Remove the value at `steps` from `tree`; False when it is not there to remove."""
    if not steps:
        return False
    parent = tree
    for step in steps[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = steps[-1]
    if isinstance(last, str) and isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    if isinstance(last, int) and isinstance(parent, list) and last < len(parent):
        del parent[last]
        return True
    return False
