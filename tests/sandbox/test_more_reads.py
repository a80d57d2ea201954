"""Recaps, snapshots and contacts read in full through spec-checked sessions; the Free plan's
refusals; the rules of the forward-looking ranges."""

from __future__ import annotations

import json

import pytest
import requests

from calendly_sandbox import Sandbox
from tests.sandbox.conftest import OwnSandbox
from tests.sandbox.moments import in_days
from tests.sandbox.pages import every_page


def test_every_recap_contact_and_transcript_matches_the_spec(
    api: requests.Session, sandbox: Sandbox
) -> None:
    recaps = [
        recap
        for status in ("available", "processing", "unavailable")
        for recap in every_page(api, f"{sandbox.base_url}/meeting_recaps", status=status)
    ]
    assert recaps
    for recap in recaps:
        assert api.get(recap["uri"], timeout=30).status_code == 200
        if recap["status"] == "available":
            assert api.get(recap["transcript"], timeout=30).status_code == 200
    assert len(every_page(api, f"{sandbox.base_url}/contacts", count="100")) == len(
        sandbox.store.contacts
    )


@pytest.mark.parametrize(
    ("path", "window_days", "too_long"),
    [("/event_type_available_times", 31, 32), ("/user_busy_times", 7, 8)],
)
def test_forward_ranges_are_future_and_bounded(
    api: requests.Session, sandbox: Sandbox, path: str, window_days: int, too_long: int
) -> None:
    owner = sandbox.store.current_user["uri"]
    event_type = next(
        t["uri"]
        for t in sandbox.store.event_types.values()
        if t["active"] and t["profile"]["owner"] == owner
    )
    who = {"event_type": event_type} if "available" in path else {"user": owner}
    url = sandbox.base_url + path

    def ask(start: float, end: float) -> int:
        query = {**who, "start_time": in_days(start), "end_time": in_days(end)}
        return api.get(url, params=query, timeout=30).status_code

    assert ask(0.01, window_days) == 200
    assert ask(0.01, too_long) == 400
    assert ask(-0.5, 1) == 400, "a range that starts in the past"
    assert ask(2, 1) == 400, "a range that ends before it starts"


def test_free_plan_refuses_meeting_recaps(own_sandbox: OwnSandbox) -> None:
    free, api = own_sandbox(seed=7, events=40, plan="free")
    recap = next(iter(free.store.meeting_recaps.values()))
    answers = [
        api.get(f"{free.base_url}/meeting_recaps", timeout=30),
        api.get(recap["uri"], timeout=30),
        api.get(recap["transcript"], timeout=30),
        api.patch(recap["uri"], json={"summary_md": "x"}, timeout=30),
        api.delete(recap["uri"], timeout=30),
    ]
    assert [a.status_code for a in answers] == [403] * 5
    assert all("upgrade" in a.json()["message"].lower() for a in answers)


def test_recap_edits_and_deletions_are_announced_to_the_hosts_hooks(
    api: requests.Session, sandbox: Sandbox
) -> None:
    owner = sandbox.store.current_user["uri"]
    hook = api.post(
        f"{sandbox.base_url}/webhook_subscriptions",
        json={
            "url": "https://hooks.example.org/recaps",
            "events": ["meeting_recap.updated", "meeting_recap.deleted"],
            "organization": sandbox.store.organization["uri"],
            "scope": "user",
            "user": owner,
        },
        timeout=30,
    ).json()["resource"]
    uuid, recap = next(
        (u, r)
        for u, r in sorted(sandbox.store.meeting_recaps.items())
        if owner in sandbox.store.meeting_recap_hosts[u] and r["status"] == "available"
    )
    edited = api.patch(recap["uri"], json={"summary_md": "## Agreed"}, timeout=30)
    assert edited.json()["resource"]["summary_md"] == "## Agreed"
    assert api.get(recap["uri"], timeout=30).json()["resource"]["summary_md"] == "## Agreed"
    assert api.delete(recap["uri"], timeout=30).status_code == 204
    assert api.get(recap["uri"], timeout=30).status_code == 404
    assert uuid not in sandbox.store.transcripts

    messages = sandbox.webhooks.messages_for(hook["uri"])
    assert [m.event for m in messages] == ["meeting_recap.updated", "meeting_recap.deleted"]
    payloads = [json.loads(m.body)["payload"] for m in messages]
    assert payloads[0]["recap"]["summary_md"] == "## Agreed"
    assert payloads[1]["recap"]["uri"] == recap["uri"]
