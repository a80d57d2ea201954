"""Singer input for target-calendly, built from what the sandbox holds (valid ids, free slots)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

Record = dict[str, Any]


def schema_message(stream: str, fields: Iterable[str]) -> dict[str, Any]:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": {f: {} for f in fields}},
        "key_properties": [],
    }


def record_message(stream: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": dict(record)}


def singer_input(streams: Mapping[str, list[Record]], state: Any = None) -> str:
    """SCHEMA then RECORDs per stream, in the order given; an optional final STATE."""
    lines = []
    for stream, records in streams.items():
        fields = sorted({key for record in records for key in record})
        lines.append(schema_message(stream, fields))
        lines.extend(record_message(stream, record) for record in records)
    if state is not None:
        lines.append({"type": "STATE", "value": state})
    return "".join(json.dumps(line) + "\n" for line in lines)


def future_slot(days: int, hour: int) -> str:
    base = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return (base + timedelta(days=days, hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_records(sandbox: Any, per_action: int, tag: str = "r") -> dict[str, list[Record]]:
    """Creates of four kinds, each record distinct (so its side effect can be told apart)."""
    store = sandbox.store
    with store.lock:
        types = sorted(
            (t for t in store.event_types.values() if t["active"] and not t["deleted_at"]),
            key=lambda t: t["uri"],
        )
        solo = [t for t in types if t["kind"] == "solo"]
        invitees = sorted(
            (i for i in store.invitees.values() if i.get("no_show") is None),
            key=lambda i: i["uri"],
        )
    assert len(types) >= per_action and len(invitees) >= per_action and solo
    return {
        "create_scheduling_link": [{"event_type": t["uri"]} for t in types[:per_action]],
        "invite_user": [{"email": f"{tag}-invite-{n}@example.org"} for n in range(per_action)],
        "mark_no_show": [{"invitee": i["uri"]} for i in invitees[:per_action]],
        "book_meeting": [
            {
                "event_type": solo[n % len(solo)]["uri"],
                "start_time": future_slot(30 + n, 9),
                "email": f"{tag}-guest-{n}@example.org",
                "name": f"Guest {n}",
                "timezone": "Europe/Berlin",
            }
            for n in range(per_action)
        ],
    }


def identity(stream: str, record: Mapping[str, Any]) -> str:
    """How a test recognises an input record in the responses file."""
    visible = {k: v for k, v in record.items() if not str(k).startswith("_sdc_")}
    return stream + " " + json.dumps(visible, sort_keys=True)


def singer_input_with_states(streams: Mapping[str, list[Record]]) -> str:
    """Like `singer_input`, with a STATE after every record, as a tap checkpointing per record
    would send: `{"records_before": n}` means the n records before it are done."""
    lines: list[dict[str, Any]] = []
    done = 0
    for stream, records in streams.items():
        fields = sorted({key for record in records for key in record})
        lines.append(schema_message(stream, fields))
        for record in records:
            lines.append(record_message(stream, record))
            done += 1
            lines.append({"type": "STATE", "value": {"records_before": done}})
    return "".join(json.dumps(line) + "\n" for line in lines)
