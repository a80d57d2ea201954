"""Rate limiting (per token, fixed windows), injected latency, seeded faults, and writes that
commit and then lose their answer (selected per test)."""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FAULT_KINDS = ("500", "502", "503", "reset", "stall", "truncate")
# How the answer to a committed write is lost: a 5xx from a proxy after the fact, a reset, an
# answer so late the client has given up (timeout), or a body cut short.
ANSWER_LOSS_KINDS = ("500", "502", "503", "reset", "timeout", "truncate")


@dataclass(frozen=True)
class Quota:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # whole seconds until the window resets

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    """Fixed windows per token, each opened by the token's first request.

    `limit` 0 means off: nothing is refused, and the headers show the plan's nominal limit
    with Remaining equal to it, so clients that pace themselves by the headers do not slow down.
    """

    def __init__(self, limit: int, nominal: int, window_seconds: float = 60.0) -> None:
        self.limit = limit
        self.nominal = nominal
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def _window(self, key: str, now: float) -> tuple[float, int, int]:
        """This key's window (start, requests used, whole seconds to reset); call under the lock."""
        start, used = self._windows.get(key, (now, 0))
        if now - start >= self.window_seconds:
            start, used = now, 0
        return start, used, max(1, math.ceil(start + self.window_seconds - now))

    def take(self, key: str) -> Quota:
        now = time.monotonic()
        with self._lock:
            start, used, reset = self._window(key, now)
            if self.limit <= 0:
                self._windows[key] = (start, used)
                return Quota(True, self.nominal, self.nominal, reset)
            if used >= self.limit:
                return Quota(False, self.limit, 0, reset)
            used += 1
            self._windows[key] = (start, used)
            return Quota(True, self.limit, self.limit - used, reset)

    def peek(self, key: str) -> Quota:
        """Headers for a response that does not count (e.g. a 401 before any token is known)."""
        with self._lock:
            _, used, reset = self._window(key, time.monotonic())
        limit = self.limit if self.limit > 0 else self.nominal
        remaining = max(0, limit - used) if self.limit > 0 else self.nominal
        return Quota(True, limit, remaining, reset)


class FaultInjector:
    """A reproducible sequence of faults: same seed and request order -> same faults."""

    def __init__(
        self, seed: int, rate: float, kinds: tuple[str, ...], stall_seconds: float
    ) -> None:
        self._rng = random.Random(f"faults-{seed}")
        self._lock = threading.Lock()
        self.configure(rate=rate, kinds=kinds, stall_seconds=stall_seconds)

    def configure(
        self,
        *,
        rate: float | None = None,
        kinds: tuple[str, ...] | None = None,
        stall_seconds: float | None = None,
    ) -> None:
        """Validate first, then change everything at once: a request served meanwhile draws from
        the old settings or the new ones, never from the new rate with the old kinds."""
        if rate is not None and not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault_rate must be within [0, 1], got {rate}")
        if kinds is not None and (not kinds or set(kinds) - set(FAULT_KINDS)):
            raise ValueError(
                f"fault_kinds must be a non-empty subset of {FAULT_KINDS}, got {kinds}"
            )
        with self._lock:
            if rate is not None:
                self.rate = rate
            if kinds is not None:
                self.kinds = tuple(kinds)
            if stall_seconds is not None:
                self.stall_seconds = stall_seconds

    def draw(self) -> str | None:
        with self._lock:
            roll = self._rng.random()
            kind = self._rng.choice(self.kinds)
            rate = self.rate
        return kind if roll < rate else None


@dataclass
class AnswerLoss:
    kind: str
    method: str
    path: re.Pattern[str]
    remaining: int


class AnswerLosses:
    """Writes that Calendly performs and whose answer is then lost on the way back.

    A rule names the kind of loss, the method and a regex searched in the request path, and how
    many successful (2xx) answers it eats; a refused write keeps the rule for the next one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[AnswerLoss] = []
        self.lost: list[tuple[str, str, str]] = []  # (method, path, kind), in order

    def add(self, kind: str, *, method: str = "POST", path: str = "", times: int = 1) -> None:
        if kind not in ANSWER_LOSS_KINDS:
            raise ValueError(f"answer loss kind must be one of {ANSWER_LOSS_KINDS}, got {kind!r}")
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        with self._lock:
            self._rules.append(AnswerLoss(kind, method.upper(), re.compile(path), times))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, method: str, path: str, status: int) -> str | None:
        """The loss to apply to this answer (and count it), or None to answer normally."""
        if status >= 300:
            return None
        with self._lock:
            for rule in self._rules:
                if rule.method == method and rule.path.search(path):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    self.lost.append((method, path, rule.kind))
                    return rule.kind
        return None


def parse_answer_loss(spec: str) -> tuple[str, str, str, int]:
    """`KIND[:METHOD[:PATH_REGEX[:TIMES]]]` (the --lose-answer option) -> its parts."""
    kind, method, path, times = [*spec.split(":", 3), "", "", ""][:4]
    return kind, method or "POST", path, int(times or 1)


# POST /invitees's own limits (Calendly release note 2026-04-15): (requests, seconds) per user.
SCHEDULING_API_LIMITS = {
    "trial": ((5, 86_400.0),),
    "enterprise": ((500, 60.0),),
    "paid": ((10, 60.0), (50, 3_600.0), (100, 86_400.0)),
}


class SchedulingApiLimiter:
    """The Scheduling API's limits per user, counted in sliding windows (no alignment a client
    could rely on). Its answers carry headers of their own: the tightest window's."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._sent: dict[str, list[float]] = {}

    @staticmethod
    def windows(plan: str, stage: str) -> tuple[tuple[int, float], ...]:
        if stage == "trial":
            return SCHEDULING_API_LIMITS["trial"]
        return SCHEDULING_API_LIMITS["enterprise" if plan == "enterprise" else "paid"]

    def take(self, key: str, plan: str, stage: str) -> Quota:
        windows = self.windows(plan, stage)
        with self._lock:
            now = self.clock()
            longest = max(seconds for _, seconds in windows)
            sent = [t for t in self._sent.get(key, []) if now - t < longest]
            found = []  # (remaining, limit, reset) per window
            for limit, seconds in windows:
                used = [t for t in sent if now - t < seconds]
                if len(used) >= limit:  # when the send that must leave first leaves
                    reset = used[len(used) - limit] + seconds - now
                else:
                    reset = used[0] + seconds - now if used else seconds
                found.append((limit - len(used), limit, max(1, math.ceil(reset))))
            allowed = all(remaining > 0 for remaining, _, _ in found)
            if allowed:
                sent.append(now)
            self._sent[key] = sent
        remaining, limit, reset = min(found)  # the tightest window speaks
        return Quota(allowed, limit, remaining - 1 if allowed else 0, reset)
