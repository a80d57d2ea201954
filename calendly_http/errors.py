"""What can go wrong talking to Calendly, as exceptions that say what to do about it.

Messages never carry secrets: the client redacts every configured secret before an error leaves it.
"""

from __future__ import annotations

import json
from typing import Any

import requests


class ConfigError(ValueError):
    """A setting is missing, malformed or unsafe; raised before any request is sent."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(f"Setting `{setting}`: {problem}")


class CalendlyError(Exception):
    """An answer from Calendly that a retry cannot fix (or retries that ran out)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        details: list[dict[str, Any]] | None = None,
        method: str = "",
        url: str = "",
        lost_answer: str | None = None,
    ) -> None:
        self.status = status
        # Set on an OutcomeUnknownError, and on a refusal of a resend whose first answer was lost.
        self.after_lost_answer = lost_answer
        self.title = title
        self.message = message
        self.details = details or []
        self.method = method
        self.url = url
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"{self.method} {self.url}".strip()
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        head = f"{self.title}: {self.message}" if self.title else self.message
        detail = "; ".join(
            f"{d.get('parameter', '')}: {d.get('message', '')}".strip(": ") for d in self.details
        )
        text = f"{head} ({status}{', ' + where if where else ''})"
        return f"{text} [{detail}]" if detail else text

    def as_outcome(self) -> dict[str, Any]:
        """The error as the target's responses file records it."""
        return {"title": self.title or type(self).__name__, "message": str(self)}


class AuthenticationError(CalendlyError):
    """401, or an OAuth refresh that Calendly refused. The message names the setting to fix."""


class InsufficientScopeError(CalendlyError):
    """403 listing `required_scopes`: the token lacks OAuth scopes."""

    def __init__(self, message: str, *, required_scopes: list[str], **kwargs: Any) -> None:
        self.required_scopes = required_scopes
        scopes = ", ".join(required_scopes) or "unknown"
        super().__init__(f"{message} The token needs the scopes: {scopes}.", **kwargs)


class PlanRequiredError(CalendlyError):
    """403 because the organization's Calendly plan does not include the feature."""


class PermissionDeniedError(CalendlyError):
    """Any other 403: the token's user may not do this (not an admin, past event...)."""


class NotFoundError(CalendlyError):
    """404."""


class ConflictError(CalendlyError):
    """409: the resource already exists."""


class InvalidRequestError(CalendlyError):
    """400 or 422: Calendly rejected the request's parameters or body."""


class OutcomeUnknownError(CalendlyError):
    """A write whose answer was lost after Calendly may have performed it (a 5xx, a reset, a
    timeout, a cut-short body).

    It is not resent blindly, which could create a resource twice: the caller looks the outcome up.
    """


class RetriesExhaustedError(CalendlyError):
    """429, 5xx, timeouts or broken connections persisted through every allowed retry."""


_PLAN_MARKERS = ("please upgrade", "only available on paid", "upgrade your plan")


def error_from_response(response: requests.Response, method: str, url: str) -> CalendlyError:
    """Classify a non-2xx, non-retriable response into the matching CalendlyError."""
    body = _json_or_empty(response)
    title = str(body.get("title") or response.reason or "")
    message = str(body.get("message") or body.get("error_description") or response.reason or "")
    details = body.get("details") if isinstance(body.get("details"), list) else None
    kwargs: dict[str, Any] = {
        "status": response.status_code,
        "title": title,
        "details": details,
        "method": method,
        "url": url,
    }
    status = response.status_code
    if status == 401:
        # The spec's generated 401 bodies carry unrelated titles ("Internal Server Error").
        return AuthenticationError(message, **{**kwargs, "title": "Unauthenticated"})
    if status == 403:
        if isinstance(body.get("required_scopes"), list):
            return InsufficientScopeError(
                message, required_scopes=[str(s) for s in body["required_scopes"]], **kwargs
            )
        # Some endpoints' documented 403 message is generic, with "Please upgrade..." in details.
        texts = [message, *(str(d.get("message", "")) for d in details or [])]
        if any(marker in text.lower() for text in texts for marker in _PLAN_MARKERS):
            return PlanRequiredError(message, **kwargs)
        return PermissionDeniedError(message, **kwargs)
    by_status: dict[int, type[CalendlyError]] = {
        404: NotFoundError,
        409: ConflictError,
        400: InvalidRequestError,
        422: InvalidRequestError,
    }
    return by_status.get(status, CalendlyError)(message, **kwargs)


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
