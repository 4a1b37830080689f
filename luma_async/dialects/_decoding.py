"""Decoding answers: what it may raise, and giving up one bad field rather than the answer.

A gateway that sends `"width": "wide"` or a `failure_reason` object must not make a finished
video unreadable: the typed decoder fails on the field, so the answer is decoded untyped, the
field msgspec named is dropped, and the typed decode runs again, until it succeeds or the
work spent on it reaches a bound. Only answers that failed pay for this; the happy path is the
plain msgspec decoder.

Some fields are never dropped, because without them an answer would mean something else:
the ones that identify a task or classify an answer (`KEPT`). Neither are list items: in a
one-element list, dropping the first item would make the second one "the" task.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

__all__ = ["DECODE_ERRORS", "KEPT", "SALVAGE_LIMIT", "WORK_LIMIT", "lenient"]

#: What decoding a body can raise: malformed or mistyped JSON, nesting deeper than the stack,
#: and invalid UTF-8 inside a string, for which msgspec raises UnicodeDecodeError rather than
#: DecodeError (found by the long fuzz run, `scripts/fuzz-long`).
DECODE_ERRORS = (msgspec.DecodeError, RecursionError, UnicodeDecodeError)

#: Fields whose wrong type fails the answer as before: they say which task, in which state,
#: and whether the answer is an envelope, a wrapper item or an error.
KEPT = frozenset({"id", "task_id", "state", "status", "task_status", "code", "data"})
#: Bodies larger than this are not salvaged: each round decodes and encodes the whole body.
SALVAGE_LIMIT = 1 << 20
#: Bytes decoded again, over all rounds, before an answer counts as not understood: 16 rounds
#: for a 1 MiB body, and enough for one odd field in each of 100 tasks of a batch answer.
WORK_LIMIT = 16 << 20

T = TypeVar("T")

#: msgspec ends a validation message with the place: "... - at `$.video[0].width`".
_WHERE = re.compile(r" - at `\$(.*)`$")
_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[(\d+)\]")

Path = list[str | int]


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
    if len(body) > SALVAGE_LIMIT:
        raise first
    try:
        tree = msgspec.json.decode(body)
    except DECODE_ERRORS:
        raise first from None
    error = first
    for _ in range(WORK_LIMIT // max(len(body), 1)):
        if not _drop(tree, _path(str(error))):
            break
        try:
            return decode(msgspec.json.encode(tree))
        except msgspec.ValidationError as exc:
            error = exc
        except (*DECODE_ERRORS, msgspec.EncodeError, OverflowError):
            break
    raise first from None


def _path(message: str) -> Path | None:
    """The place in a validation message as keys and indexes; None when there is none."""
    found = _WHERE.search(message)
    if found is None or not found.group(1):
        return None
    where = found.group(1)
    steps: Path = []
    at = 0
    for step in _STEP.finditer(where):
        if step.start() != at:  # `[...]` (a dict value) or anything else we cannot walk
            return None
        steps.append(step.group(1) if step.group(1) is not None else int(step.group(2)))
        at = step.end()
    return steps if at == len(where) else None


def _drop(tree: Any, path: Path | None) -> bool:
    """Drop the field at `path`; False when it may not be dropped or is not there."""
    if not path or not isinstance(path[-1], str) or path[-1] in KEPT:
        return False
    parent = tree
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return False
    if not isinstance(parent, dict) or path[-1] not in parent:
        return False
    del parent[path[-1]]
    return True
