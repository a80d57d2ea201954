"""tap-calendly: settings and the stream list."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, ClassVar

from singer_sdk import Stream, Tap, metrics
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities

from calendly_http import CalendlyClient, ClientSettings, ConfigError
from calendly_plugin.plugin import CalendlyPlugin
from calendly_plugin.sdk_compat import quiet_unsorted_stream_notice
from calendly_plugin.settings import SHARED_SETTINGS
from tap_calendly.client import DEFAULT_CONCURRENCY, DEFAULT_LOOKBACK_DAYS
from tap_calendly.coverage import DEFAULT_RECONCILE_HOURS, Coverage, judge_coverage
from tap_calendly.reread import DEFAULT_DEEP_REREAD_DAYS, DEFAULT_DEEP_REREAD_EVERY_HOURS
from tap_calendly.streams import STREAM_TYPES
from tap_calendly.timestamps import parse_timestamp
from tap_calendly.webhooks import InboxSlice, WebhookEventsStream, WebhookHints, open_slice

DEFAULT_SNAPSHOT_DAYS_AHEAD = 0

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
        description="Incremental runs re-read the invitees of every event starting after "
        "(bookmark - lookback_days), future events included, besides those of changed events "
        "(every event since start_date is listed each run, so changes to events of any age "
        "arrive). A no-show marked or removed on an older meeting is seen only through "
        "webhook_inbox, deep_reread_days or a larger value, at the cost of one request per event "
        "in the window. "
        "Also bounds how far back routing form submissions are re-read.",
    ),
    th.Property(
        "deep_reread_days",
        th.IntegerType(minimum=0),
        default=DEFAULT_DEEP_REREAD_DAYS,
        description="Without webhook_inbox, late changes to old meetings (a no-show marked or "
        "removed) are seen only when their invitees are read again: with a value D > 0, one run "
        "every deep_reread_every_hours re-reads the invitees of every event that started in the "
        "last D days (one request per event), and the invitees with a no-show there are watched "
        "(13 bytes each in state). Such a change then arrives within deep_reread_every_hours plus "
        "one run interval. 0 (the default): off.",
    ),
    th.Property(
        "deep_reread_every_hours",
        th.IntegerType(minimum=0),
        default=DEFAULT_DEEP_REREAD_EVERY_HOURS,
        description="How often the deep re-read of deep_reread_days happens: the first run at "
        "least this many hours after the last completed one does it.",
    ),
    th.Property(
        "child_concurrency",
        th.IntegerType(minimum=1, maximum=32),
        default=DEFAULT_CONCURRENCY,
        description="Requests in flight at once for per-parent collections (invitees of each "
        "event, hosts of each event type, submissions of each routing form, schedules of each "
        "user). The shared rate limit still paces them.",
    ),
    th.Property(
        "invitee_concurrency",
        th.IntegerType(minimum=1, maximum=32),
        description="Deprecated: the former name of child_concurrency. When set, it is used "
        "instead of child_concurrency (rename it).",
    ),
    th.Property(
        "webhook_inbox",
        th.StringType,
        description="The calendly-webhooks inbox: the path of its SQLite file, or a "
        "postgresql://user@host:port/db URL (password from PGPASSWORD or ~/.pgpass). Adds the stream "
        "webhook_events (one record per delivery), and makes each run re-read the events and "
        "invitees that deliveries since the last run name, whatever their age (a no-show on an "
        "old meeting, one invitee of a group event cancelling).",
    ),
    th.Property(
        "webhook_coverage",
        th.BooleanType,
        default=True,
        description="With webhook_inbox: where the inbox proves it holds every invitee change "
        "since the last run (a receiver was up, and an active organization subscription to "
        "invitee.created, invitee.canceled, invitee_no_show.created and invitee_no_show.deleted "
        "delivered to it throughout), re-read only the invitees of events deliveries named or "
        "that changed; elsewhere (receiver down past Calendly's retries, subscription missing, "
        "disabled or failing, first run) the lookback window's rule applies. See "
        "docs/coverage.md. Off: every run applies the window's rule.",
    ),
    th.Property(
        "webhook_reconcile_hours",
        th.IntegerType(minimum=1),
        default=DEFAULT_RECONCILE_HOURS,
        description="With webhook_coverage: at least this often a run re-reads the whole "
        "lookback window's invitees anyway, which bounds how long a change whose delivery "
        "Calendly never made stays missed.",
    ),
    th.Property(
        "dimension_refresh_hours",
        th.IntegerType(minimum=0),
        default=0,
        description="Event type hosts and availability, user availability and locations (one "
        "request per event type or user) and member and group webhook subscriptions (one per "
        "member or group) are re-read for every parent only this often; in between, only for "
        "event types and users whose updated_at moved since, and event types an event_type.* "
        "delivery is about (webhook_inbox). A change that moves neither arrives at most this "
        "many hours late. 0 (default): every run reads every parent.",
    ),
    th.Property(
        "skip_unchanged_future_invitees",
        th.BooleanType,
        description="Deprecated, no effect: webhook_coverage (on by default with "
        "webhook_inbox) skips unchanged events' invitees, future and past, only where the "
        "inbox proves coverage.",
    ),
    # The SDK reads this key but does not declare it, although the tap declares activate-version.
    th.Property(
        "emit_activate_version_messages",
        th.BooleanType,
        default=False,
        description="Full-table streams (availability_schedules, event_type_availability_"
        "schedules, locations, teams) stamp every record with this run's table version and send "
        "ACTIVATE_VERSION, so a loader that honours it (e.g. target-postgres with hard_delete) "
        "removes rows the run did not send, instead of receiving them as deletion records "
        "(_sdc_deleted_at, docs/deletions.md). Leave off for loaders that do not support it.",
    ),
    th.Property(
        "snapshot_days_ahead",
        th.IntegerType(minimum=0, maximum=365),
        default=DEFAULT_SNAPSHOT_DAYS_AHEAD,
        description="Turns on the forward-looking snapshot streams event_type_available_times "
        "and user_busy_times: how many days ahead of the run's start they look (0, the default: "
        "off). The API takes at most 31 days (available times) and 7 days (busy times) per "
        "request and no past start, so each active event type costs ceil(days / 31) and each "
        "user ceil(days / 7) requests per run.",
    ),
    th.Property(
        "meeting_recap_transcripts",
        th.BooleanType,
        default=False,
        description="Turns on the meeting_recap_transcripts stream: the transcript of every "
        "available meeting recap that changed since the last run, one request each (paid "
        "plans; transcripts are large).",
    ),
)


class TapCalendly(CalendlyPlugin, Tap):
    """Singer tap for Calendly (API v2)."""

    name = "tap-calendly"
    # Not structured-logging: with it Meltano's console shows each METRIC line without its tags,
    # so record counts lose their stream names. Plain lines keep the whole metric.
    # Not BATCH: a batch file holds rows that a STATE message written meanwhile would already
    # count as done. Records go out as RECORD messages, each before the STATE covering it.
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        c
        for c in Tap.capabilities
        if c not in (PluginCapabilities.STRUCTURED_LOGGING, PluginCapabilities.BATCH)
    ]
    config_jsonschema = th.PropertiesList(*SHARED_SETTINGS, *TAP_SETTINGS).to_dict()

    def __init__(self, *, validate_config: bool = True, **kwargs: Any) -> None:
        # Bookmarks advance when a stream completes, by design (tap_calendly/client.py); listings
        # sorted oldest first also resume from their own resume points (resume.py).
        quiet_unsorted_stream_notice()
        super().__init__(validate_config=validate_config, **kwargs)
        if validate_config:
            # What the JSON schema cannot check, before the first message or request.
            _ = self.client_settings
            check_timestamp_setting(self.config, "start_date")
            if self.config.get("skip_unchanged_future_invitees") and not self.config.get(
                "webhook_inbox"
            ):
                raise ConfigError(
                    "skip_unchanged_future_invitees",
                    "needs webhook_inbox: without deliveries, skipped invitees would never be "
                    "re-read",
                )
            if "invitee_concurrency" in self.config:
                self.logger.warning(
                    "invitee_concurrency is deprecated: it is used as child_concurrency, rename it."
                )
            if "skip_unchanged_future_invitees" in self.config:
                self.logger.warning(
                    "skip_unchanged_future_invitees is deprecated and has no effect: "
                    "webhook_coverage decides which invitees are re-read."
                )

    def discover_streams(self) -> list[Stream]:
        streams: list[Stream] = [stream_type(tap=self) for stream_type in STREAM_TYPES]
        if self.config.get("webhook_inbox"):
            streams.append(WebhookEventsStream(tap=self))  # last: after the streams it steers
        return streams

    @cached_property
    def webhook_slice(self) -> InboxSlice | None:
        """The part of the webhook inbox this run reads (taken once, on first use)."""
        return open_slice(self)

    @cached_property
    def webhook_hints(self) -> WebhookHints | None:
        inbox_slice = self.webhook_slice
        return None if inbox_slice is None else WebhookHints(inbox_slice.deliveries())

    @cached_property
    def webhook_coverage(self) -> Coverage | None:
        """What the inbox proves this run (judged once, at the start of the invitee listing)."""
        return judge_coverage(self)

    @cached_property
    def client_settings(self) -> ClientSettings:
        return ClientSettings.from_config(self.config)

    @cached_property
    def client(self) -> CalendlyClient:
        """The run's one HTTP client, made on first use: discovery sends no request."""
        return CalendlyClient(self.client_settings, logger=self.logger, user_agent="tap-calendly")

    @cached_property
    def organization_uri(self) -> str:
        """The organization read: configured, else found from /users/me once. That request
        counts in the `http_request_count` metric like every other."""
        if self.client_settings.organization:
            return self.client_settings.organization
        with metrics.http_request_counter(self.name, endpoint="/users/me") as counter:
            uri = self.client.organization_uri
            counter.increment()
        return uri

    @property
    def snapshot_days_ahead(self) -> int:
        return int(self.config.get("snapshot_days_ahead", DEFAULT_SNAPSHOT_DAYS_AHEAD))

    @property
    def concurrency(self) -> int:
        """child_concurrency, or the value of its deprecated name invitee_concurrency."""
        config = self.config
        return int(
            config.get("invitee_concurrency")
            or config.get("child_concurrency", DEFAULT_CONCURRENCY)
        )


def check_timestamp_setting(config: Mapping[str, Any], setting: str) -> None:
    value = config.get(setting)
    try:
        parse_timestamp(value)
    except (TypeError, ValueError):
        raise ConfigError(
            setting, f"expected an RFC 3339 date-time such as 2024-01-31T00:00:00Z, got {value!r}"
        ) from None


if __name__ == "__main__":
    TapCalendly.cli()
