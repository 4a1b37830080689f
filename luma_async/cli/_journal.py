"""`luma-async journal show URL|PATH --run NAME [--json]` and `journal runs URL|PATH`."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

import msgspec

from .._stores import DEFAULT_RUN, Row, make_store, redact
from .._stores._base import secrets_of
from ._output import Output

__all__ = ["add_parser"]

#: Outcomes in the order the counts are printed.
_STATES = ("completed", "failed", "uncertain", "submitted", "intended", "pending")


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Register `journal show` and `journal runs`."""
    p = commands.add_parser(
        "journal",
        parents=[common],
        help="look at a run's journal (a SQLite file or a PostgreSQL URL)",
        description="What a journaled run holds: one line per request, or the runs there are.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", parents=[common], help="counts and one line per request")
    show.add_argument("journal", metavar="URL|PATH")
    show.add_argument("--run", dest="run_name", default=DEFAULT_RUN, metavar="NAME")
    show.set_defaults(run=journal_show)
    runs = actions.add_parser("runs", parents=[common], help="the runs in a journal")
    runs.add_argument("journal", metavar="URL|PATH")
    runs.set_defaults(run=journal_runs)


def _hide_password(args: argparse.Namespace, output: Output) -> str:
    """The journal as it may be shown; its password is blanked from anything printed."""
    found = secrets_of(args.journal)
    if found:
        output.secret = found[0]
    return redact(args.journal)


async def journal_show(args: argparse.Namespace, output: Output) -> int:
    """Counts by outcome, then index, task id, state, url, path and error per request."""
    shown = _hide_password(args, output)
    store = make_store(args.journal, run=args.run_name, reader=True)
    await store.open()
    try:
        if args.run_name not in await store.runs():
            output.warn(f"no run {args.run_name!r} in {shown}")
            return 1
        rows = await store.rows()
    finally:
        await store.close()
    if output.json:
        for row in rows:
            output.data(_json(row))
        return 0
    counts: Counter[str] = Counter(row.state for row in rows)
    summary = ", ".join(f"{counts[s]} {s}" for s in _STATES if counts[s])
    output.show(f"run {args.run_name!r} in {shown}: {len(rows)} requests: {summary or 'none'}")
    for row in rows:
        fields = [str(row.index), row.task_id or "-", row.state, row.url or "-", row.path or "-"]
        output.show("\t".join(fields + ([row.error] if row.error else [])))
    return 0


def _json(row: Row) -> dict[str, Any]:
    fields = msgspec.structs.asdict(row)
    return {k: fields[k] for k in ("index", "task_id", "state", "url", "path", "error", "kind")}


async def journal_runs(args: argparse.Namespace, output: Output) -> int:
    """The names of the runs in the journal, one a line."""
    _hide_password(args, output)
    store = make_store(args.journal, reader=True)
    await store.open()
    try:
        names = await store.runs()
    finally:
        await store.close()
    for name in names:
        if output.json:
            output.data({"run": name})
        else:
            output.show(name)
    return 0
