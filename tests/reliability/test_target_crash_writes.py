"""300 single-use scheduling links: the real target-calendly against the real sandbox,
SIGKILLed at seeded random moments and rerun on the same input until a run finishes.

Some kills land wherever the target is (writing its journal, waiting for an answer, writing a
line, replaying earlier records); others land exactly while a create is in flight: the sandbox
has performed it and holds its answer back. A link cannot be looked up afterwards, so the only
safe end for such a record is `unknown`. Proven: the sandbox never receives more creates than
there are records, every record ends with exactly one outcome (`ok`, or `unknown` for at most
one record per kill), and every later line of it is a replay pointing at that one.
"""

from __future__ import annotations

import random
import signal
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.harness import read_jsonl, run_target_watched
from tests.reliability.sandbox_view import TOKEN, target_config
from tests.reliability.target_inputs import singer_input

RECORDS = 300
KILLS = 12
IN_FLIGHT_KILLS = 5
SEED = 2121
MAX_RUNS = 3 * KILLS + 5


class Killer:
    """Arms one kill per run: at a seeded total of links created, or (in-flight kills) as soon
    as the sandbox performed a create whose answer it holds back."""

    def __init__(self, sandbox: Any, rng: random.Random) -> None:
        self.sandbox = sandbox
        # Each kill leaves at most one record without a link, so at least RECORDS - KILLS
        # links get made: every planned total is reached.
        self.planned = sorted(rng.sample(range(1, RECORDS - KILLS), KILLS))
        self.in_flight_rounds = set(rng.sample(range(KILLS), IN_FLIGHT_KILLS))
        self.done = 0
        self.in_flight_kills = 0
        self._held_back_armed = False

    def arm(self) -> Any:
        if self.done >= KILLS:
            return lambda _process: False
        if self.done in self.in_flight_rounds:
            if not self._held_back_armed:  # a run that stopped before a create left it armed
                self.sandbox.lose_answers("timeout", path=r"^/scheduling_links$")
                self._held_back_armed = True
            lost_before = len(self.sandbox.answers_lost)
            return lambda process: self._kill_if(
                process, len(self.sandbox.answers_lost) > lost_before, in_flight=True
            )
        at = self.planned[self.done]
        return lambda process: self._kill_if(
            process, len(self.sandbox.store.scheduling_links) >= at, in_flight=False
        )

    def _kill_if(self, process: subprocess.Popen[str], now: bool, *, in_flight: bool) -> bool:
        if not now:
            return False
        process.send_signal(signal.SIGKILL)
        self.done += 1
        if in_flight:
            self.in_flight_kills += 1
            self._held_back_armed = False
        return True


def links_created(sandbox: Any) -> int:
    with sandbox.store.lock:
        return len(sandbox.store.scheduling_links)


def creates_received(sandbox: Any) -> int:
    return sum(
        1
        for entry in list(sandbox.request_log)
        if entry.method == "POST" and entry.path == "/scheduling_links"
    )


@pytest.mark.slow
def test_sigkills_over_300_creates_never_send_one_twice(
    sandbox_factory: Any, target_installed: None, tmp_path: Path
) -> None:
    # stall_seconds: a held-back answer never arrives before the kill (stop() ends the wait).
    sb = sandbox_factory(seed=80, events=60, token=TOKEN, stall_seconds=600)
    with sb.store.lock:
        event_type = min(t["uri"] for t in sb.store.event_types.values() if t["active"])
    records = [{"event_type": event_type, "idempotency_key": f"crm-{n}"} for n in range(RECORDS)]
    text = singer_input({"create_scheduling_link": records})
    responses = tmp_path / "responses.jsonl"
    config = target_config(tmp_path / "config.json", sb, responses, request_timeout=300)
    killer = Killer(sb, random.Random(SEED))

    runs = []
    while True:
        assert len(runs) < MAX_RUNS, f"not done after {len(runs)} runs"
        lines_before = len(read_jsonl(responses))
        run = run_target_watched(config, text, killer.arm())
        runs.append(run)
        if run.killed:
            continue
        if run.returncode == 0:
            break
        # on_error=fail: a run stops at the record a kill left in flight, after its line.
        assert "outcome is unknown" in run.stderr, run.describe()
        assert read_jsonl(responses)[-1]["outcome"] == "unknown"

    assert (killer.done, killer.in_flight_kills) == (KILLS, IN_FLIGHT_KILLS)
    assert len(sb.answers_lost) == killer.in_flight_kills
    assert creates_received(sb) <= RECORDS
    assert links_created(sb) <= RECORDS

    lines = read_jsonl(responses)
    final_run = lines[lines_before:]
    assert [line["input"]["idempotency_key"] for line in final_run] == [
        r["idempotency_key"] for r in records
    ], "the last run did not give every record its line"
    outcome_of: dict[str, list[tuple[int, str]]] = defaultdict(list)
    replays: dict[str, list[int]] = defaultdict(list)
    for number, line in enumerate(lines, 1):
        key = line["input"]["idempotency_key"]
        if line.get("replay_of"):
            replays[key].append(line["replay_of"]["line"])
        else:
            outcome_of[key].append((number, line["outcome"]))
    assert set(outcome_of) == {r["idempotency_key"] for r in records}
    twice = {key: found for key, found in outcome_of.items() if len(found) != 1}
    assert not twice, f"records with more than one outcome: {twice}"
    outcomes = {key: found[0] for key, found in outcome_of.items()}
    assert {outcome for _, outcome in outcomes.values()} <= {"ok", "unknown"}
    for key, pointers in replays.items():
        assert set(pointers) == {outcomes[key][0]}, f"{key}: replays point elsewhere"

    ok = [line for line in lines if line["outcome"] == "ok" and not line.get("replay_of")]
    unknown = sum(1 for _, outcome in outcomes.values() if outcome == "unknown")
    assert len({line["response"]["booking_url"] for line in ok}) == len(ok)
    assert len(ok) <= links_created(sb) <= len(ok) + unknown
    assert unknown <= killer.done, "more records in doubt than kills"
