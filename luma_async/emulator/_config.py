"""Configuration of the emulator: dialect, timing, quirks and faults, as frozen dataclasses."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

DIALECTS = frozenset({"official", "anyapi", "rixapi", "xfusion", "gptge"})
RELAY_DIALECTS = frozenset({"anyapi", "rixapi", "xfusion", "gptge"})

# Route names used by stats.by_route and Faults.routes.
ROUTES = (
    "submit",
    "extend",
    "get",
    "batch",
    "no_watermark",
    "audio",
    "list",
    "delete",
    "upscale",
    "credits",
    "ping",
    "concepts",
    "file_upload",
    "image",
    "reframe_image",
    "reframe_video",
    "modify_video",
)
# Routes that create a task (a lost answer there is an ambiguous submit).
CREATE_ROUTES = frozenset(
    {"submit", "extend", "image", "reframe_image", "reframe_video", "modify_video"}
)
# Task kinds whose output is a still image (official generation_type "image").
IMAGE_KINDS = frozenset({"image", "reframe_image"})
# Processing seconds of the kinds that differ from `run_seconds`: a Photon image takes seconds
# where a video takes a minute or more, so images finish markedly faster.
DEFAULT_RUN_SECONDS_BY_KIND: dict[str, tuple[float, float]] = {
    "image": (0.2, 0.8),
    "reframe_image": (0.2, 0.8),
}
# Lifetimes shaped like real generations (a 5 s 720p video takes one to three minutes, a Photon
# image seconds), for benchmarks: pass as run_seconds_by_kind, with time_scale to shorten them.
REALISTIC_RUN_SECONDS: dict[str, tuple[float, float]] = {
    "video": (60.0, 180.0),
    "reframe_video": (60.0, 180.0),
    "modify_video": (60.0, 180.0),
    "upscale": (30.0, 90.0),
    "audio": (20.0, 60.0),
    "image": (5.0, 20.0),
    "reframe_image": (5.0, 20.0),
}

# Quirks every dialect can show: they are about timing and links, not about wire shapes.
COMMON_QUIRKS = frozenset({"early_404", "completed_without_link", "unknown_state", "expire_links"})
# Quirks of the relay family only (DIALECTS.md §2-§5): shapes the official API never produces.
RELAY_QUIRKS = frozenset(
    {
        "list_submit",
        "envelope",
        "batch_wrapper",
        "no_batch_route",
        "no_watermark_missing",
        "task_not_exist_400",
        "status_201",
        "new_form",
        "no_download_url",
    }
)
QUIRKS = COMMON_QUIRKS | RELAY_QUIRKS

# Fault kinds, in the order a single draw walks through them.
FAULT_KINDS = (
    "http_500",
    "html_502",
    "rate_429",
    "reset",
    "slow",
    "truncated",
    "ambiguous_submit",
    "cdn_cut",
)

DEFAULT_API_KEY = "test-key"
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True, kw_only=True)
class Faults:
    """Seeded fault injection on API routes: a probability per kind; one fault a request at most."""

    http_500: float = 0.0
    html_502: float = 0.0
    rate_429: float = 0.0
    reset: float = 0.0
    slow: float = 0.0
    truncated: float = 0.0
    ambiguous_submit: float = 0.0
    #: CDN only: a video answer cut off half-way (headers promise the whole file).
    cdn_cut: float = 0.0
    slow_seconds: float = 2.0
    retry_after: int = 1
    routes: frozenset[str] | None = None

    def __post_init__(self) -> None:
        """Reject probabilities outside 0..1, a total above 1 and unknown route names."""
        total = 0.0
        for kind in FAULT_KINDS:
            p = self.probability(kind)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"Faults.{kind} must be between 0 and 1, got {p!r}")
            total += p
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities add up to {total:g}, more than 1")
        if self.slow_seconds < 0 or self.retry_after < 1:
            raise ValueError("slow_seconds must be >= 0 and retry_after >= 1")
        if self.routes is not None:
            routes = frozenset(self.routes)
            unknown = routes - set(ROUTES)
            if unknown:
                raise ValueError(f"unknown route names in Faults.routes: {sorted(unknown)}")
            object.__setattr__(self, "routes", routes)

    def probability(self, kind: str) -> float:
        """The probability configured for one fault kind."""
        value: float = getattr(self, kind)
        return value

    @property
    def active(self) -> bool:
        """Whether any fault can happen at all."""
        return any(self.probability(kind) > 0 for kind in FAULT_KINDS)


def _check_range(name: str, value: tuple[float, float]) -> tuple[float, float]:
    lo, hi = (float(v) for v in value)
    if lo < 0 or hi < lo:
        raise ValueError(f"{name} must be (low, high) with 0 <= low <= high, got {value!r}")
    return (lo, hi)


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """How the emulated gateway behaves: dialect, auth, timing, quirks, faults and the clock."""

    dialect: str = "official"
    api_key: str | None = DEFAULT_API_KEY
    prefix: str = ""
    time_scale: float = 1.0
    queue_seconds: tuple[float, float] = (0.5, 1.5)
    run_seconds: tuple[float, float] = (2.0, 6.0)
    #: Processing seconds (low, high), drawn uniformly and scaled by time_scale, per task kind
    #: (video, image, reframe_image, reframe_video, modify_video, upscale, audio); kinds not
    #: listed use `run_seconds`.
    run_seconds_by_kind: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_RUN_SECONDS_BY_KIND)
    )
    fail_rate: float = 0.0
    fail_marker: str = "[fail]"
    seed: int = 0
    credits: int | None = None
    eta: bool = False
    quirks: frozenset[str] = frozenset()
    link_delay: float = 2.0
    early_404_seconds: float = 1.0
    link_ttl: float = 3600.0
    #: Requests per second allowed per API key (a sliding window of `rate_limit_window`
    #: seconds, as the one-api/new-api relays do it); beyond it a 429 with Retry-After.
    rate_limit: float | None = None
    rate_limit_window: float = 1.0
    #: Share of callback deliveries silently lost (deliveries get lost in real life).
    callback_drop: float = 0.0
    faults: Faults = field(default_factory=Faults)
    clock: Callable[[], float] = time.monotonic
    host: str = DEFAULT_HOST
    port: int = 0
    cdn_port: int = 0

    def __post_init__(self) -> None:
        """Normalise the prefix and quirks, and refuse values that cannot work."""
        if self.dialect not in DIALECTS:
            raise ValueError(
                f"unknown dialect {self.dialect!r}; expected one of {sorted(DIALECTS)}"
            )
        if self.api_key is not None and not self.api_key:
            raise ValueError("api_key must be a non-empty string or None")
        prefix = self.prefix.strip()
        if prefix:
            prefix = "/" + prefix.strip("/")
        object.__setattr__(self, "prefix", prefix)
        quirks = frozenset(self.quirks)
        unknown = quirks - QUIRKS
        if unknown:
            raise ValueError(
                f"unknown quirks: {sorted(unknown)}; expected some of {sorted(QUIRKS)}"
            )
        if self.dialect == "official" and quirks & RELAY_QUIRKS:
            raise ValueError(
                f"relay-only quirks on the official dialect: {sorted(quirks & RELAY_QUIRKS)}"
            )
        object.__setattr__(self, "quirks", quirks)
        object.__setattr__(self, "queue_seconds", _check_range("queue_seconds", self.queue_seconds))
        object.__setattr__(self, "run_seconds", _check_range("run_seconds", self.run_seconds))
        by_kind = {
            str(k): _check_range(f"run_seconds_by_kind[{k!r}]", v)
            for k, v in dict(self.run_seconds_by_kind).items()
        }
        object.__setattr__(self, "run_seconds_by_kind", by_kind)
        if self.rate_limit_window <= 0:
            raise ValueError("rate_limit_window must be > 0")
        if self.time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        if not 0.0 <= self.callback_drop <= 1.0:
            raise ValueError("callback_drop must be between 0 and 1")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        if self.credits is not None and self.credits < 0:
            raise ValueError("credits must be >= 0 or None")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be > 0 or None")
        if min(self.link_delay, self.early_404_seconds, self.link_ttl) < 0:
            raise ValueError("link_delay, early_404_seconds and link_ttl must be >= 0")

    @property
    def relay(self) -> bool:
        """Whether the dialect belongs to the relay family."""
        return self.dialect in RELAY_DIALECTS

    def has(self, quirk: str) -> bool:
        """Whether a quirk is switched on."""
        return quirk in self.quirks

    def run_range(self, kind: str) -> tuple[float, float]:
        """Unscaled processing seconds (low, high) for a task kind."""
        return self.run_seconds_by_kind.get(kind, self.run_seconds)
