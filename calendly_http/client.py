"""The one HTTP client of a run: throttle, auth, timeout, retries and error classification."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from calendly_http.auth import Credentials, Recovery, credentials_for
from calendly_http.errors import (
    AuthenticationError,
    CalendlyError,
    ConfigError,
    OutcomeUnknownError,
    RetriesExhaustedError,
    error_from_response,
)
from calendly_http.retry import (
    FIRST_CONTACT_RETRIES,
    IDEMPOTENT_METHODS,
    RETRIABLE_STATUSES,
    TRANSPORT_ERRORS,
    RetryPolicy,
    never_reached_the_server,
)
from calendly_http.settings import ClientSettings
from calendly_http.throttle import (
    DAY,
    HOUR,
    MINUTE,
    Throttle,
    WindowPacer,
    scheduling_api_limits,
)

JSON_ATTRIBUTE = "calendly_json"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_PACED_REFUSALS = 24
# Shorter "secrets" are test placeholders; replacing them would garble every message.
MIN_REDACTED_LENGTH = 6
# Query parameters that carry personal data (Calendly filters lists by them); their values are
# masked in request logs, their names kept.
PERSONAL_QUERY_FIELDS = ("email", "invitee_email", "name", "first_name", "last_name", "search")
_PERSONAL_QUERY_VALUE = re.compile(
    r"(?<=[?&])(" + "|".join(PERSONAL_QUERY_FIELDS) + r")=[^&#\s\"']*", re.IGNORECASE
)


def without_personal_query(text: str) -> str:
    """`text` with the value of every personal query parameter replaced by ***."""
    return _PERSONAL_QUERY_VALUE.sub(r"\1=***", text)


class _PersonalQueryFilter(logging.Filter):
    """urllib3 logs each request line at DEBUG, query string included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                without_personal_query(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


_REQUEST_LOG_FILTER = _PersonalQueryFilter()


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    wait_seconds: float = 0.0


class CalendlyClient:
    """Thread-safe; share one per run between every stream or sink."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        logger: logging.Logger | None = None,
        user_agent: str = "calendly-connectors",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.logger = logger or logging.getLogger("calendly_http")
        logging.getLogger("urllib3.connectionpool").addFilter(_REQUEST_LOG_FILTER)
        self.stats = ClientStats()
        self._stats_lock = threading.Lock()
        self._sleep = sleep
        self._clock = clock
        self._policy = retry_policy or RetryPolicy(
            settings.max_retries, settings.retry_initial_wait
        )
        self.throttle = Throttle(
            settings.requests_per_minute, share=settings.rate_limit_share, clock=clock, sleep=sleep
        )
        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._api = urlsplit(settings.api_url)
        # Proxies and CA bundle from the environment, resolved once: requests would otherwise
        # scan os.environ on every send (measured: ~40% of a full sync's CPU).
        self._send_settings = self._session.merge_environment_settings(
            settings.api_url, {}, None, None, None
        )
        self._credentials_lock = threading.Lock()
        self._pacers_lock = threading.Lock()
        self._booking_pacer: WindowPacer | None = None
        self._scheduling_api_path = self._api.path.rstrip("/") + "/invitees"
        self._credentials: Credentials | None = None
        self._me_lock = threading.Lock()
        # Set by the first response. Before it, a connection that cannot be made is retried
        # only FIRST_CONTACT_RETRIES times.
        self._api_answered = False

    # -- public surface -------------------------------------------------------------------------

    def url(self, path_or_url: str) -> str:
        """An absolute URL on the API host; other hosts are refused (the token goes with it)."""
        if "://" not in path_or_url:
            return f"{self.settings.api_url}/{path_or_url.lstrip('/')}"
        parts = urlsplit(path_or_url)
        if (parts.scheme, parts.netloc) != (self._api.scheme, self._api.netloc):
            raise ConfigError(
                "api_url",
                f"refusing to send the token to {parts.scheme}://{parts.netloc}, which is not "
                f"api_url ({self.settings.api_url})",
            )
        return path_or_url

    def send(
        self, prepared: requests.PreparedRequest, *, idempotent: bool | None = None
    ) -> requests.Response:
        """Send with throttle, auth and bounded retries; return a 2xx response or raise.

        A JSON body is parsed once here (a truncated body is retried like a broken
        connection); read it back with `json_body(response)`.

        A write that is not `idempotent` (default: POST and PATCH) is resent only when Calendly
        certainly did not act on it (a 429, or no connection was made). When its answer is lost
        in any other way after sending (a 5xx, which a proxy may send after Calendly acted, a
        reset, a timeout, a cut-short body) it raises OutcomeUnknownError: the caller looks the
        effect up. An idempotent write is resent; a refusal that follows a lost answer carries
        `after_lost_answer` (e.g. a DELETE answered 404 because the first attempt did it).
        """
        url = self.url(prepared.url or "")
        method = prepared.method or "GET"
        safe_url = _without_query(url)
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS
        pacer = self._endpoint_pacer(method, url)
        paced_refusals = 0
        retry = 0
        may_recover = True
        last_status: int | None = None
        lost_answer: str | None = None  # an earlier attempt's answer was lost after sending
        while True:
            authorization = self._authorization()
            attempt = prepared.copy()
            attempt.headers["Authorization"] = authorization
            waited = pacer.acquire() if pacer is not None else 0.0
            waited += self.throttle.acquire()
            self._count(requests=1, wait_seconds=waited)
            problem: str
            wait: float
            try:
                response = self._session.send(
                    attempt, timeout=self._timeout(), **self._send_settings
                )
            except TRANSPORT_ERRORS as exc:
                problem, wait = _describe_transport(exc), self._policy.backoff(retry + 1)
                reached = not never_reached_the_server(exc)
                if not reached and not self._api_answered and retry >= FIRST_CONTACT_RETRIES:
                    raise ConfigError(
                        "api_url",
                        f"cannot connect to {self.settings.api_url} ({problem}, "
                        f"{retry + 1} attempts): check its host and port",
                    ) from None
                if reached:
                    if not idempotent:
                        raise self._outcome_unknown(problem, method, safe_url) from None
                    lost_answer = lost_answer or problem
            else:
                self._api_answered = True
                # An endpoint with its own limits may answer with its own headers: they pace
                # that endpoint, not every request of the run.
                (pacer or self.throttle).observe(response.headers)
                status = last_status = response.status_code
                if status < 300 and _attach_json(response):
                    return response
                if status == 401 and may_recover:
                    recovery = self._credentials_recover(authorization)
                    if recovery is not None:
                        # A token adopted from another thread or process may be dead too: then
                        # one more recovery, which refreshes. A refreshed one is the last try.
                        may_recover = recovery == "adopted"
                        continue
                if status < 300:
                    problem, wait = "malformed JSON body", self._policy.backoff(retry + 1)
                    if not idempotent:
                        raise self._outcome_unknown(problem, method, safe_url)
                    lost_answer = lost_answer or problem
                elif status == 429 and pacer is not None:
                    # Waited out, however long the window (a day on a trial), and not counted
                    # against max_retries: a 429 means Calendly did not act.
                    paced_refusals += 1
                    self._count(rate_limited=1)
                    if paced_refusals > MAX_PACED_REFUSALS:
                        raise self._redacted(
                            RetriesExhaustedError(
                                f"refused with 429 {paced_refusals} times in a row",
                                status=429,
                                title="Rate limited",
                                method=method,
                                url=safe_url,
                            )
                        )
                    wait = _header_seconds(response) or pacer.refusal_wait(paced_refusals)
                    pacer.pause(wait)
                    self.logger.warning(
                        "%s %s: HTTP 429 (this endpoint's own limit); waiting %.0fs for its window",
                        method,
                        safe_url,
                        wait,
                    )
                    continue
                elif status == 429:
                    # Everyone waits, not just this thread: the throttle holds back every caller.
                    self._count(rate_limited=1)
                    problem, wait = "HTTP 429", self._policy.rate_limit_wait(response, retry + 1)
                    self.throttle.pause(wait)
                elif status in RETRIABLE_STATUSES or status >= 500:
                    problem, wait = f"HTTP {status}", self._policy.backoff(retry + 1)
                    if method.upper() not in SAFE_METHODS:
                        if not idempotent:
                            raise self._outcome_unknown(problem, method, safe_url)
                        lost_answer = lost_answer or problem
                else:
                    error = self._classified(response, method, safe_url)
                    if method.upper() not in SAFE_METHODS:
                        error.after_lost_answer = lost_answer
                    raise self._redacted(error)
            if retry >= self._policy.max_retries:
                raise self._redacted(
                    RetriesExhaustedError(
                        f"gave up after {retry + 1} attempts; last problem: {problem}",
                        status=last_status,
                        title="Retries exhausted",
                        method=method,
                        url=safe_url,
                    )
                )
            retry += 1
            self._count(retries=1)
            self.logger.warning(
                "%s %s: %s; retry %d of %d in %.1fs",
                method,
                safe_url,
                problem,
                retry,
                self._policy.max_retries,
                wait,
            )
            if problem != "HTTP 429":  # a 429's wait is already in the throttle
                self._count(wait_seconds=wait)
                self._sleep(wait)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one request; return its parsed JSON body (None when empty)."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        prepared = requests.Request(
            method, self.url(path_or_url), params=clean, json=json
        ).prepare()
        return json_body(self.send(prepared, idempotent=idempotent))

    def paginate(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        enough: Callable[[list[dict[str, Any]]], bool] | None = None,
        on_page: Callable[[], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a collection endpoint, a page at a time (see `next_page_token`); stops
        once `enough(page)` says so. `on_page` is called once per page requested."""
        query = dict(params or {})
        while True:
            body = self.request("GET", path, params=query) or {}
            if on_page is not None:
                on_page()
            page = body.get("collection") or []
            yield from page
            token = next_page_token(body)
            if not token or (enough is not None and enough(page)):
                return
            query["page_token"] = token

    @cached_property
    def me(self) -> dict[str, Any]:
        """The token owner (/users/me), fetched once."""
        with self._me_lock:
            try:
                resource: dict[str, Any] = self.request("GET", "/users/me")["resource"]
            except CalendlyError as exc:
                raise _as_organization_lookup(exc) from None
            return resource

    @property
    def organization_uri(self) -> str:
        return self.settings.organization or str(self.me["current_organization"])

    def redact(self, text: str) -> str:
        """Replace every configured secret, and the live access token, in `text`."""
        secrets = list(self.settings.secrets)
        if self._credentials is not None:
            header = self._credentials.issued()
            if header:
                secrets.append(header.removeprefix("Bearer "))
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= MIN_REDACTED_LENGTH:
                text = text.replace(secret, "***")
        return text

    def close(self) -> None:
        self._session.close()

    # -- internals ------------------------------------------------------------------------------

    def _endpoint_pacer(self, method: str, url: str) -> WindowPacer | None:
        """The pacer of an endpoint with limits of its own (the Scheduling API's POST
        /invitees, per the organization's plan), or None."""
        if method.upper() != "POST" or urlsplit(url).path != self._scheduling_api_path:
            return None
        with self._pacers_lock:
            if self._booking_pacer is None:
                plan, stage = self._organization_plan()
                windows = scheduling_api_limits(plan, stage)
                self.logger.info(
                    "POST /invitees paced to %s (plan %s, stage %s)",
                    ", ".join(f"{w.limit} per {_span(w.seconds)}" for w in windows),
                    plan,
                    stage,
                )
                self._booking_pacer = WindowPacer(windows, clock=self._clock, sleep=self._sleep)
            return self._booking_pacer

    def _organization_plan(self) -> tuple[str | None, str | None]:
        try:
            org = self.request("GET", self.organization_uri)["resource"]
        except (CalendlyError, KeyError, TypeError) as exc:
            self.logger.warning("cannot read the organization's plan (%s); assuming paid", exc)
            return None, None
        return org.get("plan"), org.get("stage")

    def _timeout(self) -> tuple[float, float]:
        total = self.settings.request_timeout
        return (min(10.0, total), total)

    def _authorization(self) -> str:
        with self._credentials_lock:
            if self._credentials is None:
                self._credentials = credentials_for(
                    self.settings, self._session, self.logger, self._clock, self._sleep
                )
        try:
            return self._credentials.authorization()
        except AuthenticationError as exc:
            raise self._redacted(exc) from None

    def _credentials_recover(self, rejected: str) -> Recovery:
        assert self._credentials is not None
        try:
            return self._credentials.recover(rejected)
        except AuthenticationError as exc:
            raise self._redacted(exc) from None

    def _classified(self, response: requests.Response, method: str, url: str) -> CalendlyError:
        error = error_from_response(response, method, url)
        if isinstance(error, AuthenticationError):
            setting = (
                "`client_id`, `client_secret` and `refresh_token`"
                if self.settings.uses_oauth
                else "`token`"
            )
            error.message = f"{error.message}. Calendly rejected the credentials: check {setting}."
            error.args = (error._describe(),)
        return error

    def _outcome_unknown(self, problem: str, method: str, url: str) -> CalendlyError:
        return self._redacted(
            OutcomeUnknownError(
                f"{problem} after the request was sent; Calendly may have performed it, so it "
                "was not sent again",
                lost_answer=problem,
                title="Outcome unknown",
                method=method,
                url=url,
            )
        )

    def _redacted(self, error: CalendlyError) -> CalendlyError:
        error.message = self.redact(error.message)
        error.args = (self.redact(str(error)),)
        return error

    def _count(self, **deltas: float) -> None:
        with self._stats_lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)


