"""A run interrupted at any point and restarted from its last emitted STATE loses no record."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from tests.tap.conftest import (
    TAP_EXECUTABLE,
    Api,
    TapRun,
    changed_keys,
    run_in_process,
    snapshot,
    tap_config,
)
from tests.tap.test_incremental import FULL_TABLE, book, first_free_invitee, pick_event


@pytest.fixture(scope="module")
def small_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=11, events=40, plan="enterprise") as running:
        yield running


def last_state(run: TapRun) -> dict[str, Any] | None:
    return run.states[-1] if run.states else None


def kill_points(complete: TapRun) -> list[int]:
    """Record counts to die after: the first and last record of every stream, the record
    after each stream's last one (the parent's bookmark is promoted there), and a spread."""
    streams = [m["stream"] for m in complete.messages if m["type"] == "RECORD"]
    points = {0, len(streams) - 1}
    for stream in set(streams):
        first = streams.index(stream)
        last = len(streams) - 1 - streams[::-1].index(stream)
        points.update({first, first + 1, last, last + 1})
    points.update(range(0, len(streams), max(1, len(streams) // 12)))
    return sorted(p for p in points if p < len(streams))


def assert_union_covers(runs: list[TapRun], expected: dict[str, set[str]], label: str) -> None:
    for stream, keys in expected.items():
        seen = set().union(*(run.keys(stream) for run in runs))
        missing = keys - seen
        assert not missing, (
            f"{label}: {stream} lost {len(missing)} rows, e.g. {sorted(missing)[:3]}"
        )


def test_interrupted_first_run_restarted_from_its_last_state_loses_nothing(
    small_sandbox: Sandbox,
) -> None:
    config = tap_config(small_sandbox)
    complete = run_in_process(config)
    everything = {s: complete.keys(s) for s in complete.records}
    assert sum(map(len, everything.values())) > 100
    for point in kill_points(complete):
        crashed = run_in_process(config, stop_after_records=point)
        assert crashed.returncode == 1 and sum(map(len, crashed.records.values())) == point
        restarted = run_in_process(config, last_state(crashed))
        assert_union_covers([crashed, restarted], everything, f"killed after {point} records")


def test_interrupted_incremental_run_restarted_from_its_last_state_loses_nothing() -> None:
    with Sandbox(seed=12, events=60, plan="enterprise") as sandbox:
        config = tap_config(sandbox)
        first = run_in_process(config)
        before = snapshot(sandbox)
        api = Api(sandbox)
        book(sandbox, api)
        future = pick_event(sandbox, started_days_ago=(-2, -60))
        api.post(f"/scheduled_events/{future['uri'].rsplit('/', 1)[-1]}/cancellation", {})
        for days in ((1, 10), (11, 25)):
            invitee = first_free_invitee(sandbox, pick_event(sandbox, started_days_ago=days))
            api.post("/invitee_no_shows", {"invitee": invitee["uri"]})
        changed = {
            stream: keys
            for stream, keys in changed_keys(before, snapshot(sandbox)).items()
            if stream not in FULL_TABLE
        }
        complete = run_in_process(config, first.final_state)
        assert {s: complete.keys(s) for s in changed} == changed
        for point in range(sum(map(len, complete.records.values()))):
            crashed = run_in_process(config, first.final_state, stop_after_records=point)
            resume_from = last_state(crashed) or first.final_state
            restarted = run_in_process(config, resume_from)
            assert_union_covers([crashed, restarted], changed, f"killed after {point} records")


def test_killed_process_restarted_from_the_last_state_line_loses_nothing(
    small_sandbox: Sandbox, tmp_path: Path
) -> None:
    """The same with a real process killed by SIGKILL while a target reads its stdout."""
    config = tap_config(small_sandbox)
    everything = {s: run_in_process(config).keys(s) for s in ("scheduled_events", "invitees")}
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    received: list[dict[str, Any]] = []
    process = subprocess.Popen(
        [str(TAP_EXECUTABLE), "--config", str(config_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("TAP_CALENDLY_")},
    )
    assert process.stdout is not None
    invitees_seen = 0
    for line in process.stdout:
        message = json.loads(line)
        received.append(message)
        if message["type"] == "RECORD" and message["stream"] == "invitees":
            invitees_seen += 1
            if invitees_seen == 20:  # mid-way through the events and their invitees
                process.send_signal(signal.SIGKILL)
                break
    process.wait(timeout=60)
    crashed = TapRun(received, process.returncode)
    restarted = run_in_process(config, last_state(crashed))
    assert_union_covers([crashed, restarted], everything, "SIGKILL")
