"""Where the sandbox, under hard realism, follows real Calendly responses instead of the spec.

Each entry names the spec schema, the field and how real responses differ. The package docstring
lists the same; the spec validation of the sandbox's own tests relaxes the spec by exactly these
entries and nothing else. Sources: published captures of real responses, summarized in
Calendly's release notes and API_NOTES (legacy ids, missing keys, nulls, error titles).
"""

from __future__ import annotations

import hashlib
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

# One list page in this many is served in the shape of a real page of 2021: `next_page` (and
# `previous_page`) without `next_page_token` or `previous_page_token`.
PAGES_PER_2021_PAGE = 4


def served_in_2021_shape(page_key: str) -> bool:
    """Whether a page (its path and first row) comes in 2021's shape: one in
    PAGES_PER_2021_PAGE, the same pages for the same seed whatever the port, the clock or the
    page tokens, so a test of a seeded organization always meets the same ones."""
    return hashlib.sha256(page_key.encode()).digest()[0] % PAGES_PER_2021_PAGE == 0


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
    # One list page in PAGES_PER_2021_PAGE (any list endpoint, first, middle or last page).
    SpecDifference("Pagination", "next_page_token", MAY_BE_ABSENT),
    SpecDifference("Pagination", "previous_page_token", MAY_BE_ABSENT),
)
