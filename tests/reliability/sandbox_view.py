"""What the sandbox holds, seen the way the tap's streams should deliver it, and plugin configs.

The expected sets are read from the sandbox's store (its ground truth), never from a tap run: a
test that compared one tap run with another would miss whatever both get wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.reliability.harness import write_json

TOKEN = "tok-SECRET-a1b2c3"
CLIENT_ID = "reliability-client"
CLIENT_SECRET = "cs-SECRET-d4e5f6"
REFRESH_TOKEN = "rt-SECRET-g7h8i9"
SIGNING_KEY = "sk-SECRET-j0k1l2"

# Requests are not paced in these tests: pacing is the throttle's unit tests' business, and at
# the sandbox's nominal 500/min it would make every run take seconds per stream.
UNPACED = 600_000
RETRY_INITIAL_WAIT = (
    0.01  # seconds: fault tests stay fast; a fraction also proves Decimal config works
)

Resource = dict[str, Any]
Keep = Callable[[Resource], bool]


def _everything(_: Resource) -> bool:
    return True


# tap stream -> (store collection, which of its resources the stream must deliver)
STREAM_SOURCES: Mapping[str, tuple[str, Keep]] = {
    "activity_log_entries": ("activity_log_entries", _everything),
    "availability_schedules": ("user_availability_schedules", _everything),
    "event_type_hosts": ("event_type_memberships", _everything),
    "event_types": ("event_types", _everything),
    "group_relationships": ("group_relationships", _everything),
    "groups": ("groups", _everything),
    "invitees": ("invitees", _everything),
    "organization_invitations": ("organization_invitations", _everything),
    "organization_memberships": ("organization_memberships", _everything),
    "routing_form_submissions": ("routing_form_submissions", _everything),
    "routing_forms": ("routing_forms", _everything),
    "scheduled_events": ("scheduled_events", _everything),
    "users": ("users", _everything),
    "webhook_subscriptions": ("webhook_subscriptions", _everything),  # every scope
    "contacts": ("contacts", _everything),
    "contact_custom_field_definitions": ("contact_custom_field_definitions", _everything),
    "teams": ("teams", _everything),
}
# Streams without timestamps, read in full on every run (so a restart repeats them by design).
FULL_TABLE_STREAMS = frozenset(
    {"availability_schedules", "teams", "locations", "event_type_availability_schedules"}
)
# outgoing_communications has no `uri`; it is compared by count.
COUNTED_STREAMS: Mapping[str, str] = {"outgoing_communications": "outgoing_communications"}


def expected_uris(sandbox: Any) -> dict[str, set[str]]:
    """Per stream, the `uri` of every resource the sandbox holds that the stream should emit."""
    store = sandbox.store
    with store.lock:
        return {
            stream: {r["uri"] for r in store.kind(kind).values() if keep(r)}
            for stream, (kind, keep) in STREAM_SOURCES.items()
        }


def expected_counts(sandbox: Any) -> dict[str, int]:
    store = sandbox.store
    with store.lock:
        return {stream: len(store.kind(kind)) for stream, kind in COUNTED_STREAMS.items()}


def tap_config(path: Path, sandbox: Any, **settings: Any) -> Path:
    """A tap config for `sandbox` with tiny waits; `settings` override (None removes a key)."""
    config: dict[str, Any] = {
        "token": TOKEN,
        "api_url": sandbox.base_url,
        "requests_per_minute": UNPACED,
        "retry_initial_wait": RETRY_INITIAL_WAIT,
        "max_retries": 12,
        "request_timeout": 5,
    }
    config.update(settings)
    return write_json(path, {k: v for k, v in config.items() if v is not None})


def target_config(path: Path, sandbox: Any, responses: Path, **settings: Any) -> Path:
    config: dict[str, Any] = {
        "token": TOKEN,
        "api_url": sandbox.base_url,
        "requests_per_minute": UNPACED,
        "retry_initial_wait": RETRY_INITIAL_WAIT,
        "max_retries": 12,
        "request_timeout": 5,
        "responses_path": str(responses),
    }
    config.update(settings)
    return write_json(path, {k: v for k, v in config.items() if v is not None})


def oauth_settings(refresh_token_path: Path | None) -> dict[str, Any]:
    """OAuth instead of a personal access token (pass as **settings)."""
    return {
        "token": None,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "refresh_token_path": str(refresh_token_path) if refresh_token_path else None,
    }


def oauth_sandbox_options(**options: Any) -> dict[str, Any]:
    return {
        "token": TOKEN,
        "oauth_client_id": CLIENT_ID,
        "oauth_client_secret": CLIENT_SECRET,
        "oauth_refresh_token": REFRESH_TOKEN,
        **options,
    }


def requests_to(sandbox: Any, method: str, path_prefix: str) -> list[Any]:
    return [
        entry
        for entry in list(sandbox.request_log)
        if entry.method == method and entry.path.startswith(path_prefix)
    ]


def token_requests(sandbox: Any) -> int:
    return len(requests_to(sandbox, "POST", "/oauth/token"))


def delivery_problems(
    emitted_uris: Mapping[str, Mapping[str, int]],
    emitted_counts: Mapping[str, int],
    sandbox: Any,
    *,
    duplicates_allowed: bool = False,
) -> list[str]:
    """Differences between what was emitted (uri -> times, per stream) and the sandbox's store."""
    problems = []
    for stream, want in expected_uris(sandbox).items():
        got = emitted_uris.get(stream, {})
        missing, extra = want - set(got), set(got) - want
        if missing:
            problems.append(f"{stream}: {len(missing)} of {len(want)} missing, e.g. {min(missing)}")
        if extra:
            problems.append(f"{stream}: {len(extra)} not in the sandbox, e.g. {min(extra)}")
        repeated = {uri: n for uri, n in got.items() if n > 1}
        if repeated and not duplicates_allowed:
            problems.append(f"{stream}: {len(repeated)} uris emitted more than once")
    for stream, want_count in expected_counts(sandbox).items():
        if emitted_counts.get(stream, 0) != want_count:
            problems.append(
                f"{stream}: emitted {emitted_counts.get(stream, 0)} records, sandbox holds "
                f"{want_count}"
            )
    return problems


def run_delivery_problems(
    output: Any, sandbox: Any, *, duplicates_allowed: bool = False
) -> list[str]:
    """`delivery_problems` for a tap run's parsed output (a harness.SingerOutput)."""
    uris = {s: output.uris(s) for s in output.streams() if s not in COUNTED_STREAMS}
    counts = {s: len(output.records(s)) for s in COUNTED_STREAMS}
    return delivery_problems(uris, counts, sandbox, duplicates_allowed=duplicates_allowed)
