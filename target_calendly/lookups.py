"""Reads that resolve a record before its write: ids found by email or by invitee, and the state
that shows a write is not needed (the record then comes out `skipped`) or cannot apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from calendly_http import CalendlyClient, PermissionDeniedError, resource_uri, uuid_of
from target_calendly.validation import moment

Values = Mapping[str, Any]


@dataclass(frozen=True)
class Skip:
    """Nothing to send: the effect is already there. `response` is the existing resource."""

    reason: str
    response: Any = None


class LookupFailedError(Exception):
    """A lookup found a state the record's intent cannot be applied to (not "already done")."""


class WriteContext:
    """What resolution needs: the run's client (reads only) and the organization."""

    def __init__(self, client: CalendlyClient, signing_key_file: Path | None = None) -> None:
        self.client = client
        self.signing_key_file = signing_key_file  # where webhook signing keys go (target setting)

    @property
    def api_url(self) -> str:
        return self.client.settings.api_url

    @property
    def organization_uri(self) -> str:
        return self.client.organization_uri

    def uri(self, collection: str, value: str) -> str:
        """The full URI on api_url for a URI or bare UUID of `collection`."""
        return resource_uri(self.api_url, collection, uuid_of(value))

    def rebase(self, uri: str, collection: str) -> str:
        """A nested URI (e.g. an invitee) moved onto api_url's path prefix (its host was
        checked: executor.admit refuses URIs on another host)."""
        path = urlsplit(uri).path
        return self.api_url + path[path.index(f"/{collection}/") :].rstrip("/")

    def get(self, path_or_url: str, **params: Any) -> Any:
        return self.client.request("GET", path_or_url, params=params)

    def first(self, path: str, **params: Any) -> dict[str, Any] | None:
        return next(iter(self.client.paginate(path, params)), None)


# -- effects: what a write leaves behind, looked up before it (to skip) or after its answer was
#    lost (to know it happened). Each returns the resource, or None when there is none.


def canceled_event(values: Values, ctx: WriteContext) -> Any:
    event = ctx.get(f"/scheduled_events/{uuid_of(values['event'])}")["resource"]
    return event.get("cancellation") if event.get("status") == "canceled" else None


def invitee_no_show(values: Values, ctx: WriteContext) -> Any:
    invitee = ctx.get(ctx.rebase(values["invitee"], "scheduled_events"))["resource"]
    return invitee.get("no_show") or None


def pending_invitation(values: Values, ctx: WriteContext) -> Any:
    invitations = f"/organizations/{uuid_of(ctx.organization_uri)}/invitations"
    return ctx.first(invitations, email=values["email"], status="pending")


def booking(values: Values, ctx: WriteContext) -> Any:
    """The invitee (this email) on an active event of this type at this start time."""
    start = moment(values["start_time"])
    event_type = ctx.uri("event_types", values["event_type"])
    events = ctx.client.paginate(
        "/scheduled_events",
        {
            "organization": ctx.organization_uri,
            "invitee_email": values["email"],
            "status": "active",
            # Calendly reads min_start_time as "after": start a second early.
            "min_start_time": _utc(start - dt.timedelta(seconds=1)),
            "max_start_time": _utc(start + dt.timedelta(seconds=1)),
        },
    )
    event = next((e for e in events if e.get("event_type") == event_type), None)
    if event is None:
        return None
    invitee = ctx.first(
        f"/scheduled_events/{uuid_of(event['uri'])}/invitees",
        email=values["email"],
        status="active",
    )
    return invitee or event


# -- lookups: resolve ids, or find that the write is not needed (Skip).


def check_no_show(values: Values, ctx: WriteContext) -> Mapping[str, str] | Skip:
    no_show = invitee_no_show(values, ctx)
    return Skip("the invitee is already marked as a no-show", no_show) if no_show else {}


def check_booking(values: Values, ctx: WriteContext) -> Mapping[str, str] | Skip:
    """Without this a rerun after a crash (Calendly booked, the line was not written) would ask
    again and be refused with "this time slot is no longer available"."""
    try:
        booked = booking(values, ctx)
    except PermissionDeniedError:  # listing the organization's events needs an admin token
        return {}
    if booked is None:
        return {}
    return Skip("already booked: this email has this event type at this time", booked)


def find_no_show(values: Values, ctx: WriteContext) -> Mapping[str, str] | Skip:
    if "no_show" in values:
        return {"no_show": uuid_of(values["no_show"])}
    invitee = ctx.get(ctx.rebase(values["invitee"], "scheduled_events"))["resource"]
    if not invitee.get("no_show"):
        return Skip("the invitee is not marked as a no-show (already unmarked)")
    return {"no_show": uuid_of(invitee["no_show"]["uri"])}


