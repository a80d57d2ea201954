"""The connection settings tap and target share, declared once and validated before any request."""

from __future__ import annotations

import decimal
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from singer_sdk import typing as th

from calendly_http.errors import ConfigError

CALENDLY_API_URL = "https://api.calendly.com"
CALENDLY_TOKEN_URL = "https://auth.calendly.com/oauth/token"  # noqa: S105 (a URL, not a secret)

SHARED_SETTINGS: tuple[th.Property, ...] = (
    th.Property(
        "token",
        th.StringType,
        secret=True,
        description="Calendly personal access token (Integrations > API & Webhooks). "
        "Use this, or the OAuth settings client_id + client_secret + refresh_token.",
    ),
    th.Property("client_id", th.StringType, description="OAuth application client ID."),
    th.Property(
        "client_secret", th.StringType, secret=True, description="OAuth application client secret."
    ),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        description="OAuth refresh token. Calendly rotates it on every use: set refresh_token_path "
        "so the new one is kept for the next run.",
    ),
    th.Property(
        "refresh_token_path",
        th.StringType,
        description="File that stores the current OAuth refresh token (rewritten, mode 0600, "
        "after every refresh). Processes sharing it refresh under a lock and share the newest "
        "access token (kept beside it in .<name>.session). It wins over refresh_token, unless "
        "refresh_token differs from the one the file descends from (a new authorization).",
    ),
    th.Property(
        "oauth_token_url",
        th.StringType,
        description=f"OAuth token endpoint. Default: {CALENDLY_TOKEN_URL} for the real API, "
        "else {api_url}/oauth/token (the sandbox).",
    ),
    th.Property(
        "api_url",
        th.StringType,
        default=CALENDLY_API_URL,
        description="Base URL of the Calendly API. Point it at calendly-sandbox to try things out. "
        "Plain http is refused except to a loopback address.",
    ),
    th.Property(
        "organization",
        th.StringType,
        description="Organization URI. Default: the token owner's current organization "
        "(/users/me).",
    ),
    th.Property(
        "requests_per_minute",
        th.NumberType,
        description="Client-side request rate cap. Default: rate_limit_share x the limit Calendly "
        "reports in X-RateLimit-Limit (500/min on paid plans, 50 on Free).",
    ),
    th.Property(
        "rate_limit_share",
        th.NumberType,
        default=0.8,
        description="Share of Calendly's reported rate limit to use when requests_per_minute "
        "is unset.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=8,
        description="Retries of one request on 429, 5xx, timeouts and broken connections.",
    ),
    th.Property(
        "retry_initial_wait",
        th.NumberType,
        default=1.0,
        description="First wait (seconds) of the jittered exponential backoff for 5xx and "
        "connection errors; it doubles per retry, capped at 60 s. 429s wait what Calendly says.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=30,
        description="Seconds to wait for Calendly's answer to one request.",
    ),
)


@dataclass(frozen=True)
class ClientSettings:
    """Validated connection settings. Build with `from_config`."""

    api_url: str = CALENDLY_API_URL
    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    refresh_token_path: str | None = None
    oauth_token_url: str = CALENDLY_TOKEN_URL
    organization: str | None = None
    requests_per_minute: float | None = None
    rate_limit_share: float = 0.8
    max_retries: int = 8
    retry_initial_wait: float = 1.0
    request_timeout: float = 30.0

    @property
    def uses_oauth(self) -> bool:
        return self.token is None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, so the client can keep them out of messages."""
        values = (self.token, self.client_secret, self.refresh_token)
        return tuple(v for v in values if v)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ClientSettings:
        """Validate a plugin config; raise ConfigError naming the setting at fault."""
        api_url = _text(config, "api_url") or CALENDLY_API_URL
        _require_safe_url("api_url", api_url)
        api_url = api_url.rstrip("/")

        token = _text(config, "token")
        oauth = {k: _text(config, k) for k in ("client_id", "client_secret", "refresh_token")}
        refresh_token_path = _text(config, "refresh_token_path")
        if token is None:
            has_refresh = oauth["refresh_token"] or refresh_token_path
            missing = [k for k in ("client_id", "client_secret") if not oauth[k]]
            if not has_refresh:
                missing.append("refresh_token")
            if len(missing) == 3:
                raise ConfigError(
                    "token",
                    "no credentials: set `token` (a personal access token) or the OAuth settings "
                    "`client_id`, `client_secret` and `refresh_token`",
                )
            if missing:
                raise ConfigError(
                    missing[0], "OAuth needs client_id, client_secret and refresh_token"
                )

        token_url = _text(config, "oauth_token_url") or (
            CALENDLY_TOKEN_URL if api_url == CALENDLY_API_URL else f"{api_url}/oauth/token"
        )
        _require_safe_url("oauth_token_url", token_url)

        organization = _text(config, "organization")
        if organization is not None and not urlsplit(organization).scheme:
            raise ConfigError("organization", f"expected an organization URI, got {organization!r}")

        return cls(
            api_url=api_url,
            token=token,
            client_id=oauth["client_id"],
            client_secret=oauth["client_secret"],
            refresh_token=oauth["refresh_token"],
            refresh_token_path=refresh_token_path,
            oauth_token_url=token_url,
            organization=organization,
            requests_per_minute=_number(config, "requests_per_minute", None, minimum=1),
            rate_limit_share=_number(config, "rate_limit_share", 0.8, minimum=0.01, maximum=1)
            or 0.8,
            max_retries=int(_number(config, "max_retries", 8, minimum=0, integer=True) or 0),
            retry_initial_wait=_number(config, "retry_initial_wait", 1.0, minimum=0) or 0.0,
            request_timeout=_number(config, "request_timeout", 30.0, minimum=0.1) or 30.0,
        )


def _text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(key, f"expected a string, got {type(value).__name__}")
    return value.strip() or None


def _number(
    config: Mapping[str, Any],
    key: str,
    default: float | None,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> float | None:
    value = config.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(key, f"expected a number, got {value!r}") from None
    # singer-sdk reads config files with parse_float=Decimal
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        raise ConfigError(key, f"expected a number, got {type(value).__name__}")
    value = float(value)
    if integer and value != int(value):
        raise ConfigError(key, f"expected a whole number, got {value}")
    if minimum is not None and value < minimum:
        raise ConfigError(key, f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(key, f"must be at most {maximum}, got {value}")
    return float(value)


def _require_safe_url(key: str, url: str) -> None:
    """Tokens travel only over https, or plain http to this machine (the sandbox)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(key, f"expected an http(s) URL, got {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            key,
            f"refusing to send credentials over plain http to {parts.hostname}; "
            "use https (plain http is allowed only to a loopback address such as 127.0.0.1)",
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
