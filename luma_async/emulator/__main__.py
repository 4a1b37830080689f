"""`python -m luma_async.emulator`: serve one dialect until Ctrl-C; first line: the base URL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from ._config import (
    DEFAULT_RUN_SECONDS_BY_KIND,
    DIALECTS,
    QUIRKS,
    REALISTIC_RUN_SECONDS,
    EmulatorConfig,
)
from ._server import Emulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m luma_async.emulator", description="Serve a fake Luma gateway."
    )
    parser.add_argument("--dialect", default="official", choices=sorted(DIALECTS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--cdn-port", type=int, default=0)
    parser.add_argument("--api-key", default="test-key", help="empty: accept any bearer token")
    parser.add_argument("--prefix", default="", help='relay channel prefix, e.g. "/pro"')
    parser.add_argument(
        "--quirks", default="", help=f"comma-separated: {', '.join(sorted(QUIRKS))}"
    )
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--credits", type=int, default=None)
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second")
    parser.add_argument(
        "--rate-limit-window", type=float, default=1.0, help="seconds the rate is counted over"
    )
    parser.add_argument("--eta", action="store_true", help="send estimate_wait_seconds")
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="lifetimes like real generations (videos 60-180 s, images 5-20 s) x time-scale",
    )
    parser.add_argument(
        "--run-seconds",
        action="append",
        default=[],
        metavar="KIND=LOW-HIGH",
        help="processing seconds of one task kind, e.g. video=60-180 (repeatable)",
    )
    return parser.parse_args(argv)


def _run_seconds(args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    by_kind = dict(DEFAULT_RUN_SECONDS_BY_KIND)
    if args.realistic:
        by_kind.update(REALISTIC_RUN_SECONDS)
    for item in args.run_seconds:
        kind, _, span = item.partition("=")
        low, _, high = span.partition("-")
        try:
            by_kind[kind.strip()] = (float(low), float(high or low))
        except ValueError:
            raise ValueError(f"--run-seconds expects KIND=LOW-HIGH, got {item!r}") from None
    return by_kind


def config_from(args: argparse.Namespace) -> EmulatorConfig:
    """The EmulatorConfig the arguments describe."""
    return EmulatorConfig(
        dialect=args.dialect,
        api_key=args.api_key or None,
        prefix=args.prefix,
        quirks=frozenset(q.strip() for q in args.quirks.split(",") if q.strip()),
        time_scale=args.time_scale,
        seed=args.seed,
        fail_rate=args.fail_rate,
        credits=args.credits,
        rate_limit=args.rate_limit,
        rate_limit_window=args.rate_limit_window,
        run_seconds_by_kind=_run_seconds(args),
        eta=args.eta,
        host=args.host,
        port=args.port,
        cdn_port=args.cdn_port,
    )


async def serve(config: EmulatorConfig) -> None:
    """Run until SIGINT or SIGTERM; print the base URL, then the CDN URL."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows' event loop
            loop.add_signal_handler(sig, stop.set)
    async with Emulator(config) as emu:
        print(emu.base_url, flush=True)
        print(f"cdn: {emu.cdn_url}  dialect: {config.dialect}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    try:
        config = config_from(parse_args(argv))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
