"""Sections 1 and 2 measured: a full sync of a large organization, then an incremental sync after
a known set of changes, all against one sandbox with no rate limit and no latency."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bench.changes import ChangeSet, apply_changes
from bench.minimum import (
    FULL_SYNC_RULES,
    EndpointCount,
    Rule,
    compare,
    incremental_rules,
    listed_event_kinds,
)
from bench.plan import UNTHROTTLED, Plan
from bench.process import ProcessRun, run_console_script
from bench.sandbox import Hit, RunningSandbox, running_sandbox
from bench.tap import TapRun, run_tap, tap_config
from bench.times import UTC, parse_time

# Tap stream -> the store's table of the same rows.
STORE_KIND = {
    "scheduled_events": "scheduled_events",
    "invitees": "invitees",
    "users": "users",
    "organization_memberships": "organization_memberships",
    "organization_invitations": "organization_invitations",
    "groups": "groups",
    "group_relationships": "group_relationships",
    "event_types": "event_types",
    "event_type_hosts": "event_type_memberships",
    "availability_schedules": "user_availability_schedules",
    "routing_forms": "routing_forms",
    "routing_form_submissions": "routing_form_submissions",
    "activity_log_entries": "activity_log_entries",
    "outgoing_communications": "outgoing_communications",
    "webhook_subscriptions": "webhook_subscriptions",
}


@dataclass
class FullSyncResults:
    events: int
    generation_seconds: float
    full: TapRun
    full_hits: list[Hit]
    full_counts: list[EndpointCount]
    store_rows: dict[str, int]
    startup: ProcessRun  # `tap-calendly --about`: start-up alone
    incremental: TapRun | None = None
    incremental_hits: list[Hit] = field(default_factory=list)
    incremental_counts: list[EndpointCount] = field(default_factory=list)
    incremental_counts_if_events_move: list[EndpointCount] = field(default_factory=list)
    changes: ChangeSet | None = None
    profile_path: Path | None = None
    profiled: TapRun | None = None
    listed_events: dict[str, int] = field(default_factory=dict)


def measure(plan: Plan, workdir: Path) -> FullSyncResults:
    with running_sandbox(events=plan.cpu_events) as sandbox:
        settings = {"requests_per_minute": UNTHROTTLED, "child_concurrency": plan.concurrency}
        config = tap_config(sandbox.base_url, **settings)
        startup = run_console_script(
            "tap-calendly", ["--about", "--format", "json"], workdir=workdir, name="about"
        )
        full = run_tap(workdir, "full", config, code_path=plan.code_path)
        full_hits = sandbox.hits()
        results = FullSyncResults(
            events=plan.cpu_events,
            generation_seconds=sandbox.generation_seconds,
            full=full,
            full_hits=full_hits,
            full_counts=compare(full_hits, sandbox.store, FULL_SYNC_RULES),
            store_rows=_store_rows(sandbox),
            startup=startup,
        )
        if plan.profile:
            results.profile_path = workdir / "full.prof"
            results.profiled = run_tap(
                workdir,
                "full-profiled",
                config,
                profile_path=results.profile_path,
                code_path=plan.code_path,
            )
        lookback_days = int(full.config.get("lookback_days", 30))
        results.changes = apply_changes(sandbox, plan.changes, no_show_within_days=lookback_days)
        mark = sandbox.mark()
        results.incremental = run_tap(
            workdir,
            "incremental",
            config,
            state=full.output.final_state,
            key_streams=("scheduled_events", "invitees"),
            code_path=plan.code_path,
        )
        results.incremental_hits = sandbox.hits(since=mark)
        bookmark = _bookmark(full, "invitees")
        now = datetime.now(UTC)
        lookback = timedelta(days=lookback_days)
        for hidden, attribute in (
            (True, "incremental_counts"),
            (False, "incremental_counts_if_events_move"),
        ):
            rules: Sequence[Rule] = incremental_rules(
                bookmark, lookback, now, future_invitees_hidden=hidden
            )
            setattr(results, attribute, compare(results.incremental_hits, sandbox.store, rules))
        listing = [h for h in results.incremental_hits if h.endpoint == "GET /scheduled_events"]
        results.listed_events = listed_event_kinds(sandbox.store, listing, bookmark, lookback, now)
    return results


def _store_rows(sandbox: RunningSandbox) -> dict[str, int]:
    store = sandbox.store
    return {stream: len(store.kind(kind)) for stream, kind in STORE_KIND.items()}


def _bookmark(run: TapRun, stream: str) -> datetime:
    state = run.output.final_state or {}
    value = state.get("bookmarks", {}).get(stream, {}).get("replication_key_value")
    if not value:
        raise RuntimeError(f"the full sync left no bookmark for {stream}: {state}")
    return parse_time(str(value))
