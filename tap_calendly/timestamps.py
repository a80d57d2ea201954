"""Calendly's timestamps: RFC 3339 in UTC with microseconds, e.g. 2020-01-02T03:04:05.678123Z."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from pendulum.parsing import parse_iso8601

UTC = timezone.utc


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from RFC 3339 / ISO 8601 text (or a datetime); None when empty.

    pendulum's ISO 8601 parser (its compiled one: parse_timestamp runs for every row, and
    pendulum.parse costs 20 times more). A date alone is its midnight UTC, a time without an
    offset is UTC; a time of day alone, a duration or free text is a ValueError.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        parsed = parse_iso8601(value.upper())  # RFC 3339 allows a lowercase t and z
        if isinstance(parsed, datetime):
            moment = parsed
        elif isinstance(parsed, date):
            moment = datetime(parsed.year, parsed.month, parsed.day)
        else:
            raise ValueError(f"not a date-time: {value!r}")
    else:
        raise TypeError(f"expected a date-time string, got {type(value).__name__}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_timestamp(moment: datetime) -> str:
    """Calendly's own format: UTC with microseconds and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: How far before a moment a `min_*` filter is sent so that rows AT the moment are listed:
#: Calendly reads min_start_time, min_occurred_at and min_created_at as "after this time".
#: A whole second, in case a server compares at a coarser precision than it prints.
MIN_FILTER_MARGIN = timedelta(seconds=1)


def listing_from(moment: datetime) -> str:
    """The `min_*` filter value that lists every row at or after `moment` (ties included)."""
    return format_timestamp(moment - MIN_FILTER_MARGIN)
