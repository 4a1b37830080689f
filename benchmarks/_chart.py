"""The chart beside the report: six panels of the headline numbers, as a PNG (Agg backend)."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

from ._common import Section
from .decode import SDK
from .pipeline import GENERATE_MANY

__all__ = ["chart"]


def chart(sections: Sequence[Section], path: pathlib.Path) -> None:
    """Six panels of the headline numbers, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_name = {s.name: s for s in sections}
    fig, axes = plt.subplots(2, 3, figsize=(18, 10), layout="constrained")
    panels = [
        ("throughput", _throughput_rate),
        ("throughput", _throughput_cpu),
        ("decode", _decode),
        ("poller", _poller),
        ("memory", _memory),
        ("pipeline", _pipeline),
    ]
    for ax, (name, draw) in zip(axes.flat, panels, strict=True):
        if name in by_name:
            draw(ax, by_name[name].data)
        else:
            ax.set_axis_off()
            ax.text(0.5, 0.5, f"({name}: not run)", ha="center", va="center")
    fig.suptitle("luma_async benchmarks (medians; see docs/benchmarks.md)")
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _bars(ax: Any, groups: Sequence[str], series: Mapping[str, Sequence[float]]) -> None:
    width = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, values, width, label=label)
    ax.set_xticks(range(len(groups)), groups)


def _throughput_rate(ax: Any, data: dict[str, Any]) -> None:
    rows: dict[int, dict[str, dict[str, float]]] = data["rows"]
    names = list(next(iter(rows.values())))
    series = {n: [rows[c][n]["rate"] for c in rows] for n in names}
    _bars(ax, [f"concurrency {c}" for c in rows], series)
    ax.set_yscale("log")
    ax.set_ylim(top=ax.get_ylim()[1] * 30)
    ax.set_ylabel("status checks per second (log)")
    ax.set_title("Status-check throughput (higher is better)")
    ax.legend(fontsize=7, loc="upper left", ncols=2)


def _throughput_cpu(ax: Any, data: dict[str, Any]) -> None:
    rows: dict[int, dict[str, dict[str, float]]] = data["rows"]
    names = list(next(iter(rows.values())))
    series = {n: [rows[c][n]["cpu_us"] for c in rows] for n in names}
    _bars(ax, [f"concurrency {c}" for c in rows], series)
    ax.set_yscale("log")
    ax.set_ylim(top=ax.get_ylim()[1] * 30)
    ax.set_ylabel("client CPU µs per status check (log)")
    ax.set_title("Client CPU per status check (lower is better)")
    ax.legend(fontsize=7, loc="upper left", ncols=2)


def _short(decoder: str) -> str:
    if decoder.startswith("luma_async"):
        return "luma_async"
    if decoder == SDK:
        return "SDK, as it decodes"
    if "model_validate_json" in decoder:
        return "SDK, validated"
    return decoder.split(" (")[0]


def _decode(ax: Any, data: dict[str, Any]) -> None:
    labels, values = [], []
    for body, medians in data.items():
        for name, us in medians.items():
            labels.append(f"{body.split(' (')[0].split(',')[0]}: {_short(name)}")
            values.append(us)
    ax.barh(range(len(values)), values)
    ax.set_yticks(range(len(values)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("µs per task object (log)")
    ax.set_title("Decode cost (lower is better)")


def _poller(ax: Any, data: dict[str, Any]) -> None:
    rows: dict[int, dict[str, dict[str, float]]] = data["rows"]
    markers = "osD^v"
    names = list(next(iter(rows.values())))
    for i, name in enumerate(names):
        xs = [rows[n][name]["per_video"] for n in rows]
        ys = [rows[n][name]["p95"] for n in rows]
        ax.plot(xs, ys, markers[i % len(markers)], label=name, markersize=8)
        for n, x, y in zip(rows, xs, ys, strict=True):
            ax.annotate(f"{n:,}", (x, y), textcoords="offset points", xytext=(5, 5), fontsize=7)
    ax.axvline(0.2, color="grey", linestyle=":", linewidth=1)
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("HTTP requests per finished video (log)")
    ax.set_ylabel("p95 detection lag (s)")
    ax.set_title("Poller: cost vs lag (targets dotted; labels = tasks)")
    ax.legend(fontsize=7)


def _memory(ax: Any, data: dict[str, Any]) -> None:
    rows: dict[int, dict[str, float]] = data["rows"]
    sizes = [f"{n:,} tasks" for n in rows]
    parts = {
        "interpreter + luma_async": [r["base"] for r in rows.values()],
        "the ids": [r["ids"] for r in rows.values()],
        "the poller": [r["poller"] for r in rows.values()],
    }
    bottom = [0.0] * len(rows)
    for label, values in parts.items():
        ax.bar(sizes, values, bottom=bottom, label=label)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.axhline(200, color="grey", linestyle=":", linewidth=1, label="target: 200 MB")
    ax.set_ylabel("RSS (MB)")
    ax.set_title("Memory of one poller")
    ax.legend(fontsize=7)


def _pipeline(ax: Any, data: dict[str, Any]) -> None:
    groups: list[str] = []
    critical: list[float] = []
    wall: list[float] = []
    for scenario in data.values():
        for name, row in scenario["rows"].items():
            who = "generate_many" if name == GENERATE_MANY else "naive"
            groups.append(f"{scenario['n']:,} prompts\n{who}")
            critical.append(row["critical"])
            wall.append(row["wall"])
    _bars(ax, groups, {"critical path (s)": critical, "wall (s)": wall})
    ax.tick_params(axis="x", labelsize=8)
    ax.set_ylabel("seconds")
    ax.set_title("Pipeline end to end (second pair: slow submits)")
    ax.legend(fontsize=7)
