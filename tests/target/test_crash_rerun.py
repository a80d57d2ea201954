"""A run killed mid-stream (SIGKILL, no cleanup), then rerun on the same input: no create is
sent twice, and every record ends with exactly one final outcome line."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

from calendly_sandbox import Sandbox
from tests.target.helpers import (
    TARGET_BIN,
    config_for,
    read_lines,
    record,
    run_cli,
    schema,
    singer,
    state,
    writes,
)
from tests.target.test_actions import solo_event_type

DEADLINE_SECONDS = 120


def test_killed_run_then_rerun_sends_each_create_once(sandbox: Sandbox, tmp_path: Path) -> None:
    event_type = solo_event_type(sandbox)["uri"]
    # Two identical records ask for two links: the ledger counts them, it does not merge them.
    crm_ids = ["a", "b", "c", "dup", "dup", "e"]
    messages = [schema("create_scheduling_link", "event_type", "crm_id")]
    for n, crm_id in enumerate(crm_ids):
        messages += [
            record("create_scheduling_link", event_type=event_type, crm_id=crm_id),
            state({"done": n}),
        ]
    config = config_for(sandbox, tmp_path / "responses.jsonl")
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))

    first_part = 1 + 2 * 4  # schema + a, b, c and the first dup, each with its STATE
    with (tmp_path / "stderr.log").open("w") as stderr:
        process = subprocess.Popen(
            [str(TARGET_BIN), "--config", str(config_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(singer(*messages[:first_part]))
        process.stdin.flush()
        # A STATE goes out only after every record before it has its line, so reading the
        # 4th STATE is the event that says 4 lines are on disk. Then: kill, no cleanup.
        emitted = [json.loads(process.stdout.readline()) for _ in range(4)]
        process.kill()
        process.wait(timeout=DEADLINE_SECONDS)
        process.stdin.close()
        process.stdout.close()

    assert emitted == [{"done": n} for n in range(4)]
    assert len(read_lines(Path(config["responses_path"]))) == 4
    assert len(writes(sandbox, "/scheduling_links")) == 4

    rerun = run_cli(config, messages, tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "done in an earlier run" in rerun.stderr
    assert json.loads(rerun.stdout.splitlines()[-1]) == {"done": 5}

    assert len(writes(sandbox, "/scheduling_links")) == len(crm_ids)
    lines = read_lines(Path(config["responses_path"]))
    # Every input record of the rerun has its line: the 4 replays point at the first run's.
    assert [line["outcome"] for line in lines] == ["ok"] * 4 + ["skipped"] * 4 + ["ok"] * 2
    done = [line for line in lines if line["outcome"] == "ok"]
    assert Counter(line["input"]["crm_id"] for line in done) == Counter(crm_ids)
    assert len({line["response"]["booking_url"] for line in done}) == len(crm_ids)
    for replay, original in zip(lines[4:8], range(1, 5), strict=True):
        assert replay["replay_of"]["line"] == original
        assert replay["replay_of"]["at"] == lines[original - 1]["at"]
        assert replay["response"] == lines[original - 1]["response"]  # the link, for the CRM
        assert "idempotency_key" in replay["reason"]

    third = run_cli(config, messages, tmp_path)
    assert third.returncode == 0, third.stderr
    assert len(writes(sandbox, "/scheduling_links")) == len(crm_ids)
    third_lines = read_lines(Path(config["responses_path"]))[len(lines) :]
    assert [line["outcome"] for line in third_lines] == ["skipped"] * len(crm_ids)
    # Each replay points at the line that created its link, never at another replay.
    assert [line["replay_of"]["line"] for line in third_lines] == [1, 2, 3, 4, 9, 10]
