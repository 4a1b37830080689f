"""What every section shares: sizes, interleaved rounds, medians, Markdown tables."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

__all__ = [
    "Section",
    "Settings",
    "interleave",
    "median_rows",
    "percentile",
    "ratio",
    "table",
]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Settings:
    """How big and how often: `--quick` shrinks everything so the suite only proves it runs."""

    quick: bool = False
    rounds: int | None = None

    def pick(self, full: T, quick: T) -> T:
        """`quick` in quick mode, else `full`."""
        return quick if self.quick else full

    def repeats(self, full: int, quick: int = 1) -> int:
        """Rounds of interleaved runs: `--rounds` if given, else the section's own count."""
        return self.rounds if self.rounds is not None else self.pick(full, quick)


@dataclasses.dataclass
class Section:
    """One section of the report: Markdown for the page, numbers for the chart and the verdicts."""

    name: str
    title: str
    markdown: str
    data: dict[str, Any] = dataclasses.field(default_factory=dict)


async def interleave(
    contenders: Sequence[str], rounds: int, run: Callable[[str, int], Awaitable[T]]
) -> dict[str, list[T]]:
    """Run every contender once per round, in turn (A B C A B C ...); results per contender.

    A noisy neighbour or a thermal dip then hits all contenders alike instead of one of them.
    """
    results: dict[str, list[T]] = {name: [] for name in contenders}
    for round_ in range(rounds):
        for name in contenders:
            results[name].append(await run(name, round_))
    return results


def median_rows(runs: Iterable[dict[str, float]]) -> dict[str, float]:
    """Key by key medians over runs that share their keys."""
    runs = list(runs)
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of `values` (0.0 for none)."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def ratio(a: float, b: float) -> float:
    """a / b, or NaN when b is 0."""
    return a / b if b else float("nan")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str = "") -> str:
    """A Markdown table; `align` has one letter per column (l or r), right by default."""
    marks = [":---" if (align[i : i + 1] or "r") == "l" else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
