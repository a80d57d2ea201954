"""When to try a request again, and how long to wait first.

`CalendlyClient.send` makes attempts; each one's response (or transport error) is classified
here into an `Outcome`, and the waits between attempts are the rules here.
"""

from __future__ import annotations

import enum
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import requests
from backoff import expo

from calendly_http.throttle import WindowPacer

TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    requests.exceptions.ConnectionError,  # includes resets and refused connections
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,  # body cut short
    requests.exceptions.ContentDecodingError,
)
# Methods whose repetition cannot do anything twice (a repeated DELETE answers 404).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Methods that change nothing: a 5xx answering one lost no effect.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BACKOFF_SECONDS = 60.0
# Retries of a connection that cannot be made while the API has never answered this run: then it
# is a wrong api_url (host, port) far more likely than a fault, and a full backoff would hide it.
FIRST_CONTACT_RETRIES = 2
MAX_RATE_LIMIT_WAIT_SECONDS = 120.0
# Where a 429 names its wait, in seconds, first found first.
WAIT_HEADERS = ("Retry-After", "X-RateLimit-Reset")
# 429s in a row an endpoint with limits of its own may answer before the request is given up.
MAX_PACED_REFUSALS = 24


class Verdict(enum.Enum):
    """What one attempt came to."""

    OK = "ok"  # a 2xx with a readable body: done
    CREDENTIALS_REJECTED = "401"  # the access token may be recovered once (auth.Credentials)
    RATE_LIMITED = "429"  # Calendly did not act: wait for the window, then again
    RETRY = "retry"  # a fault worth another attempt after a backoff
    REFUSED = "refused"  # a 4xx that another attempt would not change


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    problem: str = ""
    # The answer was lost after Calendly may have acted: a write that is not idempotent must
    # not be sent again.
    may_have_acted: bool = False
    # False when no connection was made (certainly not processed).
    reached: bool = True


def classify_response(status: int, body_readable: bool, method: str) -> Outcome:
    """The outcome of an answered attempt (`body_readable`: a 2xx body parsed as JSON)."""
    if status < 300 and body_readable:
        return Outcome(Verdict.OK)
    if status == 401:
        return Outcome(Verdict.CREDENTIALS_REJECTED, "HTTP 401")
    if status < 300:
        return Outcome(Verdict.RETRY, "malformed JSON body", may_have_acted=True)
    if status == 429:
        return Outcome(Verdict.RATE_LIMITED, "HTTP 429")
    if status >= 500:
        # a proxy may answer 5xx after Calendly acted
        may_have_acted = method.upper() not in SAFE_METHODS
        return Outcome(Verdict.RETRY, f"HTTP {status}", may_have_acted=may_have_acted)
    return Outcome(Verdict.REFUSED, f"HTTP {status}")


def classify_transport_error(exc: Exception) -> Outcome:
    """The outcome of an attempt that got no (whole) answer: one of TRANSPORT_ERRORS."""
    reached = not never_reached_the_server(exc)
    return Outcome(Verdict.RETRY, _describe(exc), may_have_acted=reached, reached=reached)


def gives_up_on_first_contact(outcome: Outcome, api_answered: bool, retries: int) -> bool:
    """A connection that cannot be made before the API ever answered: after
    FIRST_CONTACT_RETRIES, a wrong api_url rather than a fault."""
    return not outcome.reached and not api_answered and retries >= FIRST_CONTACT_RETRIES


def endpoint_window_wait(response: requests.Response, pacer: WindowPacer, refusals: int) -> float:
    """How long a 429 from an endpoint with limits of its own holds that endpoint: what the
    answer names, however long (a day on a trial), else the pacer's guess for its window."""
    return named_wait(response) or pacer.refusal_wait(refusals)


def named_wait(response: requests.Response) -> float | None:
    """The wait a 429 names (Retry-After, else X-RateLimit-Reset) in seconds, uncapped."""
    for header in WAIT_HEADERS:
        try:
            seconds = float(response.headers.get(header) or "")
        except ValueError:
            continue
        if seconds > 0:
            return seconds
    return None


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
        for header in WAIT_HEADERS:
            seconds = _seconds(response.headers.get(header))
            if seconds is not None:
                # a little slack so the retry lands in the fresh window
                return min(MAX_RATE_LIMIT_WAIT_SECONDS, seconds + 0.25)
        return self.backoff(retry_number)

    def wait(
        self, outcome: Outcome, response: requests.Response | None, retry_number: int
    ) -> float:
        """The wait before the n-th retry (1-based) after `outcome`."""
        if outcome.verdict is Verdict.RATE_LIMITED and response is not None:
            return self.rate_limit_wait(response, retry_number)
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


def _describe(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "response body cut short"
    return f"connection failed ({type(exc).__name__})"
