"""Inline SVG charts for the HTML page, drawn by hand so the page needs nothing from the network or a plotting
library: connections over time and latency percentiles. Pure functions from series to SVG text; every piece of
text goes through :func:`html.escape`.
"""

from __future__ import annotations

import math
from html import escape

from harness.compare.report.formatting import fmt_ms
from harness.compare.report.palette import colour_for
from harness.compare.report.series import ConnectionSeries, LatencyGroup, label_rows

__all__ = ["connections_svg", "latency_svg", "log_ticks", "nice_ticks"]

_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 28, 48
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 up to at least ``high`` (steps of 1, 2 or 5 times a power of ten)."""
    if high <= 0:
        return [0.0, 1.0]
    raw = high / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(high / step - 1e-9) + 1)]


def _num(value: float) -> str:
    return f"{value:.1f}"


def _frame(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" {_FONT}>' + "".join(body) + "</svg>"
    )


def _empty_note(width: int, height: int, text: str) -> str:
    """Said in the chart itself, so an empty frame is not mistaken for a chart whose lines failed to draw."""
    return (
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="15" fill="#6b7280">'
        f"{escape(text)}</text>"
    )


def _tick_label(value: float) -> str:
    return f"{value:g}" if value < 10_000 else f"{value:,.0f}"


def connections_svg(series: ConnectionSeries, *, title: str, width: int = 960, height: int = 320) -> str:
    """One line per strategy of the application's server connections; steps as shaded bands, limits dashed."""
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    y_ticks = nice_ticks(1.1 * series.y_top)  # headroom for the limit's label
    x_ticks = nice_ticks(series.end_s or 1.0, 8)
    y_max, x_max = y_ticks[-1], x_ticks[-1]

    def x(t: float) -> float:
        return _LEFT + plot_w * t / x_max

    def y(v: float) -> float:
        return _TOP + plot_h * (1 - v / y_max)

    body = [f'<text x="{_LEFT}" y="16" font-weight="600">{escape(title)}</text>']
    ends = [start for start, _ in series.boundaries[1:]] + [series.end_s]
    rows = label_rows(series.boundaries, char_width=6.5 * x_max / plot_w)  # 11px text: about 6.5px a character
    for index, ((start, step), end) in enumerate(zip(series.boundaries, ends, strict=True)):
        fill = "#f3f4f6" if index % 2 == 0 else "#ffffff"
        body.append(
            f'<rect x="{_num(x(start))}" y="{_TOP}" width="{_num(max(x(end) - x(start), 0))}" height="{plot_h}" '
            f'fill="{fill}"><title>{escape(step)}</title></rect>'
            f'<text x="{_num(x(start) + 4)}" y="{_TOP + 14 + 14 * rows[index]}" fill="#4b5563" font-size="11">'
            f"{escape(step)}</text>"
        )
    for value in y_ticks:
        body.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{_num(y(value))}" y2="{_num(y(value))}" stroke="#d1d5db" '
            f'stroke-width="0.5"/><text x="{_LEFT - 6}" y="{_num(y(value) + 4)}" text-anchor="end">'
            f"{_tick_label(value)}</text>"
        )
    for value in x_ticks:
        body.append(
            f'<text x="{_num(x(value))}" y="{_TOP + plot_h + 16}" text-anchor="middle">{_tick_label(value)}</text>'
        )
    for start, end, cap in series.visible_limits:
        body.append(
            f'<line x1="{_num(x(start))}" x2="{_num(x(end))}" y1="{_num(y(cap))}" y2="{_num(y(cap))}" '
            f'stroke="#b91c1c" stroke-dasharray="6 4"/><text x="{_num(x(end) - 4)}" y="{_num(y(cap) - 4)}" '
            f'text-anchor="end" fill="#b91c1c" font-size="11">max_connections={cap}</text>'
        )
    # Strategies often hold the same count (0, or the same cap): earlier lines are drawn wider, so a line hidden
    # under a later one still shows as a coloured edge around it.
    widths = {name: 1.8 + 0.4 * rank for rank, name in enumerate(reversed(list(series.segments)))}
    for strategy, parts in series.segments.items():
        colour = colour_for(strategy)
        for part in parts:
            points = " ".join(f"{_num(x(t))},{_num(y(v))}" for t, v in part)
            body.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="{widths[strategy]:.1f}" '
                f'stroke-linejoin="round"><title>{escape(strategy)}</title></polyline>'
            )
            if len(part) == 1:
                body.append(f'<circle cx="{points.split(",")[0]}" cy="{points.split(",")[1]}" r="3" fill="{colour}"/>')
    body.append(
        f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{_TOP + plot_h}" stroke="#6b7280"/>'
        f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{_TOP + plot_h}" y2="{_TOP + plot_h}" stroke="#6b7280"/>'
        f'<text x="{_LEFT + plot_w / 2}" y="{height - 8}" text-anchor="middle">time since the scenario started (s), '
        "steps laid end to end</text>"
        f'<text transform="translate(16 {_TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">'
        "server connections (app backends)</text>"
    )
    if not any(series.segments.values()):
        body.append(_empty_note(width, height, "no connection samples were recorded"))
    return _frame(width, height, title, body)


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


