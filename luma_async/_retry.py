"""How long to wait before trying again: a policy and the pure maths behind it."""

from __future__ import annotations

import random
from collections.abc import Callable, Generator

import msgspec

__all__ = ["DEFAULT_RETRY", "RetryPolicy", "retry_delay"]


class RetryPolicy(msgspec.Struct, frozen=True):
    """Bounds for retrying one request: tries, total time, and the backoff curve.

    Waits grow as `base * 2**n` up to `cap`, with full jitter, except after a `Retry-After`
    answer, which is honoured as a floor (jitter never shortens it).
    """

    max_tries: int = 5
    max_time: float = 60.0
    base: float = 0.5
    cap: float = 10.0


DEFAULT_RETRY = RetryPolicy()


def retry_delay(
    attempt: int,
    policy: RetryPolicy,
    *,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before try `attempt + 1` (attempt counts from 1). Pure but for `rand`."""
    ceiling = min(policy.cap, policy.base * 2.0 ** min(attempt - 1, 32))
    jittered: float = ceiling * rand()
    if retry_after is not None:
        # The server said when; a little spread above it keeps many clients from returning at once.
        return retry_after + min(jittered, policy.base)
    return jittered


def wait_gen(
    policy: RetryPolicy, retry_after_of: Callable[[BaseException], float | None]
) -> Callable[[], Generator[float | None, BaseException | None, None]]:
    """A `backoff` wait generator: it is sent each failure and yields the wait after it."""

    def waits() -> Generator[float | None, BaseException | None, None]:
        attempt = 0
        failure = yield None  # backoff primes the generator with send(None)
        while True:
            attempt += 1
            after = retry_after_of(failure) if failure is not None else None
            failure = yield retry_delay(attempt, policy, retry_after=after)

    return waits
