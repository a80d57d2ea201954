"""The one table of Calendly write actions the target can perform.

Each action says: the write (method + path template), the input fields (types and formats) and
which are required, how ids are resolved (a full URI or a bare UUID; some by an email lookup),
the request body, whether it destroys data, which Calendly answers mean "already done" (the
record comes out `skipped`, not `failed`), and whether records are batched into one request.

Path placeholders are filled with the UUID of the record field of the same name; `{organization}`
is the configured organization (else the token's); lookups may fill the others.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from calendly_http import CalendlyError, ConfigError, uuid_of
from target_calendly import api_request, event_types, signing_keys
from target_calendly.contacts import (
    MAX_CONTACT_EMAILS,
    Planned,
    find_contact_to_delete,
    plan_upsert,
    upserted_contact,
)
from target_calendly.lookups import (
    Context,
    LookupFailedError,
    Skip,
    Values,
    booking,
    canceled_event,
    check_booking,
    check_no_show,
    check_webhook,
    existing_webhook,
    find_invitation,
    find_membership,
    find_no_show,
    invitee_no_show,
    pending_invitation,
)
from target_calendly.validation import (
    InputSpec,
    array,
    boolean,
    calendly_id,
    date,
    date_time,
    email,
    integer,
    invitee_uri,
    moment,
    obj,
    one_of,
    text,
    url,
)


@dataclass(frozen=True)
class Write:
    """One request to send."""

    method: str
    path: str
    body: dict[str, Any] | None = None


Body = Callable[[Values, Context], "dict[str, Any] | None"]
Lookup = Callable[[Values, Context], "Mapping[str, str] | Skip"]
Rule = Callable[[CalendlyError], "str | None"]


def no_body(_values: Values, _ctx: Context) -> None:
    return None


def answered(status: int, *phrases: str, reason: str) -> Rule:
    """Rule: Calendly answered `status` and (if phrases are given) said one of them, in its
    message or in a `details` entry (where a 400 names the parameter and what is wrong)."""

    def rule(error: CalendlyError) -> str | None:
        said = what_calendly_said(error)
        heard = f"{error.message} {said}".lower()
        if error.status == status and (not phrases or any(p in heard for p in phrases)):
            return reason.format(message=said)
        return None

    return rule


def what_calendly_said(error: CalendlyError) -> str:
    """The specific part of an error: its `details` messages, else its message."""
    details = [str(d.get("message", "")) for d in error.details if d.get("message")]
    return "; ".join(details) or error.message or ""


@dataclass(frozen=True)
class Action:
    """One row of the table.

    lookup: reads before the write: resolves ids, or finds it unnecessary (Skip).
    already_done: Calendly refusals that mean the effect is already there (`skipped`).
    find_effect: reads the resource the write leaves behind: shown as the `response` of a
        `skipped` record, and used when the answer to a write was lost (OutcomeUnknownError)
        to tell whether Calendly performed it.
    resend_safe: sending the write twice does no harm, so a lost answer is simply resent.
    creates: a resend would create a second resource (a link, a share, a booking, an
        invitation, a webhook, a one-off event type): the responses file guards it, so a later
        run does not send a record an earlier run finished (its replay gets a `skipped` line
        pointing at the earlier one). Other actions check Calendly and are sent whenever asked.
    creates_when: the same, for the records it says so of (api_request POSTs).
    batch_body: records are batched, one request per `batch_size` records.
    planner: builds the write itself when its method and path depend on what a read finds
        (upsert: PATCH the contact found, else POST); `method`/`path` then document it.
    replan_on: refusals after which the record is planned once more, from fresh reads (a 409
        on create: the resource appeared in between, so it is updated instead).
    """

    name: str
    summary: str
    method: str
    path: str
    spec: InputSpec
    body: Body = no_body
    lookup: Lookup | None = None
    already_done: tuple[Rule, ...] = ()
    find_effect: Callable[[Values, Context], Any] | None = None
    resend_safe: bool = False
    #: A local step right before the request is sent (never on a dry run); its note becomes the
    #: `reason` of the `ok` line.
    before_send: Callable[[Write, Context], str | None] | None = None
    creates: bool = False
    creates_when: Callable[[Mapping[str, Any]], bool] | None = None
    destructive: bool = False
    batch_body: Callable[[list[Values]], dict[str, Any]] | None = None
    planner: Callable[[Values, Context], Planned | Skip] | None = None
    replan_on: tuple[Rule, ...] = ()
    #: Records this says are destructive need allow_destructive_actions (api_request DELETEs).
    destructive_when: Callable[[Values], bool] | None = None
    #: What of a record a plan or scope refusal is about: later records of this action that
    #: share it are not sent (they would be refused too), others still are. None: the action.
    refusal_scope: Callable[[Values], Hashable] | None = None

    def refusal_key(self, values: Values) -> tuple[str, Hashable]:
        return self.name, self.refusal_scope(values) if self.refusal_scope else None

    @property
    def may_create(self) -> bool:
        """Some of its records create (the responses file's ledger keeps its lines)."""
        return self.creates or self.creates_when is not None

    def creates_for(self, record: Mapping[str, Any]) -> bool:
        return self.creates or (self.creates_when is not None and self.creates_when(record))

    def destructive_for(self, values: Values) -> bool:
        return self.destructive_when is not None and self.destructive_when(values)

    @property
    def batchable(self) -> bool:
        return self.batch_body is not None

    def write(self, values: Values, ctx: Context) -> Write | Skip:
        """Resolve ids (lookups are reads) into the one write this record asks for."""
        if self.planner is not None:
            planned = self.planner(values, ctx)
            return planned if isinstance(planned, Skip) else Write(*planned)
        ids: dict[str, str] = {}
        if self.lookup is not None:
            found = self.lookup(values, ctx)
            if isinstance(found, Skip):
                return found
            ids.update(found)
        return Write(self.method, self._path(values, ctx, ids), self.body(values, ctx))

    def batch_write(self, batch: list[Values], ctx: Context) -> Write:
        assert self.batch_body is not None
        return Write(self.method, self._path({}, ctx, {}), self.batch_body(batch))

    def should_replan(self, error: CalendlyError) -> bool:
        return any(rule(error) for rule in self.replan_on)

    def skip_reason(self, error: CalendlyError) -> str | None:
        return next((r for rule in self.already_done if (r := rule(error))), None)

    def _path(self, values: Values, ctx: Context, ids: dict[str, str]) -> str:
        names = _placeholders(self.path)
        if "organization" in names and "organization" not in ids:
            ids["organization"] = uuid_of(ctx.organization_uri)
        for name in names - ids.keys():
            ids[name] = uuid_of(values[name])
        return self.path.format(**ids)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def pick(values: Values, *names: str) -> dict[str, Any]:
    return {name: values[name] for name in names if name in values}


# -- bodies -------------------------------------------------------------------------------------


def _scheduling_link(values: Values, ctx: Context) -> dict[str, Any]:
    # The spec types max_event_count as the string "1"; the input accepts 1 or "1".
    return {
        "max_event_count": str(values["max_event_count"]),
        "owner": ctx.uri("event_types", values["event_type"]),
        "owner_type": "EventType",
    }


_SHARE_FIELDS = (
    "name",
    "duration",
    "duration_options",
    "period_type",
    "start_date",
    "end_date",
    "max_booking_time",
    "hide_location",
    "location_configurations",
    "availability_rule",
)


def _hand_signing_key(write: Write, ctx: Context) -> str | None:
    """Before the subscription exists, the receiver must know its key: its first delivery
    can follow at once."""
    if ctx.signing_key_file is None or write.body is None:
        return None
    key = str(write.body["signing_key"])
    try:
        signing_keys.hand_to_receiver(ctx.signing_key_file, key)
    except OSError as exc:
        raise ConfigError(
            "webhook_signing_key_file", f"cannot write {ctx.signing_key_file}: {exc.strerror}"
        ) from None
    return (
        f"signing key (sha256 {signing_keys.fingerprint(key)}...) is in "
        f"{ctx.signing_key_file}, the key file calendly-webhooks reads"
    )


def _share(values: Values, ctx: Context) -> dict[str, Any]:
    return {
        "event_type": ctx.uri("event_types", values["event_type"]),
        **pick(values, *_SHARE_FIELDS),
    }


def _webhook_event_families(values: Values) -> frozenset[str]:
    """A plan refuses some events (routing forms need Teams, meeting recaps a paid plan) and
    allows the rest on every plan: a refusal holds back only subscriptions to the same ones."""
    return frozenset(event.split(".")[0] for event in values["events"])


def _webhook(values: Values, ctx: Context) -> dict[str, Any]:
    if "signing_key" not in values and ctx.signing_key_file is None:
        raise LookupFailedError(
            "the record has no signing_key and the target setting webhook_signing_key_file is "
            "not set: a generated key would reach no receiver, and unsigned deliveries cannot "
            "be verified. Set webhook_signing_key_file (the file calendly-webhooks reads) or "
            "give the record a signing_key"
        )
    body = {
        "url": values["url"],
        "events": list(values["events"]),
        "organization": ctx.organization_uri,
        "scope": values["scope"],
        "signing_key": values.get("signing_key") or signing_keys.generate(),
    }
    for scope_field in ("user", "group"):
        if scope_field in values:
            body[scope_field] = ctx.uri(f"{scope_field}s", values[scope_field])
    return body


_INVITEE_FIELDS = ("email", "timezone", "name", "first_name", "last_name", "text_reminder_number")


def _booking(values: Values, ctx: Context) -> dict[str, Any]:
    return {
        "event_type": ctx.uri("event_types", values["event_type"]),
        "start_time": values["start_time"],
        "invitee": pick(values, *_INVITEE_FIELDS),
        **pick(values, "location", "questions_and_answers", "tracking", "event_guests"),
    }


def _deletion_emails(batch: list[Values]) -> dict[str, Any]:
    return {"emails": list(dict.fromkeys(values["email"] for values in batch))}


# -- input field types shared by several actions -------------------------------------------------

WEBHOOK_EVENTS = (
    "invitee.created",
    "invitee.canceled",
    "invitee_no_show.created",
    "invitee_no_show.deleted",
    "event_type.created",
    "event_type.updated",
    "event_type.deleted",
    "meeting_recap.created",
    "meeting_recap.updated",
    "meeting_recap.deleted",
    "routing_form_submission.created",
    "contact.created",
    "contact.updated",
    "contact.deleted",
)
LOCATION_KINDS = (
    "physical",
    "ask_invitee",
    "custom",
    "outbound_call",
    "inbound_call",
    "google_conference",
    "gotomeeting_conference",
    "microsoft_teams_conference",
    "webex_conference",
    "zoom_conference",
)
_LOCATION = obj(
    {
        "kind": one_of(*LOCATION_KINDS),
        "location": text(255),
        "additional_info": text(255),
        "phone_number": text(),
        "position": integer(),
    },
    required=["kind"],
)
_AVAILABILITY_RULE = obj(
    {
        "timezone": text(),
        "rules": array(
            obj(
                {
                    "type": one_of("wday", "date"),
                    "wday": one_of(
                        "sunday",
                        "monday",
                        "tuesday",
                        "wednesday",
                        "thursday",
                        "friday",
                        "saturday",
                    ),
                    "date": date(),
                    "intervals": array(obj({"from": text(), "to": text()}, ["from", "to"])),
                },
                required=["type"],
            )
        ),
    },
    required=["timezone", "rules"],
)
_DURATION = integer(1, 720)
_EVENT_TYPE_SETTINGS = {
    "duration": _DURATION,
    "duration_options": array(_DURATION, unique=True),
    "description": text(),
    "color": text(),
    "locale": one_of("de", "en", "es", "fr", "it", "nl", "pt", "uk"),
    "active": boolean(),
    "locations": array(
        obj(
            {
                "kind": one_of(*LOCATION_KINDS),
                "location": text(),
                "additional_info": text(),
                "phone_number": text(),
            },
            ["kind"],
        )
    ),
}
_SCHEDULE_RULE = obj(
    {
        "type": one_of("wday", "date"),
        "wday": one_of(*event_types.WEEKDAYS),
        "date": date(),
        "intervals": {
            "type": "array",
            "items": obj({"from": text(), "to": text()}, ["from", "to"]),
        },
    },
    required=["type", "intervals"],
)


def one_of_shapes(*shapes: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "oneOf": list(shapes)}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _past_window_of_24_months(values: Values) -> str | None:
    start, end = moment(values["start_time"]), moment(values["end_time"])
    if end <= start:
        return "field 'end_time' must be after 'start_time'"
    if end > _now():
        return "field 'end_time' must be in the past (Calendly deletes past event data only)"
    try:
        limit = start.replace(year=start.year + 2)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + 2, day=28)
    if end > limit:
        return "fields 'start_time' to 'end_time' must span at most 24 months"
    return None


