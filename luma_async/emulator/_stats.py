"""Counters a test reads to check what a client did to the gateway."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._config import FAULT_KINDS, ROUTES


def _zero_routes() -> dict[str, int]:
    return dict.fromkeys(ROUTES, 0)


def _zero_faults() -> dict[str, int]:
    return dict.fromkeys(FAULT_KINDS, 0)


@dataclass
class Stats:
    """What the emulator saw: API requests per route, creations, rejections, faults, CDN traffic."""

    requests: int = 0
    by_route: dict[str, int] = field(default_factory=_zero_routes)
    creations: int = 0
    duplicate_prompts: int = 0
    rejected: int = 0
    faults_injected: dict[str, int] = field(default_factory=_zero_faults)
    cdn_requests: int = 0
    cdn_auth_headers: int = 0
    callbacks_sent: int = 0
    callbacks_dropped: int = 0
    callbacks_failed: int = 0
    #: 429s given by the emulated rate limiter (`rate_limit`; not the injected rate_429 faults).
    rate_limited: int = 0
    #: The most generations ever in flight at once (created over HTTP, not yet terminal).
    max_in_flight: int = 0
    #: Creations per distinct request (route, parent and body without callback URLs): a value
    #: above 1 is a duplicate creation.
    creates_by_body: dict[str, int] = field(default_factory=dict)

    def snapshot(self) -> Stats:
        """An independent copy, so that before/after comparisons stay stable."""
        return Stats(
            requests=self.requests,
            by_route=dict(self.by_route),
            creations=self.creations,
            duplicate_prompts=self.duplicate_prompts,
            rejected=self.rejected,
            faults_injected=dict(self.faults_injected),
            cdn_requests=self.cdn_requests,
            cdn_auth_headers=self.cdn_auth_headers,
            callbacks_sent=self.callbacks_sent,
            callbacks_dropped=self.callbacks_dropped,
            callbacks_failed=self.callbacks_failed,
            rate_limited=self.rate_limited,
            max_in_flight=self.max_in_flight,
            creates_by_body=dict(self.creates_by_body),
        )
