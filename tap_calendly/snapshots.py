"""Forward-looking snapshot streams (opt-in with `snapshot_days_ahead`): what the next days look
like at the time of the run, e.g. an event type's available times or a user's busy times."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from singer_sdk.helpers.types import Record

from calendly_http import NotFoundError
from tap_calendly.client import CalendlyChildStream
from tap_calendly.timestamps import format_timestamp


class ForwardSnapshotStream(CalendlyChildStream):
    """Opt-in with `snapshot_days_ahead` > 0: what the next days look like now, read in windows
    of at most `max_window_days` (the API refuses longer ranges and past start times). Every run
    adds a whole snapshot, each row stamped with the run's `captured_at`."""

    replication_key = None
    enabled_by = "snapshot_days_ahead"
    max_window_days: ClassVar[int]
    parent_key: ClassVar[str]
    _captured_at: datetime

    def prepare_fetch(self) -> None:
        super().prepare_fetch()
        self._captured_at = datetime.now(timezone.utc)

    def windows(self) -> Iterator[tuple[str, str]]:
        """Empty while `snapshot_days_ahead` is 0 (the default): the stream is off."""
        start = self._captured_at + timedelta(minutes=1)  # still in the future when it arrives
        end = start + timedelta(days=self.calendly_tap.snapshot_days_ahead)
        while start < end:
            stop = min(end, start + timedelta(days=self.max_window_days))
            yield format_timestamp(start), format_timestamp(stop)
            start = stop

    def wanted(self, parent: Mapping[str, Any]) -> bool:
        return True

    def iter_for(self, parent: Mapping[str, Any]) -> Iterator[Record]:
        if not self.wanted(parent):
            return
        stamp = {self.parent_key: parent["uri"], "captured_at": format_timestamp(self._captured_at)}
        for start, end in self.windows():
            query = {self.parent_key: parent["uri"], "start_time": start, "end_time": end}
            try:
                body = self.client.request("GET", self.path, params=query) or {}
            except NotFoundError:
                return
            for row in body.get("collection") or []:
                yield {**row, **stamp}