def _in_the_future(values: Values) -> str | None:
    if moment(values["start_time"]) <= _now():
        return "field 'start_time' must be in the future"
    return None


# -- the table ----------------------------------------------------------------------------------

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action(
            name="cancel_event",
            summary="Cancel a scheduled event (invitees are notified)",
            method="POST",
            path="/scheduled_events/{event}/cancellation",
            spec=InputSpec(
                {"event": calendly_id("scheduled_events"), "reason": text(10000)},
                required=("event",),
            ),
            body=lambda v, _: pick(v, "reason"),
            already_done=(
                answered(403, "already canceled", reason="the event is already canceled"),
            ),
            find_effect=canceled_event,
            destructive=True,
        ),
        Action(
            name="mark_no_show",
            summary="Mark an invitee as a no-show",
            method="POST",
            path="/invitee_no_shows",
            spec=InputSpec({"invitee": invitee_uri()}, required=("invitee",)),
            lookup=check_no_show,
            body=lambda v, ctx: {"invitee": ctx.rebase(v["invitee"], "scheduled_events")},
            find_effect=invitee_no_show,
            already_done=(
                answered(409, reason="the invitee is already marked as a no-show"),
                answered(
                    400, "already", reason="the invitee is already marked as a no-show ({message})"
                ),
                answered(
                    422, "already", reason="the invitee is already marked as a no-show ({message})"
                ),
            ),
        ),
        Action(
            name="unmark_no_show",
            summary="Undo an invitee's no-show (by no-show, or the invitee's current one)",
            method="DELETE",
            path="/invitee_no_shows/{no_show}",
            spec=InputSpec(
                {"no_show": calendly_id("invitee_no_shows"), "invitee": invitee_uri()},
                required=(("no_show", "invitee"),),
            ),
            lookup=find_no_show,
            already_done=(
                answered(404, reason="no such no-show: already unmarked (or the id never existed)"),
            ),
        ),
        Action(
            name="invite_user",
            creates=True,
            summary="Invite an email to the organization",
            method="POST",
            path="/organizations/{organization}/invitations",
            spec=InputSpec({"email": email()}, required=("email",)),
            body=lambda v, _: {"email": v["email"]},
            find_effect=pending_invitation,
            already_done=(
                answered(409, reason="already invited or already a member: {message}"),
                answered(400, "already", reason="already invited or already a member: {message}"),
                answered(422, "already", reason="already invited or already a member: {message}"),
            ),
        ),
        Action(
            name="revoke_invitation",
            summary="Revoke a pending invitation (by invitation, or the email's pending one)",
            method="DELETE",
            path="/organizations/{organization}/invitations/{invitation}",
            spec=InputSpec(
                {"invitation": calendly_id("invitations"), "email": email()},
                required=(("invitation", "email"),),
            ),
            lookup=find_invitation,
            already_done=(
                answered(
                    404, reason="no such invitation: already revoked (or the id never existed)"
                ),
                answered(400, "is declined", reason="the invitation was declined"),
            ),
        ),
        Action(
            name="remove_user",
            summary="Remove a user from the organization (by membership, or the email's)",
            method="DELETE",
            path="/organization_memberships/{membership}",
            spec=InputSpec(
                {"membership": calendly_id("organization_memberships"), "email": email()},
                required=(("membership", "email"),),
            ),
            lookup=find_membership,
            already_done=(
                answered(
                    404, reason="no such membership: already removed (or the id never existed)"
                ),
            ),
            destructive=True,
        ),
        Action(
            name="create_scheduling_link",
            creates=True,
            summary="Create a single-use scheduling link for an event type",
            method="POST",
            path="/scheduling_links",
            spec=InputSpec(
                {
                    "event_type": calendly_id("event_types"),
                    "max_event_count": integer() | one_of(1),
                },
                required=("event_type",),
                defaults={"max_event_count": 1},
            ),
            body=_scheduling_link,
        ),
        Action(
            name="create_share",
            creates=True,
            summary="Create a customized share of a one-on-one event type",
            method="POST",
            path="/shares",
            spec=InputSpec(
                {
                    "event_type": calendly_id("event_types"),
                    "name": text(55),
                    "duration": _DURATION,
                    "duration_options": array(_DURATION, max_items=4, unique=True),
                    "period_type": one_of("available_moving", "moving", "fixed", "unlimited"),
                    "start_date": date(),
                    "end_date": date(),
                    "max_booking_time": integer(1),
                    "hide_location": boolean(),
                    "location_configurations": array(_LOCATION),
                    "availability_rule": _AVAILABILITY_RULE,
                },
                required=("event_type",),
                required_when=(
                    ("period_type", "fixed", "start_date"),
                    ("period_type", "fixed", "end_date"),
                    ("period_type", "moving", "max_booking_time"),
                    ("period_type", "available_moving", "max_booking_time"),
                ),
            ),
            body=_share,
        ),
        Action(
            name="delete_invitee_data",
            summary="GDPR: delete all data of invitee emails (batched, Enterprise)",
            method="POST",
            path="/data_compliance/deletion/invitees",
            spec=InputSpec({"email": email()}, required=("email",)),
            batch_body=_deletion_emails,
            resend_safe=True,
            destructive=True,
        ),
        Action(
            name="delete_event_data",
            summary="GDPR: delete scheduled-event data in a past time range (Enterprise)",
            method="POST",
            path="/data_compliance/deletion/events",
            spec=InputSpec(
                {"start_time": date_time(), "end_time": date_time()},
                required=("start_time", "end_time"),
                checks=(_past_window_of_24_months,),
            ),
            body=lambda v, _: pick(v, "start_time", "end_time"),
            resend_safe=True,
            destructive=True,
        ),
        Action(
            name="create_webhook_subscription",
            creates=True,
            summary="Subscribe a URL to Calendly webhook events",
            method="POST",
            path="/webhook_subscriptions",
            spec=InputSpec(
                {
                    "url": url(),
                    "events": array(one_of(*WEBHOOK_EVENTS), unique=True),
                    "scope": one_of("organization", "user", "group"),
                    "user": calendly_id("users"),
                    "group": calendly_id("groups"),
                    "signing_key": text(),
                },
                required=("url", "events", "scope"),
                required_when=(("scope", "user", "user"), ("scope", "group", "group")),
            ),
            lookup=check_webhook,
            body=_webhook,
            find_effect=existing_webhook,
            before_send=_hand_signing_key,
            refusal_scope=_webhook_event_families,
        ),
        Action(
            name="delete_webhook_subscription",
            summary="Delete a webhook subscription",
            method="DELETE",
            path="/webhook_subscriptions/{webhook_subscription}",
            spec=InputSpec(
                {"webhook_subscription": calendly_id("webhook_subscriptions")},
                required=("webhook_subscription",),
            ),
            already_done=(
                answered(
                    404,
                    reason="no such webhook subscription: already deleted (or the id never existed)",
                ),
            ),
        ),
        Action(
            name="book_meeting",
            creates=True,
            summary="Book a meeting for an invitee (Scheduling API, POST /invitees)",
            method="POST",
            path="/invitees",
            spec=InputSpec(
                {
                    "event_type": calendly_id("event_types"),
                    "start_time": date_time(),
                    "email": email(),
                    "timezone": text(),
                    "name": text(),
                    "first_name": text(),
                    "last_name": text(),
                    "text_reminder_number": text(),
                    "location": obj(
                        {"kind": one_of(*LOCATION_KINDS), "location": text()}, ["kind"]
                    ),
                    "questions_and_answers": array(
                        obj(
                            {"question": text(), "answer": text(), "position": integer(0)},
                            ["question", "answer", "position"],
                        )
                    ),
                    "tracking": obj(),
                    "event_guests": array(email(), max_items=10),
                },
                required=("event_type", "start_time", "email", "timezone", ("name", "first_name")),
                checks=(_in_the_future,),
            ),
            lookup=check_booking,
            find_effect=booking,
            body=_booking,
        ),
        Action(
            name="upsert_contact",
            summary="Create or update the contact with this primary email (CRM reverse ETL)",
            method="PATCH or POST",
            path="/contacts/{contact} or /contacts",
            spec=InputSpec(
                {
                    "email": email(),
                    "name": text(),
                    "other_emails": array(email(), max_items=MAX_CONTACT_EMAILS - 1),
                    "phone_numbers": array(text()),
                    "company": text(),
                    "job_title": text(),
                    "city": text(),
                    "state": text(),
                    "country": text(),
                    "timezone": text(),
                    "custom_fields": obj(),
                },
                required=("email",),
            ),
            planner=plan_upsert,
            replan_on=(answered(409, reason="created in between: look it up again"),),
            find_effect=upserted_contact,
        ),
        Action(
            name="delete_contact",
            summary="Delete a contact (by contact URI or UUID, or its primary email)",
            method="DELETE",
            path="/contacts/{contact}",
            spec=InputSpec(
                {"contact": calendly_id("contacts"), "email": email()},
                required=(("contact", "email"),),
            ),
            lookup=find_contact_to_delete,
            already_done=(
                answered(404, reason="no such contact: already deleted (or the id never existed)"),
            ),
            destructive=True,
        ),
        Action(
            name="create_event_type",
            summary="Create a one-on-one event type (keyed on owner + name)",
            method="POST",
            path="/event_types",
            spec=InputSpec(
                {"owner": calendly_id("users"), "name": text(), **_EVENT_TYPE_SETTINGS},
                required=("name",),
            ),
            lookup=event_types.check_event_type_exists,
            body=event_types.create_event_type_body,
            find_effect=event_types.same_named_event_type,
        ),
        Action(
            name="update_event_type",
            summary="Update a one-on-one (solo) event type: only what differs is sent",
            method="PATCH",
            path="/event_types/{event_type}",
            spec=InputSpec(
                {"event_type": calendly_id("event_types"), "name": text(), **_EVENT_TYPE_SETTINGS},
                required=("event_type",),
            ),
            planner=event_types.plan_event_type_update,
            find_effect=event_types.updated_event_type,
        ),
        Action(
            name="create_one_off_event_type",
            creates=True,
            summary="Create a one-off event type (a meeting outside the usual event types)",
            method="POST",
            path="/one_off_event_types",
            spec=InputSpec(
                {
                    "name": text(55),
                    "host": calendly_id("users"),
                    "co_hosts": array(calendly_id("users")),
                    "duration": _DURATION,
                    "timezone": text(),
                    "date_setting": one_of_shapes(
                        obj(
                            {
                                "type": one_of("date_range"),
                                "start_date": date(),
                                "end_date": date(),
                            },
                            ["type", "start_date", "end_date"],
                        ),
                        obj(
                            {
                                "type": one_of("days_in_future"),
                                "days": integer(0, 365),
                                "only_weekdays": boolean(),
                            },
                            ["type", "days", "only_weekdays"],
                        ),
                        obj(
                            {
                                "type": one_of("spots"),
                                "spots": array(
                                    obj(
                                        {"start_time": date_time(), "end_time": date_time()},
                                        ["start_time", "end_time"],
                                    )
                                ),
                            },
                            ["type", "spots"],
                        ),
                    ),
                    "location": obj(
                        {
                            "kind": one_of(*LOCATION_KINDS),
                            "location": text(),
                            "additional_info": text(),
                            "phone_number": text(),
                        },
                        ["kind"],
                    ),
                },
                required=("name", "duration", "date_setting"),
            ),
            body=event_types.one_off_body,
        ),
        Action(
            name="update_event_type_availability",
            summary="Replace an event type's weekly availability with a whole schedule",
            method="PATCH",
            path="/event_type_availability_schedules?event_type={event_type}",
            spec=InputSpec(
                {
                    "event_type": calendly_id("event_types"),
                    "timezone": text(),
                    "rules": {"type": "array", "items": _SCHEDULE_RULE},
                },
                required=("event_type", "timezone", "rules"),
                checks=(event_types.whole_schedule,),
            ),
            planner=event_types.plan_availability,
            find_effect=event_types.availability_in_place,
        ),
        Action(
            name="api_request",
            summary="Any Calendly endpoint: method, path with {column} placeholders, JSON body",
            method="GET, POST, PUT, PATCH or DELETE",
            path="{path}",
            spec=InputSpec(
                {
                    "method": one_of(
                        *api_request.METHODS, *(m.lower() for m in api_request.METHODS)
                    ),
                    "path": text(),
                    "exclude": {"type": ["array", "string"], "items": text()},
                },
                required=("method", "path"),
                checks=(api_request.path_problem,),
                passthrough=True,
            ),
            planner=api_request.plan_request,
            creates_when=api_request.is_post,
            destructive_when=api_request.is_delete,
        ),
    )
}

DESTRUCTIVE_ACTIONS = tuple(name for name, action in ACTIONS.items() if action.destructive)


def action_names() -> str:
    return ", ".join(ACTIONS)


__all__ = ["ACTIONS", "DESTRUCTIVE_ACTIONS", "Action", "Write", "action_names"]
