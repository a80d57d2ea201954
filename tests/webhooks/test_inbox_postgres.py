"""The inbox in PostgreSQL: two receivers share it under concurrent load, a delivery redelivered
to the other replica is stored once, a reader's bookmark loses and repeats nothing while they
write, and the tap reads it like the SQLite inbox (a real cluster, started by the test)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest

from calendly_http import ConfigError
from calendly_sandbox import Sandbox
from calendly_webhooks.inbox import InboxError, dedupe_key, open_inbox
from calendly_webhooks.postgres_inbox import APPEND_STATEMENT, PostgresInbox, redacted
from tap_calendly.tap import TapCalendly
from tests.analytics.postgres import PASSWORD, SUPERUSER, PostgresCluster
from tests.tap.conftest import run_in_process, tap_config
from tests.webhooks.receiver import Receiver, encode, envelope, signature, start_receiver

KEY = "postgres-inbox-signing-key"
DELIVERIES = 240  # distinct envelopes, each posted to both replicas at once


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    running = PostgresCluster().start()
    try:
        yield running
    finally:
        running.stop()


_databases = itertools.count()


@pytest.fixture
def inbox_url(cluster: PostgresCluster, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database; the password reaches libpq (receivers and tap) through PGPASSWORD,
    so the URL has the documented form postgresql://user@host:port/db."""
    name = f"inbox{next(_databases)}"
    cluster.create_database(name)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    return f"postgresql://{SUPERUSER}@127.0.0.1:{cluster.port}/{name}"


@pytest.fixture
def replicas(inbox_url: str, tmp_path: Path) -> Iterator[tuple[Receiver, Receiver]]:
    keys = tmp_path / "keys.txt"
    keys.write_text(KEY + "\n", encoding="utf-8")
    public = ("--public-url", "https://hooks.example.com/webhooks")
    first = start_receiver(inbox_url, key_file=keys, extra=public)  # type: ignore[arg-type]
    second = start_receiver(inbox_url, key_file=keys, extra=public)  # type: ignore[arg-type]
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def one_delivery(number: int) -> bytes:
    event = f"https://api.calendly.com/scheduled_events/EV{number}"
    payload = {"uri": f"{event}/invitees/INV{number}", "event": event}
    return encode({**envelope("invitee.created"), "payload": payload})


def post_to_both(replicas: tuple[Receiver, Receiver], number: int) -> list[str]:
    body = one_delivery(number)
    statuses = []
    for replica in replicas if number % 2 else reversed(replicas):
        answer = replica.post(body, signature(KEY, body))
        assert answer.status_code == 200, answer.text
        statuses.append(answer.json()["status"])
    return statuses


def test_two_replicas_store_each_delivery_once_and_a_concurrent_reader_misses_none(
    replicas: tuple[Receiver, Receiver], inbox_url: str
) -> None:
    seen: list[int] = []
    stop = threading.Event()

    def read_incrementally() -> None:
        """A reader bookmarking positions while both replicas commit: what a tap run does."""
        with open_inbox(inbox_url, create=False) as reader:
            bookmark = 0
            while True:
                done = stop.is_set()  # decided before the last read, so that read is complete
                newest = reader.last_position()
                for delivery in reader.between(bookmark, newest, page=7):
                    seen.append(int(delivery.envelope["payload"]["event"].rsplit("EV", 1)[1]))
                    bookmark = delivery.position
                if done:
                    return

    reader = threading.Thread(target=read_incrementally)
    reader.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda n: post_to_both(replicas, n), range(DELIVERIES)))
    stop.set()
    reader.join(timeout=120)

    assert all(sorted(statuses) == ["duplicate", "stored"] for statuses in outcomes)
    assert sorted(seen) == list(range(DELIVERIES))  # every delivery once, none twice
    with open_inbox(inbox_url, create=False) as inbox:
        assert inbox.count() == DELIVERIES
        uptimes = inbox.uptimes()
    assert len(uptimes) == 2
    assert {u.public_url for u in uptimes} == {"https://hooks.example.com/webhooks"}
    assert all(not u.stopped and u.started_at <= u.last_seen_at for u in uptimes)


