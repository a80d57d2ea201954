"""tap-calendly: settings and the stream list."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import Tap
from singer_sdk import typing as th

from calendly_http import SHARED_SETTINGS, CalendlyClient, ClientSettings
from calendly_http.plugin import CalendlyPlugin
from tap_calendly.client import DEFAULT_CONCURRENCY, DEFAULT_LOOKBACK_DAYS, CalendlyStream
from tap_calendly.streams import STREAM_TYPES

TAP_SETTINGS = (
    th.Property(
        "start_date",
        th.DateTimeType,
        description="Earliest data to extract: scheduled events starting at or after it "
        "(future events included), activity log entries, outgoing communications. "
        "Default: everything. Users, event types and other configuration streams are always "
        "read in full on the first run.",
    ),
    th.Property(
        "lookback_days",
        th.IntegerType(minimum=0),
        default=DEFAULT_LOOKBACK_DAYS,
        description="Calendly filters scheduled events only by start time, so incremental runs "
        "re-read every event starting after (bookmark - lookback_days), including all future "
        "events, and the invitees of each of them. Changes (cancellations, no-shows, "
        "reschedules) to events that started earlier than that are not picked up: a larger "
        "value catches later changes to older meetings at the cost of more requests. Also "
        "bounds how far back routing form submissions are re-read.",
    ),
    th.Property(
        "invitee_concurrency",
        th.IntegerType(minimum=1, maximum=32),
        default=DEFAULT_CONCURRENCY,
        description="Requests in flight at once for per-parent collections (invitees of each "
        "event, hosts of each event type, submissions of each routing form, schedules of each "
        "user). The shared rate limit still paces them.",
    ),
)


class TapCalendly(CalendlyPlugin, Tap):
    """Singer tap for Calendly (API v2)."""

    name = "tap-calendly"
    config_jsonschema = th.PropertiesList(*SHARED_SETTINGS, *TAP_SETTINGS).to_dict()

    def discover_streams(self) -> list[CalendlyStream]:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]

    @cached_property
    def calendly(self) -> CalendlyClient:
        """The run's one HTTP client, made on first use: discovery sends no request."""
        return CalendlyClient(
            ClientSettings.from_config(self.config),
            logger=self.logger,
            user_agent="tap-calendly",
        )

    @property
    def concurrency(self) -> int:
        return int(self.config.get("invitee_concurrency", DEFAULT_CONCURRENCY))


if __name__ == "__main__":
    TapCalendly.cli()
