"""Bearer credentials: a personal access token, or OAuth access tokens refreshed with rotation.

Calendly refresh tokens are single-use: every refresh returns a new one and revokes the old, and
sending an old one again revokes access until a person authorizes again. So the new one is
written to `refresh_token_path` at once, and processes that share that file (a tap and a target
of one Meltano environment, two overlapping runs) refresh under an inter-process lock (fcntl on
a session file beside it), reading the file again first: no process ever sends a refresh token
another one has rotated, and a process that finds a newer access token in the session file
(another process refreshed) uses it instead of refreshing in turn.

The session file (`.<name>.session`, 0600) holds the newest access token, its expiry, and a
fingerprint of the configured `refresh_token` the file's chain descends from: a configured
`refresh_token` that differs from that one (the user authorized again) wins over the file.

Calendly allows 8 token requests per user per minute, so refreshing is bounded: at most once per
request, and never in a loop.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

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


Recovery = Literal["adopted", "refreshed"] | None


class Credentials(Protocol):
    def authorization(self) -> str:
        """The Authorization header value to send now."""
        ...

    def recover(self, rejected: str) -> Recovery:
        """After a 401 to `rejected`: "refreshed" or "adopted" (a token another thread or
        process obtained; it may be dead too) when a retry with it is due, else None."""
        ...

    def issued(self) -> str | None:
        """The header last handed out (None before the first), without refreshing."""
        ...


class PersonalAccessToken:
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def authorization(self) -> str:
        return self._header

    def recover(self, rejected: str) -> Recovery:
        return None

    def issued(self) -> str | None:
        return self._header


def fingerprint(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()


class TokenStore:
    """The refresh-token file and its session file, read and written under one exclusive lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.session_path = path.with_name(f".{path.name}.session")

    @contextmanager
    def locked(self) -> Iterator[TokenStore]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.session_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._fd = fd
            yield self
        finally:
            self._fd = -1
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def refresh_token(self) -> str | None:
        if not self.path.is_file():
            return None
        return self.path.read_text(encoding="utf-8").strip() or None

    def session(self) -> dict[str, Any]:
        os.lseek(self._fd, 0, os.SEEK_SET)
        raw = b""
        while chunk := os.read(self._fd, 65536):
            raw += chunk
        try:
            found = json.loads(raw) if raw.strip() else {}
        except ValueError:  # torn by a crash mid-write: it is only a cache
            return {}
        return found if isinstance(found, dict) else {}

    def save(self, refresh_token: str | None, session: dict[str, Any]) -> None:
        """The rotated refresh token first (atomically), then the session (in place: the lock
        lives on its inode)."""
        if refresh_token is not None and refresh_token != self.refresh_token():
            _write_atomically(self.path, refresh_token)
        data = json.dumps(session).encode("utf-8")
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, data)
        os.fsync(self._fd)


