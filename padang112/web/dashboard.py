"""The command-center dashboard: the page ``/dasbor`` and its data ``GET /api/v1/dashboard`` (supervisor, admin).

The figures are computed by :mod:`padang112.stats.dashboard` from the incident store. The page draws them with
``web/static/dashboard.js``: a Leaflet map (vendored, ``scripts/vendor-web.sh``; no tiles: Padang's kecamatan
are drawn as their approximate centres from ``padang_wilayah.json``) and tables filled with ``textContent``.
It stays live by listening to the incident and escalation messages of ``/ws`` (see ``web/incidents.py``) and
reading ``/api/v1/dashboard`` again after them, and every 30 s so that deadlines passing show without an event.

Agency operators do not get the dashboard: it shows every agency's incidents, and an agency sees only its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from padang112.incidents import geography, routing
from padang112.incidents.catalog import load_catalog
from padang112.incidents.store import IncidentStore
from padang112.stats import dashboard as figures
from padang112.stats.queries import wib_day_bounds
from padang112.web import auth, history, incidents, pages
from padang112.wib import WIB

ROLES = ("supervisor", "admin")


def now(request: web.Request) -> datetime:
    """The time the figures are computed at: the clock the history routes use (tests set it)."""
    return request.app.get(history.CLOCK, history.utc_now)()


def type_namer(lang: str) -> Callable[[str], str]:
    """Incident type code → its name in ``lang`` (the code itself when the catalog no longer has it)."""
    catalog = load_catalog()

    def name(code: str) -> str:
        if code not in catalog:
            return code
        kind = catalog.get(code)
        return kind.name_en if lang == "en" else kind.name_id

    return name


def store_of(request: web.Request) -> IncidentStore:
    return request.app[incidents.INCIDENTS].store


async def dashboard_data(request: web.Request) -> dict[str, Any]:
    at = now(request)
    day = wib_day_bounds(at.astimezone(WIB).date())
    store = store_of(request)
    centres = {k.name: k.centre for k in geography.load_geography().kecamatan}
    return figures.dashboard(
        await store.open_incidents(),
        await store.touching(*day),
        day,
        at,
        centres,
        type_namer(auth.language(request)),
        routing.ACK_DEADLINE_S,
    )


@auth.require(*ROLES)
async def dashboard_api(request: web.Request) -> web.Response:
    """The dashboard's figures: open incidents by type and agency, today's incidents for the map, times per agency.

    Today is the WIB calendar day. ``open.by_agency`` counts open tasks, those waiting for "Terima" and those of
    them past their acknowledge deadline. ``map.incidents`` are today's incidents at their coordinates, or at
    their kecamatan's approximate centre (``approximate: true``). ``agency_times`` gives per agency the p50/p90
    seconds to acknowledge and to resolve of today's tasks and how many were acknowledged within their deadline
    (``ack_deadlines_s``, per priority). Names follow ``?lang=`` (``id`` or ``en``).
    """
    return web.json_response(await dashboard_data(request), headers={"Cache-Control": "no-store"})


async def _page_context(request: web.Request) -> dict[str, Any]:
    return {
        "deadlines": sorted(routing.ACK_DEADLINE_S.items()),
        "bounds": [[geography.LAT_MIN, geography.LON_MIN], [geography.LAT_MAX, geography.LON_MAX]],
    }


def setup(app: web.Application) -> None:
    app.router.add_get("/dasbor", auth.require(*ROLES)(pages._page("dashboard.html", _page_context)))
    app.router.add_get("/api/v1/dashboard", dashboard_api)
