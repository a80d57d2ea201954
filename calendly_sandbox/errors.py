"""API errors and the bodies the sandbox sends for them.

Calendly's spec pins, per operation and status, the error `title` and often the `message` with
enums. Some of those enums are generator artifacts (a 400 titled "Internal Server Error"), but the
sandbox follows the spec so that every body it sends validates: when the pinned message differs
from the real reason, the reason goes into `details[]`, which the spec allows.
"""

from __future__ import annotations

from typing import Any

from calendly_sandbox import facts

NATURAL_TITLES = {
    400: ("Invalid Argument", "The supplied parameters are invalid."),
    401: ("Unauthenticated", "The access token is invalid"),
    403: ("Permission Denied", "You do not have permission"),
    404: ("Resource Not Found", "The server could not find the requested resource."),
    409: ("Already Exists", "Attempt to create a resource that already exists"),
    429: ("Too Many Requests", "You have exceeded the rate limit. Please wait and retry."),
    500: (
        "Internal Server Error",
        "The server encountered an unexpected condition that prevented it from fulfilling the "
        "request.",
    ),
    503: ("Service Unavailable", "The service is temporarily unavailable. Please retry."),
}

FORBIDDEN = "You do not have permission"
FORBIDDEN_RESOURCE = "You do not have permission to access this resource."
UPGRADE_ENTERPRISE = "Please upgrade your Calendly account to Enterprise."
# The wording since 2026-11-03; older gates keep the older "Please upgrade your Calendly account to".
UPGRADE_PAID = "Please upgrade to a paid Calendly account."


class ApiError(Exception):
    """Raised by handlers; turned into the documented error body for the operation."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        parameter: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message or reason or str(status))
        self.status = status
        self.message = message
        self.parameter = parameter
        self.reason = reason


def bad_request(parameter: str, reason: str) -> ApiError:
    return ApiError(400, parameter=parameter, reason=reason)


def error_body(op_key: str, err: ApiError, *, real: bool = False) -> dict[str, Any]:
    """The body for `err`: with `real` (hard realism) titled as real responses are
    (Unauthenticated, Invalid Argument, ...); otherwise as the spec pins the operation."""
    natural_title, natural_message = NATURAL_TITLES.get(err.status, ("Error", "Error"))
    wanted = err.message or natural_message
    if real:
        real_body: dict[str, Any] = {"title": natural_title, "message": wanted}
        if err.reason:
            real_detail = {"message": err.reason}
            if err.parameter:
                real_detail["parameter"] = err.parameter
            real_body["details"] = [real_detail]
        return real_body
    documented = facts.operation(op_key)["errors"].get(str(err.status))
    titles = documented.get("titles") if documented else None
    messages = documented.get("messages") if documented else None
    title = titles[0] if titles else natural_title
    message = wanted if not messages or wanted in messages else messages[0]
    body: dict[str, Any] = {"title": title, "message": message}
    reason = err.reason or (wanted if message != wanted else None)
    if reason:
        detail: dict[str, Any] = {"message": reason}
        if err.parameter:
            detail["parameter"] = err.parameter
        body["details"] = [detail]
    return body
