"""Helpers for the pure dialect tests: recorded answers in `tests/fixtures/`, loaded by name."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from luma_async._http import HttpResponse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_path(name: str) -> Path:
    """The fixture file `name`, with or without its extension (`.json` is tried first)."""
    for candidate in (name, f"{name}.json", f"{name}.html"):
        path = FIXTURES / candidate
        if path.is_file():
            return path
    raise FileNotFoundError(f"no fixture named {name!r} in {FIXTURES}")


def fixture_bytes(name: str) -> bytes:
    """The raw bytes of a fixture, as a gateway would send them."""
    return fixture_path(name).read_bytes()


def fixture_json(name: str) -> Any:
    """A JSON fixture decoded, for tests that change one field of a recorded answer."""
    return json.loads(fixture_bytes(name))


def encode(payload: Any) -> bytes:
    """`payload` as a gateway would encode it (UTF-8 JSON, non-ASCII left as is)."""
    return json.dumps(payload, ensure_ascii=False).encode()


def response(
    source: str | bytes | Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """An `HttpResponse` from a fixture name (str), raw bytes, or any other JSON value."""
    if isinstance(source, bytes):
        body = source
    elif isinstance(source, str):
        body = fixture_bytes(source)
    else:
        body = encode(source)
    if headers is None:
        is_html = isinstance(source, str) and fixture_path(source).suffix == ".html"
        headers = {"content-type": "text/html" if is_html else "application/json"}
    return HttpResponse(status, dict(headers), body)
