"""SIGKILL target-calendly after k outcome lines, rerun it on the same input and responses file.

A reverse-ETL job that dies must be safe to rerun as is: a record whose create already came out
`ok` is not sent again, and when the rerun ends every input record has exactly one final outcome
(ok or skipped) in the responses file. A create whose answer the kill lost is looked up, or
(links: nothing lists them) ends `unknown`: it is never sent twice.

Side effects are counted in the sandbox itself (links per event type, invitations per email,
no-shows per invitee, bookings per email) and write requests in its request log, so a resend
shows up even when Calendly answers it with "already done".
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.harness import (
    read_jsonl,
    run_target,
    run_target_killed_after_outcomes,
    run_target_watched,
)
from tests.reliability.sandbox_view import TOKEN, target_config
from tests.reliability.target_inputs import (
    create_records,
    identity,
    singer_input,
    singer_input_with_states,
)

PER_ACTION = 6
KILL_POINTS = 6
SEED = 4242
FINAL = ("ok", "skipped")
WINDOW_ATTEMPTS = 3
# Creates whose earlier effect Calendly lets a rerun find (pending invitations by email, the
# invitee's no_show, scheduled events by invitee_email): a rerun must not repeat them.
FINDABLE_EFFECTS = {"invite_user", "mark_no_show", "book_meeting"}

WRITE_PATHS = {
    "create_scheduling_link": ("POST", "/scheduling_links"),
    "invite_user": ("POST", "/invitations"),  # /organizations/{uuid}/invitations
    "mark_no_show": ("POST", "/invitee_no_shows"),
    "book_meeting": ("POST", "/invitees"),
}


def writes_per_action(sandbox: Any) -> Counter[str]:
    counts: Counter[str] = Counter()
    for entry in list(sandbox.request_log):
        for action, (method, suffix) in WRITE_PATHS.items():
            if entry.method == method and entry.path.endswith(suffix):
                counts[action] += 1
    return counts


def side_effects(sandbox: Any, streams: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Per input record (by identity): how many resources its create left in the sandbox."""
    store = sandbox.store
    with store.lock:
        links = Counter(link["owner"] for link in store.scheduling_links.values())
        invitations = Counter(i["email"] for i in store.organization_invitations.values())
        no_shows = Counter(n["invitee"] for n in store.invitee_no_shows.values())
        bookings = Counter(i["email"] for i in store.invitees.values())
    counted = {
        "create_scheduling_link": lambda r: links[r["event_type"]],
        "invite_user": lambda r: invitations[r["email"]],
        "mark_no_show": lambda r: no_shows[r["invitee"]],
        "book_meeting": lambda r: bookings[r["email"]],
    }
    return {
        identity(stream, record): counted[stream](record)
        for stream, records in streams.items()
        for record in records
    }


def outcomes(path: Path) -> list[tuple[str, str]]:
    """(record, outcome) per line; a replay's line (it points at the line that did the work)
    shows as outcome "replay"."""
    return [
        (
            identity(line["stream"], line["input"]),
            "replay" if line.get("replay_of") else line["outcome"],
        )
        for line in read_jsonl(path)
    ]