def _write_atomically(target: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OAuthRefresher:
    """Access tokens from the refresh_token grant, refreshed before expiry and once after a 401;
    shared with other processes through `refresh_token_path` (see the module docstring)."""

    def __init__(
        self,
        settings: ClientSettings,
        session: requests.Session,
        *,
        logger: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._session = session
        self._logger = logger
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._header: str | None = None
        self._expires_at = 0.0
        self._rejected: set[str] = set()
        self._recent_requests: deque[float] = deque()
        path = settings.refresh_token_path
        self._store = TokenStore(Path(path)) if path else None
        if self._store is None:
            if not settings.refresh_token:
                raise AuthenticationError(
                    "no refresh token: `refresh_token` is unset and so is `refresh_token_path`"
                )
            self._refresh_token = settings.refresh_token
        else:
            with self._store.locked() as store:
                self._refresh_token, _ = self._chain(store, store.session(), quiet=True)

    def authorization(self) -> str:
        with self._lock:
            if self._header is None or self._clock() >= self._expires_at:
                self._renew()
            assert self._header is not None
            return self._header

    def issued(self) -> str | None:
        return self._header

    def recover(self, rejected: str) -> Recovery:
        with self._lock:
            self._rejected.add(rejected.removeprefix("Bearer "))
            if self._header != rejected:
                return "adopted"  # another thread has renewed since; retry with its token
            return self._renew()

    def _renew(self) -> Recovery:
        """A fresh access token: another process's newer one if the session file has it, else a
        refresh with the newest refresh token of the chain. Call under `self._lock`."""
        if self._store is None:
            self._apply(self._token_request(self._refresh_token), None)
            return "refreshed"
        with self._store.locked() as store:
            session = store.session()
            self._refresh_token, origin = self._chain(store, session)
            if self._adopt(session, origin):
                return "adopted"
            body = self._token_request(self._refresh_token)
            rotated = self._apply(body, store)
            store.save(
                rotated,
                {
                    "access_token": body["access_token"],
                    "expires_at": self._wall_clock() + self._lifetime(body),
                    "expires_in": self._lifetime(body),
                    "origin": origin,
                },
            )
        return "refreshed"

    def _chain(
        self, store: TokenStore, session: dict[str, Any], *, quiet: bool = False
    ) -> tuple[str, str | None]:
        """The refresh token to use now, and the fingerprint of the configured token its chain
        descends from. Call under the store's lock."""
        stored = store.refresh_token()
        configured = self._settings.refresh_token
        origin = session.get("origin")
        if configured and (stored is None or (origin and origin != fingerprint(configured))):
            if stored is not None and not quiet:
                self._logger.info(
                    "The configured `refresh_token` is not the one %s descends from: using it "
                    "(a new authorization) instead of the file's.",
                    store.path,
                )
                session.clear()  # the file's access token belongs to the old chain
            return configured, fingerprint(configured)
        if stored is None:
            raise AuthenticationError(
                f"no refresh token: `refresh_token` is unset and `refresh_token_path` "
                f"({store.path}) is empty"
            )
        if origin is None and configured and configured != stored and not quiet:
            self._logger.warning(
                "%s holds a refresh token saved without its origin (an older version): using "
                "it rather than the configured `refresh_token`; from now on a newly configured "
                "one wins.",
                store.path,
            )
        return stored, origin or (fingerprint(configured) if configured else None)

    def _adopt(self, session: dict[str, Any], origin: str | None) -> bool:
        token = session.get("access_token")
        if not token or token in self._rejected or session.get("origin") != origin:
            return False
        try:
            left = float(session["expires_at"]) - self._wall_clock()
            lifetime = float(session.get("expires_in") or left)
        except (KeyError, TypeError, ValueError):
            return False
        margin = min(EXPIRY_MARGIN_SECONDS, lifetime / 4)
        if left <= margin or f"Bearer {token}" == self._header:
            return False
        self._header = f"Bearer {token}"
        self._expires_at = self._clock() + left - margin
        self._logger.info("Using the OAuth access token another run obtained (valid %.0fs).", left)
        return True

    @staticmethod
    def _lifetime(body: dict[str, Any]) -> float:
        return float(body.get("expires_in") or 7200)

    def _apply(self, body: dict[str, Any], store: TokenStore | None) -> str | None:
        """Use a token answer; return the rotated refresh token (None if it did not rotate)."""
        self._header = f"Bearer {body['access_token']}"
        lifetime = self._lifetime(body)
        # Renew a little early, but never so early that a short-lived token is stale on arrival.
        self._expires_at = self._clock() + lifetime - min(EXPIRY_MARGIN_SECONDS, lifetime / 4)
        self._logger.info("Obtained a new OAuth access token (valid %ss).", body.get("expires_in"))
        rotated = body.get("refresh_token")
        if not rotated or rotated == self._refresh_token:
            return None
        self._refresh_token = rotated
        if store is None:
            self._logger.warning(
                "Calendly rotated the OAuth refresh token, but `refresh_token_path` is unset: the "
                "next run cannot authenticate with the configured `refresh_token`. "
                "Set refresh_token_path."
            )
        return str(rotated)

    def _token_request(self, refresh_token: str) -> dict[str, Any]:
        """POST the refresh_token grant. Only an outage is retried: after a lost answer Calendly
        may already have rotated the refresh token, and resending the old one would revoke access."""
        for attempt in range(1, TOKEN_ENDPOINT_TRIES + 1):
            self._count_token_request()
            outcome = self._post_token_grant(refresh_token)
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

    def _post_token_grant(self, refresh_token: str) -> dict[str, Any] | _TokenFailure:
        settings = self._settings
        try:
            response = self._session.post(
                settings.oauth_token_url,
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
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
