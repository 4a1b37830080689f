"""`luma-async`: the command line of luma_async (the `cli` extra: `pip install "luma_async[cli]"`).

Commands: `demo`, `emulator`, `generate`, `status`, `wait`, `download`, `extend`, `audio`,
`upscale`, `list`, `delete`, `credits`, `image`, `modify`, `reframe`, `concepts`, `ping`,
`batch`, `dialects`.
Settings come from flags, else `$LUMA_BASE_URL`, `$LUMA_API_KEY`, `$LUMA_DIALECT`. Errors are
one line on stderr and an exit code (see `ExitCode`); `--debug` adds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence

import anyio

from .._version import __version__
from ..dialects import DIALECTS
from ..emulator.__main__ import main as emulator_main
from . import _batch, _demo, _dialects, _journal, _media, _operations, _tasks
from ._config import Settings, scrub
from ._errors import CliError, ExitCode, describe, exit_code_for
from ._output import Output

__all__ = ["CliError", "ExitCode", "build_parser", "main"]

EPILOG = """\
environment:
  LUMA_BASE_URL   the gateway's base URL (flag: --base-url)
  LUMA_API_KEY    the API key (flag: --api-key; prefer the variable: flags show in `ps`)
  LUMA_DIALECT    official, anyapi, rixapi, xfusion or gptge (flag: --dialect)

exit codes:
  0    done
  1    some jobs failed (a generation failed, a request was refused, a bad input line)
  2    usage or bad input (arguments, configuration, files, values, unknown task ids)
  3    the API key was refused, lacks permission, or is out of quota
  4    network or gateway failure (unreachable, timeouts, 5xx, 429, unreadable answers)
  5    --timeout passed with tasks unfinished
  70   internal error (a bug: please report it with the --debug output)
  130  interrupted (Ctrl-C)
"""


#: Commands that create one task: Ctrl-C during their submit leaves its outcome open.
CREATING = frozenset({"generate", "extend", "audio", "upscale", "image", "modify", "reframe"})


def _output_flags() -> argparse.ArgumentParser:
    """--json and --debug, accepted before or after the command."""
    flags = argparse.ArgumentParser(add_help=False)
    group = flags.add_argument_group("output")
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="machine-readable JSON on stdout",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log requests (key masked) and show tracebacks",
    )
    return flags


def _gateway_flags() -> argparse.ArgumentParser:
    """--base-url, --api-key and --dialect, over their environment variables."""
    flags = argparse.ArgumentParser(add_help=False)
    group = flags.add_argument_group("gateway")
    group.add_argument("--base-url", default=argparse.SUPPRESS, help="$LUMA_BASE_URL")
    group.add_argument("--api-key", default=argparse.SUPPRESS, help="$LUMA_API_KEY")
    group.add_argument(
        "--dialect",
        choices=sorted(DIALECTS),
        default=argparse.SUPPRESS,
        help="$LUMA_DIALECT (default: official)",
    )
    return flags


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    output_flags, gateway_flags = _output_flags(), _gateway_flags()
    parser = argparse.ArgumentParser(
        prog="luma-async",
        description="Generate Luma videos and images through the API gateways people use.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[output_flags, gateway_flags],
    )
    parser.add_argument("--version", action="version", version=f"luma-async {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _demo.add_parser(commands, output_flags)
    commands.add_parser(
        "emulator",
        add_help=False,
        help="serve an emulated gateway (see: luma-async emulator --help)",
    )
    both = argparse.ArgumentParser(add_help=False, parents=[output_flags, gateway_flags])
    _tasks.add_parsers(commands, both)
    _operations.add_parsers(commands, both)
    _media.add_parsers(commands, both)
    _batch.add_parser(commands, both)
    _dialects.add_parser(commands, output_flags)
    _journal.add_parser(commands, output_flags)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (see `ExitCode`)."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if args.command == "emulator":
            return emulator_main(extra)
        _late_positional(args, extra)
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # argparse: --help, --version, or a usage error (already printed)
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    debug = bool(getattr(args, "debug", False))
    output = Output(json=bool(getattr(args, "json", False)))
    with _request_log(debug):
        try:
            if getattr(args, "gateway", False):
                settings = Settings.from_args(args, os.environ)
                output.secret = settings.api_key
                command = functools.partial(args.run, args, settings, output)
            else:
                command = functools.partial(args.run, args, output)
            return int(anyio.run(command, backend="asyncio"))
        except KeyboardInterrupt:
            if args.command in CREATING:
                output.warn(
                    "interrupted; a submit under way may still have created a task: look for "
                    "it (luma-async list, or the gateway's console) before submitting again"
                )
            else:
                output.warn("interrupted")
            return ExitCode.INTERRUPTED
        except Exception as exc:  # every failure becomes one line and an exit code
            error = _lone(exc)
            code = exit_code_for(error)
            if debug:
                trace = "".join(traceback.format_exception(error))
                sys.stderr.write(scrub(trace, output.secret))
            output.warn(f"error: {describe(error)}")
            if code is ExitCode.INTERNAL and not debug:
                output.warn("this looks like a bug in luma-async; rerun with --debug and report it")
            return code


@contextlib.contextmanager
def _request_log(debug: bool) -> Iterator[None]:
    """With --debug, the `luma_async` logger (requests, key masked) on stderr for this run."""
    if not debug:
        yield
        return
    logger = logging.getLogger("luma_async")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _late_positional(args: argparse.Namespace, extra: list[str]) -> None:
    """Take an optional positional given after the options (`modify ID --mode flex_2 "PROMPT"`).

    argparse fills an optional positional (nargs="?") with nothing as soon as it meets the first
    option, and leaves a later word over as unrecognized; the command names such a positional
    in `late_positional`, and the one word left over is it.
    """
    name = getattr(args, "late_positional", None)
    if name and getattr(args, name) is None and len(extra) == 1 and not extra[0].startswith("-"):
        setattr(args, name, extra.pop())


def _lone(error: BaseException) -> BaseException:
    """The single error inside nested one-error groups (task groups wrap), else `error`."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error
