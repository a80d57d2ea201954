"""A sync under injected faults either delivers exactly what the sandbox holds, or fails clearly
after bounded retries without moving the bookmark of what it did not finish.

Faults are the sandbox's seeded injector (500/502/503, connection resets, stalls past the client
timeout, bodies cut in half) and its per-user rate limit (429 with X-RateLimit-Reset).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.reliability.harness import Run, run_tap, write_json
from tests.reliability.sandbox_view import (
    FULL_TABLE_STREAMS,
    TOKEN,
    oauth_sandbox_options,
    oauth_settings,
    run_delivery_problems,
    tap_config,
    token_requests,
)
from tests.reliability.watchers import (
    ExpireTokensAfter,
    OutageFrom,
    QuotaBurner,
    refusals_to_others,
)

ALL_KINDS = ("500", "502", "503", "reset", "stall", "truncate")


def assert_exact(run: Run, sandbox: Any) -> None:
    assert run.returncode == 0, run.describe()
    problems = run_delivery_problems(run.output, sandbox)
    assert not problems, f"{problems}\n{run.describe()}"


@pytest.mark.parametrize(
    ("kinds", "events", "rate"),
    [
        pytest.param(("500", "502", "503"), 120, 0.3, id="5xx-30pct"),
        pytest.param(("reset",), 120, 0.3, id="resets-30pct"),
        pytest.param(("truncate",), 120, 0.3, id="truncated-bodies-30pct"),
        pytest.param(("stall",), 30, 0.2, id="stalls-20pct", marks=pytest.mark.slow),
        pytest.param(ALL_KINDS, 120, 0.3, id="all-kinds-30pct", marks=pytest.mark.slow),
    ],
)
def test_sync_under_faults_delivers_exactly_what_the_sandbox_holds(
    sandbox_factory: Any,
    tap_installed: None,
    tmp_path: Path,
    kinds: tuple[str, ...],
    events: int,
    rate: float,
) -> None:
    # 120 events: two pages of scheduled events, so page requests get faults too.
    sb = sandbox_factory(
        seed=11, events=events, token=TOKEN, fault_rate=rate, fault_kinds=kinds, stall_seconds=3
    )
    # P(13 faults in a row) = 0.3**13 ~ 1.6e-7 per request: "complete" is the only outcome.
    config = tap_config(tmp_path / "config.json", sb, max_retries=12, request_timeout=1)

    run = run_tap(config)

    assert_exact(run, sb)
    injected = Counter(kind for _, _, kind in sb.faults_injected)
    assert set(injected) <= set(kinds)
    assert sum(injected.values()) >= 5, f"too few faults to prove anything: {injected}"
    assert len({path for _, path, _ in sb.faults_injected}) >= 3, "faults hit too few endpoints"
    state = run.output.last_state()
    assert state is not None
    assert "replication_key_value" in state["bookmarks"]["scheduled_events"]


@pytest.mark.slow
def test_429_storm_loses_no_record(
    sandbox_factory: Any, tap_installed: None, tmp_path: Path
) -> None:
    sb = sandbox_factory(seed=12, events=60, token=TOKEN, rate_limit=25, rate_window_seconds=1.0)
    config = tap_config(tmp_path / "config.json", sb, max_retries=12, child_concurrency=4)
    with QuotaBurner(sb, storm=6):
        run = run_tap(config)

    assert_exact(run, sb)
    assert refusals_to_others(sb) >= 6, f"the tap met only {refusals_to_others(sb)} 429s"


FAILURE_WORDS = {
    "503": "HTTP 503",
    "reset": "connection failed",
    "stall": "timed out",
    "truncate": ("malformed JSON body", "cut short"),
}


@pytest.mark.parametrize("kind", sorted(FAILURE_WORDS))
def test_outage_fails_clearly_after_bounded_retries(
    sandbox_factory: Any, tap_installed: None, tmp_path: Path, kind: str
) -> None:
    sb = sandbox_factory(
        seed=13, events=20, token=TOKEN, fault_rate=1.0, fault_kinds=(kind,), stall_seconds=3
    )
    config = tap_config(tmp_path / "config.json", sb, max_retries=2, request_timeout=1)

    run = run_tap(config)

    assert run.returncode != 0, run.describe()
    assert not run.output.records(), "records emitted although every request failed"
    attempts = Counter(
        (e.method, e.path, tuple(sorted(map(str, e.query.items())))) for e in sb.request_log
    )
    assert attempts, "no request reached the sandbox"
    assert max(attempts.values()) <= 3, f"more than max_retries + 1 attempts: {attempts}"
    failed_path = next(iter(attempts))[1]
    assert failed_path in run.stderr, f"the error does not name the endpoint\n{run.describe()}"
    words = FAILURE_WORDS[kind]
    words = (words,) if isinstance(words, str) else words
    assert any(word in run.stderr for word in words), run.describe()
    assert "Retries exhausted" in run.stderr or "gave up" in run.stderr, run.describe()


def cancel_future_events(sandbox: Any, how_many: int) -> set[str]:
    """Cancel events through the API (as a user would): their invitees change too."""
    now_text = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with sandbox.store.lock:
        future = sorted(
            event["uri"]
            for event in sandbox.store.scheduled_events.values()
            if event["status"] == "active" and event["start_time"] > now_text
        )[:how_many]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for uri in future:
        uuid = uri.rsplit("/", 1)[-1]
        response = requests.post(
            f"{sandbox.base_url}/scheduled_events/{uuid}/cancellation",
            json={"reason": "reliability test"},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 201, response.text
    assert len(future) == how_many
    return set(future)


def bookmark(state: dict[str, Any] | None, stream: str) -> Any:
    return ((state or {}).get("bookmarks", {}).get(stream) or {}).get("replication_key_value")


def test_a_failed_sync_keeps_the_bookmark_and_the_next_run_gets_the_changes(
    sandbox_factory: Any, tap_installed: None, tmp_path: Path
) -> None:
    sb = sandbox_factory(seed=14, events=120, token=TOKEN)
    config = tap_config(tmp_path / "config.json", sb, max_retries=2)
    first = run_tap(config)
    assert first.returncode == 0, first.describe()
    before = first.output.last_state()
    state_file = write_json(tmp_path / "state.json", before)

    cancelled = cancel_future_events(sb, 3)
    with sb.store.lock:
        changed_invitees = {i["uri"] for i in sb.store.invitees.values() if i["event"] in cancelled}
    # Fail in the middle of scheduled_events + invitees: after the first invitee list is served.
    with OutageFrom(sb, "/scheduled_events/") as outage:
        failed = run_tap(config, state_file)

    assert outage.fired.is_set(), "the outage never started"
    assert failed.returncode != 0, failed.describe()
    assert "/scheduled_events" in failed.stderr, failed.describe()
    assert "Retries exhausted" in failed.stderr or "gave up" in failed.stderr, failed.describe()
    after_outage = Counter(
        (e.method, e.path, tuple(sorted(map(str, e.query.items()))))
        for e in sb.request_log
        if e.status == 503
    )
    assert after_outage, "no request met the outage"
    assert max(after_outage.values()) <= 3, f"more than max_retries + 1 attempts: {after_outage}"
    last = failed.output.last_state() or before
    for stream in ("scheduled_events", "invitees"):
        assert bookmark(last, stream) == bookmark(before, stream), (
            f"{stream}: a failed run moved the bookmark from {bookmark(before, stream)} to "
            f"{bookmark(last, stream)}"
        )

    sb.configure(fault_rate=0.0)
    resumed = run_tap(config, write_json(tmp_path / "state2.json", last))
    assert resumed.returncode == 0, resumed.describe()
    got_events = set(resumed.output.uris("scheduled_events")) | set(
        failed.output.uris("scheduled_events")
    )
    got_invitees = set(resumed.output.uris("invitees")) | set(failed.output.uris("invitees"))
    assert cancelled <= set(resumed.output.uris("scheduled_events")), "cancellations lost"
    assert changed_invitees <= set(resumed.output.uris("invitees")), "invitee changes lost"
    assert cancelled <= got_events and changed_invitees <= got_invitees


@pytest.mark.slow
def test_everything_at_once_still_delivers_exactly(
    sandbox_factory: Any, tap_installed: None, tmp_path: Path
) -> None:
    """20% faults of every kind, a quota-sharing neighbour causing 429s, and the OAuth access
    token revoked mid-run while four workers fetch invitees."""
    sb = sandbox_factory(
        seed=15,
        events=120,
        rate_limit=40,
        rate_window_seconds=1.0,
        fault_rate=0.2,
        fault_kinds=ALL_KINDS,
        stall_seconds=3,
        **oauth_sandbox_options(),
    )
    token_file = tmp_path / "secrets" / "refresh_token"
    config = tap_config(
        tmp_path / "config.json",
        sb,
        request_timeout=1,
        child_concurrency=4,
        **oauth_settings(token_file),
    )
    with ExpireTokensAfter(sb, "/scheduled_events/", 20) as expiry, QuotaBurner(sb, storm=4):
        run = run_tap(config)

    assert expiry.fired.is_set(), "the token was never revoked"
    assert_exact(run, sb)
    assert refusals_to_others(sb) >= 4
    assert token_requests(sb) == 2, "one token at start, one refresh after the revocation"
    assert token_file.read_text(encoding="utf-8").strip() == sb.current_refresh_token


def test_incremental_sync_under_faults_delivers_exactly_the_changes(
    sandbox_factory: Any, tap_installed: None, tmp_path: Path
) -> None:
    """The second run of a schedule, under 30% faults of every kind: exactly the events that
    changed since the bookmark (cancellations) and their invitees, nothing else repeated."""
    sb = sandbox_factory(seed=16, events=120, token=TOKEN, stall_seconds=3)
    config = tap_config(tmp_path / "config.json", sb, request_timeout=1)
    first = run_tap(config)
    assert first.returncode == 0, first.describe()
    state_file = write_json(tmp_path / "state.json", first.output.last_state())

    cancelled = cancel_future_events(sb, 4)
    with sb.store.lock:
        their_invitees = {i["uri"] for i in sb.store.invitees.values() if i["event"] in cancelled}
    sb.configure(fault_rate=0.3, fault_kinds=ALL_KINDS)
    second = run_tap(config, state_file)

    assert second.returncode == 0, second.describe()
    assert len(sb.faults_injected) >= 5, "too few faults to prove anything"
    output = second.output
    assert output.uris("scheduled_events") == dict.fromkeys(cancelled, 1)
    assert output.uris("invitees") == dict.fromkeys(their_invitees, 1)
    unchanged = set(output.streams()) - {"scheduled_events", "invitees", *FULL_TABLE_STREAMS}
    assert not unchanged, f"streams with no change emitted records again: {unchanged}"
