"""Hard realism (the default): what real Calendly accounts show where the spec is kinder.

Each test names the real behaviour it models; a lenient sandbox (`realism="lenient"`) is the
comparison where the difference is a rule rather than data. The spec-validation tests prove the
listed differences (calendly_sandbox.realism.SPEC_DIFFERENCES) are exactly the ones needed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import calendly_sandbox
from calendly_sandbox import Sandbox
from calendly_sandbox.realism import LATER_INVITEE_KEYS, REAL_ERROR_TITLES, SPEC_DIFFERENCES
from calendly_sandbox.store import uuid_of
from tests.sandbox.pages import bearer_session, every_page
from tests.sandbox.spec_check import SpecChecker

NOWHERE = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def hard() -> Iterator[Sandbox]:
    with Sandbox(seed=11, events=300) as sb:
        yield sb


@pytest.fixture(scope="module")
def lenient() -> Iterator[Sandbox]:
    with Sandbox(seed=11, events=300, realism="lenient") as sb:
        yield sb


def listed(sb: Sandbox, path: str, **params: Any) -> list[dict[str, Any]]:
    with bearer_session(sb.token) as api:
        return every_page(api, sb.base_url + path, **{"count": 100, **params})


def org(sb: Sandbox) -> str:
    return sb.store.organization["uri"]


# -- filters and ties ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "bound", "field"),
    [
        ("/scheduled_events", "min_start_time", "start_time"),
        ("/activity_log_entries", "min_occurred_at", "occurred_at"),
        ("/outgoing_communications", "min_created_at", "created_at"),
    ],
)
def test_min_filters_mean_after_the_bound(
    hard: Sandbox, lenient: Sandbox, path: str, bound: str, field: str
) -> None:
    """The spec words min_* as "after this time"; the lenient sandbox included the bound."""
    for sb, includes_bound in ((hard, False), (lenient, True)):
        kind = path.strip("/")
        values = Counter(r[field] for r in sb.store.kind(kind).values())
        tied, ties = values.most_common(1)[0]
        assert ties >= 2 or includes_bound, f"{kind}: no shared {field}"
        rows = listed(sb, path, organization=org(sb), **{bound: tied})
        at_bound = [r for r in rows if r[field] == tied]
        assert len(at_bound) == (ties if includes_bound else 0), (sb.realism, kind)
        assert len(rows) == sum(n for v, n in values.items() if v > tied) + len(at_bound)


def test_more_rows_than_a_page_share_one_start_time_once_the_data_is_large() -> None:
    with Sandbox(seed=5, events=1300) as sb:
        ties = Counter(e["start_time"] for e in sb.store.scheduled_events.values())
        assert ties.most_common(1)[0][1] > 100
        for kind, field in (
            ("activity_log_entries", "occurred_at"),
            ("outgoing_communications", "created_at"),
        ):
            shared = Counter(r[field] for r in sb.store.kind(kind).values())
            assert shared.most_common(1)[0][1] >= 2, kind


def test_ties_span_a_page_boundary_and_keyset_paging_serves_each_row_once(hard: Sandbox) -> None:
    ties = Counter(e["start_time"] for e in hard.store.scheduled_events.values())
    tied, count = ties.most_common(1)[0]
    rows = listed(hard, "/scheduled_events", organization=org(hard), count=count // 2 + 1)
    assert len(rows) == len({r["uri"] for r in rows}) == len(hard.store.scheduled_events)
    assert sum(1 for r in rows if r["start_time"] == tied) == count


# -- ids, absent keys, nulls -----------------------------------------------------------------


def is_legacy(uri: str) -> bool:
    last = uuid_of(uri)
    return len(last) == 16 and last.isupper() and last.isalnum()


def test_legacy_ids_sit_beside_uuids_and_resolve(hard: Sandbox) -> None:
    store = hard.store
    for kind, what in (("users", "/users/"), ("event_types", "/event_types/")):
        uris = [r["uri"] for r in store.kind(kind).values()]
        legacy = [u for u in uris if is_legacy(u)]
        assert legacy and len(legacy) < len(uris), kind
        with bearer_session(hard.token) as api:
            response = api.get(hard.base_url + what + uuid_of(legacy[0]), timeout=30)
        assert response.status_code == 200 and response.json()["resource"]["uri"] == legacy[0]
    owners = {t["profile"]["owner"] for t in store.event_types.values()}
    assert any(is_legacy(o) for o in owners)


def test_older_records_lack_keys_added_later(hard: Sandbox) -> None:
    store = hard.store
    invitees = list(store.invitees.values())
    for key in LATER_INVITEE_KEYS:
        assert any(key not in i for i in invitees), key
        assert any(key in i for i in invitees), key
    assert any("calendar_event" not in e for e in store.scheduled_events.values())
    assert any("locale" not in u for u in store.users.values())
    assert any("is_paid" not in t for t in store.event_types.values())
    memberships = listed(hard, "/organization_memberships", organization=org(hard))
    assert any("locale" not in m["user"] for m in memberships)


def test_nulls_and_numbers_where_real_responses_have_them(hard: Sandbox) -> None:
    store = hard.store
    assert any(i["name"] is None for i in store.invitees.values())
    events = store.scheduled_events.values()
    assert any("meeting_notes_html" in e and e["meeting_notes_html"] is None for e in events)
    amounts = [i["payment"]["amount"] for i in store.invitees.values() if i.get("payment")]
    assert any(isinstance(a, float) for a in amounts) and any(isinstance(a, str) for a in amounts)


def test_zoom_locations_carry_zoom_data_and_google_meet_starts_processing(hard: Sandbox) -> None:
    locations = [e["location"] for e in hard.store.scheduled_events.values()]
    zoom = [loc for loc in locations if loc["type"] == "zoom"]
    assert zoom
    for loc in zoom:
        data = loc["data"]
        assert isinstance(data["id"], int) and data["password"]
        assert data["settings"]["global_dial_in_numbers"][0]["number"]
        assert data["extra"]["intl_numbers_url"].startswith("https://")
    google = [loc for loc in locations if loc["type"] == "google_conference"]
    assert any(loc["status"] == "processing" and loc["join_url"] is None for loc in google)
    assert any(loc["status"] == "pushed" and loc["join_url"] for loc in google)


# -- pages of 2021 ----------------------------------------------------------------------------


def pages(sb: Sandbox, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page's pagination, following next_page itself (no client parameters)."""
    found = []
    with bearer_session(sb.token) as api:
        body = api.get(sb.base_url + path, params=params, timeout=30).json()
        while True:
            found.append(body["pagination"])
            if body["pagination"]["next_page"] is None:
                return found
            body = api.get(body["pagination"]["next_page"], timeout=30).json()


