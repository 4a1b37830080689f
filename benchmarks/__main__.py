"""`python -m benchmarks [--quick] [--only NAME ...] [--out docs/benchmarks.md]`.

Runs the sections in order, prints each table as it is done, then writes the Markdown page
and, beside it, the chart (`benchmarks.png` for `benchmarks.md`). Without `--out` the page
goes to stdout and the chart is drawn into a temporary folder and thrown away, so that a
`--quick` run in CI exercises every line without touching the committed numbers.
"""

from __future__ import annotations

import argparse
import datetime
import pathlib
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

from . import (
    decode,
    limiter,
    machines,
    memory,
    mixed,
    pipeline,
    poller,
    realtime,
    soak,
    throughput,
)
from ._chart import chart
from ._common import Section, Settings
from ._report import load_average, markdown

SECTIONS: dict[str, Callable[[Settings], Section]] = {
    "throughput": throughput.run,
    "decode": decode.run,
    "poller": poller.run,
    "memory": memory.run,
    "pipeline": pipeline.run,
    "mixed": mixed.run,
    "realtime": realtime.run,
    "limiter": limiter.run,
    "soak": soak.run,
    "machines": machines.run,
}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="luma_async benchmarks against the emulator."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, one round: proves the suite runs (asserts nothing about speed)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(SECTIONS),
        metavar="NAME",
        help=f"run only this section (repeatable): {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="interleaved rounds per comparison (override)"
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=None,
        help="write the Markdown page here and the chart beside it (.png); default: stdout",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen sections and write the report."""
    args = parse(argv)
    settings = Settings(quick=args.quick, rounds=args.rounds)
    command = "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv)
    started = datetime.datetime.now(datetime.UTC)
    load_start = load_average()
    sections = []
    for name in args.only or list(SECTIONS):
        began = time.monotonic()
        print(f"== {name} ...", file=sys.stderr, flush=True)
        section = SECTIONS[name](settings)
        print(section.markdown + "\n", file=sys.stderr, flush=True)
        print(f"== {name}: {time.monotonic() - began:.0f} s", file=sys.stderr, flush=True)
        sections.append(section)
    page = markdown(sections, command.strip(), started, (load_start, load_average()))
    if args.out is None:
        print(page)
        with tempfile.TemporaryDirectory() as folder:
            chart(sections, pathlib.Path(folder) / "benchmarks.png")
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(page)
        png = args.out.with_suffix(".png")
        chart(sections, png)
        print(f"wrote {args.out} and {png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
