"""One request pacer per run, shared by every thread, so a normal sync never meets a 429."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass


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


MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


@dataclass(frozen=True)
class Window:
    """At most `limit` requests in any `seconds` long stretch."""

    limit: int
    seconds: float


def scheduling_api_limits(plan: str | None, stage: str | None) -> tuple[Window, ...]:
    """Calendly's own limits for POST /invitees (release note 2026-04-15), per user.

    An unknown or free plan gets the limits of paid plans below Enterprise: a 429 there is then
    waited out, which costs time but never a record.
    """
    if stage == "trial":
        return (Window(5, DAY),)
    if plan == "enterprise":
        return (Window(500, MINUTE),)
    return (Window(10, MINUTE), Window(50, HOUR), Window(100, DAY))


class WindowPacer:
    """Keeps one endpoint within limits counted over several windows (per minute, hour, day).

    A sliding log of this run's sends: no stretch of a window's length ever holds more than its
    limit, whichever way the server aligns its windows. Calendly's answer headers (Remaining 0,
    Reset) and 429s pause it, for sends it cannot see (other runs of the same user).
    """

    def __init__(
        self,
        windows: tuple[Window, ...],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not windows:
            raise ValueError("a pacer needs at least one window")
        self.windows = tuple(sorted(windows, key=lambda w: w.seconds))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._paused_until = 0.0

    def acquire(self) -> float:
        """Block until a send fits every window; record it; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_at(now)
                if wait <= 0:
                    self._sent.append(now)
                    return waited
            self._sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        reset = _int_header(headers, "X-RateLimit-Reset")
        if remaining == 0 and reset:
            self.pause(reset)

    def refusal_wait(self, refusals: int) -> float:
        """How long to hold back after the n-th 429 in a row that named no wait: the shortest
        window, doubling, up to the longest (the day a trial's quota needs)."""
        shortest, longest = self.windows[0].seconds, self.windows[-1].seconds
        with self._lock:
            needed = self._wait_at(self._clock())
        return max(needed, min(longest, shortest * 2 ** (refusals - 1)))

    def _wait_at(self, now: float) -> float:
        """Call under the lock."""
        longest = self.windows[-1].seconds
        while self._sent and now - self._sent[0] >= longest:
            self._sent.popleft()
        wait = self._paused_until - now
        for window in self.windows:
            in_window = [t for t in self._sent if now - t < window.seconds]
            if len(in_window) >= window.limit:
                # the oldest send that must leave the window before one more fits
                oldest = in_window[len(in_window) - window.limit]
                wait = max(wait, oldest + window.seconds - now)
        return wait
