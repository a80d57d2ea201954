"""Helpers for running tap-calendly against the sandbox and reading what it printed."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from calendly_sandbox import Sandbox
from tap_calendly.streams import STREAM_TYPES
from tap_calendly.tap import TapCalendly

TAP_EXECUTABLE = Path(sys.executable).with_name("tap-calendly")
# The sandbox reports the paid plan's 500/minute; tests are not about pacing, so lift the cap.
FAST = {"requests_per_minute": 1_000_000}

# Sandbox collection -> tap stream, for streams whose rows are the collection's resources.
STREAM_OF_KIND = {
    "activity_log_entries": "activity_log_entries",
    "event_type_memberships": "event_type_hosts",
    "event_types": "event_types",
    "group_relationships": "group_relationships",
    "groups": "groups",
    "invitees": "invitees",
    "organization_invitations": "organization_invitations",
    "organization_memberships": "organization_memberships",
    "outgoing_communications": "outgoing_communications",
    "routing_form_submissions": "routing_form_submissions",
    "routing_forms": "routing_forms",
    "scheduled_events": "scheduled_events",
    "user_availability_schedules": "availability_schedules",
    "webhook_subscriptions": "webhook_subscriptions",
}
COMMUNICATION_KEY = ("event_uri", "type", "to", "created_at")


def key_of(stream: str, row: dict[str, Any]) -> str:
    """A row's primary key as one string (outgoing communications have no `uri`)."""
    if stream == "outgoing_communications":
        return "|".join(str(row[k]) for k in COMMUNICATION_KEY)
    keys = next((s.primary_keys for s in STREAM_TYPES if s.name == stream), ("uri",))
    return "|".join(str(row[k]) for k in keys)


def as_served(row: dict[str, Any]) -> dict[str, Any]:
    """The row as the API served it: live rows of streams whose rows can vanish carry the
    deletion marker, null."""
    return {k: v for k, v in row.items() if not (k == "_sdc_deleted_at" and v is None)}


@dataclass
class TapRun:
    messages: list[dict[str, Any]]
    returncode: int = 0
    stderr: str = ""
    records: dict[str, list[dict[str, Any]]] = field(init=False)

    def __post_init__(self) -> None:
        self.records = defaultdict(list)
        for message in self.messages:
            if message["type"] == "RECORD":
                self.records[message["stream"]].append(message["record"])

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1]

    def keys(self, stream: str) -> set[str]:
        return {key_of(stream, row) for row in self.records.get(stream, [])}

    def bookmark(self, stream: str) -> str | None:
        value = self.final_state.get("bookmarks", {}).get(stream, {})
        return value.get("replication_key_value")


def tap_config(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    return {"token": sandbox.token, "api_url": sandbox.base_url, **FAST, **overrides}


class StopAfter(io.StringIO):
    """Stdout that fails the write after `limit` RECORD messages: the tap dies mid-sync,
    between any two messages, and what was written before is what a target received."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.records = 0

    def write(self, text: str) -> int:
        if '"type":"RECORD"' in text.replace(" ", ""):
            if self.records >= self.limit:
                raise BrokenPipeError("simulated crash")
            self.records += 1
        return super().write(text)


def catalog_selecting(config: dict[str, Any], streams: set[str]) -> dict[str, Any]:
    """The discovered catalog with only `streams` selected, as Meltano would pass it."""
    catalog: dict[str, Any] = TapCalendly(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def run_in_process(
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    *,
    stop_after_records: int | None = None,
    catalog: dict[str, Any] | None = None,
) -> TapRun:
    """Sync in this process; with `stop_after_records`, die after that many records."""
    out: io.StringIO = (
        StopAfter(stop_after_records) if stop_after_records is not None else (io.StringIO())
    )
    tap = TapCalendly(
        config=config, state=copy.deepcopy(state), catalog=catalog, parse_env_config=False
    )
    returncode = 0
    with contextlib.redirect_stdout(out):
        try:
            tap.sync_all()
        except BrokenPipeError:
            returncode = 1
    messages = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return TapRun(messages, returncode)


def run_cli(
    tmp_path: Path,
    config: dict[str, Any],
    *args: str,
    state: dict[str, Any] | None = None,
) -> TapRun:
    """Run the installed `tap-calendly` executable the way Meltano or cron does."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    command = [str(TAP_EXECUTABLE), "--config", str(config_file), *args]
    if state is not None:
        state_file = tmp_path / "state.json"
        state_file.write_text(json.dumps(state))
        command += ["--state", str(state_file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_CALENDLY_")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    messages = [json.loads(line) for line in lines] if "--discover" not in args else []
    run = TapRun(messages, done.returncode, done.stderr)
    run.stdout = done.stdout  # type: ignore[attr-defined]
    return run


def snapshot(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """Every streamed resource in the sandbox, by stream and key (deep copies)."""
    with sandbox.store.lock:
        result: dict[str, dict[str, Any]] = {}
        for kind, stream in STREAM_OF_KIND.items():
            table = getattr(sandbox.store, kind)
            result[stream] = {key_of(stream, r): copy.deepcopy(r) for r in table.values()}
        members = sandbox.store.organization_memberships.values()
        result["users"] = {m["user"]["uri"]: copy.deepcopy(m["user"]) for m in members}
        return result


def changed_keys(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict:
    """Per stream, the keys of resources that are new or differ from `before`; the events of
    changed invitees count as changed (the tap emits them again with their current counters)."""
    changed = {
        stream: {key for key, row in rows.items() if before[stream].get(key) != row}
        for stream, rows in after.items()
    }
    changed["scheduled_events"] |= {after["invitees"][key]["event"] for key in changed["invitees"]}
    return changed


class Api:
    """The sandbox's public write endpoints, called the way any API client would."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.base = sandbox.base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {sandbox.token}"

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(f"{self.base}{path}", json=body, timeout=30)
        assert response.status_code == 201, response.text
        resource: dict[str, Any] = response.json()["resource"]
        return resource

    def delete(self, path: str) -> None:
        response = self.session.delete(f"{self.base}{path}", timeout=30)
        assert response.status_code == 204, response.text


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=3, events=120, plan="enterprise") as running:
        yield running
