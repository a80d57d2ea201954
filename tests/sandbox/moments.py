"""Times relative to now, for bookings and forward-looking ranges."""

from __future__ import annotations

import time

from calendly_sandbox.timefmt import DAY, fmt


def in_days(days: float) -> str:
    return fmt(time.time() + days * DAY)


def slot(days: float) -> str:
    """A booking start about `days` from now, on a quarter hour."""
    start = time.time() + days * DAY
    return fmt(start - start % 900)
