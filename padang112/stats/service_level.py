"""Service level of the call center over a time window: pure functions over call records, no I/O.

Definitions (what :func:`compute` counts, for the calls whose ``received_at`` lies in ``[start, end)``):

- **offered**: every call received in the window, counted once per call id. A call the controller
  ``handed_over`` to Asterisk's fallback queue keeps its id when the fallback history is imported (its row
  continues ``handed_over → queued → …``), so it is one offered call, never two; should the same id appear
  twice in the input, the record updated last wins.
- **answered**: ``connected_at`` is set. **abandoned**: state ``abandoned`` (and never connected).
  **open**: neither yet (still waiting, ringing, or handed over and not imported yet).
- **time to answer**: ``connected_at − received_at`` in seconds (the caller's whole wait, from the moment
  the switch took the call), clamped at 0 against clock skew.
- **% within T** (T = 15 s and 20 s; NENA-STA-020.1 asks 90 % within 15 s and 95 % within 20 s)::

      answered with time to answer ≤ T
      ─────────────────────────────────────────────────────────────
      answered  +  abandoned after waiting more than T seconds

  A wait of exactly T seconds counts as within T. Callers who hung up within T seconds are left out of
  both sides (short abandons: the center had no fair chance); open calls are left out until they resolve.
  An abandoned call without ``ended_at`` counts as waited longer than T. No call to judge gives ``None``.
- **average / p90 time to answer**: over answered calls; p90 is the nearest-rank percentile (the smallest
  time that at least 90 % of answered calls did not exceed, always one of the measured values).
- **per hour**: offered calls in 24 buckets by the hour of ``received_at`` in WIB (Asia/Jakarta, UTC+7).
- **prank/ghost share**: calls with disposition ``prank`` or ``silent`` over offered.

Shares and averages are ``None`` when their denominator is zero; :meth:`ServiceLevel.text` shows them as "–".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from padang112.storage.records import CallRecord
from padang112.storage.types import require_aware
from padang112.wib import WIB
from padang112.wib import iso as wib_iso

THRESHOLD_15_S = 15.0
THRESHOLD_20_S = 20.0
TARGET_15_PCT = 90.0
TARGET_20_PCT = 95.0
PRANK_GHOST = frozenset({"prank", "silent"})
DASH = "–"


@dataclass(frozen=True)
class ServiceLevel:
    start: datetime
    end: datetime
    offered: int
    answered: int
    abandoned: int
    open: int
    answered_within_15: int
    answered_within_20: int
    base_15: int  # denominator of pct_within_15 (see the module docstring)
    base_20: int
    pct_within_15: float | None
    pct_within_20: float | None
    avg_answer_s: float | None
    p90_answer_s: float | None
    per_hour: tuple[int, ...]  # 24 buckets, WIB hours 00..23
    prank_ghost: int
    prank_ghost_pct: float | None

    @property
    def below_target_15(self) -> bool:
        return self.pct_within_15 is not None and self.pct_within_15 < TARGET_15_PCT

    @property
    def below_target_20(self) -> bool:
        return self.pct_within_20 is not None and self.pct_within_20 < TARGET_20_PCT

    def text(self, name: str, lang: str = "id") -> str:
        """A figure for the screen: percentages ``93,3 %``, seconds ``7,5 dtk`` (English: ``93.3 %``, ``7.5 s``)."""
        value = getattr(self, name)
        if name.endswith("_pct") or name.startswith("pct_"):
            return fmt_number(value, lang, " %")
        if name.endswith("_s"):
            return fmt_number(value, lang, " dtk" if lang == "id" else " s")
        return DASH if value is None else str(value)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; times are ISO 8601 in WIB (+07:00)."""
        return {
            "start": wib_iso(self.start),
            "end": wib_iso(self.end),
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "open": self.open,
            "answered_within_15": self.answered_within_15,
            "answered_within_20": self.answered_within_20,
            "base_15": self.base_15,
            "base_20": self.base_20,
            "pct_within_15": _round(self.pct_within_15),
            "pct_within_20": _round(self.pct_within_20),
            "target_15_pct": TARGET_15_PCT,
            "target_20_pct": TARGET_20_PCT,
            "below_target_15": self.below_target_15,
            "below_target_20": self.below_target_20,
            "avg_answer_s": _round(self.avg_answer_s),
            "p90_answer_s": _round(self.p90_answer_s),
            "per_hour": list(self.per_hour),
            "prank_ghost": self.prank_ghost,
            "prank_ghost_pct": _round(self.prank_ghost_pct),
        }


