"""Dimension reads on a cadence (`dimension_refresh_hours`): the per-parent lists that carry no
timestamp the API filters on (an event type's hosts and availability, a user's availability and
locations, each member's and group's webhook subscriptions) are read for every parent only when
a refresh is due. In between, per-parent lists are re-read only for the parents that changed
since the last refresh (their updated_at) or that a webhook delivery is about (`event_type.*` with
webhook_inbox); member and group webhook subscriptions wait for the refresh. 0 (the default)
reads every parent on every run.

A change that moves neither a parent nor a delivery (a host added to an event type, a user's
schedule edited) arrives at the next refresh: at most `dimension_refresh_hours` late. A refresh
emits what changed since the previous refresh started, not only since the bookmark: rows skipped
in between may be older than a bookmark other parents' rows moved. Full-table streams refresh on
every run while `emit_activate_version_messages` is on: a run that skipped a parent would make the
loader delete that parent's rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any

from tap_calendly.client import CalendlyChildStream, CalendlyStream
from tap_calendly.timestamps import format_timestamp, parse_timestamp

#: The stream's state key: when the last run that read every parent started.
STATE_KEY = "refreshed_at"


@dataclass(frozen=True)
class Cadence:
    started: datetime
    refreshed_at: datetime | None  # the last refresh, as this run found it
    due: bool  # this run reads every parent


class RefreshedOnCadence(CalendlyStream):
    """A stream whose per-parent reads wait for a refresh (mixed in before its base)."""

    @cached_property
    def cadence(self) -> Cadence:
        started = datetime.now(timezone.utc)
        refreshed = parse_timestamp(self.stream_state.get(STATE_KEY))
        hours = float(self.config.get("dimension_refresh_hours") or 0)
        deletes_unsent = self.replication_key is None and bool(
            self.config.get("emit_activate_version_messages")
        )
        due = (
            hours == 0
            or deletes_unsent
            or refreshed is None
            or started - refreshed >= timedelta(hours=hours)
        )
        return Cadence(started, refreshed, due)

    def _stored_bookmark(self) -> datetime | None:
        stored = super()._stored_bookmark()
        cadence = self.cadence
        if stored is None or not cadence.due or cadence.refreshed_at is None:
            return stored
        return min(stored, cadence.refreshed_at)

    def record_refresh(self) -> None:
        """Called once every parent was read (the listing ended)."""
        if self.cadence.due:
            self.stream_state[STATE_KEY] = format_timestamp(self.cadence.started)


class DimensionStream(RefreshedOnCadence, CalendlyChildStream):
    """A per-parent dimension list."""

    def reads_children_of(self, parent: Mapping[str, Any]) -> bool:
        refreshed = self.cadence.refreshed_at
        if self.cadence.due or refreshed is None:
            return True
        changed = parse_timestamp(parent.get("updated_at"))
        if changed is None or changed > refreshed:
            return True
        hints = self.calendly_tap.webhook_hints
        return hints is not None and hints.is_about(parent["uri"])

    def listing_done(self) -> None:
        super().listing_done()
        self.record_refresh()
