"""The one home of HTTP policy for tap-calendly and target-calendly.

Auth (personal access token, or OAuth with rotating refresh tokens), a shared throttle, bounded
retries with Calendly's wait rules, error classification, and URI/UUID helpers. Neither plugin
retries, waits or builds auth headers on its own. It does not depend on singer-sdk: the glue
between the plugins and the SDK is calendly_plugin's.
"""

from calendly_http.client import CalendlyClient, ClientStats, json_body, next_page_token
from calendly_http.errors import (
    AuthenticationError,
    CalendlyError,
    ConfigError,
    ConflictError,
    InsufficientScopeError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PlanRequiredError,
    RetriesExhaustedError,
)
from calendly_http.settings import ClientSettings
from calendly_http.throttle import Throttle
from calendly_http.uris import resource_uri, uuid_of

__all__ = [
    "AuthenticationError",
    "CalendlyClient",
    "CalendlyError",
    "ClientSettings",
    "ClientStats",
    "ConfigError",
    "ConflictError",
    "InsufficientScopeError",
    "InvalidRequestError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PlanRequiredError",
    "RetriesExhaustedError",
    "Throttle",
    "json_body",
    "next_page_token",
    "resource_uri",
    "uuid_of",
]
