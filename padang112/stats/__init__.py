"""Service-level figures for the supervisor (pure, in :mod:`.service_level`) and the reads behind them
and behind the call history (:mod:`.queries`)."""

from padang112.stats.service_level import (
    TARGET_15_PCT,
    TARGET_20_PCT,
    WIB,
    ServiceLevel,
    chart_svg,
    compute,
)

__all__ = ["TARGET_15_PCT", "TARGET_20_PCT", "WIB", "ServiceLevel", "chart_svg", "compute"]