def next_page_token(body: Any) -> str | None:
    """The page token of the page after `body`, None on the last page.

    `pagination.next_page_token`, else the `page_token` in `pagination.next_page`: pages served
    in 2021's shape carry only that URL. Only the token is taken, never the URL itself: the next
    request goes to the configured API with the caller's own parameters (the URL may name
    another host, and repeats the parameters).
    """
    pagination = (body.get("pagination") if isinstance(body, dict) else None) or {}
    token = pagination.get("next_page_token")
    if token:
        return str(token)
    url = pagination.get("next_page")
    if not url:
        return None
    tokens = parse_qs(urlsplit(str(url)).query).get("page_token")
    if not tokens:
        raise CalendlyError(
            "a page names a next page without a page_token, which cannot be followed on the "
            f"configured API: {_without_query(str(url))}",
            title="Unfollowable page",
        )
    return tokens[-1]


def json_body(response: requests.Response) -> Any:
    """The parsed JSON body of a response returned by `CalendlyClient.send` (None when empty)."""
    if not hasattr(response, JSON_ATTRIBUTE):
        _attach_json(response)
    return getattr(response, JSON_ATTRIBUTE, None)


def _attach_json(response: requests.Response) -> bool:
    content = response.content
    if not content.strip():
        setattr(response, JSON_ATTRIBUTE, None)
        return True
    try:
        setattr(response, JSON_ATTRIBUTE, json.loads(content))
    except ValueError:
        return False
    return True


def _header_seconds(response: requests.Response) -> float | None:
    """The wait a 429 names (Retry-After, else X-RateLimit-Reset), uncapped."""
    for header in ("Retry-After", "X-RateLimit-Reset"):
        try:
            seconds = float(response.headers.get(header) or "")
        except ValueError:
            continue
        if seconds > 0:
            return seconds
    return None


def _span(seconds: float) -> str:
    return {MINUTE: "minute", HOUR: "hour", DAY: "day"}.get(seconds, f"{seconds:g}s")


def _as_organization_lookup(error: CalendlyError) -> CalendlyError:
    """The same error, saying that the organization lookup (/users/me) failed and what to check."""
    cause = f"{error.title}: {error.message}" if error.title else error.message
    error.title = "Organization lookup failed"
    error.message = (
        f"{cause}. Check `token` (or the OAuth settings) and `api_url`, or set `organization` "
        "to skip the lookup"
    )
    error.args = (error._describe(),)
    return error


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _describe_transport(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "response body cut short"
    return f"connection failed ({type(exc).__name__})"
