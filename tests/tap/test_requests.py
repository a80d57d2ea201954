"""How the tap spends requests: the minimum number, concurrently, inside the shared rate limit."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from calendly_http import CalendlyClient
from calendly_sandbox import Sandbox
from tests.tap.conftest import run_in_process, tap_config


def list_calls(sandbox: Sandbox) -> Counter[str]:
    """Requests per endpoint, with every event's invitee list counted under one name."""
    return Counter(
        "/scheduled_events/{uuid}/invitees" if r.path.endswith("/invitees") else r.path
        for r in sandbox.request_log
    )


def test_a_full_sync_makes_the_minimum_number_of_requests() -> None:
    events = 250
    with Sandbox(seed=4, events=events) as sandbox:
        run = run_in_process(tap_config(sandbox))
        calls = list_calls(sandbox)
        assert len(run.records["scheduled_events"]) == events
    assert calls["/scheduled_events"] == math.ceil(events / 100)
    assert calls["/scheduled_events/{uuid}/invitees"] == events  # one per event, no second list
    assert calls["/users/me"] == 1
    assert all(r.status == 200 for r in sandbox.request_log)
    # Children are synced batch by batch (3 batches here) but described once.
    schemas = Counter(m["stream"] for m in run.messages if m["type"] == "SCHEMA")
    assert set(schemas.values()) == {1}


@pytest.fixture
def in_flight(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Wrap CalendlyClient.send: the first `parties` invitee requests must all be in flight
    together (a barrier, so the test does not depend on speed), and count the peak."""
    seen: dict[str, Any] = {"now": 0, "peak": 0, "lock": threading.Lock()}
    original = CalendlyClient.send

    def send(
        self: CalendlyClient, prepared: requests.PreparedRequest, **options: Any
    ) -> requests.Response:
        if not (prepared.url or "").split("?")[0].endswith("/invitees"):
            return original(self, prepared, **options)
        with seen["lock"]:
            seen["now"] += 1
            seen["peak"] = max(seen["peak"], seen["now"])
        try:
            barrier = seen.get("barrier")
            if barrier is not None and not barrier.broken:
                barrier.wait()  # BrokenBarrierError unless `parties` calls overlap
                seen["barrier"] = None
            return original(self, prepared, **options)
        finally:
            with seen["lock"]:
                seen["now"] -= 1

    monkeypatch.setattr(CalendlyClient, "send", send)
    yield seen


@pytest.mark.parametrize("concurrency", [1, 3])
def test_invitee_lists_are_fetched_concurrently_up_to_the_setting(
    in_flight: dict[str, Any], concurrency: int
) -> None:
    in_flight["barrier"] = threading.Barrier(concurrency, timeout=60)
    with Sandbox(seed=4, events=60) as sandbox:
        run = run_in_process(tap_config(sandbox, child_concurrency=concurrency))
        assert len(run.records["invitees"]) == len(sandbox.store.invitees)
    assert in_flight["barrier"] is None, "the first invitee requests never overlapped"
    assert in_flight["peak"] == concurrency


def test_the_shared_throttle_keeps_concurrent_requests_under_the_rate_limit() -> None:
    # 20 requests per 1-second window; the tap is told 80% of it.
    with Sandbox(seed=4, events=40, rate_limit=20, rate_window_seconds=1) as sandbox:
        config = tap_config(sandbox, requests_per_minute=0.8 * 20 * 60, child_concurrency=4)
        run = run_in_process(config)
        statuses = Counter(r.status for r in sandbox.request_log)
        assert len(run.records["invitees"]) == len(sandbox.store.invitees)
    assert statuses[429] == 0 and set(statuses) == {200}


def test_a_rate_limited_sync_waits_and_completes_with_every_record() -> None:
    """No client-side cap, and far more requests than one window allows: the run can only finish
    by waiting on Calendly's signals (Remaining 0 or a 429), and it loses or repeats nothing.
    Whether a 429 is actually met depends on thread timing; tests/reliability's 429 storm
    forces them deterministically."""
    with Sandbox(seed=4, events=40, rate_limit=5, rate_window_seconds=1) as sandbox:
        run = run_in_process(tap_config(sandbox))
        served = [r for r in sandbox.request_log if r.status == 200]
        events, invitees = len(sandbox.store.scheduled_events), len(sandbox.store.invitees)
    assert len(served) > 5 * 4  # spans many windows
    assert len(run.records["scheduled_events"]) == events
    assert len(run.keys("invitees")) == len(run.records["invitees"]) == invitees


def test_server_errors_and_broken_connections_are_retried_without_losing_or_repeating() -> None:
    kinds = ("500", "502", "503", "reset", "truncate")
    with Sandbox(seed=4, events=40, fault_rate=0.08, fault_kinds=kinds) as sandbox:
        run = run_in_process(tap_config(sandbox, retry_initial_wait=0.01))
        faults = len(sandbox.faults_injected)
        events, invitees = len(sandbox.store.scheduled_events), len(sandbox.store.invitees)
    assert faults > 0
    assert len(run.keys("scheduled_events")) == len(run.records["scheduled_events"]) == events
    assert len(run.keys("invitees")) == len(run.records["invitees"]) == invitees