def fmt_number(value: float | None, lang: str = "id", unit: str = "") -> str:
    """One decimal, Indonesian decimal comma unless ``lang`` is ``en``; ``None`` is "–"."""
    if value is None:
        return DASH
    text = f"{value:.1f}"
    return (text.replace(".", ",") if lang != "en" else text) + unit


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def percentile_nearest_rank(values: Sequence[float], pct: float) -> float | None:
    """The nearest-rank percentile: the value at rank ⌈pct/100 · n⌉ of the sorted values (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered) - 1e-9))
    return ordered[rank - 1]


def answer_time_s(call: CallRecord) -> float | None:
    if call.connected_at is None:
        return None
    return max(0.0, (call.connected_at - call.received_at).total_seconds())


def compute(calls: Iterable[CallRecord], start: datetime, end: datetime) -> ServiceLevel:
    """The service level of the calls received in ``[start, end)`` (others in ``calls`` are ignored)."""
    require_aware(start, "start")
    require_aware(end, "end")
    unique: dict[str, CallRecord] = {}
    for call in calls:
        if not start <= call.received_at < end:
            continue
        seen = unique.get(call.id)
        if seen is None or call.updated_at >= seen.updated_at:
            unique[call.id] = call
    answered: list[float] = []
    abandoned_waits: list[float | None] = []
    per_hour = [0] * 24
    prank_ghost = 0
    for call in unique.values():
        per_hour[call.received_at.astimezone(WIB).hour] += 1
        if call.disposition in PRANK_GHOST:
            prank_ghost += 1
        waited = answer_time_s(call)
        if waited is not None:
            answered.append(waited)
        elif call.state == "abandoned":
            ended = call.ended_at
            abandoned_waits.append(None if ended is None else (ended - call.received_at).total_seconds())
    offered = len(unique)
    within = {t: sum(1 for w in answered if w <= t) for t in (THRESHOLD_15_S, THRESHOLD_20_S)}
    base = {
        t: len(answered) + sum(1 for w in abandoned_waits if w is None or w > t)
        for t in (THRESHOLD_15_S, THRESHOLD_20_S)
    }
    return ServiceLevel(
        start=start,
        end=end,
        offered=offered,
        answered=len(answered),
        abandoned=len(abandoned_waits),
        open=offered - len(answered) - len(abandoned_waits),
        answered_within_15=within[THRESHOLD_15_S],
        answered_within_20=within[THRESHOLD_20_S],
        base_15=base[THRESHOLD_15_S],
        base_20=base[THRESHOLD_20_S],
        pct_within_15=_share(within[THRESHOLD_15_S], base[THRESHOLD_15_S]),
        pct_within_20=_share(within[THRESHOLD_20_S], base[THRESHOLD_20_S]),
        avg_answer_s=sum(answered) / len(answered) if answered else None,
        p90_answer_s=percentile_nearest_rank(answered, 90),
        per_hour=tuple(per_hour),
        prank_ghost=prank_ghost,
        prank_ghost_pct=_share(prank_ghost, offered),
    )


def chart_svg(per_hour: Sequence[int], *, title: str = "Panggilan per jam (WIB)", unit: str = "panggilan") -> str:
    """A small bar chart of 24 hourly counts as inline SVG (no script). All text is escaped here."""
    counts = [int(c) for c in per_hour]
    if len(counts) != 24 or any(c < 0 for c in counts):
        raise ValueError("per_hour must hold 24 counts >= 0")
    bar, gap, left, top, plot, bottom = 14, 4, 4, 16, 70, 16
    width = left * 2 + 24 * (bar + gap) - gap
    height = top + plot + bottom
    peak = max(*counts, 1)
    label = escape(title, quote=True)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="sl-chart" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'
        ),
        f"<title>{label}</title>",
    ]
    for hour, count in enumerate(counts):
        x = left + hour * (bar + gap)
        h = round(count / peak * plot)
        hh = f"{hour:02d}"
        tip = escape(f"{hh}:00–{hh}:59 WIB: {count} {unit}", quote=True)
        parts.append(
            f'<g><title>{tip}</title><rect x="{x}" y="{top + plot - h}" width="{bar}" height="{h}" fill="#3b6ea5"/>'
        )
        if count:
            parts.append(
                f'<text x="{x + bar / 2:g}" y="{top + plot - h - 3}" font-size="9" text-anchor="middle">{count}</text>'
            )
        parts.append(f'<text x="{x + bar / 2:g}" y="{height - 4}" font-size="9" text-anchor="middle">{hh}</text></g>')
    parts.append(f'<line x1="{left}" y1="{top + plot}" x2="{width - left}" y2="{top + plot}" stroke="#889"/></svg>')
    return "".join(parts)
