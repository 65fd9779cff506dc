"""PNG charts (matplotlib) for people who want a picture outside the HTML page: slides, issues, chat.

Figures are built with the object API on an explicit Agg canvas, never through ``pyplot``: nothing here switches
the process-wide backend or keeps figures alive, so other matplotlib users in the same process are unaffected.
Colours come from :mod:`palette`, so a strategy has the same colour here as on the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.compare.report.palette import colour_for
from harness.compare.report.series import connection_series, error_groups, label_rows, latency_groups, runs_of
from harness.compare.report.svg import log_ticks
from harness.compare.summary import summarize
from harness.kit.records import Report

__all__ = ["connections_over_time", "errors_by_strategy", "latency_percentiles"]

_SIZE = (10.0, 4.8)
_DPI = 110


def _figure() -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _note(axes: Any, text: str) -> None:
    """Said in the chart itself, so empty axes are not mistaken for a chart that failed to draw."""
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", fontsize=14, color="#6b7280")


def _save(figure: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def connections_over_time(report: Report, scenario: str, path: Path) -> Path:
    """Application server connections sampled during the scenario, one line per strategy, steps end to end."""
    series = connection_series(report, scenario)
    figure, axes = _figure()
    x_max = max(series.end_s, 1.0)
    rows = label_rows(series.boundaries, char_width=x_max / 150)  # about 150 characters of 8pt text across the axes
    for index, (start, step) in enumerate(series.boundaries):
        end = series.boundaries[index + 1][0] if index + 1 < len(series.boundaries) else series.end_s
        if index % 2 == 0:
            axes.axvspan(start, end, color="#f3f4f6", zorder=0)
        axes.annotate(
            step,
            (start, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12 - 11 * rows[index]),
            textcoords="offset points",
            fontsize=8,
            color="#4b5563",
        )
    widths = {name: 1.5 + 0.5 * rank for rank, name in enumerate(reversed(list(series.segments)))}
    for strategy, parts in series.segments.items():
        for part in parts:
            axes.plot(
                [t for t, _ in part],
                [v for _, v in part],
                color=colour_for(strategy),
                linewidth=widths[strategy],  # wider first: a line hidden under a later one still shows its edge
                marker="o" if len(part) == 1 else None,
            )
        if parts:  # one plain legend entry per strategy, whatever its first segment looks like
            axes.plot([], [], color=colour_for(strategy), linewidth=widths[strategy], label=strategy)
    for number, (start, end, cap) in enumerate(series.visible_limits):
        label = "max_connections" if number == 0 else None
        axes.hlines(cap, start, end, colors="#b91c1c", linestyles="dashed", label=label)
        axes.annotate(
            f"max_connections={cap}",
            (end, cap),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="#b91c1c",
        )
    axes.set_title(f"{scenario}: server connections over time")
    axes.set_xlabel("time since the scenario started (s), steps laid end to end")
    axes.set_ylabel("server connections (app backends)")
    axes.set_xlim(0, x_max)
    axes.set_ylim(bottom=0, top=series.y_top * 1.15 + 0.5)
    if any(series.segments.values()):
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    else:
        _note(axes, "no connection samples were recorded")
    return _save(figure, path)


def latency_percentiles(report: Report, scenario: str, path: Path) -> Path:
    """Grouped bars per step: p50 solid, p95 and p99 lighter behind it; an x marks a run where everything failed."""
    groups = latency_groups(report, scenario)
    figure, axes = _figure()
    labelled: set[str] = set()
    values = []
    for index, group in enumerate(groups):
        width = 0.8 / max(len(group.bars), 1)
        for position, bar in enumerate(group.bars):
            x = index - 0.4 + width * (position + 0.5)
            colour = colour_for(bar.strategy)
            if bar.p99 is None:
                axes.plot([x], [0], marker="x", color="#b91c1c", markersize=8)
                continue
            for value, alpha in ((bar.p99, 0.3), (bar.p95, 0.55), (bar.p50, 1.0)):
                if value is not None:
                    values.append(value)
                    label = bar.strategy if alpha == 1.0 and bar.strategy not in labelled else None
                    axes.bar(x, value, width * 0.9, color=colour, alpha=alpha, label=label)
            if bar.failed:
                axes.annotate(
                    "!",
                    (x, bar.p99),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    color="#b91c1c",
                    fontweight="bold",
                )
            labelled.add(bar.strategy)
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 30:
        low, high, ticks = log_ticks(positive)  # the HTML page's axis: plain numbers on the 1-2-5 ladder
        axes.set_yscale("log")
        axes.set_ylim(low, high)
        axes.set_yticks(ticks, [f"{tick:g}" for tick in ticks])
        axes.minorticks_off()
        scale = "log scale"
    else:
        axes.set_ylim(bottom=0)
        scale = "linear scale"
    axes.set_xticks(range(len(groups)), [group.step for group in groups], fontsize=8)
    axes.set_title(f"{scenario}: latency percentiles per step (p50 solid, p95 / p99 lighter)")
    axes.set_xlabel("step (x = every request failed, ! = some failed)")
    axes.set_ylabel(f"latency of successful requests (ms, {scale})")
    if labelled:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    else:
        _note(axes, "no successful requests: no latency to show")
    return _save(figure, path)


def errors_by_strategy(report: Report, scenario: str, path: Path) -> Path:
    """Failed requests per strategy, stacked by error text (a chart that says "no failed requests" when so)."""
    from matplotlib.patches import Patch

    groups = error_groups([summarize(run) for run in runs_of(report, scenario)])
    strategies = list(dict.fromkeys(run.strategy for run in runs_of(report, scenario)))
    figure, axes = _figure()
    errors = list(dict.fromkeys(error for counts in groups.values() for error in counts))
    hatches = ("", "//", "..", "xx", "\\\\", "--", "++", "oo")
    handles: list[Any] = []
    lefts = [0] * len(strategies)
    for number, error in enumerate(errors):
        counts = [groups.get(strategy, {}).get(error, 0) for strategy in strategies]
        short = " ".join(error.split())
        axes.barh(
            strategies,
            counts,
            left=lefts,
            color=[colour_for(s) for s in strategies],
            hatch=hatches[number % len(hatches)],
            edgecolor="white",
        )
        handles.append(
            Patch(
                facecolor="#e5e7eb",
                edgecolor="#374151",
                hatch=hatches[number % len(hatches)] * 2,
                label=short if len(short) <= 60 else short[:57] + "...",
            )
        )
        lefts = [a + b for a, b in zip(lefts, counts, strict=True)]
    if not errors:
        _note(axes, "no failed requests")
        axes.set_yticks(range(len(strategies)), strategies)
    else:
        axes.legend(
            handles=handles,
            title="error (hatch)",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=7,
            title_fontsize=8,
        )
    axes.invert_yaxis()
    axes.set_title(f"{scenario}: failed requests by strategy and error")
    axes.set_xlabel("failed requests (count)")
    axes.set_ylabel("strategy")
    return _save(figure, path)