def only_webhook_events(config: dict[str, Any]) -> dict[str, Any]:
    catalog = TapCalendly(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == "webhook_events"
    return catalog


def test_the_tap_reads_every_delivery_once_while_two_replicas_take_load(
    replicas: tuple[Receiver, Receiver], inbox_url: str
) -> None:
    loaded = threading.Event()

    def load() -> None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda n: post_to_both(replicas, n), range(DELIVERIES // 2)))
        loaded.set()

    with Sandbox(seed=5, events=10) as sandbox:
        config = tap_config(sandbox, webhook_inbox=inbox_url)
        catalog = only_webhook_events(config)
        poster = threading.Thread(target=load)
        poster.start()
        state, read = None, []
        while True:
            last = loaded.is_set()  # decided before the run, so the last run sees everything
            run = run_in_process(config, state, catalog=catalog)
            read += [r["position"] for r in run.records["webhook_events"]]
            state = run.final_state
            if last:
                break
        poster.join()
    with open_inbox(inbox_url, create=False) as inbox:
        stored = [d.position for d in inbox.between(0, inbox.last_position())]
    assert len(stored) == DELIVERIES // 2
    assert sorted(read) == stored and len(set(read)) == len(read)  # each once


def test_the_tap_resumes_a_postgres_inbox_after_a_crash(
    replicas: tuple[Receiver, Receiver], inbox_url: str, tmp_path: Path
) -> None:
    with Sandbox(seed=5, events=10) as sandbox:
        config = tap_config(sandbox, webhook_inbox=inbox_url)
        catalog = only_webhook_events(config)
        for number in range(5):
            post_to_both(replicas, number)
        crashed = run_in_process(config, catalog=catalog, stop_after_records=2)
        assert crashed.returncode == 1
        for number in range(5, 8):
            post_to_both(replicas, number)
        state = crashed.states[-1] if crashed.states else None
        resumed = run_in_process(config, state, catalog=catalog)
        again = run_in_process(config, resumed.final_state, catalog=catalog)

    acknowledged = (state or {}).get("bookmarks", {}).get("webhook_events", {})
    after = acknowledged.get("replication_key_value", 0)
    read = [r["position"] for r in crashed.records["webhook_events"] if r["position"] <= after]
    read += [r["position"] for r in resumed.records["webhook_events"]]
    with open_inbox(inbox_url, create=False) as inbox:
        stored = [d.position for d in inbox.between(0, inbox.last_position())]
    assert sorted(read) == stored and len(stored) == 8  # nothing lost, nothing repeated
    assert again.records["webhook_events"] == []


def test_a_position_is_never_visible_before_a_lower_one_commits(inbox_url: str) -> None:
    """A delivery whose transaction is slow to commit holds back the ones after it: no reader
    can see position 2 while position 1 may still appear (a sequence would allow it)."""
    first, second = one_delivery(1), one_delivery(2)
    with PostgresInbox(inbox_url) as inbox, psycopg.connect(inbox_url) as slow:
        slow.execute(
            APPEND_STATEMENT, (dedupe_key(json.loads(first)), 1, "invitee.created", "", "", "{}")
        )
        later = threading.Thread(target=inbox.append, args=(second, json.loads(second), 1))
        later.start()
        with psycopg.connect(inbox_url, autocommit=True) as watcher:
            while later.is_alive() and not waiting_for_a_lock(watcher):
                time.sleep(0.01)
            assert later.is_alive()  # it waits for the slow one
            with open_inbox(inbox_url, create=False) as reader:
                assert reader.read_after(0) == [] and reader.last_position() == 0
                slow.commit()
                later.join()
                assert [d.position for d in reader.read_after(0)] == [1, 2]


def waiting_for_a_lock(connection: psycopg.Connection[Any]) -> bool:
    query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    [(waiting,)] = connection.execute(query).fetchall()
    return bool(waiting)


def test_pruning_keeps_the_position_count(inbox_url: str) -> None:
    with PostgresInbox(inbox_url) as inbox:
        for number in range(3):
            body = one_delivery(number)
            inbox.append(body, json.loads(body), 1)
        inbox.record_uptime("gone", "https://hooks.example.com/webhooks")
        assert inbox.prune(datetime.now(timezone.utc) - timedelta(days=1)) == 0
        assert inbox.prune(datetime.now(timezone.utc) + timedelta(seconds=5)) == 3
        assert inbox.count() == 0 and inbox.uptimes() == []
        assert inbox.last_position() == 3
        assert inbox.append(one_delivery(99), json.loads(one_delivery(99)), 1) == 4


def test_a_bad_url_names_the_setting_and_hides_the_password(cluster: PostgresCluster) -> None:
    url = f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{cluster.port}/postgres"
    assert PASSWORD not in redacted(url)
    assert "x9" not in redacted("postgresql://u@h:5/db?password=x9") == "postgresql://u@h:5/db"
    with pytest.raises(InboxError, match="no webhook inbox") as refused:
        open_inbox(url, create=False)
    assert PASSWORD not in str(refused.value)
    with (
        Sandbox(seed=5, events=3) as sandbox,
        pytest.raises(ConfigError, match="webhook_inbox") as error,
    ):
        run_in_process(tap_config(sandbox, webhook_inbox=url))
    assert PASSWORD not in str(error.value)
