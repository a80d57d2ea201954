"""Calendly's timestamps: RFC 3339 in UTC with microseconds, e.g. 2020-01-02T03:04:05.678123Z."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

UTC = timezone.utc


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from Calendly's RFC 3339 text (or a datetime); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value)
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_timestamp(moment: datetime) -> str:
    """Calendly's own format: UTC with microseconds and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
