"""The settings both plugins declare to singer-sdk (and so to Meltano and --about): the connection
settings `calendly_http.ClientSettings.from_config` validates."""

from __future__ import annotations

from singer_sdk import typing as th

from calendly_http.settings import CALENDLY_API_URL, CALENDLY_TOKEN_URL

# A number, or its text: Meltano (4.4.1) has no setting kind that passes a number given in an
# environment variable on as a JSON number (`decimal` makes it a Decimal that Meltano then cannot
# write into the plugin's config), so the definitions declare these settings `string`.
# calendly_http.settings reads both forms.
NUMBER = th.CustomType({"type": ["number", "string"], "pattern": r"^\s*[0-9]*\.?[0-9]+\s*$"})

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
        NUMBER,
        description="Client-side request rate cap. Default: rate_limit_share x the limit Calendly "
        "reports in X-RateLimit-Limit (500/min on paid plans, 50 on Free).",
    ),
    th.Property(
        "rate_limit_share",
        NUMBER,
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
        NUMBER,
        default=1.0,
        description="First wait (seconds) of the jittered exponential backoff for 5xx and "
        "connection errors; it doubles per retry, capped at 60 s. 429s wait what Calendly says.",
    ),
    th.Property(
        "request_timeout",
        NUMBER,
        default=30,
        description="Seconds to wait for Calendly's answer to one request.",
    ),
)