def test_some_pages_carry_next_page_without_a_token_as_a_real_page_of_2021(
    hard: Sandbox, lenient: Sandbox
) -> None:
    hard_pages = pages(hard, "/scheduled_events", organization=org(hard), count=10)
    tokenless = [p for p in hard_pages if "next_page_token" not in p]
    assert tokenless and len(tokenless) < len(hard_pages)
    assert any(p["next_page"] for p in tokenless), "a page to follow with no token to follow"
    for p in tokenless:
        assert "previous_page_token" not in p and p["previous_page"] is None
    # The same request always gets the same shape; a client following next_page sees every row.
    assert pages(hard, "/scheduled_events", organization=org(hard), count=10) == hard_pages
    assert sum(p["count"] for p in hard_pages) == len(hard.store.scheduled_events)
    lenient_pages = pages(lenient, "/scheduled_events", organization=org(lenient), count=10)
    assert all("next_page_token" in p for p in lenient_pages)


# -- errors ----------------------------------------------------------------------------------


def test_error_bodies_carry_the_real_titles(hard: Sandbox, lenient: Sandbox) -> None:
    base = hard.base_url
    with bearer_session(hard.token) as api:
        unauthenticated = requests.get(base + "/scheduled_events", timeout=30)
        invalid = api.get(
            base + "/scheduled_events", params={"organization": org(hard), "count": 0}, timeout=30
        )
        missing = api.get(base + f"/scheduled_events/{NOWHERE}", timeout=30)
    with bearer_session(hard.token) as member:
        member.headers["Authorization"] = f"Bearer {hard.member_token}"
        denied = member.get(
            base + "/activity_log_entries", params={"organization": org(hard)}, timeout=30
        )
    assert (unauthenticated.status_code, unauthenticated.json()["title"]) == (
        401,
        "Unauthenticated",
    )
    assert unauthenticated.json()["message"] == "The access token is invalid"
    assert invalid.status_code == 400
    assert invalid.json()["title"] == "Invalid Argument"
    assert invalid.json()["message"] == "The supplied parameters are invalid."
    assert invalid.json()["details"][0]["parameter"] == "count"
    assert (missing.status_code, missing.json()["title"]) == (404, "Resource Not Found")
    assert (denied.status_code, denied.json()["title"]) == (403, "Permission Denied")
    # The lenient sandbox sends the spec's pinned titles instead.
    lenient_401 = requests.get(lenient.base_url + "/scheduled_events", timeout=30)
    assert lenient_401.json()["title"] != "Unauthenticated"