def latency_svg(groups: list[LatencyGroup], *, title: str, width: int = 960, height: int = 340) -> str:
    """Grouped bars per step, one bar per strategy, with p99, p95 and p50 overlaid in deepening shades.

    The axis is logarithmic when the figures span more than a factor of 30 (a 30 s pool timeout next to a 2 ms
    query would otherwise flatten every healthy bar to nothing).
    """
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    values = [v for g in groups for b in g.bars for v in (b.p50, b.p95, b.p99) if v is not None and v > 0]
    log = bool(values) and max(values) / min(values) > 30
    if log:
        low, high, ticks = log_ticks(values)
    else:
        ticks = nice_ticks(max(values, default=1.0))
        low, high = 0.0, ticks[-1]

    def y(v: float) -> float:
        if not log:
            return _TOP + plot_h * (1 - v / high)
        share = (math.log10(max(v, low)) - math.log10(low)) / (math.log10(high) - math.log10(low))
        return _TOP + plot_h * (1 - share)

    body = [f'<text x="{_LEFT}" y="16" font-weight="600">{escape(title)}</text>']
    for value in ticks:
        body.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{_num(y(value))}" y2="{_num(y(value))}" stroke="#d1d5db" '
            f'stroke-width="0.5"/><text x="{_LEFT - 6}" y="{_num(y(value) + 4)}" text-anchor="end">'
            f"{_tick_label(value)}</text>"
        )
    group_w = plot_w / max(len(groups), 1)
    for index, group in enumerate(groups):
        left = _LEFT + index * group_w
        bar_w = min(36.0, group_w * 0.8 / max(len(group.bars), 1))
        first = left + (group_w - bar_w * len(group.bars)) / 2
        for position, bar in enumerate(group.bars):
            bx = first + position * bar_w
            colour = colour_for(bar.strategy)
            tip = escape(
                f"{bar.strategy} {group.step}: p50 {fmt_ms(bar.p50)} ms, p95 {fmt_ms(bar.p95)} ms, "
                f"p99 {fmt_ms(bar.p99)} ms; {bar.failed} of {bar.requests} failed"
            )
            if bar.p99 is None:
                body.append(
                    f'<text x="{_num(bx + bar_w / 2)}" y="{_TOP + plot_h - 4}" text-anchor="middle" fill="#b91c1c" '
                    f'font-weight="700">&#215;<title>{tip}</title></text>'
                )
                continue
            for shade, opacity in ((bar.p99, 0.3), (bar.p95, 0.55), (bar.p50, 1.0)):
                if shade is None:
                    continue
                top = y(shade)
                body.append(
                    f'<rect x="{_num(bx + 1)}" y="{_num(top)}" width="{_num(max(bar_w - 2, 1))}" '
                    f'height="{_num(_TOP + plot_h - top)}" fill="{colour}" fill-opacity="{opacity}">'
                    f"<title>{tip}</title></rect>"
                )
            if bar.failed:
                body.append(
                    f'<text x="{_num(bx + bar_w / 2)}" y="{_num(y(bar.p99) - 4)}" text-anchor="middle" '
                    f'fill="#b91c1c" font-size="11">!<title>{tip}</title></text>'
                )
        body.append(
            f'<text x="{_num(left + group_w / 2)}" y="{_TOP + plot_h + 16}" text-anchor="middle">'
            f"{escape(group.step)}</text>"
        )
    scale = "log scale" if log else "linear scale"
    body.append(
        f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{_TOP + plot_h}" y2="{_TOP + plot_h}" stroke="#6b7280"/>'
        f'<text x="{_LEFT + plot_w / 2}" y="{height - 8}" text-anchor="middle">successful requests per step: p50 '
        f"solid, p95 and p99 lighter; &#215; = every request failed, ! = some failed</text>"
        f'<text transform="translate(16 {_TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">'
        f"latency (ms, {scale})</text>"
    )
    if not values:
        body.append(_empty_note(width, height, "no successful requests: no latency to show"))
    return _frame(width, height, title, body)
