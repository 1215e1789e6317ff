"""``GET /api/v1/staffing-advice`` (supervisor, admin): "Saran jumlah petugas" for this hour and the next.

Erlang A (:mod:`padang112.planning.staffing`) on the calls of the last 4 weeks in the same WIB hour (arrivals,
ring + talk time, patience estimated from who gave up), with the room's wrap-up time; plus how many seats are
signed in now. The supervisor page shows it through ``_staffing_advice.html`` and ``staffing_advice.js``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from padang112.planning import staffing
from padang112.stats import queries
from padang112.web import auth
from padang112.web.dashboard import now
from padang112.web.keys import DESK, REPOSITORY, SETTINGS

ROLES = ("supervisor", "admin")
WEEKS = 4


def advice_view(advice: staffing.Advice) -> dict[str, Any]:
    f = advice.figures
    ring = advice.load.ring_s
    return {
        "hour": advice.hour,
        "seats": advice.seats,
        "calls_per_hour": round(advice.load.calls_per_hour, 1),
        "handle_s": round(advice.load.handle_s),
        "patience_s": round(advice.load.patience_s),
        "pct_within_15": None if f is None else round(100 * f.answered_within[max(0.0, 15 - ring)], 1),
        "pct_within_20": None if f is None else round(100 * f.answered_within[max(0.0, 20 - ring)], 1),
    }


@auth.require(*ROLES)
async def staffing_advice(request: web.Request) -> web.Response:
    """Seats advised for this WIB hour and the next (Erlang A on the last 4 weeks' calls), and seats signed in."""
    at = now(request)
    calls = await queries.calls_between(request.app[REPOSITORY], at - timedelta(weeks=WEEKS), at)
    settings = request.app[SETTINGS]
    advice = staffing.from_calls(calls, at, hours=2, days=7 * WEEKS, wrap_s=settings.calls.wrap_up_s)
    desk = request.app.get(DESK)
    signed_in = None if desk is None else desk.signed_in()
    return web.json_response(
        {"weeks": WEEKS, "signed_in": signed_in, "hours": [advice_view(a) for a in advice]},
        headers={"Cache-Control": "no-store"},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/staffing-advice", staffing_advice)
