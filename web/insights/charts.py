"""Charts drawn on the server as SVG from the report's tables: no script, no inline style.

The SVG uses presentation attributes and classes from app.css only, so the Content Security
Policy (style-src 'self') holds. Each chart is decorative for screen readers (aria-hidden): the
page puts the same numbers in a table right below it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from . import suppress
from .metrics import Table

WIDTH, HEIGHT = 480, 170
LEFT, BOTTOM, TOP = 34, 22, 10


def _number(value: Any, percent: bool) -> float:
    """The height a published value is drawn at; a suppressed count is drawn at half of k."""
    if value is None:
        return 0.0
    if suppress.is_suppressed(value):
        return (int(value[1:]) - 1) / 2
    return float(value) * (100 if percent else 1)


def _nice_top(largest: float) -> float:
    """A round axis maximum at or above `largest`."""
    if largest <= 0:
        return 1
    step = 10 ** (len(str(int(largest))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if largest <= factor * step:
            return factor * step
    return 10 * step


def time_bars(table: Table, label: Callable[[str], str], chart_id: str) -> Markup:
    """Vertical bars over time: one bar per week or month, a few labels along the bottom;
    a suppressed count is a lighter bar at half the threshold."""
    values = [_number(row[table.value], table.percent) for row in table.rows]
    top = 100 if table.percent else _nice_top(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - 4, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(values), 1)
    parts = [f'<svg class="chart time-chart" viewBox="0 0 {WIDTH} {HEIGHT}" aria-hidden="true" '
             f'focusable="false" xmlns="http://www.w3.org/2000/svg" id="{chart_id}">']
    for tick in (0, 0.5, 1):
        y = TOP + plot_h * (1 - tick)
        text = f"{top * tick:g}" + ("%" if table.percent else "")
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - 4}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{LEFT - 4}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
                     f'{text}</text>')
    every = max(1, round(len(values) / 6))
    for i, (row, value) in enumerate(zip(table.rows, values, strict=True)):
        h = plot_h * min(value / top, 1) if top else 0
        x = LEFT + i * step + step * 0.15
        raw = row[table.value]
        css = "bar suppressed" if suppress.is_suppressed(raw) else ("bar" if raw is not None else "bar empty")
        parts.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
                     f'height="{h:.1f}" class="{css}"><title>{escape(label(row[table.label]))}: '
                     f'{escape(_shown(raw, table.percent))}</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - 6}" class="axis" '
                         f'text-anchor="middle">{escape(label(row[table.label]))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def ranked_bars(table: Table, label: Callable[[dict], str]) -> Markup:
    """A ranked list of horizontal bars; the words are HTML, so they wrap on a phone."""
    largest = max([_number(r[table.behind or table.value], table.percent) for r in table.rows]
                  + [0])
    top = largest or 1
    items = []
    for row in table.rows:
        value = row[table.value]
        bars = []
        if table.behind:
            bars.append(_bar(_number(row[table.behind], table.percent) / top, "bar behind",
                             row[table.behind]))
        bars.append(_bar(_number(value, table.percent) / top, "bar", value))
        shown = _shown(value, table.percent)
        if table.behind:
            shown += f" / {_shown(row[table.behind], table.percent)}"
        items.append(f'<li><span class="ranked-label">{escape(label(row))}</span>'
                     f'<span class="ranked-value">{escape(shown)}</span>'
                     f'<svg class="ranked-bar" viewBox="0 0 100 10" preserveAspectRatio="none" '
                     f'focusable="false" xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
                     f'</li>')
    return Markup(f'<ol class="ranked" aria-hidden="true">{"".join(items)}</ol>')


def _bar(fraction: float, css: str, raw: Any) -> str:
    if suppress.is_suppressed(raw):
        css += " suppressed"
    return f'<rect x="0" y="0" width="{100 * min(fraction, 1):.2f}" height="10" class="{css}"/>'


def _shown(value: Any, percent: bool) -> str:
    if value is None:
        return "–"
    if percent and not suppress.is_suppressed(value):
        return f"{round(float(value) * 100)} %"
    return str(value)
