"""One request pacer per run, shared by every thread, so a normal sync never meets a 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping


class Throttle:
    """Spaces requests evenly at a rate, and holds everyone back while Calendly says to wait.

    With `per_minute` unset the rate adapts: `share` x the limit Calendly reports in
    X-RateLimit-Limit. Requests are spaced at least 60/rate seconds apart (no bursts), so no
    60-second window holds more than the rate plus one, whatever window the server counts in.
    """

    def __init__(
        self,
        per_minute: float | None = None,
        *,
        share: float = 0.8,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._fixed = per_minute is not None
        self._interval = 60.0 / per_minute if per_minute else 0.0
        self._share = share
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._limit: int | None = None

    @property
    def per_minute(self) -> float | None:
        """The pace in force (None until the API has reported its limit)."""
        return 60.0 / self._interval if self._interval else None

    def acquire(self) -> float:
        """Block until this caller may send; return the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """Hold every caller back for `seconds` from now (Calendly asked us to wait)."""
        with self._lock:
            self._next_slot = max(self._next_slot, self._clock() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adapt to the X-RateLimit-* headers of a response."""
        limit = _int_header(headers, "X-RateLimit-Limit")
        if limit and not self._fixed and limit != self._limit:
            with self._lock:
                self._limit = limit
                self._interval = 60.0 / (limit * self._share)
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        reset = _int_header(headers, "X-RateLimit-Reset")
        if remaining == 0 and reset:
            self.pause(reset)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None
