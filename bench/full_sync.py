"""Sections 1 and 2 (and the profile): a full sync of a large organization, then an incremental
sync after a known set of changes, all against one sandbox with no rate limit and no latency."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench import profile_summary
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
from bench.process import run_console_script
from bench.report import Section, Table, Verdict, mib, pct
from bench.sandbox import Hit, RunningSandbox, running_sandbox
from bench.tap import TapRun, run_tap, tap_config
from bench.times import UTC, parse_time

MAX_OVER_MINIMUM = 0.02
INVITEES_ENDPOINT = "GET /scheduled_events/{uuid}/invitees"
RECORDED_PROFILES = Path(__file__).with_name("profiles")

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
    startup: Any  # ProcessRun of `tap-calendly --about`
    incremental: TapRun | None = None
    incremental_hits: list[Hit] = field(default_factory=list)
    incremental_counts: list[EndpointCount] = field(default_factory=list)
    changes: ChangeSet | None = None
    profile_path: Path | None = None
    profiled: TapRun | None = None
    listed_events: dict[str, int] = field(default_factory=dict)


def measure(plan: Plan, workdir: Path) -> FullSyncResults:
    with running_sandbox(events=plan.cpu_events) as sandbox:
        settings = {"requests_per_minute": UNTHROTTLED, "invitee_concurrency": plan.concurrency}
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
        bookmark = _bookmark(full, "scheduled_events")
        now = datetime.now(UTC)
        rules: Sequence[Rule] = incremental_rules(bookmark, timedelta(days=lookback_days), now)
        results.incremental_counts = compare(results.incremental_hits, sandbox.store, rules)
        listing = [h for h in results.incremental_hits if h.endpoint == "GET /scheduled_events"]
        results.listed_events = listed_event_kinds(sandbox.store, listing, bookmark, now)
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


# -- section 1: CPU -------------------------------------------------------------------------------


def cpu_section(results: FullSyncResults) -> Section:
    run = results.full
    process, records = run.process, run.records
    requests = len(results.full_hits)
    startup = results.startup
    emitted = run.output.records
    complete = all(
        emitted.get(s, 0) == results.store_rows[s] for s in ("scheduled_events", "invitees")
    )
    section = Section(
        "1. CPU: full sync of a large organization",
        f"`tap-calendly` alone in its process, reading a sandbox of {results.events:,} scheduled "
        "events (no rate limit, no latency) that runs in the benchmark's own process. CPU and "
        "peak RSS (VmHWM) are the tap process's own; Singer output goes to a file.",
    )
    section.verdicts = [
        Verdict(
            "every event and invitee read once",
            f"{emitted.get('scheduled_events', 0):,} events, {emitted.get('invitees', 0):,} "
            f"invitees emitted; store holds {results.store_rows['scheduled_events']:,} and "
            f"{results.store_rows['invitees']:,}",
            complete,
        ),
        Verdict("tap exits 0", str(process.returncode), process.returncode == 0),
    ]
    section.tables.append(
        Table(
            (
                "Events",
                "Records",
                "Requests",
                "Wall s",
                "Records/s",
                "CPU s (user+sys)",
                "CPU s per 1,000 records",
                "Peak RSS",
            ),
            [
                (
                    f"{results.events:,}",
                    f"{records:,}",
                    f"{requests:,}",
                    f"{process.wall_seconds:.1f}",
                    f"{records / process.wall_seconds:,.0f}",
                    f"{process.cpu_seconds:.1f}",
                    f"{process.cpu_seconds / records * 1000:.3f}",
                    mib(process.peak_rss_bytes),
                ),
            ],
        )
    )
    section.tables.append(
        Table(
            ("Stream", "Records emitted", "Rows in the sandbox"),
            [
                (stream, f"{emitted.get(stream, 0):,}", f"{results.store_rows.get(stream, 0):,}")
                for stream in sorted(set(emitted) | set(results.store_rows))
            ],
            caption="Records per stream",
        )
    )
    section.notes.append(
        f"Fixed start-up cost (`tap-calendly --about`: imports, no sync): "
        f"{startup.cpu_seconds:.2f} CPU s, {mib(startup.peak_rss_bytes)} peak RSS."
    )
    section.notes.append(
        f"Sandbox generation ({results.generation_seconds:.1f} s) is not part of any figure. "
        f"STATE messages: {run.output.state_messages:,}; final state "
        f"{run.output.final_state_bytes:,} bytes."
    )
    return section


# -- section 2: requests --------------------------------------------------------------------------


def _totals(counts: Sequence[EndpointCount]) -> tuple[int, int, list[str]]:
    """Requests, the minimum (endpoints without a rule count at their actual), and those."""
    actual = sum(c.actual for c in counts)
    minimum = sum(c.minimum if c.minimum is not None else c.actual for c in counts)
    unruled = [c.endpoint for c in counts if c.minimum is None]
    return actual, minimum, unruled


def _counts_table(counts: Sequence[EndpointCount], caption: str) -> Table:
    rows = [
        (
            f"`{c.endpoint}`",
            f"{c.actual:,}",
            "?" if c.minimum is None else f"{c.minimum:,}",
            "?" if c.extra is None else f"{c.extra:+,}",
            c.why,
        )
        for c in counts
    ]
    actual, minimum, _ = _totals(counts)
    rows.append(
        ("**total**", f"**{actual:,}**", f"**{minimum:,}**", f"**{actual - minimum:+,}**", "")
    )
    return Table(("Endpoint", "Requests", "Minimum", "Extra", "Minimum counts"), rows, caption)


def _over_verdict(label: str, counts: Sequence[EndpointCount]) -> Verdict:
    actual, minimum, unruled = _totals(counts)
    over = (actual - minimum) / minimum if minimum else 0.0
    note = f" ({len(unruled)} endpoint(s) without a rule counted as-is)" if unruled else ""
    return Verdict(
        f"{label}: at most {pct(MAX_OVER_MINIMUM)} over the minimum",
        f"{actual:,} requests vs minimum {minimum:,}: {pct(over)} over{note}",
        over <= MAX_OVER_MINIMUM,
    )


def requests_section(results: FullSyncResults) -> Section:
    section = Section(
        "2. Requests: full and incremental sync next to the minimum the API allows",
        "Requests are counted by the sandbox (its request log), minimums from its store: every "
        "list at the largest page size the API accepts (100; 1,000 for the activity log), each "
        "per-parent list once, each single resource once. An endpoint listed twice counts once.",
    )
    section.verdicts.append(_over_verdict("full sync", results.full_counts))
    errors = [h for h in results.full_hits if h.status >= 300]
    section.verdicts.append(
        Verdict("full sync: no error responses", f"{len(errors)} non-2xx", not errors)
    )
    section.tables.append(_counts_table(results.full_counts, "Full sync"))
    if results.incremental is None or results.changes is None:
        return section
    changes = results.changes
    emitted_keys = results.incremental.output.keys
    rows = []
    exact = True
    for stream, expected in (("scheduled_events", changes.events), ("invitees", changes.invitees)):
        got = set(emitted_keys.get(stream, []))
        missing, unexpected = expected - got, got - expected
        duplicates = len(emitted_keys.get(stream, [])) - len(got)
        exact = exact and not missing and not unexpected and not duplicates
        rows.append(
            (
                stream,
                f"{len(got):,}",
                f"{len(expected):,}",
                len(missing),
                len(unexpected),
                duplicates,
            )
        )
    section.verdicts.append(_over_verdict("incremental sync", results.incremental_counts))
    section.verdicts.append(
        Verdict(
            "incremental sync emits exactly the changed events and invitees",
            "; ".join(f"{r[0]}: {r[1]} emitted, {r[2]} changed" for r in rows),
            exact,
        )
    )
    section.tables.append(
        _counts_table(
            results.incremental_counts,
            f"Incremental sync from the full sync's final STATE, after: {changes.describe()}",
        )
    )
    section.tables.append(
        Table(
            ("Stream", "Emitted", "Changed", "Missing", "Unexpected", "Duplicates"),
            rows,
            caption="Incremental rows against the known changes",
        )
    )
    invitee_calls = sum(
        c.actual for c in results.incremental_counts if c.endpoint == INVITEES_ENDPOINT
    )
    section.tables.append(
        Table(
            ("Events listed in the incremental window", "Count"),
            [
                *((kind, f"{n:,}") for kind, n in results.listed_events.items()),
                ("invitee calls the tap made", f"{invitee_calls:,}"),
            ],
            caption="Which listed events need their invitees read again",
        )
    )
    other = {
        s: n
        for s, n in results.incremental.output.records.items()
        if s not in ("scheduled_events", "invitees")
    }
    if other:
        section.notes.append(
            "Other streams' incremental rows: "
            + ", ".join(f"{s} {n:,}" for s, n in sorted(other.items()))
        )
    section.notes.append(
        "Incremental minimum: the events of the tap's own window (min_start_time = bookmark - "
        "lookback_days) are listed; invitees are read for the listed events that changed "
        "(updated_at after the bookmark) or have started (a no-show moves the invitee, not its "
        "event). Future events that did not change need no invitee call."
    )
    return section


# -- profile --------------------------------------------------------------------------------------


def profile_section(results: FullSyncResults, limit: int = 25) -> Section:
    section = Section(
        "CPU profile of the full sync",
        f"cProfile of the same full sync ({results.events:,} events), every thread, timer = "
        "per-thread CPU time (a thread waiting on a socket costs nothing). Profiling slows the "
        "run; compare shares, not seconds, with section 1.",
    )
    if results.profile_path is None or not results.profile_path.exists():
        section.notes.append("Not profiled in this run (--no-profile).")
        return section
    stats = profile_summary.load(results.profile_path)
    section.tables += [
        profile_summary.owners_table(stats),
        profile_summary.top_table(stats, "tottime", limit),
        profile_summary.top_table(stats, "cumulative", limit),
    ]
    return section


def profile_markdown(results: FullSyncResults, title: str, limit: int = 25) -> str:
    """This run's profile tables with their figures, to keep for a later comparison."""
    assert results.profile_path is not None
    stats = profile_summary.load(results.profile_path)
    run = results.full.process
    summary = (
        f"Unprofiled full sync of {results.events:,} events: {run.cpu_seconds:.1f} CPU s, "
        f"{run.cpu_seconds / results.full.records * 1000:.3f} CPU s per 1,000 records, "
        f"{results.full.records / run.wall_seconds:,.0f} records/s, "
        f"{mib(run.peak_rss_bytes)} peak RSS."
    )
    tables = [
        profile_summary.owners_table(stats),
        profile_summary.top_table(stats, "tottime", limit),
        profile_summary.top_table(stats, "cumulative", limit),
    ]
    return f"### {title}\n\n{summary}\n\n" + "\n\n".join(t.markdown() for t in tables) + "\n"


def recorded_profiles(exclude: Path | None) -> Section | None:
    """Profiles kept in bench/profiles/ (e.g. before and after a change), oldest name first."""
    files = sorted(f for f in RECORDED_PROFILES.glob("*.md") if f != exclude)
    if not files:
        return None
    section = Section(
        "Recorded profiles (before / after)",
        "Saved by earlier runs with `--save-profile` (see each heading for what was measured); "
        "this run's own profile is the section above.",
    )
    section.intro += "\n\n" + "\n\n".join(f.read_text().strip() for f in files)
    return section
