"""The receiver's uptime rows in the SQLite inbox: written before it serves, marked stopped on a
clean exit; an inbox of format 1 (no uptime table) is still read and upgraded by a receiver."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import requests

from calendly_webhooks.inbox import FORMAT_VERSION, open_inbox
from tests.webhooks.receiver import start_receiver

KEY = "uptime-test-signing-key"


def test_a_receiver_records_its_uptime_and_its_stop(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox.sqlite"
    running = start_receiver(inbox, env_key=KEY)
    try:
        with open_inbox(inbox, create=False) as reader:
            [up] = reader.uptimes()
        assert up.public_url == running.url + "/webhooks" and not up.stopped
        assert up.started_at <= up.last_seen_at <= reader.now()
        # Answered: uvicorn is serving and handles SIGTERM (before, the signal just kills it).
        assert requests.get(running.url + "/health", timeout=30).status_code == 200
    finally:
        running.stop()
    with open_inbox(inbox, create=False) as reader:
        [down] = reader.uptimes()
    assert down.stopped and down.receiver_id == up.receiver_id


def test_a_format_1_inbox_is_read_and_upgraded(tmp_path: Path) -> None:
    inbox = tmp_path / "old.sqlite"
    with sqlite3.connect(inbox) as old:
        old.execute(
            "CREATE TABLE deliveries (position INTEGER PRIMARY KEY AUTOINCREMENT, dedupe_key TEXT"
            " NOT NULL UNIQUE, received_at TEXT NOT NULL, signed_at INTEGER NOT NULL, event TEXT"
            " NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL, body TEXT NOT NULL)"
        )
        old.execute("PRAGMA user_version = 1")
    with open_inbox(inbox, create=False) as reader:
        assert reader.uptimes() == [] and reader.last_position() == 0
    running = start_receiver(inbox, env_key=KEY, extra=("--public-url", "https://hooks.test/w"))
    assert requests.get(running.url + "/health", timeout=30).status_code == 200
    running.stop()
    with open_inbox(inbox, create=False) as reader:
        assert [u.public_url for u in reader.uptimes()] == ["https://hooks.test/w"]
    with sqlite3.connect(inbox) as upgraded:
        assert upgraded.execute("PRAGMA user_version").fetchone() == (FORMAT_VERSION,)
