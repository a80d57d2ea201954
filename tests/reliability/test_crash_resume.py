"""SIGKILL the tap at seeded points and restart it from the last STATE it printed before dying.

Each trial starts from scratch, kills the first run after k stdout lines (k stratified over the
whole length of a sync, so every stream and both pages of scheduled events get interrupted
somewhere), sometimes kills the restarted run too, then lets a run finish. Only the lines read
before a kill count: they are all a downstream target could have received.

What a data engineer relies on, per trial:
- coverage: the union of emitted records equals what the sandbox holds, stream by stream (`uri`);
- design bound: a restart re-emits only records of streams the kill interrupted (streams whose
  bookmark the resume state does not hold yet), plus FULL_TABLE streams, which every run reads in
  full by definition;
- the issue's bound: the records a kill duplicates stay within the interrupted page: at most one
  page (100) of a parent stream, and for invitees at most the invitees of one page of events.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from calendly_sandbox import Sandbox
from tests.reliability.harness import Run, run_tap, run_tap_killed_at_line, write_json
from tests.reliability.sandbox_view import (
    FULL_TABLE_STREAMS,
    TOKEN,
    expected_counts,
    expected_uris,
    tap_config,
)

pytestmark = pytest.mark.slow

TRIALS = 20
EVENTS = 130  # two pages of scheduled events (100 + 30)
PAGE_SIZE = 100
SEED = 20261121

Key = tuple[str, str]  # (stream, uri or a stand-in for streams without one)


def record_keys(run: Run) -> list[Key]:
    keys = []
    for message in run.output.messages:
        if message.get("type") != "RECORD":
            continue
        record = message["record"]
        identity = record.get("uri") or json.dumps(
            [record.get(k) for k in ("event_uri", "type", "to", "created_at")]
        )
        keys.append((message["stream"], identity))
    return keys


@dataclass
class Trial:
    kill_lines: list[int]
    runs: list[Run] = field(default_factory=list)
    resume_states: list[dict[str, Any] | None] = field(default_factory=list)


@dataclass
class Trials:
    sandbox_uris: dict[str, set[str]]
    sandbox_counts: dict[str, int]
    invitees_of_busiest_page: int
    trials: list[Trial]


def kill_points(rng: random.Random, length: int, trial: int) -> list[int]:
    """First kill stratified over the sync; every fourth trial also kills the restart."""
    last = length - 1  # killing at the very last line would interrupt nothing
    low = min(last, 1 + trial * last // TRIALS)
    high = max(low, (trial + 1) * last // TRIALS)
    points = [rng.randint(low, high)]
    if trial % 4 == 3:
        points.append(rng.randint(1, length))
    return points


@pytest.fixture(scope="module")
def crash_trials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trials]:
    workdir = tmp_path_factory.mktemp("crash")
    with Sandbox(seed=31, events=EVENTS, token=TOKEN) as sb:
        config = tap_config(workdir / "config.json", sb)
        clean = run_tap(config)
        assert clean.returncode == 0, clean.describe()
        length = len(clean.stdout.splitlines())
        with sb.store.lock:
            per_event = Counter(i["event"] for i in sb.store.invitees.values())
        busiest = sum(sorted(per_event.values(), reverse=True)[:PAGE_SIZE])

        rng = random.Random(SEED)
        trials = []
        for number in range(TRIALS):
            trial = Trial(kill_points(rng, length, number))
            state: dict[str, Any] | None = None
            for attempt in range(len(trial.kill_lines) + 1):
                state_file = (
                    write_json(workdir / f"state-{number}-{attempt}.json", state) if state else None
                )
                if attempt < len(trial.kill_lines):
                    run = run_tap_killed_at_line(config, state_file, trial.kill_lines[attempt])
                else:
                    run = run_tap(config, state_file)
                trial.runs.append(run)
                trial.resume_states.append(state)
                if not run.killed:
                    assert run.returncode == 0, run.describe()
                    break
                state = run.output.last_state() or state
            trials.append(trial)
        yield Trials(expected_uris(sb), expected_counts(sb), busiest, trials)


def test_restarts_from_last_state_cover_every_record(crash_trials: Trials) -> None:
    killed = sum(run.killed for trial in crash_trials.trials for run in trial.runs)
    assert killed >= TRIALS, f"only {killed} runs were really killed mid-sync"
    for number, trial in enumerate(crash_trials.trials):
        assert not trial.runs[-1].killed
        emitted: dict[str, set[str]] = {}
        for run in trial.runs:
            for stream, identity in record_keys(run):
                emitted.setdefault(stream, set()).add(identity)
        for stream, want in crash_trials.sandbox_uris.items():
            missing = want - emitted.get(stream, set())
            assert not missing, (
                f"trial {number} (kills at lines {trial.kill_lines}): {stream} lost "
                f"{len(missing)} of {len(want)} records, e.g. {min(missing)}"
            )
        for stream, count in crash_trials.sandbox_counts.items():
            assert len(emitted.get(stream, set())) == count, f"trial {number}: {stream}"


def duplicates_per_restart(
    trial: Trial,
) -> Iterator[tuple[int, dict[str, Any] | None, Counter[str]]]:
    """(restart index, state it resumed from, duplicated records per stream)."""
    seen: set[Key] = set()
    for index, run in enumerate(trial.runs):
        keys = record_keys(run)
        if index:
            yield index, trial.resume_states[index], Counter(s for s, u in keys if (s, u) in seen)
        seen.update(keys)


# A child stream is synced inside its parent's sync: together they are one unit of work.
PARENT_OF = {
    "invitees": "scheduled_events",
    "event_type_hosts": "event_types",
    "routing_form_submissions": "routing_forms",
    "availability_schedules": "users",
    "locations": "users",
    "event_type_availability_schedules": "event_types",
    "meeting_recap_transcripts": "meeting_recaps",
}


def family(stream: str) -> str:
    return PARENT_OF.get(stream, stream)


def interrupted_family(run: Run) -> str | None:
    """The stream (with its children) being synced when the run was killed."""
    records = [m["stream"] for m in run.output.messages if m.get("type") == "RECORD"]
    return family(records[-1]) if records else None


def test_a_restart_repeats_only_the_streams_the_kill_interrupted(crash_trials: Trials) -> None:
    """Streams that had finished before the kill (their records all came before the stream
    being synced at the kill) are not emitted again. Full-table streams are read every run."""
    for number, trial in enumerate(crash_trials.trials):
        for index, _, duplicated in duplicates_per_restart(trial):
            interrupted = interrupted_family(trial.runs[index - 1])
            repeated_finished = {
                stream: n
                for stream, n in duplicated.items()
                if family(stream) != interrupted and stream not in FULL_TABLE_STREAMS
            }
            assert not repeated_finished, (
                f"trial {number}, restart {index} (kills at {trial.kill_lines}, interrupted "
                f"{interrupted}): finished streams were emitted again: {repeated_finished}"
            )


def test_duplicates_stay_within_the_interrupted_page(crash_trials: Trials) -> None:
    limits = {"invitees": crash_trials.invitees_of_busiest_page}
    worst: list[str] = []
    for number, trial in enumerate(crash_trials.trials):
        for index, _, duplicated in duplicates_per_restart(trial):
            for stream, n in duplicated.items():
                if stream not in FULL_TABLE_STREAMS and n > limits.get(stream, PAGE_SIZE):
                    worst.append(
                        f"trial {number} restart {index} (kills at {trial.kill_lines}): "
                        f"{n} {stream} duplicated (> {limits.get(stream, PAGE_SIZE)})"
                    )
    assert not worst, "\n".join(worst)


def test_kill_points_are_spread_over_the_whole_sync(crash_trials: Trials) -> None:
    """Guards the test itself: kills must land in every phase, including the second page."""
    interrupted: set[str] = set()
    for trial in crash_trials.trials:
        for run in trial.runs:
            if run.killed:
                records = [m for m in run.output.messages if m.get("type") == "RECORD"]
                if records:
                    last = records[-1]["stream"]
                    interrupted |= {last, family(last)}
    assert {"scheduled_events", "invitees", "event_types"} <= interrupted, interrupted


def test_a_change_made_while_the_tap_was_down_is_not_lost(
    sandbox_factory: Any, tap_installed: None, tmp_path: Path
) -> None:
    """Killed in the second page of events; meanwhile an invitee of an event the killed run had
    already passed is marked as a no-show. The resumed run goes on from the second page, so the
    change must come with a later run: it may not vanish between a resume point and a bookmark."""
    sb = sandbox_factory(seed=32, events=EVENTS, token=TOKEN)
    config = tap_config(tmp_path / "config.json", sb)
    clean = run_tap(config)
    assert clean.returncode == 0, clean.describe()
    lines = clean.stdout.splitlines()
    events_seen, kill_line = 0, 0
    for number, line in enumerate(lines, 1):
        message = json.loads(line)
        if message.get("type") == "RECORD" and message["stream"] == "scheduled_events":
            events_seen += 1
            if events_seen == PAGE_SIZE + 10:
                kill_line = number
                break
    assert kill_line, "the sync has no second page of events"

    killed = run_tap_killed_at_line(config, None, kill_line)
    assert killed.killed
    emitted_invitees = {
        r["uri"]: r for r in killed.output.records("invitees") if r.get("no_show") is None
    }
    recent = datetime.now(timezone.utc) - timedelta(days=20)
    with sb.store.lock:
        candidates = sorted(
            uri
            for uri in emitted_invitees
            if sb.store.scheduled_events[uri.split("/")[-3]]["start_time"]
            > recent.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            and sb.store.scheduled_events[uri.split("/")[-3]]["start_time"]
            < datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        )
    assert candidates, "no recent past invitee on the first page"
    changed = candidates[0]
    response = requests.post(
        f"{sb.base_url}/invitee_no_shows",
        json={"invitee": changed},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text

    state = killed.output.last_state()
    later: list[dict[str, Any]] = []
    for attempt in range(2):  # the resumed run, then the next scheduled one
        state_file = write_json(tmp_path / f"state-{attempt}.json", state) if state else None
        run = run_tap(config, state_file)
        assert run.returncode == 0, run.describe()
        later.extend(r for r in run.output.records("invitees") if r["uri"] == changed)
        state = run.output.last_state()
    assert any(r.get("no_show") for r in later), f"the no-show of {changed} was never emitted"
