"""Proof, end to end: the warehouse equals Calendly after changes of every kind.

A sandbox organization is loaded by the real `meltano run` into DuckDB and into PostgreSQL; then
random (seeded) changes go through the sandbox: members removed, invitations revoked, webhook
subscriptions and contacts deleted, events cancelled, seats of group events cancelled, invitees
rescheduled, no-shows marked and removed inside and outside the re-read window. After one more
run, each warehouse's live rows (`_sdc_deleted_at` null) equal what the API lists now, field by
field. With the webhook inbox (deliveries name what changed), and without it (the run is one the
deep re-read falls on).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from calendly_sandbox import Sandbox
from calendly_sandbox.store import uuid_of
from demo.meltano import Meltano
from demo.run import Layout, start_date
from tap_calendly.timestamps import parse_timestamp
from tests.analytics.postgres import PostgresCluster, connect
from tests.e2e.conftest import meltano_sys_dir  # noqa: F401 - the session fixture
from tests.tap.conftest import Api
from tests.webhooks.receiver import subscribed_receiver

pytestmark = pytest.mark.slow

LOADERS = ("target-duckdb", "target-postgres")
DELIVERED = [
    "invitee.created",
    "invitee.canceled",
    "invitee_no_show.created",
    "invitee_no_show.deleted",
    "contact.deleted",
]
WITHOUT_INBOX = {
    "TAP_CALENDLY_DEEP_REREAD_DAYS": "3650",
    "TAP_CALENDLY_DEEP_REREAD_EVERY_HOURS": "0",  # every run is one the deep re-read falls on
}
UTC = dt.timezone.utc
DAY = 86_400.0


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


# -- what the API lists now -----------------------------------------------------------------------


class Lister:
    def __init__(self, sandbox: Sandbox) -> None:
        self.base = sandbox.base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {sandbox.token}"
        self.organization = sandbox.store.organization["uri"]

    def every(self, path: str, **params: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        query: dict[str, str] = {**params, "count": "100"}
        while True:
            answer = self.session.get(self.base + path, params=query, timeout=30)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            rows.extend(body["collection"])
            token = (body.get("pagination") or {}).get("next_page_token")
            if not token:
                return rows
            query["page_token"] = token


def current_lists(sandbox: Sandbox) -> dict[str, dict[tuple[str, ...], dict[str, Any]]]:
    """Stream -> primary key -> the row as the API serves it now."""
    api = Lister(sandbox)
    org = {"organization": api.organization}
    memberships = api.every("/organization_memberships", **org)
    users = [m["user"]["uri"] for m in memberships]
    groups = api.every("/groups", **org)
    hooks = api.every("/webhook_subscriptions", scope="organization", **org)
    for user in users:
        hooks += api.every("/webhook_subscriptions", scope="user", user=user, **org)
    for group in groups:
        hooks += api.every("/webhook_subscriptions", scope="group", group=group["uri"], **org)
    events = api.every("/scheduled_events", min_start_time=start_date(), **org)
    invitees = [
        row for e in events for row in api.every(f"/scheduled_events/{uuid_of(e['uri'])}/invitees")
    ]
    org_uuid = uuid_of(api.organization)
    event_types = api.every("/event_types", **org)
    by_uri = {
        "organization_memberships": memberships,
        "users": [m["user"] for m in memberships],
        "organization_invitations": api.every(f"/organizations/{org_uuid}/invitations"),
        "webhook_subscriptions": hooks,
        "contacts": api.every("/contacts"),
        "groups": groups,
        "group_relationships": api.every("/group_relationships", **org),
        "scheduled_events": events,
        "invitees": invitees,
        "event_types": event_types,
        "event_type_hosts": [
            row
            for t in event_types
            for row in api.every("/event_type_memberships", event_type=t["uri"])
        ],
        "availability_schedules": [
            row for u in users for row in api.every("/user_availability_schedules", user=u)
        ],
    }
    lists = {stream: {(row["uri"],): row for row in rows} for stream, rows in by_uri.items()}
    lists["locations"] = {
        (u, row["kind"]): {**row, "user": u}
        for u in users
        for row in api.every("/locations", user=u)
    }
    return lists


# -- what the warehouse holds ---------------------------------------------------------------------


def loaded_rows(
    loader: str, layout: Layout, pg_env: dict[str, str], stream: str
) -> list[dict[str, Any]]:
    sql = f"SELECT * FROM calendly.{stream}"  # noqa: S608 - stream names are ours
    if loader == "target-duckdb":
        with duckdb.connect(str(layout.database), read_only=True) as con:
            cursor = con.execute(sql)
            columns = [c[0] for c in cursor.description]
            fetched = cursor.fetchall()
    else:
        connection = connect(pg_env)
        with connection, connection.cursor() as cursor:
            cursor.execute(sql)
            columns = [c[0] for c in cursor.description or ()]
            fetched = cursor.fetchall()
        connection.close()
    return [dict(zip(columns, row, strict=True)) for row in fetched]


def same(served: Any, loaded: Any) -> bool:
    """Whether a loaded column holds the served value (JSON text or objects, timestamps as
    naive UTC, numbers of either width)."""
    if served is None:
        return loaded is None
    if isinstance(served, dict | list):
        return (json.loads(loaded) if isinstance(loaded, str) else loaded) == served
    if isinstance(served, bool) or loaded is None:
        return loaded == served
    if isinstance(served, int | float):
        return float(loaded) == float(served)
    if isinstance(loaded, dt.datetime):
        moment = parse_timestamp(served)
        return moment is not None and moment == loaded.replace(tzinfo=loaded.tzinfo or UTC)
    return bool(loaded == served)


def differences(
    served: dict[tuple[str, ...], dict[str, Any]],
    loaded: list[dict[str, Any]],
    key: tuple[str, ...],
) -> list[str]:
    live = {
        tuple(str(row[k]) for k in key): row for row in loaded if not row.get("_sdc_deleted_at")
    }
    found = [f"missing {k}" for k in sorted(served.keys() - live.keys())]
    found += [f"not in Calendly {k}" for k in sorted(live.keys() - served.keys())]
    for k in sorted(served.keys() & live.keys()):
        fields = [f for f, value in served[k].items() if not same(value, live[k].get(f))]
        if fields:
            found.append(
                f"{k}: {', '.join(f'{f}={live[k].get(f)!r} served {served[k][f]!r}' for f in fields)}"
            )
    return found


# -- changes ----------------------------------------------------------------------------------


def started_between(
    sandbox: Sandbox, oldest_days: float, newest_days: float
) -> list[dict[str, Any]]:
    """Active invitees of active events that started between the two ages (negative: future)."""
    now = time.time()
    store = sandbox.store
    found = []
    for invitee in sorted(store.invitees.values(), key=lambda i: i["uri"]):
        event = store.scheduled_events.get(uuid_of(invitee["event"]))
        if event is None or event["status"] != "active" or invitee["status"] != "active":
            continue
        moment = parse_timestamp(event["start_time"])
        assert moment is not None
        age = (now - moment.timestamp()) / DAY
        if newest_days <= age <= oldest_days:
            found.append(invitee)
    return found


def event_of(sandbox: Sandbox, invitee: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = sandbox.store.scheduled_events[uuid_of(invitee["event"])]
    return event


def mark_no_shows(sandbox: Sandbox, invitees: list[dict[str, Any]]) -> None:
    api = Api(sandbox)
    for invitee in invitees:
        if not invitee.get("no_show"):
            api.post("/invitee_no_shows", {"invitee": invitee["uri"]})


def choose(rng: random.Random, rows: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    assert rows, "the sandbox has nothing to change of this kind"
    return rng.sample(rows, min(count, len(rows)))


def apply_changes(
    sandbox: Sandbox, rng: random.Random, unmark: list[dict[str, Any]], keep_hook: str
) -> None:
    """Changes of every kind, chosen at random; `unmark` are no-shows the first load saw."""
    store, api = sandbox.store, Api(sandbox)
    me = store.current_user["uri"]
    members = [
        m
        for m in sorted(store.organization_memberships.values(), key=lambda m: m["uri"])
        if m["role"] != "owner" and m["user"]["uri"] != me
    ]
    for membership in choose(rng, members, 2):
        api.delete(f"/organization_memberships/{uuid_of(membership['uri'])}")
    pending = [
        i
        for i in sorted(store.organization_invitations.values(), key=lambda i: i["uri"])
        if i["status"] == "pending"
    ]
    for invitation in choose(rng, pending, 2):
        api.delete(invitation["uri"].removeprefix(sandbox.base_url))
    hooks = [
        h
        for h in sorted(store.webhook_subscriptions.values(), key=lambda h: h["uri"])
        if not h["callback_url"].startswith(keep_hook)
    ]
    for hook in choose(rng, hooks, 2):
        api.delete(f"/webhook_subscriptions/{uuid_of(hook['uri'])}")
    for contact in choose(rng, sorted(store.contacts.values(), key=lambda c: c["uri"]), 3):
        api.delete(f"/contacts/{uuid_of(contact['uri'])}")

    future = started_between(sandbox, -1, -60)
    seats = [i for i in future if event_of(sandbox, i)["invitees_counter"]["active"] >= 2]
    for invitee in choose(rng, seats, 2):
        sandbox.cancel_invitee(invitee["uri"], "one seat freed")
    solo = [i for i in future if event_of(sandbox, i)["invitees_counter"]["active"] == 1]
    moved_and_canceled = choose(rng, solo, 4)
    for invitee in moved_and_canceled[:2]:
        new_start = time.time() + rng.randint(3, 40) * DAY
        sandbox.reschedule_invitee(invitee["uri"], new_start - new_start % 3600)
    for invitee in moved_and_canceled[2:]:
        path = f"/scheduled_events/{uuid_of(invitee['event'])}/cancellation"
        api.post(path, {"reason": "convergence"})

    inside = started_between(sandbox, 20, 1)
    outside = started_between(sandbox, 300, 45)
    mark_no_shows(sandbox, choose(rng, inside, 2) + choose(rng, outside, 2))
    for invitee in unmark:
        api.delete(f"/invitee_no_shows/{uuid_of(invitee['no_show']['uri'])}")


# -- the proof ------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_inbox", [True, False], ids=["inbox", "deep-reread"])
def test_the_warehouses_equal_calendly_after_random_changes(
    with_inbox: bool,
    postgres: PostgresCluster,
    meltano_sys_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    rng = random.Random(f"convergence-{with_inbox}")
    layout = Layout(tmp_path / "output")
    pg_env = postgres.create_database("inbox" if with_inbox else "deep_reread")
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(Sandbox(seed=5, events=80, webhook_time_scale=0))
        extra = dict(WITHOUT_INBOX)
        keep_hook = "-"
        if with_inbox:
            receiver = stack.enter_context(
                subscribed_receiver(sandbox, tmp_path, "convergence-key", DELIVERED)
            )
            extra = {"TAP_CALENDLY_WEBHOOK_INBOX": str(receiver.inbox)}
            keep_hook = receiver.url
        meltano = Meltano(
            env={
                **layout.meltano_env(sandbox.base_url, start_date()),
                "MELTANO_SYS_DIR_ROOT": str(meltano_sys_dir),
                **pg_env,
                **extra,
            },
            say=lambda _line: None,
        )
        # No-shows the first load sees, to be removed: inside and outside the re-read window.
        unmark = choose(rng, started_between(sandbox, 20, 1), 1)
        unmark += choose(rng, started_between(sandbox, 300, 45), 1)
        mark_no_shows(sandbox, unmark)
        for loader in LOADERS:
            meltano.run(("tap-calendly", loader), layout.log(f"first-{loader}"))

        apply_changes(sandbox, rng, unmark, keep_hook)
        assert sandbox.webhooks.wait_idle(timeout=60)
        for loader in LOADERS:
            meltano.run(("tap-calendly", loader), layout.log(f"second-{loader}"))

        served = current_lists(sandbox)
        found = {
            f"{loader} {stream}": differences(
                rows, loaded_rows(loader, layout, pg_env, stream), KEYS.get(stream, ("uri",))
            )
            for loader in LOADERS
            for stream, rows in served.items()
        }
    assert {where: diff[:5] for where, diff in found.items() if diff} == {}
    # The changes did reach the warehouse: each kind left a trace in what is compared.
    assert all(served.values())


KEYS = {"locations": ("user", "kind")}
