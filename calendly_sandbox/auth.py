"""Bearer tokens (personal access tokens and OAuth access tokens) and the OAuth token endpoint.

OAuth as Calendly documents it: `POST /oauth/token` with `grant_type=refresh_token`; each
success issues a new access token (lifetime `access_token_ttl`) and a new single-use refresh
token, and the old refresh token stops working. Presenting a refresh token that was already used
(a client holding a stale copy) revokes the grant as Calendly does: every access token and the
current refresh token stop working until a person authorizes again (`reauthorize`). At most 8
token requests per minute.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

TOKEN_REQUESTS_PER_MINUTE = 8


@dataclass(frozen=True)
class Principal:
    user_uri: str
    token: str
    kind: str  # "pat" | "oauth"


@dataclass
class AccessToken:
    principal: Principal
    expires_at: float | None  # epoch seconds; None for personal access tokens


class TokenBook:
    """Every bearer token the sandbox accepts, and OAuth's refresh-token rotation."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        access_token_ttl: float,
        oauth_user_uri: str,
        organization_uri: str,
    ) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, AccessToken] = {}
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token_ttl = access_token_ttl
        self.oauth_user_uri = oauth_user_uri
        self.organization_uri = organization_uri
        self._refresh_tokens = {refresh_token}
        self._used_refresh_tokens: set[str] = set()
        self.current_refresh_token = refresh_token
        self.revocations = 0  # grants revoked because a used refresh token came back
        self._token_requests: deque[float] = deque()
        self.token_requests = 0

    def add_personal_token(self, token: str, user_uri: str) -> None:
        with self._lock:
            self._tokens[token] = AccessToken(Principal(user_uri, token, "pat"), None)

    def authenticate(self, header: str | None) -> tuple[Principal | None, str]:
        """(principal, '') or (None, why) for an Authorization header."""
        if not header:
            return None, "The Authorization header is missing"
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, "The Authorization header must be 'Bearer <token>'"
        with self._lock:
            entry = self._tokens.get(token.strip())
        if entry is None:
            return None, "The access token is invalid"
        if entry.expires_at is not None and time.time() >= entry.expires_at:
            return None, "The access token expired"
        return entry.principal, ""

    def expire_access_tokens(self) -> None:
        with self._lock:
            for entry in self._tokens.values():
                if entry.principal.kind == "oauth":
                    entry.expires_at = 0.0

    def reauthorize(self) -> str:
        """A person authorizes the app again: a fresh refresh token (the old chain stays dead)."""
        with self._lock:
            fresh = secrets.token_urlsafe(32)
            self._refresh_tokens = {fresh}
            self.current_refresh_token = fresh
            return fresh

    def _revoke_grant(self) -> None:
        """Call under the lock."""
        self.revocations += 1
        self._used_refresh_tokens |= self._refresh_tokens
        self._refresh_tokens.clear()
        for token, entry in list(self._tokens.items()):
            if entry.principal.kind == "oauth":
                del self._tokens[token]

    # -- POST /oauth/token -------------------------------------------------------------------
    def token_request(self, body: bytes, authorization: str | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.token_requests += 1
            now = time.monotonic()
            while self._token_requests and now - self._token_requests[0] >= 60:
                self._token_requests.popleft()
            if len(self._token_requests) >= TOKEN_REQUESTS_PER_MINUTE:
                return 429, {
                    "error": "too_many_requests",
                    "error_description": "At most 8 token requests per minute are allowed",
                }
            self._token_requests.append(now)
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            client_id, client_secret = _client_credentials(form, authorization)
            if client_id != self.client_id or (
                client_secret is not None and client_secret != self.client_secret
            ):
                return 401, {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed",
                }
            grant = form.get("grant_type")
            if grant != "refresh_token":
                return 400, {
                    "error": "unsupported_grant_type",
                    "error_description": "The sandbox supports grant_type=refresh_token only",
                }
            refresh = form.get("refresh_token", "")
            if refresh in self._used_refresh_tokens and self._refresh_tokens:
                self._revoke_grant()
            if refresh not in self._refresh_tokens:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "The provided refresh token is invalid, expired, "
                    "revoked, or was already used",
                }
            self._refresh_tokens.discard(refresh)
            self._used_refresh_tokens.add(refresh)
            new_refresh = secrets.token_urlsafe(32)
            self._refresh_tokens.add(new_refresh)
            self.current_refresh_token = new_refresh
            access = secrets.token_urlsafe(32)
            created = int(time.time())
            principal = Principal(self.oauth_user_uri, access, "oauth")
            self._tokens[access] = AccessToken(principal, created + self.access_token_ttl)
            return 200, {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": int(self.access_token_ttl),
                "refresh_token": new_refresh,
                "scope": "default",
                "created_at": created,
                "owner": self.oauth_user_uri,
                "organization": self.organization_uri,
            }


def _client_credentials(form: dict[str, str], authorization: str | None) -> tuple[str, str | None]:
    """HTTP Basic (web clients) or client_id[/client_secret] form fields (native clients)."""
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
        except ValueError:
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret")