def find_invitation(values: Values, ctx: WriteContext) -> Mapping[str, str] | Skip:
    org = uuid_of(ctx.organization_uri)
    if "invitation" in values:
        path = urlsplit(values["invitation"]).path
        if "/organizations/" in path:
            org = uuid_of(path.split("/organizations/", 1)[1].split("/", 1)[0])
        return {"organization": org, "invitation": uuid_of(values["invitation"])}
    invitations = f"/organizations/{org}/invitations"
    pending = ctx.first(invitations, email=values["email"], status="pending")
    if pending:
        return {"organization": org, "invitation": uuid_of(pending["uri"])}
    latest = ctx.first(invitations, email=values["email"], sort="created_at:desc")
    if latest and latest.get("status") == "accepted":
        raise LookupFailedError(
            "the invitation for this email was already accepted, so it cannot be revoked; "
            "use the remove_user action to take the user out of the organization"
        )
    if latest and latest.get("status") == "declined":
        return Skip("the invitation for this email was declined", latest)
    return Skip("no pending invitation for this email (already revoked, or never sent)")


def find_membership(values: Values, ctx: WriteContext) -> Mapping[str, str] | Skip:
    if "membership" in values:
        return {"membership": uuid_of(values["membership"])}
    membership = ctx.first(
        "/organization_memberships", organization=ctx.organization_uri, email=values["email"]
    )
    if membership is None:
        return Skip("no membership for this email in the organization (already removed)")
    return {"membership": uuid_of(membership["uri"])}


def existing_webhook(values: Values, ctx: WriteContext) -> Any:
    """The subscription this record asks for, exactly as asked (URL, events, scope, owner)."""
    return next(
        (
            hook
            for hook in _hooks_for_url(values, ctx)
            if not _webhook_differences(values, ctx, hook)
        ),
        None,
    )


def check_webhook(values: Values, ctx: WriteContext) -> Mapping[str, str] | Skip:
    """A subscription for this URL already exists: as asked (skip), or with other settings
    (which Calendly refuses to create beside it: say what differs, never `skipped`)."""
    hooks = list(_hooks_for_url(values, ctx))
    for hook in hooks:
        if not _webhook_differences(values, ctx, hook):
            return Skip(
                "a webhook subscription for this URL with these events and scope exists", hook
            )
    if hooks:
        differences = "; ".join(_webhook_differences(values, ctx, hooks[0]))
        raise LookupFailedError(
            f"a webhook subscription for this URL already exists with other settings "
            f"({differences}); the one asked for does not exist. Delete {hooks[0]['uri']} "
            "(delete_webhook_subscription) and rerun to replace it"
        )
    return {}


def _hooks_for_url(values: Values, ctx: WriteContext) -> Iterator[dict[str, Any]]:
    """Subscriptions for the record's URL in its scope and, if that is narrower, the org's."""
    listings = [{"organization": ctx.organization_uri, "scope": values["scope"]}]
    for scope_field in ("user", "group"):
        if values.get("scope") == scope_field and scope_field in values:
            listings[0][scope_field] = ctx.uri(f"{scope_field}s", values[scope_field])
    if values["scope"] != "organization":
        listings.append({"organization": ctx.organization_uri, "scope": "organization"})
    for params in listings:
        for hook in ctx.client.paginate("/webhook_subscriptions", params):
            if hook.get("callback_url") == values["url"]:
                yield hook


def _webhook_differences(values: Values, ctx: WriteContext, hook: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    asked, has = set(values["events"]), set(hook.get("events") or ())
    if asked != has:
        detail = [f"lacks {', '.join(sorted(asked - has))}"] if asked - has else []
        detail += [f"also has {', '.join(sorted(has - asked))}"] if has - asked else []
        found.append(f"it has events {', '.join(sorted(has)) or 'none'} ({'; '.join(detail)})")
    if hook.get("scope") != values["scope"]:
        found.append(f"its scope is {hook.get('scope')}, not {values['scope']}")
    else:
        for scope_field in ("user", "group"):
            if values["scope"] == scope_field and scope_field in values:
                wanted = ctx.uri(f"{scope_field}s", values[scope_field])
                owner = str(hook.get(scope_field) or "").rstrip("/").rsplit("/", 1)[-1]
                if owner != uuid_of(wanted):
                    found.append(f"it belongs to {scope_field} {hook.get(scope_field)}")
    if hook.get("state") not in (None, "active"):
        found.append(f"it is {hook.get('state')}")
    return found


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
