"""The report's charts, drawn once: each function builds one matplotlib figure, written as a PNG or inline SVG.

The PNGs (slides, issues, chat) and the HTML page's inline SVG come from the same figure code, so a chart looks the
same in both. Figures are built with the object API on an explicit Agg canvas, never through ``pyplot``: nothing here
switches the process-wide backend or keeps figures alive, so other matplotlib users in the same process are
unaffected. Colours come from :mod:`palette`, so a strategy has one colour everywhere.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

from harness.compare.report.palette import colour_for
from harness.compare.report.series import ConnectionSeries, connection_series, error_groups, latency_groups, runs_of
from harness.compare.summary import summarize
from harness.kit.records import Report

__all__ = [
    "connections_figure",
    "connections_over_time",
    "errors_by_strategy",
    "errors_figure",
    "latency_figure",
    "latency_percentiles",
    "log_ticks",
    "png",
    "svg",
]

_WIDTH = 10.0
_HEIGHT = 4.8
_DPI = 110
_PANEL_COLUMNS = 4


def _figure(rows: int = 1, columns: int = 1, *, height: float = _HEIGHT, sharey: bool = False) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(_WIDTH, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, sharey=sharey, squeeze=False)
    return figure, axes


def _note(axes: Any, text: str) -> None:
    """Said in the chart itself, so empty axes are not mistaken for a chart that failed to draw."""
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", fontsize=14, color="#6b7280")


def png(figure: Any, path: Path) -> Path:
    """Write ``figure`` as a PNG file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def svg(figure: Any) -> str:
    """``figure`` as an ``<svg>`` element to inline in a page (no XML prolog, DOCTYPE or metadata)."""
    from matplotlib import rc_context

    out = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "serverless-sqlalchemy"}):  # text stays text; stable ids
        figure.savefig(out, format="svg")
    text = out.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.index("<svg") :], count=1, flags=re.DOTALL)
    # Inline SVG in HTML needs no namespace declarations (the parser knows svg and xlink), and it should follow the
    # page's width rather than a print size in points.
    root_end = text.index(">")
    root = re.sub(r'\s(?:xmlns(?::\w+)?|width|height)="[^"]*"', "", text[:root_end])
    return f'{root} width="100%"{text[root_end:]}'


def _steps(
    series: ConnectionSeries,
) -> list[tuple[str, float, dict[str, list[tuple[float, int]]], list[tuple[int, str]]]]:
    """Each step on its own time axis: (label, width s, strategy -> points from the step's start, its limits)."""
    steps = []
    for index, (start, step) in enumerate(series.boundaries):
        end = series.boundaries[index + 1][0] if index + 1 < len(series.boundaries) else series.end_s
        lines = {
            strategy: [(t - start, v) for t, v in part]
            for strategy, parts in series.segments.items()
            for part in parts
            if (part and start <= part[0][0] < end) or (part and start == end == part[0][0])
        }
        caps = [(cap, name) for lo, _, cap, name in series.visible_limits if lo == start]
        steps.append((step, end - start, lines, caps))
    return steps


