"""When to try a request again, and how long to wait first."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import requests
from backoff import expo

RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    requests.exceptions.ConnectionError,  # includes resets and refused connections
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,  # body cut short
    requests.exceptions.ContentDecodingError,
)
# Methods whose repetition cannot do anything twice (a repeated DELETE answers 404).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
MAX_BACKOFF_SECONDS = 60.0
# Retries of a connection that cannot be made while the API has never answered this run: then it
# is a wrong api_url (host, port) far more likely than a fault, and a full backoff would hide it.
FIRST_CONTACT_RETRIES = 2
MAX_RATE_LIMIT_WAIT_SECONDS = 120.0


@dataclass
class RetryPolicy:
    """Bounded retries: 429 waits what Calendly says; everything else backs off with jitter."""

    max_retries: int = 8
    initial_wait: float = 1.0
    random: Callable[[], float] = field(default=random.random)

    def backoff(self, retry_number: int) -> float:
        """The n-th retry's wait (1-based): backoff's exponential steps (initial_wait doubling,
        capped), each with equal jitter (half the step, plus up to the other half at random)."""
        steps = expo(factor=self.initial_wait, max_value=MAX_BACKOFF_SECONDS)
        step = next(itertools.islice(steps, retry_number, None))  # its first value primes it
        return step / 2 + self.random() * step / 2

    def rate_limit_wait(self, response: requests.Response, retry_number: int) -> float:
        """Retry-After if present, else X-RateLimit-Reset, else the plain backoff."""
        for header in ("Retry-After", "X-RateLimit-Reset"):
            seconds = _seconds(response.headers.get(header))
            if seconds is not None:
                # a little slack so the retry lands in the fresh window
                return min(MAX_RATE_LIMIT_WAIT_SECONDS, seconds + 0.25)
        return self.backoff(retry_number)


def _seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def never_reached_the_server(exc: Exception) -> bool:
    """True when the request certainly was not processed: the connection was never established."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3 MaxRetryError wraps the cause
    return type(reason).__name__ in ("NewConnectionError", "NameResolutionError")
