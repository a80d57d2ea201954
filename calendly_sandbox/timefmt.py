"""RFC 3339 timestamps as the API writes them: UTC, microseconds, a trailing Z.

Strings in this one format sort in time order, so indexes compare them directly.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
DAY = 86_400.0  # seconds


def fmt(ts: float) -> str:
    """Epoch seconds -> '2020-01-02T03:04:05.678123Z'."""
    whole = int(ts // 1)
    micros = round((ts - whole) * 1_000_000)
    if micros == 1_000_000:
        whole, micros = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{micros:06d}Z"


def parse(text: str) -> float:
    """An RFC 3339 date-time (any offset, optional fraction) -> epoch seconds; ValueError if not."""
    value = text.strip()
    if not value or "T" not in value.upper():
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    if value[-1] in "zZ":
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"date-time without a UTC offset: {text!r}")
    return (parsed - _EPOCH).total_seconds()


def now() -> float:
    return time.time()
