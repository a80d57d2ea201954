"""Section 7: what deletion tracking and the deep re-read cost, in state and requests.

One organization of `plan.cpu_events` events. A full sync, then deletions of every kind the API
allows (members removed, an invitation revoked, a webhook subscription and a contact deleted),
then an incremental run (the one that emits the deletions), and the same incremental run with a
deep re-read of `DEEP_DAYS` falling on it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.plan import UNTHROTTLED, Plan
from bench.report import Section, Table, Verdict
from bench.sandbox import Hit, RunningSandbox, running_sandbox
from bench.tap import TapRun, run_tap, tap_config

LISTED_KEYS = "listed_keys"  # tap_calendly.deletions' state key
WATCHED = "watched_no_shows"
DELETED_AT = "_sdc_deleted_at"
DEEP_DAYS = 365
# A key is a URI whose UUID is kept in base64 (tap_calendly/deletions.py): about 24 bytes.
BYTES_PER_KEY_LIMIT = 26


def compact(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def listed_bytes(state: dict[str, Any] | None) -> dict[str, tuple[int, int]]:
    """Stream -> (keys kept, their bytes in state)."""
    found = {}
    for stream, part in sorted(((state or {}).get("bookmarks") or {}).items()):
        if LISTED_KEYS in part:
            found[stream] = (
                len(part[LISTED_KEYS]["keys"].split()),
                compact({LISTED_KEYS: part[LISTED_KEYS]}),
            )
    return found


def watched(state: dict[str, Any] | None) -> tuple[int, int]:
    part = ((state or {}).get("bookmarks") or {}).get("invitees", {}).get(WATCHED) or {}
    return sum(len(keys.split()) for keys in part.values()), compact({WATCHED: part})


def requests_to(hits: list[Hit], endpoint: str) -> int:
    return sum(1 for hit in hits if hit.endpoint == endpoint)


def delete_some(sandbox: RunningSandbox) -> list[str]:
    """Deletions of every kind the API allows, chosen deterministically (sorted by uri)."""
    store = sandbox.store
    with store.lock:
        me = store.current_user["uri"]
        members = sorted(
            (
                m
                for m in store.organization_memberships.values()
                if m["role"] != "owner" and m["user"]["uri"] != me
            ),
            key=lambda m: m["uri"],
        )[:2]
        pending = sorted(
            (i for i in store.organization_invitations.values() if i["status"] == "pending"),
            key=lambda i: i["uri"],
        )[:1]
        hooks = sorted(store.webhook_subscriptions.values(), key=lambda h: h["uri"])[:1]
        contacts = sorted(store.contacts.values(), key=lambda c: c["uri"])[:1]
    base = sandbox.base_url
    paths = [m["uri"].removeprefix(base) for m in members]
    paths += [i["uri"].removeprefix(base) for i in pending]
    paths += [h["uri"].removeprefix(base) for h in hooks]
    paths += [c["uri"].removeprefix(base) for c in contacts]
    for path in paths:
        sandbox.call("DELETE", path)
    return paths


def deletions_section(plan: Plan, workdir: Path) -> Section:
    events = plan.cpu_events
    runs: dict[str, TapRun] = {}
    hits: dict[str, list[Hit]] = {}
    with running_sandbox(events=events) as sandbox:
        config = tap_config(
            sandbox.base_url,
            requests_per_minute=UNTHROTTLED,
            child_concurrency=plan.concurrency,
        )
        runs["full"] = run_tap(workdir, "deletions-full", config, code_path=plan.code_path)
        deleted = delete_some(sandbox)
        state = runs["full"].output.final_state
        for name, settings in (
            ("incremental", {}),
            ("deep", {"deep_reread_days": DEEP_DAYS, "deep_reread_every_hours": 0}),
        ):
            mark = sandbox.mark()
            runs[name] = run_tap(
                workdir,
                f"deletions-{name}",
                {**config, **settings},
                state=state,
                code_path=plan.code_path,
                key_streams=(),
            )
            hits[name] = sandbox.hits(since=mark)
        contacts_total = len(sandbox.store.contacts)

    full_state = runs["full"].output.final_state
    listed = listed_bytes(full_state)
    listed_total = sum(size for _, size in listed.values())
    state_total = runs["full"].output.final_state_bytes
    incremental = hits["incremental"]
    contact_pages = requests_to(incremental, "GET /contacts")
    invitee_reads = {
        name: requests_to(h, "GET /scheduled_events/{uuid}/invitees") for name, h in hits.items()
    }
    deep_watched = watched(runs["deep"].output.final_state)
    regular_watched = watched(runs["incremental"].output.final_state)
    emitted = _deletion_records(runs["incremental"])

    section = Section(
        "9. Deletions and late changes: what tracking costs",
        f"{events:,} events (sandbox, no rate limit, no latency). A full sync; then "
        f"{len(deleted)} deletions through the API ({', '.join(_kind(p) for p in deleted)}); "
        "then the same incremental run twice from the full sync's state: as configured by "
        f"default, and with a deep re-read of {DEEP_DAYS} days falling on it "
        f"(deep_reread_days={DEEP_DAYS}, deep_reread_every_hours=0).",
    )
    keys_total = sum(n for n, _ in listed.values())
    section.verdicts = [
        Verdict(
            f"each key kept for deletion tracking costs at most {BYTES_PER_KEY_LIMIT} bytes "
            "(keys grow with the configuration: members, event types, hosts, groups)",
            f"{listed_total:,} bytes for {keys_total:,} keys: "
            f"{listed_total / max(1, keys_total):.1f} bytes each ({listed_total:,} of the "
            f"{state_total:,} bytes of state)",
            listed_total <= BYTES_PER_KEY_LIMIT * keys_total,
        ),
        Verdict(
            "the incremental run emits the deletions",
            ", ".join(f"{s}: {n}" for s, n in sorted(emitted.items())) or "none",
            bool(emitted),
        ),
    ]
    section.tables.append(
        Table(
            ("Stream", "Keys kept", "Bytes in state"),
            [(s, f"{n:,}", f"{b:,}") for s, (n, b) in listed.items()]
            + [("all tracked streams", f"{keys_total:,}", f"{listed_total:,}")],
            caption="State the deletion tracking adds after the full sync:",
        )
    )
    section.tables.append(
        Table(
            (
                "Run",
                "Requests",
                "Invitee reads",
                "GET /contacts pages",
                "Watched no-shows",
                "Final state",
                "STATE messages",
                "Largest STATE message",
            ),
            [
                (
                    name,
                    f"{len(hits[name]):,}",
                    f"{invitee_reads[name]:,}",
                    f"{requests_to(hits[name], 'GET /contacts'):,}",
                    f"{count:,} ({size:,} bytes)",
                    f"{runs[name].output.final_state_bytes:,} bytes",
                    f"{runs[name].output.state_messages:,}",
                    f"{runs[name].output.largest_state_bytes:,} bytes",
                )
                for name, (count, size) in (
                    ("incremental", regular_watched),
                    ("deep", deep_watched),
                )
            ],
            caption="The incremental run, without and with the deep re-read:",
        )
    )
    section.notes = [
        f"Requests the tracking adds to an incremental run: {max(0, contact_pages - 1):,} "
        f"(contacts are listed in full, {contact_pages:,} page(s) for {contacts_total:,} contacts, "
        "where paging stopped at the bookmark before; with webhook_inbox they still stop there). "
        "Every other tracked stream was already read in full each run.",
        f"The deep re-read adds {invitee_reads['deep'] - invitee_reads['incremental']:,} invitee "
        f"requests to the run it falls on, and keeps {deep_watched[0] - regular_watched[0]:,} more "
        f"watched no-shows ({deep_watched[1] - regular_watched[1]:,} more bytes of state) on "
        "every run while it is on.",
        "Events re-emitted because their invitees changed cost records, not requests: the "
        "listing of events is read in full every run.",
        "Every STATE message carries the whole state, the kept keys included: an incremental run "
        "writes about (STATE messages x final state) bytes of STATE, read by the loader.",
    ]
    return section


def _deletion_records(run: TapRun) -> dict[str, int]:
    """Deletion records per stream, read from the run's Singer output."""
    found: dict[str, int] = {}
    with run.process.stdout_path.open(encoding="utf-8") as lines:
        for line in lines:
            if DELETED_AT in line and '"type":"RECORD"' in line:
                message = json.loads(line)
                if message["record"].get(DELETED_AT):
                    found[message["stream"]] = found.get(message["stream"], 0) + 1
    return found


def _kind(path: str) -> str:
    """`/organizations/{uuid}/invitations/{uuid}` -> `invitations`."""
    return [part for part in path.split("/") if part][-2]
