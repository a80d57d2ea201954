"""Webhook coverage: incremental requests of a large organization with a healthy receiver, next
to the minimum; and the receiver's throughput on a PostgreSQL inbox shared by two replicas.

    .venv/bin/python -m bench.coverage [--events 50000] [--per-kind 20] [--deliveries 2000]

Prints the section "7. Webhook coverage" as Markdown on stdout (append it to BENCHMARKS.md).
The minimum of an incremental run: the event list pages, one invitee call per touched event,
and every other request of the same run with coverage off except its invitee calls (the
dimension and configuration reads the tap makes every run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from bench.machine import describe_machine
from bench.plan import UNTHROTTLED
from bench.report import Section, Table, Verdict
from bench.tap import SANDBOX_TOKEN, run_tap, tap_config
from bench.webhooks import EVENTS, KEY, Changes, apply_changes, post, receiver, signed
from calendly_sandbox import Sandbox
from calendly_webhooks.inbox import open_inbox
from tests.analytics.postgres import PASSWORD, SUPERUSER, PostgresCluster

DIMENSION_ENDPOINTS = (
    "GET /event_type_memberships",
    "GET /event_type_availability_schedules",
    "GET /user_availability_schedules",
    "GET /locations",
    "GET /webhook_subscriptions",  # the organization's, each member's, each group's
)
TITLE = "7. Webhook coverage: incremental requests at the minimum, receivers on PostgreSQL"


def endpoint(path: str) -> str:
    parts = path.split("/")
    if path.startswith("/scheduled_events/") and path.endswith("/invitees"):
        return "GET /scheduled_events/{uuid}/invitees"
    return "GET " + "/".join("{uuid}" if len(p) == 36 else p for p in parts)


def measured_run(
    sb: Sandbox, work: Path, name: str, config: dict[str, Any], state: Any, changes: Changes
) -> tuple[Counter[str], int, float]:
    """Requests by endpoint, changed invitees emitted, wall seconds."""
    mark = len(sb.request_log)
    began = time.perf_counter()
    run = run_tap(work, name, config, state=state, key_streams=("invitees",))
    seconds = time.perf_counter() - began
    by_endpoint = Counter(endpoint(hit.path) for hit in sb.request_log[mark:])
    caught = len(changes.invitees & set(run.output.keys.get("invitees", [])))
    return by_endpoint, caught, seconds


def incremental_section(events: int, per_kind: int, work: Path) -> Section:
    keys, inbox = work / "keys.txt", work / "inbox.sqlite"
    keys.write_text(KEY + "\n", encoding="utf-8")
    with (
        Sandbox(seed=1, events=events, webhook_time_scale=0) as sb,
        receiver(inbox, keys) as hooks,
        requests.Session() as api,
    ):
        api.headers["Authorization"] = f"Bearer {SANDBOX_TOKEN}"
        subscription = {
            "url": hooks.url + "/webhooks",
            "events": EVENTS,
            "organization": sb.store.organization["uri"],
            "scope": "organization",
            "signing_key": KEY,
        }
        post(api, sb, "/webhook_subscriptions", subscription)
        config = {
            **tap_config(sb.base_url, requests_per_minute=UNTHROTTLED),
            "webhook_inbox": str(inbox),
        }
        first = run_tap(work, "coverage-first", config)
        state = first.output.final_state
        changes = apply_changes(sb, api, per_kind)
        sb.webhooks.wait_idle(timeout=300)
        covered, covered_caught, covered_s = measured_run(
            sb, work, "coverage-on", config, state, changes
        )
        safe, safe_caught, safe_s = measured_run(
            sb, work, "coverage-off", {**config, "webhook_coverage": False}, state, changes
        )
        cadenced, cadenced_caught, cadenced_s = measured_run(
            sb, work, "coverage-cadence", {**config, "dimension_refresh_hours": 24}, state, changes
        )
    invitees = "GET /scheduled_events/{uuid}/invitees"
    touched = len(changes.events)
    minimum = sum(safe.values()) - safe[invitees] + touched
    total = sum(covered.values())
    ratio = total / minimum
    # Due between refreshes: the changed parents' lists and the organization's subscriptions.
    dimension_reads = sum(safe[e] for e in DIMENSION_ENDPOINTS)
    changed_parents = sum(cadenced[e] for e in DIMENSION_ENDPOINTS[:-1])
    # The subscriptions stream also lists members and groups to know their scopes.
    scope_lists = sum(
        safe[e] - cadenced[e] for e in ("GET /organization_memberships", "GET /groups")
    )
    cadence_minimum = minimum - dimension_reads - scope_lists + changed_parents + 1
    cadence_ratio = sum(cadenced.values()) / cadence_minimum
    rows = [
        (
            "coverage proven (default with webhook_inbox)",
            total,
            covered["GET /scheduled_events"],
            covered[invitees],
            covered["GET /webhook_subscriptions"],
            f"{covered_caught}/{len(changes.invitees)}",
            f"{covered_s:.0f}",
        ),
        (
            "webhook_coverage off (the window's rule)",
            sum(safe.values()),
            safe["GET /scheduled_events"],
            safe[invitees],
            safe["GET /webhook_subscriptions"],
            f"{safe_caught}/{len(changes.invitees)}",
            f"{safe_s:.0f}",
        ),
        (
            "coverage proven + dimension_refresh_hours 24 (no refresh due)",
            sum(cadenced.values()),
            cadenced["GET /scheduled_events"],
            cadenced[invitees],
            cadenced["GET /webhook_subscriptions"],
            f"{cadenced_caught}/{len(changes.invitees)}",
            f"{cadenced_s:.0f}",
        ),
        (
            "minimum (every dimension read due)",
            minimum,
            safe["GET /scheduled_events"],
            touched,
            "",
            "",
            "",
        ),
        (
            "minimum (dimension reads of changed parents only)",
            cadence_minimum,
            safe["GET /scheduled_events"],
            touched,
            "",
            "",
            "",
        ),
    ]
    return Section(
        title=TITLE,
        intro=(
            f"Sandbox of {events:,} events; `calendly-webhooks` on loopback (SQLite inbox) with "
            "an organization subscription to the four invitee events since before the first "
            f"run. After a full first run, the changes of section 6 ({per_kind} of each kind: "
            f"{len(changes.invitees)} invitees of {touched} events), then three incremental runs "
            "from the same state. Minimum = event list pages + one invitee call per touched "
            "event + every other request the coverage-off run made except invitee calls (the "
            "dimension reads due each run). Today's figure at 50,000 events (section 2): 26,565 "
            "requests, 24,199 of them invitee lists."
        ),
        verdicts=[
            Verdict(
                "coverage proven: within 1.1x of the minimum",
                f"{total:,} requests vs minimum {minimum:,}: {ratio:.3f}x",
                ratio <= 1.1,
            ),
            Verdict(
                "with dimension_refresh_hours between refreshes: within 1.1x of that minimum",
                f"{sum(cadenced.values()):,} requests vs minimum {cadence_minimum:,}: "
                f"{cadence_ratio:.3f}x ({dimension_reads + scope_lists:,} dimension reads "
                f"without it, {changed_parents + 1} due)",
                cadence_ratio <= 1.1,
            ),
            Verdict(
                "every changed invitee emitted in every run",
                f"{covered_caught}, {safe_caught} and {cadenced_caught} of {len(changes.invitees)}",
                covered_caught == safe_caught == cadenced_caught == len(changes.invitees),
            ),
        ],
        tables=[
            Table(
                (
                    "Incremental run",
                    "Requests",
                    "Event list pages",
                    "Invitee calls",
                    "Subscription lists",
                    "Changed invitees emitted",
                    "Wall s",
                ),
                rows,
            )
        ],
        notes=[
            "The coverage run's extra requests over the minimum: the organization's webhook "
            "subscriptions, listed once more to judge coverage (the webhook_subscriptions "
            "stream reads them too, after the invitees).",
        ],
    )


@contextmanager
def postgres_inbox() -> Iterator[str]:
    cluster = PostgresCluster().start()
    os.environ["PGPASSWORD"] = PASSWORD  # the receivers' libpq reads it: the URL has none
    try:
        cluster.create_database("inbox")
        yield f"postgresql://{SUPERUSER}@127.0.0.1:{cluster.port}/inbox"
    finally:
        cluster.stop()


def replicas_section(deliveries: int, clients: int, work: Path) -> Section:
    keys = work / "rx-keys.txt"
    keys.write_text(KEY + "\n", encoding="utf-8")
    bodies = [
        json.dumps(
            {
                "event": "invitee.created",
                "created_at": "2026-12-06T00:00:00.000000Z",
                "created_by": "https://api.calendly.com/users/U",
                "payload": {"uri": f"https://api.calendly.com/scheduled_events/E/invitees/{n}"},
            }
        ).encode()
        for n in range(deliveries)
    ]
    latencies: list[float] = []
    answers: Counter[str] = Counter()
    lock = threading.Lock()
    with postgres_inbox() as url, receiver(url, keys) as first, receiver(url, keys) as second:
        urls = (first.url + "/webhooks", second.url + "/webhooks")

        def client(start: int) -> None:
            mine: list[float] = []
            seen: Counter[str] = Counter()
            with requests.Session() as session:
                for n in range(start, deliveries, clients):
                    # Every 10th delivery also reaches the other replica: a redelivery.
                    targets = (urls[n % 2], urls[1 - n % 2]) if n % 10 == 0 else (urls[n % 2],)
                    for target in targets:
                        headers = {
                            "Content-Type": "application/json",
                            "Calendly-Webhook-Signature": signed(bodies[n]),
                        }
                        began = time.perf_counter()
                        answer = session.post(target, data=bodies[n], headers=headers)
                        mine.append(time.perf_counter() - began)
                        seen[answer.json().get("status", str(answer.status_code))] += 1
            with lock:
                latencies.extend(mine)
                answers.update(seen)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        with open_inbox(url, create=False) as inbox:
            stored = inbox.count()
            positions = [d.position for d in inbox.between(0, inbox.last_position())]
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return Section(
        title="7b. Webhook receivers: two replicas on one PostgreSQL inbox",
        intro=(
            f"Two `calendly-webhooks` processes on loopback sharing a PostgreSQL inbox (a "
            f"private cluster, fsync off); {clients} clients send {deliveries} distinct signed "
            "deliveries, alternating replicas, and every 10th one to both (a redelivery). Each "
            "is committed before its 200; appends are serialized by the inbox's position lock."
        ),
        verdicts=[
            Verdict(
                "each delivery stored once, positions in order",
                f"{stored} rows for {deliveries} deliveries; "
                f"{answers['duplicate']} redeliveries answered duplicate",
                stored == deliveries and positions == sorted(positions),
            ),
            Verdict(
                "p99 latency far below Calendly's 15 s read timeout (< 1 s)",
                f"p99 {p99:.1f} ms",
                p99 < 1000,
            ),
        ],
        tables=[
            Table(
                ("Requests", "Clients", "Requests/s", "p50 ms", "p99 ms", "max ms", "answers"),
                [
                    (
                        len(latencies),
                        clients,
                        f"{len(latencies) / wall:.0f}",
                        f"{p50:.1f}",
                        f"{p99:.1f}",
                        f"{ordered[-1] * 1000:.1f}",
                        ", ".join(f"{k} {v}" for k, v in sorted(answers.items())),
                    )
                ],
            )
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--per-kind", type=int, default=20, help="changes of each kind")
    parser.add_argument("--deliveries", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--skip-incremental", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="calendly-bench-coverage-") as tmp:
        work = Path(tmp)
        sections = (
            [] if args.skip_incremental else [incremental_section(args.events, args.per_kind, work)]
        )
        sections.append(replicas_section(args.deliveries, args.clients, work))
    machine = describe_machine()
    command = "python -m bench.coverage " + " ".join(sys.argv[1:] if argv is None else argv)
    sections[-1].notes.append(
        f"Measured with `{command.strip()}` at commit {machine.commit} on {machine.cpu_model} "
        f"({machine.cores} cores), {machine.date} UTC."
    )
    print("\n\n".join(s.markdown() for s in sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
