"""The deep re-read: late changes to old meetings converge without webhooks.

A no-show marked or removed on a meeting older than the re-read window (bookmark -
lookback_days) moves no event and, on real accounts, not always the invitee's updated_at: only a
read of that event's invitees sees it. With `deep_reread_days` = D > 0, the first run at least
`deep_reread_every_hours` = H after the last deep one re-reads the invitees of every event that
started within the last D days. So such a change reaches the warehouse within H hours plus one
run interval, at the cost of one request per event of those D days on one run in each H hours.
The invitees read with a no-show are watched within the D days (13 bytes each in state), so a
no-show removed there is seen as removed by the next deep run.

The invitees stream state keeps when the last deep re-read completed (`deep_reread_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tap_calendly.timestamps import format_timestamp, parse_timestamp

DEEP_REREAD_AT = "deep_reread_at"
DEFAULT_DEEP_REREAD_DAYS = 0
DEFAULT_DEEP_REREAD_EVERY_HOURS = 24


@dataclass(frozen=True)
class DeepReread:
    days: int  # 0: off
    #: Whether this run re-reads deep (decided from the state the run started with).
    due: bool

    @classmethod
    def of(
        cls, config: Mapping[str, Any], stream_state: Mapping[str, Any], now: datetime
    ) -> DeepReread:
        days = int(config.get("deep_reread_days", DEFAULT_DEEP_REREAD_DAYS))
        every = int(config.get("deep_reread_every_hours", DEFAULT_DEEP_REREAD_EVERY_HOURS))
        last = parse_timestamp(stream_state.get(DEEP_REREAD_AT))
        due = days > 0 and (last is None or now - last >= timedelta(hours=every))
        return cls(days, due)

    def window_start(self, run_started: datetime) -> datetime:
        return run_started - timedelta(days=self.days)

    def watch_horizon(self, regular: datetime | None, run_started: datetime) -> datetime | None:
        """How far back the invitees read with a no-show stay watched."""
        if regular is None or not self.days:
            return regular
        return min(regular, self.window_start(run_started))

    def done(self, stream_state: dict[str, Any], run_started: datetime) -> None:
        """The listing is complete: a deep run is recorded; turned off, the record goes."""
        if not self.days:
            stream_state.pop(DEEP_REREAD_AT, None)
        elif self.due:
            stream_state[DEEP_REREAD_AT] = format_timestamp(run_started)
