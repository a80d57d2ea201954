"""contacts and contact_custom_field_definitions: records against the sandbox's store, and the
contacts bookmark (newest first, paging stops at it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from calendly_sandbox import Sandbox
from calendly_webhooks.inbox import Inbox
from tap_calendly.streams import ContactsStream
from tap_calendly.timestamps import parse_timestamp
from tests.tap.conftest import as_served, catalog_selecting, run_in_process, tap_config

STREAMS = {"contacts", "contact_custom_field_definitions"}


def contact_requests(sandbox: Sandbox) -> list[dict[str, str | list[str]]]:
    return [e.query for e in sandbox.request_log if e.method == "GET" and e.path == "/contacts"]


def test_records_are_the_store(sandbox: Sandbox) -> None:
    config = tap_config(sandbox)
    run = run_in_process(config, catalog=catalog_selecting(config, STREAMS))

    assert set(run.records) == STREAMS
    contacts = {row["uri"]: as_served(row) for row in run.records["contacts"]}
    assert contacts == {c["uri"]: c for c in sandbox.store.contacts.values()}
    definitions = {
        row["uri"]: as_served(row) for row in run.records["contact_custom_field_definitions"]
    }
    assert definitions == {
        d["uri"]: d for d in sandbox.store.contact_custom_field_definitions.values()
    }
    assert any(row["custom_fields"] for row in contacts.values())
    assert run.bookmark("contacts") == max(c["updated_at"] for c in contacts.values())


@pytest.mark.parametrize("with_inbox", [True, False], ids=["inbox", "no-inbox"])
def test_incremental_emits_changed_contacts_and_stops_paging_at_the_bookmark_with_an_inbox(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, with_inbox: bool
) -> None:
    """With webhook_inbox, deleted contacts come from contact.deleted deliveries and paging stops
    at the bookmark; without, only the whole listing tells which contacts were deleted."""
    monkeypatch.setattr(ContactsStream, "page_size", 5)
    config = tap_config(sandbox)
    if with_inbox:
        Inbox(tmp_path / "inbox.sqlite").close()
        config["webhook_inbox"] = str(tmp_path / "inbox.sqlite")
    catalog = catalog_selecting(config, {"contacts"})
    first = run_in_process(config, catalog=catalog)
    pages_of_full_run = len(contact_requests(sandbox))
    assert pages_of_full_run == -(-len(sandbox.store.contacts) // 5)

    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {sandbox.token}"
    changed = sorted(sandbox.store.contacts.values(), key=lambda c: c["updated_at"])[0]
    patched = api.patch(changed["uri"], json={"company": "Changed Inc"}, timeout=30)
    assert patched.status_code == 200, patched.text
    created = api.post(
        f"{sandbox.base_url}/contacts",
        json={"name": "New Person", "emails": [{"email": "new@example.com", "is_primary": True}]},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    sandbox.request_log.clear()

    second = run_in_process(config, first.final_state, catalog=catalog)

    assert {row["uri"] for row in second.records["contacts"]} == {
        changed["uri"],
        created.json()["resource"]["uri"],
    }
    if with_inbox:
        assert contact_requests(sandbox) == [{"sort": "updated_at:desc", "count": "5"}], (
            "one page: its oldest row is at or before the bookmark"
        )
    else:
        assert len(contact_requests(sandbox)) == -(-len(sandbox.store.contacts) // 5)
    # The SDK caps a bookmark at the run's start, kept in milliseconds: a run that starts in the
    # millisecond of the last change bookmarks that millisecond (and reads the row once more).
    newest = parse_timestamp(created.json()["resource"]["updated_at"])
    assert newest is not None
    assert parse_timestamp(second.bookmark("contacts")) in {
        newest,
        newest.replace(microsecond=newest.microsecond // 1000 * 1000),
    }
