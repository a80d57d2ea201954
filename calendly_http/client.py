"""The one HTTP client of a run: throttle, auth, timeout, retries and error classification."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
from calendly_http.redaction import (
    mask_personal_query_in_request_logs,
    without_query,
    without_secrets,
)
from calendly_http.retry import (
    IDEMPOTENT_METHODS,
    MAX_PACED_REFUSALS,
    SAFE_METHODS,
    TRANSPORT_ERRORS,
    Outcome,
    RetryPolicy,
    Verdict,
    classify_response,
    classify_transport_error,
    endpoint_window_wait,
    gives_up_on_first_contact,
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


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    wait_seconds: float = 0.0


@dataclass
class _Attempts:
    """One `send`, across its attempts."""

    method: str
    url: str  # without its query: for messages
    idempotent: bool
    pacer: WindowPacer | None  # of an endpoint with limits of its own
    retries: int = 0
    paced_refusals: int = 0
    may_recover: bool = True
    last_status: int | None = None
    lost_answer: str | None = None  # an earlier attempt's answer was lost after sending


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
        mask_personal_query_in_request_logs()
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
        attempts = _Attempts(
            method=method,
            url=without_query(url),
            idempotent=method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent,
            pacer=self._endpoint_pacer(method, url),
        )
        while True:
            authorization = self._authorization()
            outcome, response = self._attempt(prepared, authorization, attempts)
            if outcome.verdict is Verdict.OK and response is not None:
                return response
            if outcome.verdict is Verdict.CREDENTIALS_REJECTED and self._recovered(
                authorization, attempts
            ):
                continue
            if outcome.verdict is Verdict.RATE_LIMITED:
                self._count(rate_limited=1)
                if attempts.pacer is not None and response is not None:
                    self._wait_for_endpoint_window(response, attempts.pacer, attempts)
                    continue
            if outcome.verdict in (Verdict.REFUSED, Verdict.CREDENTIALS_REJECTED):
                assert response is not None
                raise self._refusal(response, attempts)
            self._wait_or_give_up(outcome, response, attempts)

    def _attempt(
        self, prepared: requests.PreparedRequest, authorization: str, attempts: _Attempts
    ) -> tuple[Outcome, requests.Response | None]:
        """One attempt: wait for the throttle (and the endpoint's pacer), send, classify."""
        attempt = prepared.copy()
        attempt.headers["Authorization"] = authorization
        waited = attempts.pacer.acquire() if attempts.pacer is not None else 0.0
        waited += self.throttle.acquire()
        self._count(requests=1, wait_seconds=waited)
        try:
            response = self._session.send(attempt, timeout=self._timeout(), **self._send_settings)
        except TRANSPORT_ERRORS as exc:
            return classify_transport_error(exc), None
        self._api_answered = True
        # An endpoint with its own limits may answer with its own headers: they pace that
        # endpoint, not every request of the run.
        (attempts.pacer or self.throttle).observe(response.headers)
        status = attempts.last_status = response.status_code
        readable = status < 300 and _attach_json(response)
        return classify_response(status, readable, attempts.method), response

    def _recovered(self, rejected: str, attempts: _Attempts) -> bool:
        """After a 401: whether the credentials were recovered, so the request goes again.

        A token adopted from another thread or process may be dead too: then one more recovery,
        which refreshes. A refreshed one is the last try.
        """
        if not attempts.may_recover:
            return False
        recovery = self._credentials_recover(rejected)
        if recovery is None:
            return False
        attempts.may_recover = recovery == "adopted"
        return True

    def _wait_for_endpoint_window(
        self, response: requests.Response, pacer: WindowPacer, attempts: _Attempts
    ) -> None:
        """A 429 from an endpoint with limits of its own is waited out, however long its window,
        and not counted against max_retries: a 429 means Calendly did not act."""
        attempts.paced_refusals += 1
        if attempts.paced_refusals > MAX_PACED_REFUSALS:
            raise self._redacted(
                RetriesExhaustedError(
                    f"refused with 429 {attempts.paced_refusals} times in a row",
                    status=429,
                    title="Rate limited",
                    method=attempts.method,
                    url=attempts.url,
                )
            )
        wait = endpoint_window_wait(response, pacer, attempts.paced_refusals)
        pacer.pause(wait)
        self.logger.warning(
            "%s %s: HTTP 429 (this endpoint's own limit); waiting %.0fs for its window",
            attempts.method,
            attempts.url,
            wait,
        )

    def _wait_or_give_up(
        self, outcome: Outcome, response: requests.Response | None, attempts: _Attempts
    ) -> None:
        """After a fault worth another attempt: raise if there must be none, else wait for it."""
        if gives_up_on_first_contact(outcome, self._api_answered, attempts.retries):
            raise ConfigError(
                "api_url",
                f"cannot connect to {self.settings.api_url} ({outcome.problem}, "
                f"{attempts.retries + 1} attempts): check its host and port",
            ) from None
        if outcome.may_have_acted:
            if not attempts.idempotent:
                raise self._outcome_unknown(outcome.problem, attempts) from None
            attempts.lost_answer = attempts.lost_answer or outcome.problem
        wait = self._policy.wait(outcome, response, attempts.retries + 1)
        rate_limited = outcome.verdict is Verdict.RATE_LIMITED
        if rate_limited:
            # Everyone waits, not just this thread: the throttle holds back every caller.
            self.throttle.pause(wait)
        if attempts.retries >= self._policy.max_retries:
            raise self._redacted(
                RetriesExhaustedError(
                    f"gave up after {attempts.retries + 1} attempts; last problem: "
                    f"{outcome.problem}",
                    status=attempts.last_status,
                    title="Retries exhausted",
                    method=attempts.method,
                    url=attempts.url,
                )
            )
        attempts.retries += 1
        self._count(retries=1)
        self.logger.warning(
            "%s %s: %s; retry %d of %d in %.1fs",
            attempts.method,
            attempts.url,
            outcome.problem,
            attempts.retries,
            self._policy.max_retries,
            wait,
        )
        if not rate_limited:  # a 429's wait is already in the throttle
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
        return without_secrets(text, secrets)

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

    def _refusal(self, response: requests.Response, attempts: _Attempts) -> CalendlyError:
        """The error of a refused request (a 4xx that another attempt would not change)."""
        error = error_from_response(response, attempts.method, attempts.url)
        if isinstance(error, AuthenticationError):
            setting = (
                "`client_id`, `client_secret` and `refresh_token`"
                if self.settings.uses_oauth
                else "`token`"
            )
            error.message = f"{error.message}. Calendly rejected the credentials: check {setting}."
            error.args = (error._describe(),)
        if attempts.method.upper() not in SAFE_METHODS:
            error.after_lost_answer = attempts.lost_answer
        return self._redacted(error)

    def _outcome_unknown(self, problem: str, attempts: _Attempts) -> CalendlyError:
        return self._redacted(
            OutcomeUnknownError(
                f"{problem} after the request was sent; Calendly may have performed it, so it "
                "was not sent again",
                lost_answer=problem,
                title="Outcome unknown",
                method=attempts.method,
                url=attempts.url,
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
            f"configured API: {without_query(str(url))}",
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
