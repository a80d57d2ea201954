"""Dimension reads on a cadence (`dimension_refresh_hours`): the per-parent lists that carry no
timestamp the API filters on (an event type's hosts and availability, a user's availability and
locations) are re-read for every parent only when a refresh is due, and in between only for the
parents that changed since the last refresh (their updated_at) or that a webhook delivery is about
(`event_type.*` with webhook_inbox). 0 (the default) re-reads every parent on every run.

A change that moves neither the parent nor a delivery (a host added to an event type, a user's
schedule edited) arrives at the next refresh: at most `dimension_refresh_hours` late. Full-table
streams refresh on every run while `emit_activate_version_messages` is on: a run that skipped a
parent would make the loader delete that parent's rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from tap_calendly.client import CalendlyChildStream
from tap_calendly.timestamps import format_timestamp, parse_timestamp

#: The stream's state key: when every parent's list was last read.
STATE_KEY = "refreshed_at"


class DimensionStream(CalendlyChildStream):
    """A per-parent dimension list, re-read for every parent only when a refresh is due."""

    _refresh_due = True
    _refreshed_at: datetime | None = None
    _run_started: datetime

    def prepare_fetch(self) -> None:
        super().prepare_fetch()
        self._run_started = datetime.now(timezone.utc)
        self._refreshed_at = parse_timestamp(self.stream_state.get(STATE_KEY))
        hours = float(self.config.get("dimension_refresh_hours") or 0)
        deletes_unsent = self.replication_key is None and bool(
            self.config.get("emit_activate_version_messages")
        )
        self._refresh_due = (
            hours == 0
            or deletes_unsent
            or self._refreshed_at is None
            or self._run_started - self._refreshed_at >= timedelta(hours=hours)
        )

    def reads_children_of(self, parent: Mapping[str, Any]) -> bool:
        if self._refresh_due or self._refreshed_at is None:
            return True
        changed = parse_timestamp(parent.get("updated_at"))
        if changed is None or changed > self._refreshed_at:
            return True
        hints = self.calendly_tap.webhook_hints
        return hints is not None and hints.is_about(parent["uri"])

    def listing_done(self) -> None:
        super().listing_done()
        if self._refresh_due:
            self.stream_state[STATE_KEY] = format_timestamp(self._run_started)
