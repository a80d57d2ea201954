"""The tap against a hard sandbox that serves some pages in 2021's shape (next_page, no token):
every row is read, on the sandbox's host, with the tap's own parameters."""

from __future__ import annotations

import requests

from calendly_sandbox import Sandbox
from tests.tap.conftest import catalog_selecting, run_in_process, snapshot, tap_config


def tokenless_pages_with_a_next(sb: Sandbox, path: str, count: int) -> int:
    """How many pages of `path` carry next_page but no next_page_token (read directly)."""
    found = 0
    with requests.Session() as api:
        api.headers["Authorization"] = f"Bearer {sb.token}"
        params = {"organization": sb.store.organization["uri"], "count": count}
        url: str | None = sb.base_url + path
        while url:
            pagination = api.get(url, params=params, timeout=30).json()["pagination"]
            found += "next_page_token" not in pagination and bool(pagination["next_page"])
            url, params = pagination["next_page"], {}
    return found


def test_the_tap_reads_every_row_through_pages_without_a_token() -> None:
    with Sandbox(seed=21, events=900) as sandbox:
        assert tokenless_pages_with_a_next(sandbox, "/scheduled_events", 100) >= 1
        before = len(sandbox.request_log)
        config = tap_config(sandbox)
        run = run_in_process(config, catalog=catalog_selecting(config, {"scheduled_events"}))
        assert run.keys("scheduled_events") == set(snapshot(sandbox)["scheduled_events"])
        listed = [r for r in sandbox.request_log[before:] if r.path == "/scheduled_events"]
        tokens = [r.query.get("page_token") for r in listed]
        assert len(listed) == 9 and len(set(tokens)) == 9  # each page once
        for request in listed:
            assert request.query.get("organization") == sandbox.store.organization["uri"]
