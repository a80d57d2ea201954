"""The one table of Calendly write actions the target can perform: adding an action is adding
its row here (docs/actions.md is generated from this table by scripts/sync_docs.py).

Each row says: the write (method + path template), the input fields (types and formats) and
which are required, how ids are resolved (a full URI or a bare UUID; some by an email lookup),
the request body, whether it destroys data, which Calendly answers mean "already done" (the
record comes out `skipped`, not `failed`), and whether records are batched into one request
(target_calendly.action.Action documents each column).
"""

from __future__ import annotations

from target_calendly import api_request, bodies, event_types
from target_calendly.action import Action, Write, answered, pick
from target_calendly.contacts import (
    MAX_CONTACT_EMAILS,
    find_contact_to_delete,
    plan_upsert,
    upserted_contact,
)
from target_calendly.input_fields import (
    AVAILABILITY_RULE,
    DURATION,
    EVENT_TYPE_SETTINGS,
    ONE_OFF_DATE_SETTING,
    SCHEDULE_RULE,
    WEBHOOK_EVENTS,
    in_the_future,
    location,
    past_window_of_24_months,
)
from target_calendly.lookups import (
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
    obj,
    one_of,
    text,
    url,
)

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action(
            name="cancel_event",
            summary="Cancel a scheduled event (invitees are notified)",
            scope="`scheduled_events:write`",
            skipped_when="the event is already canceled",
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
            scope="`scheduled_events:write`",
            skipped_when="the invitee is already a no-show",
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
            scope="`scheduled_events:write`",
            skipped_when="the invitee is not (or no longer) a no-show",
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
            scope="`organizations:write`",
            plan="any (within purchased seats; not under SCIM)",
            skipped_when="already invited or already a member",
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
            scope="`organizations:write`",
            plan="any (not under SCIM)",
            skipped_when="no pending invitation (already revoked, declined); an accepted one fails",
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
            scope="`organizations:write` (admin; not the owner)",
            skipped_when="no membership for that email (already removed)",
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
            scope="`scheduling_links:write`",
            skipped_when="never: each record creates one single-use link",
            rules="`max_event_count`: only 1",
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
            body=bodies.scheduling_link,
        ),
        Action(
            name="create_share",
            creates=True,
            summary="Create a customized share of a one-on-one event type",
            scope="`shares:write`",
            plan="one-on-one event types only",
            rules="`period_type` with its dates or `max_booking_time`",
            method="POST",
            path="/shares",
            spec=InputSpec(
                {
                    "event_type": calendly_id("event_types"),
                    "name": text(55),
                    "duration": DURATION,
                    "duration_options": array(DURATION, max_items=4, unique=True),
                    "period_type": one_of("available_moving", "moving", "fixed", "unlimited"),
                    "start_date": date(),
                    "end_date": date(),
                    "max_booking_time": integer(1),
                    "hide_location": boolean(),
                    "location_configurations": array(
                        location("additional_info", "phone_number", "position", max_length=255)
                    ),
                    "availability_rule": AVAILABILITY_RULE,
                },
                required=("event_type",),
                required_when=(
                    ("period_type", "fixed", "start_date"),
                    ("period_type", "fixed", "end_date"),
                    ("period_type", "moving", "max_booking_time"),
                    ("period_type", "available_moving", "max_booking_time"),
                ),
            ),
            body=bodies.share,
        ),
        Action(
            name="delete_invitee_data",
            summary="GDPR: delete all data of invitee emails (batched, Enterprise)",
            scope="`data_compliance:write`",
            plan="**Enterprise**",
            rules="`gdpr_deletion_batch_size` emails per request (its former name `batch_size` is still accepted)",
            method="POST",
            path="/data_compliance/deletion/invitees",
            spec=InputSpec({"email": email()}, required=("email",)),
            batch_body=bodies.deletion_emails,
            resend_safe=True,
            destructive=True,
        ),
        Action(
            name="delete_event_data",
            summary="GDPR: delete scheduled-event data in a past time range (Enterprise)",
            scope="`data_compliance:write`",
            plan="**Enterprise**",
            rules="`start_time`, `end_time` in order, in the past, ≤ 24 months apart (checked before sending)",
            method="POST",
            path="/data_compliance/deletion/events",
            spec=InputSpec(
                {"start_time": date_time(), "end_time": date_time()},
                required=("start_time", "end_time"),
                checks=(past_window_of_24_months,),
            ),
            body=lambda v, _: pick(v, "start_time", "end_time"),
            resend_safe=True,
            destructive=True,
        ),
        Action(
            name="create_webhook_subscription",
            creates=True,
            summary="Subscribe a URL to Calendly webhook events",
            scope="`webhooks:write`",
            plan="every plan; `routing_form_submission.created` needs Teams, `meeting_recap.*` a paid plan",
            skipped_when="a subscription for that URL with those events and scope exists (other settings: `failed`, saying what differs)",
            rules="`user` / `group` required for those scopes",
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
            body=bodies.webhook,
            find_effect=existing_webhook,
            before_send=bodies.hand_signing_key,
            refusal_scope=bodies.webhook_event_families,
        ),
        Action(
            name="delete_webhook_subscription",
            summary="Delete a webhook subscription",
            scope="`webhooks:write`",
            plan="every plan",
            skipped_when="it no longer exists",
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
            scope="`scheduled_events:write`",
            plan="every plan (since 2026-11-03); paced to its own limits (above)",
            skipped_when="this email already has that event type at that time (read first)",
            rules="`start_time` in the future; `name` or `first_name`",
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
                    "location": location(),
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
                checks=(in_the_future,),
            ),
            lookup=check_booking,
            find_effect=booking,
            body=bodies.booking,
        ),
        Action(
            name="upsert_contact",
            summary="Create or update the contact with this primary email (CRM reverse ETL)",
            scope="`contacts:write`",
            skipped_when="the contact already has every value of the row (nothing is sent)",
            rules="`GET /contacts?email=` first: `PATCH /contacts/{uuid}` when found, else `POST /contacts`; `email` is the primary email; `name` needed to create",
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
            scope="`contacts:write`",
            skipped_when="no contact has that primary email, or it is gone (404)",
            rules="`contact` (URI or UUID) or `email` (primary)",
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
            scope="`event_types:write`",
            plan="any; one-on-one only",
            skipped_when="the owner already has an event type of that name (owner + name is the key)",
            rules="`owner` defaults to the token's user",
            method="POST",
            path="/event_types",
            spec=InputSpec(
                {"owner": calendly_id("users"), "name": text(), **EVENT_TYPE_SETTINGS},
                required=("name",),
            ),
            lookup=event_types.check_event_type_exists,
            body=event_types.create_event_type_body,
            find_effect=event_types.same_named_event_type,
        ),
        Action(
            name="update_event_type",
            summary="Update a one-on-one (solo) event type: only what differs is sent",
            scope="`event_types:write`",
            skipped_when="the event type already has those values; a group, collective or round-robin type fails (the API updates solo types only)",
            method="PATCH",
            path="/event_types/{event_type}",
            spec=InputSpec(
                {"event_type": calendly_id("event_types"), "name": text(), **EVENT_TYPE_SETTINGS},
                required=("event_type",),
            ),
            planner=event_types.plan_event_type_update,
            find_effect=event_types.updated_event_type,
        ),
        Action(
            name="create_one_off_event_type",
            creates=True,
            summary="Create a one-off event type (a meeting outside the usual event types)",
            scope="`event_types:write`",
            skipped_when="never: each record creates one",
            rules="`date_setting` (JSON: `date_range`, `days_in_future` or `spots`)",
            method="POST",
            path="/one_off_event_types",
            spec=InputSpec(
                {
                    "name": text(55),
                    "host": calendly_id("users"),
                    "co_hosts": array(calendly_id("users")),
                    "duration": DURATION,
                    "timezone": text(),
                    "date_setting": ONE_OFF_DATE_SETTING,
                    "location": location("additional_info", "phone_number"),
                },
                required=("name", "duration", "date_setting"),
            ),
            body=event_types.one_off_body,
        ),
        Action(
            name="update_event_type_availability",
            summary="Replace an event type's weekly availability with a whole schedule",
            scope="`availability:write`",
            skipped_when="the schedule is already exactly that",
            rules="read (`GET`) first, then the `PATCH`; `rules` (JSON list): a `wday` rule for each of the seven weekdays, empty `intervals` for a day off, plus any `date` rules",
            method="PATCH",
            path="/event_type_availability_schedules?event_type={event_type}",
            spec=InputSpec(
                {
                    "event_type": calendly_id("event_types"),
                    "timezone": text(),
                    "rules": {"type": "array", "items": SCHEDULE_RULE},
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
            scope="the endpoint's",
            plan="the endpoint's",
            rules="a `DELETE` is destructive (⚠); `path` with `{column}` placeholders; `exclude`: columns kept out of the body",
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


def action_names() -> str:
    return ", ".join(ACTIONS)


__all__ = ["ACTIONS", "Action", "Write", "action_names"]
