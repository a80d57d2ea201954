"""Bearer credentials: a personal access token, or OAuth access tokens refreshed with rotation.

Calendly refresh tokens are single-use: every refresh returns a new one and revokes the old, so
the new one is written to `refresh_token_path` at once, or the next run could not authenticate.
Calendly allows 8 token requests per user per minute, so refreshing is bounded: at most once per
request, and never in a loop.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests

from calendly_http.errors import AuthenticationError
from calendly_http.retry import never_reached_the_server
from calendly_http.settings import ClientSettings

TOKEN_REQUESTS_PER_MINUTE = 8
TOKEN_ENDPOINT_TRIES = 3
EXPIRY_MARGIN_SECONDS = 60.0


LOST_ANSWER = (
    "the OAuth token endpoint's answer was lost or malformed; Calendly may already have rotated "
    "the refresh token: if the next run reports invalid_grant, authorize again"
)


@dataclass
class _TokenFailure:
    error: AuthenticationError
    retriable: bool


class Credentials(Protocol):
    def authorization(self) -> str:
        """The Authorization header value to send now."""
        ...

    def recover(self, rejected: str) -> bool:
        """After a 401 to `rejected`: True when a retry with fresh credentials is due."""
        ...

    def issued(self) -> str | None:
        """The header last handed out (None before the first), without refreshing."""
        ...


class PersonalAccessToken:
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def authorization(self) -> str:
        return self._header

    def recover(self, rejected: str) -> bool:
        return False

    def issued(self) -> str | None:
        return self._header


class OAuthRefresher:
    """Access tokens from the refresh_token grant, refreshed before expiry and once after a 401."""

    def __init__(
        self,
        settings: ClientSettings,
        session: requests.Session,
        *,
        logger: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._session = session
        self._logger = logger
        self._clock = clock
        self._lock = threading.Lock()
        self._header: str | None = None
        self._expires_at = 0.0
        self._recent_requests: deque[float] = deque()
        self._refresh_token = self._initial_refresh_token()

    def authorization(self) -> str:
        with self._lock:
            if self._header is None or self._clock() >= self._expires_at:
                self._refresh()
            assert self._header is not None
            return self._header

    def issued(self) -> str | None:
        return self._header

    def recover(self, rejected: str) -> bool:
        with self._lock:
            if self._header != rejected:
                return True  # another thread has refreshed since; retry with its token
            self._refresh()
            return True

    def _initial_refresh_token(self) -> str:
        path = self._settings.refresh_token_path
        if path and Path(path).is_file():
            stored = Path(path).read_text(encoding="utf-8").strip()
            if stored:
                return stored
        if not self._settings.refresh_token:
            raise AuthenticationError(
                f"no refresh token: `refresh_token` is unset and `refresh_token_path` ({path}) "
                "is empty"
            )
        return self._settings.refresh_token

    def _refresh(self) -> None:
        body = self._token_request()
        self._header = f"Bearer {body['access_token']}"
        lifetime = float(body.get("expires_in") or 7200)
        # Renew a little early, but never so early that a short-lived token is stale on arrival.
        self._expires_at = self._clock() + lifetime - min(EXPIRY_MARGIN_SECONDS, lifetime / 4)
        rotated = body.get("refresh_token")
        if rotated and rotated != self._refresh_token:
            self._refresh_token = rotated
            self._persist(rotated)
        self._logger.info("Obtained a new OAuth access token (valid %ss).", body.get("expires_in"))

    def _token_request(self) -> dict[str, Any]:
        """POST the refresh_token grant. Only an outage is retried: after a lost answer Calendly
        may already have rotated the refresh token, and resending the old one would revoke access."""
        for attempt in range(1, TOKEN_ENDPOINT_TRIES + 1):
            self._count_token_request()
            outcome = self._post_token_grant()
            if isinstance(outcome, dict):
                return outcome
            if not outcome.retriable or attempt == TOKEN_ENDPOINT_TRIES:
                raise outcome.error
            self._logger.warning("%s; retrying in %ds", outcome.error.message, attempt)
            self._sleep(attempt)
        raise AssertionError("unreachable")

    def _count_token_request(self) -> None:
        now = self._clock()
        while self._recent_requests and now - self._recent_requests[0] > 60:
            self._recent_requests.popleft()
        if len(self._recent_requests) >= TOKEN_REQUESTS_PER_MINUTE:
            raise AuthenticationError(
                f"refusing a token refresh: {TOKEN_REQUESTS_PER_MINUTE} in the last minute already "
                "(Calendly's limit); new access tokens are being rejected, check `client_id`, "
                "`client_secret` and the app's scopes",
                title="OAuth refresh loop",
            )
        self._recent_requests.append(now)

    def _post_token_grant(self) -> dict[str, Any] | _TokenFailure:
        settings = self._settings
        try:
            response = self._session.post(
                settings.oauth_token_url,
                data={"grant_type": "refresh_token", "refresh_token": self._refresh_token},
                auth=(settings.client_id or "", settings.client_secret or ""),
                timeout=settings.request_timeout,
            )
        except requests.exceptions.RequestException as exc:
            if never_reached_the_server(exc):
                message = "the OAuth token endpoint could not be reached"
                return self._failure(message, None, retriable=True)
            return self._failure(LOST_ANSWER, None, retriable=False)
        if response.status_code >= 500:
            message = f"the OAuth token endpoint is unavailable (HTTP {response.status_code})"
            return self._failure(message, response.status_code, retriable=True)
        if response.status_code != 200:
            return self._failure(_refusal(response), response.status_code, retriable=False)
        try:
            body = response.json()
            if not isinstance(body, dict) or not body.get("access_token"):
                raise ValueError("no access_token")
        except ValueError:
            return self._failure(LOST_ANSWER, 200, retriable=False)
        return body

    def _failure(self, message: str, status: int | None, *, retriable: bool) -> _TokenFailure:
        error = AuthenticationError(
            message,
            status=status,
            title="OAuth refresh failed",
            method="POST",
            url=self._settings.oauth_token_url,
        )
        return _TokenFailure(error, retriable)

    def _persist(self, refresh_token: str) -> None:
        path = self._settings.refresh_token_path
        if not path:
            self._logger.warning(
                "Calendly rotated the OAuth refresh token, but `refresh_token_path` is unset: the "
                "next run cannot authenticate with the configured `refresh_token`. "
                "Set refresh_token_path."
            )
            return
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(refresh_token)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _refusal(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = body.get("error") if isinstance(body, dict) else None
    hint = (
        "the refresh token was already used or revoked: update `refresh_token` (or the file at "
        "`refresh_token_path`)"
        if code == "invalid_grant"
        else "check `client_id` and `client_secret`"
    )
    return f"Calendly refused the token refresh ({code or response.status_code}): {hint}"


def credentials_for(
    settings: ClientSettings,
    session: requests.Session,
    logger: logging.Logger,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Credentials:
    if settings.token:
        return PersonalAccessToken(settings.token)
    return OAuthRefresher(settings, session, logger=logger, clock=clock, sleep=sleep)