@pytest.mark.slow
def test_rerun_after_sigkill_sends_no_create_twice_and_finishes_every_record(
    sandbox_factory: Any, target_installed: None, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    total = PER_ACTION * len(WRITE_PATHS)
    kill_points = sorted(rng.sample(range(1, total), KILL_POINTS))
    report = []
    states_printed = 0
    for trial, kill_after in enumerate(kill_points):
        sb = sandbox_factory(seed=40 + trial, events=60, token=TOKEN)
        streams = create_records(sb, PER_ACTION, tag=f"t{trial}")
        text = singer_input_with_states(streams)
        responses = tmp_path / f"responses-{trial}.jsonl"
        config = target_config(tmp_path / f"config-{trial}.json", sb, responses)
        in_order = [identity(s, r) for s, records in streams.items() for r in records]
        wanted = set(in_order)

        killed = run_target_killed_after_outcomes(config, text, responses, kill_after)
        assert killed.killed, f"trial {trial}: the target finished before {kill_after} outcomes"
        ok_before = {key for key, outcome in outcomes(responses) if outcome == "ok"}
        assert len(ok_before) >= kill_after
        # The STATE a target prints is what Meltano resumes the tap from: it may only cover
        # records that already have their outcome line.
        printed = [
            json.loads(line)
            for line in killed.stdout.splitlines(keepends=True)
            if line.endswith("\n")
        ]
        if printed:
            states_printed += 1
            covered = printed[-1]["records_before"]
            with_lines = {key for key, _ in outcomes(responses)}
            assert set(in_order[:covered]) <= with_lines, (
                f"trial {trial}: STATE covers {covered} records, not all have an outcome line"
            )

        lines_before = len(read_jsonl(responses))
        rerun = run_target(config, text)
        in_doubt: set[str] = set()
        if rerun.returncode == 1 and "outcome is unknown" in rerun.stderr:
            # The kill caught a link's request in flight (its intent was written ahead): nothing
            # lists links, so it ends `unknown`, never resent, and the rerun stops there
            # (on_error: fail). The next run replays it and finishes.
            settled = outcomes(responses)[lines_before:]
            in_doubt = {key for key, outcome in settled if outcome == "unknown"}
            assert len(in_doubt) == 1 and settled[-1][1] == "unknown", settled
            assert next(iter(in_doubt)).startswith("create_scheduling_link "), in_doubt
            lines_before = len(read_jsonl(responses))
            rerun = run_target(config, text)
        assert rerun.returncode == 0, f"trial {trial} (kill after {kill_after}): {rerun.describe()}"
        rerun_lines = Counter(key for key, _ in outcomes(responses)[lines_before:])
        assert rerun_lines == Counter(in_order), f"trial {trial}: not one line per record"

        finals = Counter(key for key, outcome in outcomes(responses) if outcome in FINAL)
        assert set(finals) | in_doubt == wanted, (
            f"trial {trial}: records without a final outcome: {wanted - set(finals) - in_doubt}"
        )
        # A create finished before the kill is a replay in the rerun (its line points back);
        # a no-show is checked again and Calendly shows it done (`skipped`): never `ok` twice.
        done_twice = Counter(key for key, outcome in outcomes(responses) if outcome == "ok")
        repeated = {key: n for key, n in done_twice.items() if n != 1}
        assert not repeated, f"trial {trial}: more than one ok outcome: {repeated}"

        effects = side_effects(sb, streams)
        resent = {key: n for key, n in effects.items() if key in ok_before and n != 1}
        assert not resent, f"trial {trial}: ok before the kill, yet created {resent}"
        extra = {key: n for key, n in effects.items() if n > 1}
        assert len(extra) <= 1, (
            f"trial {trial}: more than the in-flight record created twice: {extra}"
        )
        writes = writes_per_action(sb)
        surplus = sum(writes[a] - len(streams[a]) for a in WRITE_PATHS)
        assert surplus <= 1, f"trial {trial}: {surplus} extra write requests {dict(writes)}"
        report.append((kill_after, len(ok_before), surplus))
    assert len(report) >= 5
    assert states_printed, "no killed run had printed a STATE: the STATE check never ran"


class KillInTheWindow:
    """Freeze the target as soon as the sandbox has answered one of `action`'s writes; if the
    record's outcome line is not on disk yet, that is the window (Calendly did it, the file does
    not say so): SIGKILL there. Otherwise let it go on and try the next write."""

    def __init__(self, sandbox: Any, action: str, responses: Path) -> None:
        self._sandbox = sandbox
        self._method, self._suffix = WRITE_PATHS[action]
        self._responses = responses
        self._seen = len(sandbox.request_log)
        self.served = 0
        self.window_record: int | None = None

    def __call__(self, process: subprocess.Popen[str]) -> bool:
        log = self._sandbox.request_log
        fresh, self._seen = log[self._seen :], len(log)
        for entry in fresh:
            if entry.method != self._method or not entry.path.endswith(self._suffix):
                continue
            if entry.status not in (200, 201):
                continue
            self.served += 1
            process.send_signal(signal.SIGSTOP)
            if len(read_jsonl(self._responses)) < self.served:
                process.send_signal(signal.SIGKILL)
                self.window_record = self.served
                return True
            process.send_signal(signal.SIGCONT)
        return False


@pytest.mark.parametrize("action", sorted(WRITE_PATHS))
def test_rerun_after_a_kill_between_calendlys_answer_and_the_outcome_line(
    sandbox_factory: Any, target_installed: None, tmp_path: Path, action: str
) -> None:
    # Catching the window is a race with the target (it is the window a real crash hits); a
    # fresh attempt is made when every write of a run outran the watcher.
    for attempt in range(WINDOW_ATTEMPTS):
        sb = sandbox_factory(seed=50 + attempt, events=60, token=TOKEN)
        streams = {action: create_records(sb, PER_ACTION, tag=action)[action]}
        text = singer_input(streams)
        responses = tmp_path / f"responses-{attempt}.jsonl"
        config = target_config(tmp_path / f"config-{attempt}.json", sb, responses)
        watcher = KillInTheWindow(sb, action, responses)
        first = run_target_watched(config, text, watcher, poll_seconds=0.0002)
        if first.killed and watcher.window_record is not None:
            break
    else:
        pytest.fail(
            f"never caught the target between an answer and its line in {WINDOW_ATTEMPTS} runs"
        )
    first_lines = outcomes(responses)
    ok_before = {key for key, outcome in first_lines if outcome == "ok"}
    wanted = [identity(action, record) for record in streams[action]]
    in_window = wanted[watcher.window_record - 1]
    finished_before = set(ok_before)

    rerun = run_target(config, text)

    if action not in FINDABLE_EFFECTS:
        # Nothing lists earlier links. The journal written ahead of the send tells the rerun
        # the link in the window may exist: it ends `unknown` instead of being sent again, and
        # the rerun stops there (on_error: fail). The next run replays it and finishes.
        assert rerun.returncode == 1 and "outcome is unknown" in rerun.stderr, rerun.describe()
        assert outcomes(responses)[-1] == (in_window, "unknown"), outcomes(responses)
        finished_before.add(in_window)
        first_lines = outcomes(responses)
        rerun = run_target(config, text)

    assert rerun.returncode == 0, rerun.describe()
    # Each run gives every record one line of its own: the rerun's lines alone cover the input
    # once, each final (ok/skipped) or a replay of an earlier create's `ok`.
    rerun_lines = outcomes(responses)[len(first_lines) :]
    assert Counter(key for key, _ in rerun_lines) == Counter(wanted), rerun_lines
    not_final = [(key, o) for key, o in rerun_lines if o not in (*FINAL, "replay")]
    assert not not_final, f"rerun left records without a final outcome: {not_final}"
    replays = {key for key, outcome in rerun_lines if outcome == "replay"}
    assert replays <= finished_before, f"replayed, not finished: {replays - finished_before}"
    effects = side_effects(sb, streams)
    assert all(effects[key] == 1 for key in ok_before), effects
    assert effects[in_window] == 1, (
        f"Calendly had done {in_window} when the target died; the rerun did it again"
    )


def test_target_under_5xx_answers_completes_every_findable_record_once(
    sandbox_factory: Any, target_installed: None, tmp_path: Path
) -> None:
    """A 5xx may come before Calendly acted (these do) or after (a proxy): the target cannot
    tell, so it looks the effect up before resending. Records it can look up come out ok,
    created exactly once; a link cannot be looked up, so a faulted one is `unknown`, never
    resent."""
    sb = sandbox_factory(
        seed=61, events=60, token=TOKEN, fault_rate=0.3, fault_kinds=("500", "502", "503")
    )
    streams = create_records(sb, PER_ACTION, tag="5xx")
    responses = tmp_path / "responses.jsonl"
    config = target_config(
        tmp_path / "config.json", sb, responses, max_retries=12, on_error="continue"
    )

    run = run_target(config, singer_input(streams))

    assert any(method == "POST" for method, _, _ in sb.faults_injected), "no write met a fault"
    effects = side_effects(sb, streams)
    assert all(n <= 1 for n in effects.values()), effects
    lines = read_jsonl(responses)
    assert len(lines) == PER_ACTION * len(WRITE_PATHS)
    for line in lines:
        key = identity(line["stream"], line["input"])
        if line["stream"] in FINDABLE_EFFECTS:
            assert line["outcome"] == "ok" and effects[key] == 1, line
        else:
            assert line["outcome"] in ("ok", "unknown"), line
    faulted_links = [p for m, p, _ in sb.faults_injected if p == "/scheduling_links"]
    unknown = [line for line in lines if line["outcome"] == "unknown"]
    assert len(unknown) == len(faulted_links) and (run.returncode == 1) == bool(unknown)


@pytest.mark.parametrize("kind", ["truncate", "stall", "reset"])
def test_target_under_faults_never_creates_a_record_twice(
    sandbox_factory: Any, target_installed: None, tmp_path: Path, kind: str
) -> None:
    """A cut-short answer, a stall past the timeout or a reset after sending: the client cannot
    know whether Calendly did the write, and sending the POST again would create a second link,
    invitation attempt, booking... Each record gets exactly one line; a failed one says why.
    The target is sequential, so the seeded faults land on the same requests every run."""
    sb = sandbox_factory(
        seed=60, events=60, token=TOKEN, fault_rate=0.3, fault_kinds=(kind,), stall_seconds=2
    )
    streams = create_records(sb, PER_ACTION, tag=kind)
    responses = tmp_path / "responses.jsonl"
    config = target_config(
        tmp_path / "config.json", sb, responses, request_timeout=1, on_error="continue"
    )

    run = run_target(config, singer_input(streams))

    faulted_writes = [path for method, path, _ in sb.faults_injected if method == "POST"]
    assert faulted_writes, "no write met a fault: the test proves nothing"
    effects = side_effects(sb, streams)
    twice = {key: n for key, n in effects.items() if n > 1}
    assert not twice, f"created more than once: {twice}\n{run.describe()}"
    lines = Counter(identity(line["stream"], line["input"]) for line in read_jsonl(responses))
    assert all(n == 1 for n in lines.values()) and len(lines) == len(effects), lines
    for line in read_jsonl(responses):
        if line["outcome"] == "failed":
            assert line["error"]["message"], line


LOSS_KINDS = ("502", "503", "reset", "timeout", "truncate")


def test_writes_that_calendly_performed_and_whose_answer_was_lost_then_a_rerun(
    sandbox_factory: Any, target_installed: None, tmp_path: Path
) -> None:
    """The issue's user: a proxy lets Calendly perform each kind of create and then loses the
    answer, once per kind of loss; then the same input runs again. Bookings, invitations and
    no-shows come out `ok` (found by a lookup), created once; a link whose answer was lost is
    `unknown` and never resent; the rerun sends no create again and writes one line per record."""
    sb = sandbox_factory(seed=62, events=60, token=TOKEN, stall_seconds=3)
    streams = create_records(sb, len(LOSS_KINDS), tag="lost")
    for method, suffix in WRITE_PATHS.values():
        for kind in LOSS_KINDS:
            sb.lose_answers(kind, method=method, path=f"{suffix}$")
    responses = tmp_path / "responses.jsonl"
    config = target_config(
        tmp_path / "config.json", sb, responses, request_timeout=1, on_error="continue"
    )
    text = singer_input(streams)

    first = run_target(config, text)

    assert len(sb.answers_lost) == len(LOSS_KINDS) * len(WRITE_PATHS), sb.answers_lost
    effects = side_effects(sb, streams)
    assert all(n == 1 for n in effects.values()), effects
    lines = read_jsonl(responses)
    assert len(lines) == sum(len(records) for records in streams.values())
    for line in lines:
        if line["stream"] in FINDABLE_EFFECTS:
            assert line["outcome"] == "ok", line
        else:
            assert line["outcome"] == "unknown" and "cannot be looked up" in line["reason"], line
    assert first.returncode == 1  # unknown outcomes are for a person to check
    writes_before = writes_per_action(sb)

    rerun = run_target(config, text)

    assert writes_per_action(sb) == writes_before, "the rerun sent a create again"
    again = read_jsonl(responses)[len(lines) :]
    assert [line["outcome"] for line in again] == ["skipped"] * len(lines)
    for line in again:  # creates are replays; a no-show is checked again and found done
        assert ("replay_of" in line) == (line["stream"] != "mark_no_show"), line
    assert rerun.returncode == 0, rerun.describe()
