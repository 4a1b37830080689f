"""Where the CLI's settings come from (flags over environment) and the client it builds."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass

from .._client import LumaClient
from .._http import mask
from ..dialects import DIALECTS
from ._errors import CliError

__all__ = [
    "DEFAULT_DIALECT",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_DIALECT",
    "Settings",
    "scrub",
]

ENV_BASE_URL = "LUMA_BASE_URL"
ENV_API_KEY = "LUMA_API_KEY"
ENV_DIALECT = "LUMA_DIALECT"
DEFAULT_DIALECT = "official"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The options every command shares, resolved: a flag wins over its environment variable."""

    base_url: str | None
    api_key: str | None
    dialect: str
    json: bool
    debug: bool

    def __repr__(self) -> str:
        # Never show the key, not even in a debugger or a traceback's locals.
        return f"Settings(base_url={self.base_url!r}, dialect={self.dialect!r}, api_key=***)"

    @classmethod
    def from_args(cls, args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
        """Flags first, then `$LUMA_BASE_URL`, `$LUMA_API_KEY`, `$LUMA_DIALECT`."""
        dialect = getattr(args, "dialect", None) or environ.get(ENV_DIALECT) or DEFAULT_DIALECT
        dialect = dialect.strip().lower()
        if dialect not in DIALECTS:
            raise CliError(
                f"unknown dialect {dialect!r} (from --dialect or ${ENV_DIALECT}); "
                f"known: {', '.join(DIALECTS)}"
            )
        return cls(
            base_url=getattr(args, "base_url", None) or environ.get(ENV_BASE_URL) or None,
            api_key=getattr(args, "api_key", None) or environ.get(ENV_API_KEY) or None,
            dialect=dialect,
            json=bool(getattr(args, "json", False)),
            debug=bool(getattr(args, "debug", False)),
        )

    def client(self) -> LumaClient:
        """A client for the configured gateway; refuses to start without a base URL or key."""
        if self.base_url is None and DIALECTS[self.dialect].default_base_url is None:
            raise CliError(
                f"the {self.dialect} dialect has no public base URL: "
                f"pass --base-url or set ${ENV_BASE_URL}"
            )
        if self.api_key is None:
            raise CliError(f"no API key: set ${ENV_API_KEY} (or pass --api-key)")
        return LumaClient(self.base_url, self.api_key, self.dialect)


def scrub(text: str, secret: str | None) -> str:
    """`text` with the API key blanked out: a last guard on everything the CLI prints.

    Whole tokens only (the library's own masking), so a short key never eats the letters of
    ordinary words: with the key "k", "unknown" stays "unknown".
    """
    return mask(text, secret)
