"""The reverse-ETL step: pick real records from the warehouse, write one CSV per action, read outcomes.

tap-csv-folder reads `<folder>/<action>.csv` as the stream `<action>`, and target-calendly performs
the action named by the stream. The picks are real rows of the loaded tables, so the writes hit
resources that exist in the sandbox:
- cancel_event: the next active event that has not started yet;
- mark_no_show: an active invitee of a past active event who is not yet a no-show;
- create_scheduling_link: an active event type.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb


@dataclass(frozen=True)
class Pick:
    action: str
    columns: tuple[str, ...]
    sql: str


PICKS = (
    Pick(
        "cancel_event",
        ("event", "reason"),
        """SELECT uri, 'Demo: reverse ETL from the warehouse' FROM calendly.scheduled_events
            WHERE status = 'active' AND start_time > current_timestamp AT TIME ZONE 'UTC'
            ORDER BY start_time, uri LIMIT 1""",
    ),
    Pick(
        "mark_no_show",
        ("invitee",),
        """SELECT i.uri FROM calendly.invitees AS i
            JOIN calendly.scheduled_events AS e ON e.uri = i.event
            WHERE i.status = 'active' AND e.status = 'active'
              AND coalesce(json_type(i.no_show), 'NULL') = 'NULL'
              AND e.end_time < current_timestamp AT TIME ZONE 'UTC'
            ORDER BY e.start_time DESC, i.uri LIMIT 1""",
    ),
    Pick(
        "create_scheduling_link",
        ("event_type", "max_event_count"),
        """SELECT uri, 1 FROM calendly.event_types
            WHERE active ORDER BY name, uri LIMIT 1""",
    ),
)


class NothingToPickError(LookupError):
    """The warehouse holds no row an action could be demonstrated on."""


def write_inputs(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, dict[str, Any]]:
    """Write `<action>.csv` per pick; return the one input row of each action."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen: dict[str, dict[str, Any]] = {}
    for pick in PICKS:
        rows = con.execute(pick.sql).fetchall()
        if not rows:
            raise NothingToPickError(f"no row in the warehouse to demonstrate {pick.action} on")
        row = dict(zip(pick.columns, rows[0], strict=True))
        with (folder / f"{pick.action}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=pick.columns)
            writer.writeheader()
            writer.writerow(row)
        chosen[pick.action] = row
    return chosen


def read_outcomes(responses_path: Path) -> list[dict[str, Any]]:
    if not responses_path.exists():
        return []
    lines = responses_path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def summary(outcome: dict[str, Any]) -> str:
    """One line: what was asked, what came back."""
    response = outcome.get("response")
    resource = response.get("resource", response) if isinstance(response, dict) else response
    detail = ""
    if isinstance(resource, dict):
        for key in ("booking_url", "uri", "canceler_type", "reason"):
            if resource.get(key):
                detail = f"{key}={resource[key]}"
                break
    if outcome.get("reason"):
        detail = f"{detail} ({outcome['reason']})".strip()
    if outcome.get("error"):
        detail = f"{detail} error={outcome['error']}".strip()
    status = outcome.get("http_status")
    return f"{outcome.get('action')}: {outcome.get('outcome')} (HTTP {status}) {detail}".rstrip()
