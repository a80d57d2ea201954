"""Where the sandbox, under hard realism, follows real Calendly responses instead of the spec.

Each entry names the spec schema, the field and how real responses differ. The package docstring
lists the same; the spec validation of the sandbox's own tests relaxes the spec by exactly these
entries and nothing else. Sources: published captures of real responses, summarized in
Calendly's release notes and API_NOTES (legacy ids, missing keys, nulls, error titles).
"""

from __future__ import annotations

from typing import NamedTuple

#: `change` values
MAY_BE_NULL = "may be null"
MAY_BE_ABSENT = "may be absent"
MAY_BE_A_NUMBER = "may be a number"
REAL_ERROR_TITLES = "carries the real title and message"


class SpecDifference(NamedTuple):
    schema: str  # components/schemas name, or "error responses" for every 4xx/5xx body
    field: str
    change: str


# Invitee keys Calendly added over time: older invitees lack them (when they would be null).
LATER_INVITEE_KEYS = (
    "first_name",
    "last_name",
    "no_show",
    "payment",
    "reconfirmation",
    "routing_form_submission",
    "scheduling_method",
    "invitee_scheduled_by",
)

SPEC_DIFFERENCES: tuple[SpecDifference, ...] = (
    SpecDifference("Invitee", "name", MAY_BE_NULL),
    *(SpecDifference("Invitee", key, MAY_BE_ABSENT) for key in LATER_INVITEE_KEYS),
    SpecDifference("InviteePayment", "amount", MAY_BE_A_NUMBER),
    SpecDifference("Event", "meeting_notes_html", MAY_BE_NULL),
    SpecDifference("Event", "calendar_event", MAY_BE_ABSENT),
    SpecDifference("User", "locale", MAY_BE_ABSENT),
    SpecDifference("OrganizationMembershipUser", "locale", MAY_BE_ABSENT),
    SpecDifference("EventType", "is_paid", MAY_BE_ABSENT),
    SpecDifference("error responses", "title", REAL_ERROR_TITLES),
)
