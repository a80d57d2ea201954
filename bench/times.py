"""Calendly's timestamp format, read and written (UTC, microseconds, a trailing Z)."""

from __future__ import annotations

from datetime import datetime, timezone

UTC = timezone.utc


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)


def api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