# -- the spec, relaxed by exactly the listed differences ---------------------------------------


def sample_responses(sb: Sandbox) -> list[requests.Response]:
    """Responses that show every listed difference the hard sandbox makes."""
    base, store = sb.base_url, sb.store
    responses: list[requests.Response] = []
    with bearer_session(sb.token) as api:

        def get(path: str, **params: Any) -> None:
            responses.append(api.get(base + path, params=params, timeout=30))

        for query in ({"count": 100}, {"count": 100, "sort": "start_time:desc"}):
            get("/scheduled_events", organization=org(sb), **query)
        for event in sorted(store.scheduled_events, key=lambda u: store.scheduled_events[u]["uri"]):
            get(f"/scheduled_events/{event}/invitees", count=100)
        get("/organization_memberships", organization=org(sb), count=100)
        get("/event_types", organization=org(sb), count=100)
        for user in store.users:
            get(f"/users/{user}")
        get(f"/scheduled_events/{NOWHERE}")
        get("/scheduled_events", organization=org(sb), count=0)
        responses.append(requests.get(base + "/users/me", timeout=30))
    return responses


def first_failure(checker: SpecChecker, responses: list[requests.Response]) -> str | None:
    for response in responses:
        try:
            checker.check(response)
        except Exception as exc:  # any validation error counts
            return f"{response.request.method} {response.url}: {type(exc).__name__}"
    return None


def test_the_lenient_sandbox_validates_against_the_spec_as_written(lenient: Sandbox) -> None:
    assert first_failure(SpecChecker(differences=()), sample_responses(lenient)) is None


def test_every_listed_difference_is_needed_and_together_they_suffice(hard: Sandbox) -> None:
    responses = sample_responses(hard)
    assert first_failure(SpecChecker(), responses) is None
    for difference in SPEC_DIFFERENCES:
        others = tuple(d for d in SPEC_DIFFERENCES if d != difference)
        failure = first_failure(SpecChecker(differences=others), responses)
        assert failure is not None, f"{difference} is listed but no response needs it"


def test_the_package_docstring_lists_every_difference() -> None:
    doc = " ".join((calendly_sandbox.__doc__ or "").split())
    for difference in SPEC_DIFFERENCES:
        if difference.change == REAL_ERROR_TITLES:
            assert "error responses carry the real title and message" in doc
            continue
        assert difference.schema in doc and difference.field in doc, difference
        assert difference.change in doc, difference
