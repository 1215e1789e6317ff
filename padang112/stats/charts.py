"""Horizontal bar charts as inline SVG for the printable reports (no script; prints as drawn).

Like :func:`padang112.stats.service_level.chart_svg`, every text is escaped here, so the result may be put into
a page as markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

BAR_COLOUR = "#3b6ea5"
OVER_COLOUR = "#b00020"


def bars_svg(
    items: Sequence[tuple[str, float | None]],
    *,
    title: str,
    fmt: Callable[[float], str] | None = None,
    limit: float | None = None,
    limit_label: str = "",
) -> str:
    """One bar per ``(label, value)`` (``None`` drawn as "–"), each value written by ``fmt`` (default: whole
    numbers as such, else one decimal); with ``limit`` a dashed line at that value and the bars beyond it in
    red. An empty ``items`` gives only the title."""
    fmt = fmt or _number
    label_w, plot_w, value_w, row_h, top = 150, 300, 70, 18, 20
    values = [v for _, v in items if v is not None and math.isfinite(v)]
    peak = max([*values, limit or 0.0, 1e-9])
    width = label_w + plot_w + value_w
    height = top + max(1, len(items)) * row_h + 6
    name = escape(title, quote=True)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{name}"><title>{name}</title>',
        f'<text x="0" y="13" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    for n, (label, value) in enumerate(items):
        y = top + n * row_h
        shown = "–" if value is None or not math.isfinite(value) else fmt(value)
        w = 0 if value is None or not math.isfinite(value) else max(0.0, value) / peak * plot_w
        colour = OVER_COLOUR if limit is not None and value is not None and value > limit else BAR_COLOUR
        parts.append(
            f"<g><title>{escape(f'{label}: {shown}', quote=True)}</title>"
            f'<text x="{label_w - 6}" y="{y + 12}" font-size="11" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 5}" fill="{colour}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 12}" font-size="11">{escape(shown)}</text></g>'
        )
    if limit is not None:
        x = label_w + limit / peak * plot_w
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{height - 2}" stroke="{OVER_COLOUR}" '
            f'stroke-dasharray="4 3"><title>{escape(limit_label, quote=True)}</title></line>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"
