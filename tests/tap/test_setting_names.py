"""Renamed settings: the old name a user already set keeps working."""

from __future__ import annotations

from tap_calendly.client import DEFAULT_CONCURRENCY
from tap_calendly.tap import TapCalendly


def test_invitee_concurrency_is_still_accepted_as_the_old_name_of_child_concurrency() -> None:
    assert TapCalendly(config={"token": "t", "child_concurrency": 3}).concurrency == 3
    assert TapCalendly(config={"token": "t", "invitee_concurrency": 7}).concurrency == 7
    assert TapCalendly(config={"token": "t"}).concurrency == DEFAULT_CONCURRENCY
