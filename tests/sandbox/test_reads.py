"""Read endpoints: envelopes, filters, sorts, pagination, and the documented read errors.

Every response goes through the spec check (conftest's sessions validate each body).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from calendly_sandbox.timefmt import parse
from tests.sandbox.pages import next_token
from tests.sandbox.spec_check import checked_session


def get(session: requests.Session, sb: Sandbox, path: str, **params: Any) -> requests.Response:
    return session.get(sb.base_url + path, params=params, timeout=30)


def all_pages(session: requests.Session, sb: Sandbox, path: str, **params: Any) -> list[dict]:
    """Follow pagination.next_page to the end; return every item."""
    items: list[dict] = []
    response = get(session, sb, path, **params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["collection"])
        next_page = body["pagination"]["next_page"]
        if next_page is None:
            assert next_token(body) is None
            return items
        assert next_page.startswith(sb.base_url + path + "?")
        response = session.get(next_page, timeout=30)


def org_uri(sb: Sandbox) -> str:
    return sb.store.organization["uri"]


# -- single resources ------------------------------------------------------------------------
def test_users_me_is_the_owner_with_the_org(api, sandbox):
    me = get(api, sandbox, "/users/me").json()["resource"]
    assert me == sandbox.store.current_user
    assert me["current_organization"] == org_uri(sandbox)
    assert me["uri"] == f"{sandbox.base_url}/users/{uuid_of(me['uri'])}"


def test_users_uuid_accepts_me_and_a_uuid(api, sandbox):
    user = next(iter(sandbox.store.users.values()))
    assert get(api, sandbox, f"/users/{uuid_of(user['uri'])}").json()["resource"] == user
    assert get(api, sandbox, "/users/me").json() == get(api, sandbox, "/users/me").json()


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("organizations", "/organizations/{}"),
        ("organization_memberships", "/organization_memberships/{}"),
        ("event_types", "/event_types/{}"),
        ("scheduled_events", "/scheduled_events/{}"),
        ("invitee_no_shows", "/invitee_no_shows/{}"),
        ("routing_forms", "/routing_forms/{}"),
        ("routing_form_submissions", "/routing_form_submissions/{}"),
        ("groups", "/groups/{}"),
        ("group_relationships", "/group_relationships/{}"),
        ("webhook_subscriptions", "/webhook_subscriptions/{}"),
        ("user_availability_schedules", "/user_availability_schedules/{}"),
    ],
)
def test_get_by_uuid_serves_the_stored_resource(api, sandbox, kind, path):
    uuid, stored = next(iter(sandbox.store.kind(kind).items()))
    response = get(api, sandbox, path.format(uuid))
    assert response.status_code == 200
    assert response.json() == {"resource": stored}
    missing = get(api, sandbox, path.format("00000000-0000-4000-8000-000000000000"))
    assert missing.status_code == 404


def test_nested_invitee_and_invitation_lookups(api, sandbox):
    store = sandbox.store
    invitee = next(iter(store.invitees.values()))
    event_uuid = uuid_of(invitee["event"])
    path = f"/scheduled_events/{event_uuid}/invitees/{uuid_of(invitee['uri'])}"
    assert invitee["uri"] == sandbox.base_url + path
    assert get(api, sandbox, path).json()["resource"] == invitee
    invitation = next(iter(store.organization_invitations.values()))
    assert get(api, sandbox, invitation["uri"][len(sandbox.base_url) :]).json() == {
        "resource": invitation
    }


# -- collections -------------------------------------------------------------------------------
def test_paging_all_org_events_returns_each_once_in_start_order(api, sandbox):
    events = all_pages(api, sandbox, "/scheduled_events", organization=org_uri(sandbox), count=7)
    uris = [e["uri"] for e in events]
    assert len(uris) == len(set(uris)) == len(sandbox.store.scheduled_events)
    starts = [e["start_time"] for e in events]
    assert starts == sorted(starts)


def test_events_span_past_and_future(api, sandbox):
    events = sandbox.store.scheduled_events.values()
    now = sandbox.clock()
    assert any(parse(e["start_time"]) < now for e in events)
    assert any(parse(e["start_time"]) > now for e in events)


def test_events_sort_desc_and_time_window(api, sandbox):
    store = sandbox.store
    starts = sorted(e["start_time"] for e in store.scheduled_events.values())
    low, high = starts[10], starts[40]
    events = all_pages(
        api,
        sandbox,
        "/scheduled_events",
        organization=org_uri(sandbox),
        min_start_time=low,
        max_start_time=high,
        sort="start_time:desc",
        count=9,
    )
    got = [e["start_time"] for e in events]
    assert got == sorted(got, reverse=True)
    assert got == sorted((s for s in starts if low < s < high), reverse=True)


def test_events_filter_by_status_user_and_invitee_email(api, sandbox):
    store = sandbox.store
    canceled = all_pages(
        api, sandbox, "/scheduled_events", organization=org_uri(sandbox), status="canceled"
    )
    assert canceled
    assert {e["uri"] for e in canceled} == {
        e["uri"] for e in store.scheduled_events.values() if e["status"] == "canceled"
    }
    host = next(iter(store.scheduled_events.values()))["event_memberships"][0]["user"]
    hosted = all_pages(
        api, sandbox, "/scheduled_events", organization=org_uri(sandbox), user=host, count=100
    )
    assert hosted
    assert all(host in {m["user"] for m in e["event_memberships"]} for e in hosted)
    invitee = next(iter(store.invitees.values()))
    by_email = all_pages(
        api,
        sandbox,
        "/scheduled_events",
        organization=org_uri(sandbox),
        invitee_email=invitee["email"],
    )
    assert invitee["event"] in {e["uri"] for e in by_email}


def test_invitees_of_an_event_with_filters(api, sandbox):
    store = sandbox.store
    event_uuid = max(store.invitees_by_event, key=lambda u: len(store.invitees_by_event[u]))
    expected = {store.invitees[i]["uri"] for i in store.invitees_by_event[event_uuid]}
    assert len(expected) > 1
    got = all_pages(api, sandbox, f"/scheduled_events/{event_uuid}/invitees", count=1)
    assert {i["uri"] for i in got} == expected
    desc = all_pages(
        api, sandbox, f"/scheduled_events/{event_uuid}/invitees", sort="created_at:desc"
    )
    assert [i["created_at"] for i in desc] == sorted((i["created_at"] for i in got), reverse=True)
    one = got[0]
    by_email = all_pages(
        api, sandbox, f"/scheduled_events/{event_uuid}/invitees", email=one["email"]
    )
    assert one["uri"] in {i["uri"] for i in by_email}
    assert all(i["email"].lower() == one["email"].lower() for i in by_email)


@pytest.mark.parametrize(
    ("path", "kind", "params"),
    [
        ("/organization_memberships", "organization_memberships", {}),
        ("/event_types", "event_types", {}),
        ("/routing_forms", "routing_forms", {}),
        ("/groups", "groups", {}),
        ("/group_relationships", "group_relationships", {}),
        ("/activity_log_entries", "activity_log_entries", {}),
        ("/outgoing_communications", "outgoing_communications", {}),
        ("/webhook_subscriptions", "webhook_subscriptions", {"scope": "organization"}),
    ],
)
def test_org_collections_page_through_everything(api, sandbox, path, kind, params):
    items = all_pages(api, sandbox, path, organization=org_uri(sandbox), count=13, **params)
    stored = list(sandbox.store.kind(kind).values())
    if kind == "webhook_subscriptions":
        stored = [h for h in stored if h["scope"] == "organization"]
    assert len(items) == len(stored) > 0
    assert sorted(map(repr, items)) == sorted(map(repr, stored))


def test_org_invitations_filters(api, sandbox):
    org_uuid = uuid_of(org_uri(sandbox))
    pending = all_pages(api, sandbox, f"/organizations/{org_uuid}/invitations", status="pending")
    stored = [
        i for i in sandbox.store.organization_invitations.values() if i["status"] == "pending"
    ]
    assert {i["uri"] for i in pending} == {i["uri"] for i in stored}


def test_event_types_by_user_and_sort(api, sandbox):
    me = sandbox.store.current_user["uri"]
    mine = all_pages(api, sandbox, "/event_types", user=me)
    assert mine
    assert all(me in sandbox.store.event_type_hosts[t["uri"]] for t in mine)
    by_name = all_pages(api, sandbox, "/event_types", organization=org_uri(sandbox))
    names = [t["name"] for t in by_name]
    assert names == sorted(names)
    newest = all_pages(
        api, sandbox, "/event_types", organization=org_uri(sandbox), sort="updated_at:desc"
    )
    assert [t["updated_at"] for t in newest] == sorted(
        (t["updated_at"] for t in by_name), reverse=True
    )
    active = all_pages(api, sandbox, "/event_types", organization=org_uri(sandbox), active="false")
    assert active
    assert all(not t["active"] for t in active)


def test_event_type_hosts(api, sandbox):
    event_type = next(iter(sandbox.store.event_types.values()))
    hosts = all_pages(api, sandbox, "/event_type_memberships", event_type=event_type["uri"])
    assert hosts
    assert {h["member"]["uri"] for h in hosts} == sandbox.store.event_type_hosts[event_type["uri"]]


def test_routing_form_submissions_of_a_form(api, sandbox):
    store = sandbox.store
    form = next(iter(store.routing_forms.values()))
    got = all_pages(api, sandbox, "/routing_form_submissions", form=form["uri"], count=3)
    expected = [
        s for s in store.routing_form_submissions.values() if s["routing_form"] == form["uri"]
    ]
    assert {s["uri"] for s in got} == {s["uri"] for s in expected}


def test_activity_log_window_sort_and_extras(api, sandbox):
    entries = sorted(
        (e["occurred_at"] for e in sandbox.store.activity_log_entries.values()), reverse=True
    )
    low = entries[len(entries) // 2]
    response = get(
        api,
        sandbox,
        "/activity_log_entries",
        organization=org_uri(sandbox),
        min_occurred_at=low,
        count=5,
    )
    body = response.json()
    got = [e["occurred_at"] for e in body["collection"]]
    assert got == entries[:5]
    assert body["last_event_time"] == got[0]
    assert body["total_count"] == sum(1 for e in entries if e > low)
    assert body["exceeds_max_total_count"] is False
    asc = get(
        api, sandbox, "/activity_log_entries", organization=org_uri(sandbox), sort="occurred_at:asc"
    ).json()
    assert [e["occurred_at"] for e in asc["collection"]] == sorted(entries)[:20]


def test_activity_log_window_with_another_sort(api, sandbox):
    entries = sorted(e["occurred_at"] for e in sandbox.store.activity_log_entries.values())
    low, high = entries[5], entries[-5]
    got = all_pages(
        api,
        sandbox,
        "/activity_log_entries",
        organization=org_uri(sandbox),
        min_occurred_at=low,
        max_occurred_at=high,
        sort="action:asc",
        count=25,
    )
    assert sorted(e["occurred_at"] for e in got) == [e for e in entries if low < e < high]
    actions = [e["action"] for e in got]
    assert actions == sorted(actions)


def test_outgoing_communications_window(api, sandbox):
    created = sorted(c["created_at"] for c in sandbox.store.outgoing_communications.values())
    low = created[len(created) // 3]
    body = get(
        api, sandbox, "/outgoing_communications", organization=org_uri(sandbox), min_created_at=low
    ).json()
    assert body["total_count"] == sum(1 for c in created if c > low)
    assert all(c["created_at"] > low for c in body["collection"])


def test_group_relationships_by_group_and_owner(api, sandbox):
    rel = next(iter(sandbox.store.group_relationships.values()))
    by_group = all_pages(api, sandbox, "/group_relationships", group=rel["group"])
    assert all(r["group"] == rel["group"] for r in by_group)
    assert rel in by_group
    by_owner = all_pages(api, sandbox, "/group_relationships", owner=rel["owner"]["uri"])
    assert rel in by_owner


def test_webhooks_by_user_scope(api, sandbox):
    hook = next(h for h in sandbox.store.webhook_subscriptions.values() if h["scope"] == "user")
    got = all_pages(
        api,
        sandbox,
        "/webhook_subscriptions",
        organization=org_uri(sandbox),
        scope="user",
        user=hook["user"],
    )
    assert hook in got
    assert all(h["scope"] == "user" and h["user"] == hook["user"] for h in got)


def test_availability_schedules_have_no_pagination(api, sandbox):
    me = sandbox.store.current_user["uri"]
    body = get(api, sandbox, "/user_availability_schedules", user=me).json()
    assert "pagination" not in body
    assert body["collection"]
    assert all(s["user"] == me for s in body["collection"])
    assert body["collection"][0]["default"] is True


def test_memberships_filters(api, sandbox):
    member = sandbox.member
    by_user = all_pages(api, sandbox, "/organization_memberships", user=member["user"]["uri"])
    assert by_user == [member]
    by_email = all_pages(
        api,
        sandbox,
        "/organization_memberships",
        organization=org_uri(sandbox),
        email=member["user"]["email"].upper(),
    )
    assert by_email == [member]
    owners = all_pages(
        api, sandbox, "/organization_memberships", organization=org_uri(sandbox), role="owner"
    )
    assert [m["user"]["uri"] for m in owners] == [sandbox.store.current_user["uri"]]


# -- pagination contract -----------------------------------------------------------------------
def test_page_token_works_alone_and_is_bound_to_its_filters(api, sandbox):
    first = get(api, sandbox, "/scheduled_events", organization=org_uri(sandbox), count=5).json()
    token = next_token(first)
    again = get(
        api, sandbox, "/scheduled_events", organization=org_uri(sandbox), count=5, page_token=token
    ).json()
    assert again["collection"][0]["start_time"] >= first["collection"][-1]["start_time"]
    assert again["collection"][0]["uri"] not in {e["uri"] for e in first["collection"]}
    other_filter = get(
        api,
        sandbox,
        "/scheduled_events",
        organization=org_uri(sandbox),
        status="active",
        page_token=token,
    )
    assert other_filter.status_code == 400
    body, _, sig = token.partition(".")
    tampered = get(
        api,
        sandbox,
        "/scheduled_events",
        organization=org_uri(sandbox),
        page_token=body[:-2] + "AA." + sig,
    )
    assert tampered.status_code == 400
    assert tampered.json()["details"][0]["parameter"] == "page_token"


def test_resuming_from_a_token_covers_the_rest_exactly(api, sandbox):
    first = get(api, sandbox, "/scheduled_events", organization=org_uri(sandbox), count=10).json()
    seen = [e["uri"] for e in first["collection"]]
    rest = all_pages(
        api,
        sandbox,
        "/scheduled_events",
        organization=org_uri(sandbox),
        count=10,
        page_token=next_token(first),
    )
    assert len(seen) + len(rest) == len(sandbox.store.scheduled_events)


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/scheduled_events", {"count": 101}, "count"),
        ("/scheduled_events", {"count": 0}, "count"),
        ("/scheduled_events", {"count": "many"}, "count"),
        ("/scheduled_events", {"status": "deleted"}, "status"),
        ("/scheduled_events", {"sort": "created_at:asc"}, "sort"),
        ("/scheduled_events", {"min_start_time": "yesterday"}, "min_start_time"),
        ("/activity_log_entries", {"count": 1001}, "count"),
        ("/event_types", {"sort": "color:asc"}, "sort"),
        ("/webhook_subscriptions", {"scope": "planet"}, "scope"),
        ("/webhook_subscriptions", {"scope": "user"}, "user"),
    ],
)
def test_out_of_range_parameters_answer_400_naming_the_parameter(
    api, sandbox, path, params, parameter
):
    response = get(api, sandbox, path, organization=org_uri(sandbox), **params)
    assert response.status_code == 400
    assert response.json()["details"][0]["parameter"] == parameter


def test_activity_log_allows_count_up_to_1000(api, sandbox):
    response = get(api, sandbox, "/activity_log_entries", organization=org_uri(sandbox), count=60)
    assert response.status_code == 200
    assert len(response.json()["collection"]) == min(60, len(sandbox.store.activity_log_entries))


def test_required_parameters(api, sandbox):
    assert get(api, sandbox, "/scheduled_events").status_code == 400
    assert get(api, sandbox, "/event_types").status_code == 400
    assert get(api, sandbox, "/routing_form_submissions").status_code == 400
    assert get(api, sandbox, "/groups").status_code == 400


# -- auth and permissions ------------------------------------------------------------------------
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic c2FuZGJveA==", "Bearer "])
@pytest.mark.parametrize(
    "path", ["/users/me", "/scheduled_events", "/activity_log_entries", "/outgoing_communications"]
)
def test_bad_or_missing_token_is_401(spec, sandbox, header, path):
    with checked_session(spec, None) as session:
        headers = {"Authorization": header} if header else {}
        response = session.get(
            sandbox.base_url + path,
            params={"organization": org_uri(sandbox)},
            headers=headers,
            timeout=30,
        )
    assert response.status_code == 401
    assert {"title", "message"} <= response.json().keys()
    assert "X-RateLimit-Limit" in response.headers


def test_member_cannot_read_org_wide(member_api, sandbox):
    org = org_uri(sandbox)
    for path, params in [
        ("/scheduled_events", {"organization": org}),
        ("/activity_log_entries", {"organization": org}),
        ("/outgoing_communications", {"organization": org}),
        (f"/organizations/{uuid_of(org)}/invitations", {}),
        ("/webhook_subscriptions", {"organization": org, "scope": "organization"}),
    ]:
        response = get(member_api, sandbox, path, **params)
        assert response.status_code == 403, path
        assert response.json()["title"] == "Permission Denied"


def test_member_reads_own_events_with_user_alone(member_api, sandbox):
    me = sandbox.member["user"]["uri"]
    own = all_pages(member_api, sandbox, "/scheduled_events", user=me)
    expected = [u for u, hosts in sandbox.store.event_hosts.items() if me in hosts]
    assert len(own) == len(expected)


def test_user_without_organization_for_another_member_is_403(api, sandbox):
    other = sandbox.member["user"]["uri"]
    response = get(api, sandbox, "/scheduled_events", user=other)
    assert response.status_code == 403
    assert response.json()["message"] == (
        "Please also specify organization when requesting events for a user within your "
        "organization."
    )
    group = next(iter(sandbox.store.groups.values()))["uri"]
    response = get(api, sandbox, "/scheduled_events", group=group)
    assert response.status_code == 403
    assert "group within your organization" in response.json()["message"]


def test_other_organization_is_forbidden(api, sandbox):
    foreign = sandbox.base_url + "/organizations/00000000-0000-4000-8000-000000000000"
    response = get(api, sandbox, "/scheduled_events", organization=foreign)
    assert response.status_code == 403


def test_unknown_path_is_404(api, sandbox):
    assert get(api, sandbox, "/no_such_collection").status_code == 404


def test_every_response_carries_rate_limit_headers(api, sandbox):
    response = get(api, sandbox, "/users/me")
    for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert int(response.headers[header]) >= 0
    assert "Retry-After" not in response.headers
