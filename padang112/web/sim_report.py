"""``padang112 sim-day``: the printable HTML page, in the look of ``/laporan`` (same stylesheet, charts, words)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jinja2
from markupsafe import Markup

from padang112.config import PROJECT_ROOT
from padang112.planning import figures
from padang112.planning.day import DayResult
from padang112.planning.figures import Period
from padang112.planning.staffing import Advice
from padang112.stats.charts import bars_svg
from padang112.stats.service_level import THRESHOLD_15_S, WIB, chart_svg, fmt_number
from padang112.web import history
from padang112.web.i18n import words

TEMPLATES = PROJECT_ROOT / "web" / "templates"
STYLESHEETS = tuple(PROJECT_ROOT / "web" / "static" / name for name in ("console.css", "report.css"))  # as /laporan


def _rows(items: Iterable[Period], t: dict[str, Any], lang: str, label: Any) -> list[dict[str, Any]]:
    unit = f" {t['seconds']}"
    return [
        {
            "period": p,
            "label": label(p),
            "staffed": fmt_number(p.staffed, lang) if p.staffed != int(p.staffed) else int(p.staffed),
            "short": p.advised is not None and p.staffed < p.advised,
            "occupancy": fmt_number(p.occupancy_pct, lang, " %"),
            "ack_p50": fmt_number(p.ack_p50_s, lang, unit),
            "ack_p90": fmt_number(p.ack_p90_s, lang, unit),
        }
        for p in items
    ]


def to_html(result: DayResult, advice: list[Advice], lang: str = "id") -> str:
    t = {**words(lang), **history.WORDS[lang]}
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    parts = figures.periods(result, advice)
    hours, shifts = parts["hour"], parts["shift"]
    day = parts["day"][0]
    pct = [(p.label, p.calls.pct_within_15) for p in hours]
    charts = [
        chart_svg(day.calls.per_hour, title=t["report_chart_hours"], unit=t["calls"]),
        bars_svg(pct, title=t["chart_within_15"], fmt=lambda v: fmt_number(v, lang, " %")),
        bars_svg(
            [(p.label, p.calls.p90_answer_s) for p in hours],
            title=t["chart_p90_wait"],
            fmt=lambda v: fmt_number(v, lang),
            limit=THRESHOLD_15_S,
            limit_label=f"{THRESHOLD_15_S:g} {t['seconds']}",
        ),
        bars_svg(
            [(p.label, p.occupancy_pct) for p in hours],
            title=t["chart_occupancy"],
            fmt=lambda v: fmt_number(v, lang, " %"),
        ),
    ]
    start, end = result.start.astimezone(WIB), result.end.astimezone(WIB)
    return env.get_template("sim_day.html").render(
        t=t,
        lang=lang,
        profile=result.profile,
        seed=result.seed,
        period=f"{start:%d-%m-%Y %H:%M} – {end:%d-%m-%Y %H:%M} WIB",
        took=fmt_number(result.wall_s, lang, f" {t['seconds']}"),
        stylesheet=Markup("\n".join(p.read_text(encoding="utf-8") for p in STYLESHEETS)),  # a file, not served
        tables=[
            (t["per_shift"], "shifts", _rows([*shifts, day], t, lang, lambda p: t.get(f"shift_{p.label}", "24 h"))),
            (t["per_hour"], "hours", _rows(hours, t, lang, lambda p: f"{p.label}:00")),
        ],
        charts=[Markup(svg) for svg in charts],
    )
