"""The room's surge as figures and a trend: waiting now, oldest wait, abandoned in the last 5 minutes, and the
last ten minutes in 10-second buckets (peak waiting, arrivals, abandoned) for a sparkline.

A supervisor facing 400 callers in a minute reads these, not 400 rows. Pure: fed with the room's call
transitions (arrivals, abandoned calls) and with samples of the queue's length; a restart starts a new trend
(the current waiting figures come from the room itself).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from padang112.domain.events import CallTransition

BUCKET_S = 10
BUCKETS = 60  # ten minutes
ABANDONED_WINDOW_S = 300


@dataclass
class Bucket:
    start: int  # epoch seconds, a multiple of BUCKET_S
    waiting: int = 0  # the most callers waiting at once in these 10 s
    arrived: int = 0
    abandoned: int = 0


class SurgeMeter:
    def __init__(self, bucket_s: int = BUCKET_S, buckets: int = BUCKETS) -> None:
        self.bucket_s = bucket_s
        self.buckets: deque[Bucket] = deque(maxlen=buckets)
        self.abandoned_at: deque[float] = deque()

    def observe(self, event: CallTransition) -> None:
        """Count an arrival (first seen) or an abandoned call."""
        at = event.at.timestamp()
        if event.from_state is None:
            self._bucket(at).arrived += 1
        if event.to_state == "abandoned":
            self._bucket(at).abandoned += 1
            self.abandoned_at.append(at)

    def sample(self, at: datetime, waiting: int) -> None:
        bucket = self._bucket(at.timestamp())
        bucket.waiting = max(bucket.waiting, waiting)

    def view(self, now: datetime) -> dict[str, Any]:
        """``abandoned_5min`` and ``trend`` (oldest first, a point per bucket, empty buckets filled with 0)."""
        t = now.timestamp()
        while self.abandoned_at and self.abandoned_at[0] < t - ABANDONED_WINDOW_S:
            self.abandoned_at.popleft()
        start = self._start(t) - ((self.buckets.maxlen or BUCKETS) - 1) * self.bucket_s
        held = {b.start: b for b in self.buckets}
        trend = []
        for s in range(start, self._start(t) + 1, self.bucket_s):
            b = held.get(s) or Bucket(s)
            trend.append({"t": s, "waiting": b.waiting, "arrived": b.arrived, "abandoned": b.abandoned})
        return {
            "abandoned_5min": sum(1 for a in self.abandoned_at if a <= t),
            "arrived_5min": sum(p["arrived"] for p in trend if p["t"] > t - ABANDONED_WINDOW_S),
            "bucket_s": self.bucket_s,
            "trend": trend,
        }

    def _start(self, t: float) -> int:
        return int(t // self.bucket_s) * self.bucket_s

    def _bucket(self, t: float) -> Bucket:
        start = self._start(t)
        if self.buckets and self.buckets[-1].start == start:
            return self.buckets[-1]
        bucket = next((b for b in self.buckets if b.start == start), None)  # a late event: its own bucket
        if bucket is None:
            bucket = Bucket(start)
            kept = sorted([*self.buckets, bucket], key=lambda b: b.start)
            self.buckets = deque(kept, maxlen=self.buckets.maxlen)  # too old: counted nowhere
        return bucket
