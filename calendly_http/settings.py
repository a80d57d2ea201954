"""The connection settings the client runs with, validated before any request (the plugins declare
them to singer-sdk in calendly_plugin.settings)."""

from __future__ import annotations

import decimal
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from calendly_http.errors import ConfigError

CALENDLY_API_URL = "https://api.calendly.com"
CALENDLY_TOKEN_URL = "https://auth.calendly.com/oauth/token"  # noqa: S105 (a URL, not a secret)


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