def _linear_until(lines: dict[str, list[tuple[float, int]]]) -> float | None:
    """Where a panel's time axis turns logarithmic, when one line outlasts the typical one many times over.

    A strategy that queues for 30 s beside others done in 1 s would squeeze them into the panel's first pixels;
    past the typical line's length the axis compresses, so both the short lines and the long tail stay readable.
    """
    ends = sorted(points[-1][0] for points in lines.values() if points)
    if len(ends) < 2:
        return None
    typical = ends[(len(ends) - 1) // 2]
    if ends[-1] < 5 * max(typical, 0.2):
        return None
    return float(max(1, math.ceil(typical)))


def connections_figure(report: Report, scenario: str) -> Any:
    """Application server connections sampled during each step, one line per strategy, one panel per step.

    Steps differ in length (a 45 s queue after a 1 s burst), so each gets its own time axis: laid end to end on one
    axis the short steps would be squeezed into its first seconds. The connection axis is shared, to compare panels.
    """
    series = connection_series(report, scenario)
    steps = _steps(series) or [("", 0.0, {}, [])]
    columns = min(len(steps), _PANEL_COLUMNS)
    rows = math.ceil(len(steps) / columns)
    figure, grid = _figure(rows, columns, height=1.2 + 3.4 * rows, sharey=True)
    widths = {name: 1.5 + 0.5 * rank for rank, name in enumerate(reversed(list(series.segments)))}
    for index, axes in enumerate(grid.flat):
        if index >= len(steps):
            axes.set_visible(False)
            continue
        step, width, lines, caps = steps[index]
        for strategy, points in lines.items():
            axes.plot(
                [t for t, _ in points],
                [v for _, v in points],
                color=colour_for(strategy),
                linewidth=widths[strategy],  # wider first: a line hidden under a later one still shows its edge
                marker="o" if len(points) == 1 else None,
            )
        for cap, name in caps:
            axes.axhline(cap, color="#b91c1c", linestyle="dashed", linewidth=1)
            axes.annotate(
                f"{name}={cap}",
                (1.0, cap),
                xycoords=("axes fraction", "data"),
                xytext=(-4, 3),
                textcoords="offset points",
                ha="right",
                fontsize=8,
                color="#b91c1c",
            )
        axes.set_xlim(0, max(width, 0.1))
        linear_until = _linear_until(lines)
        if linear_until is not None:
            axes.set_xscale("symlog", linthresh=linear_until, linscale=3)
            step = f"{step} (time on a log scale past {linear_until:g} s)"
        axes.set_title(step, fontsize=9)
        axes.set_ylim(bottom=0, top=series.y_top * 1.15 + 0.5)
        axes.tick_params(labelsize=8)
        if index % columns == 0:
            axes.set_ylabel("server connections\n(app backends)", fontsize=9)
    for strategy in series.segments:  # one plain legend entry per strategy
        grid.flat[0].plot([], [], color=colour_for(strategy), linewidth=widths[strategy], label=strategy)
    figure.suptitle(f"{scenario}: server connections over time, per step")
    figure.supxlabel("time since the step started (s)", fontsize=9)
    if any(series.segments.values()):
        figure.legend(loc="outside right upper", fontsize=8)
    else:
        _note(grid.flat[0], "no connection samples were recorded")
    return figure


def connections_over_time(report: Report, scenario: str, path: Path) -> Path:
    return png(connections_figure(report, scenario), path)


def latency_figure(report: Report, scenario: str) -> Any:
    """Grouped bars per step: p50 solid, p95 and p99 lighter behind it; an x marks a run where everything failed."""
    groups = latency_groups(report, scenario)
    figure, grid = _figure()
    axes = grid[0][0]
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
    return figure


def latency_percentiles(report: Report, scenario: str, path: Path) -> Path:
    return png(latency_figure(report, scenario), path)


def errors_figure(report: Report, scenario: str) -> Any:
    """Failed requests per strategy, stacked by error text (a chart that says "no failed requests" when so)."""
    from matplotlib.patches import Patch

    groups = error_groups([summarize(run) for run in runs_of(report, scenario)])
    strategies = list(dict.fromkeys(run.strategy for run in runs_of(report, scenario)))
    figure, grid = _figure()
    axes = grid[0][0]
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
    return figure


def errors_by_strategy(report: Report, scenario: str, path: Path) -> Path:
    return png(errors_figure(report, scenario), path)


def log_ticks(values: list[float]) -> tuple[float, float, list[float]]:
    """Bounds on the 1-2-5 ladder just around the data (a whole decade of empty axis wastes half the chart)."""
    ladder = [m * 10.0**e for e in range(-3, 7) for m in (1, 2, 5)]
    low = max((step for step in ladder if step <= min(values)), default=ladder[0])
    high = min((step for step in ladder if step >= max(values)), default=ladder[-1])
    if high <= low:
        high = low * 10
    decades = math.log10(high / low)
    ticks = [step for step in ladder if low <= step <= high and (decades <= 3 or math.log10(step).is_integer())]
    return low, high, ticks
