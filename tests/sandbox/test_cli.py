"""The command: one stdout line with the base URL when ready, logs on stderr, clean stop."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]


def launch(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_module_prints_the_base_url_serves_and_stops(sig):
    proc = launch(
        [
            sys.executable,
            "-m",
            "calendly_sandbox",
            "--port",
            "0",
            "--events",
            "25",
            "--seed",
            "3",
            "--token",
            "cli-token",
            "--plan",
            "teams",
        ]
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:")
        response = requests.get(
            line + "/users/me", headers={"Authorization": "Bearer cli-token"}, timeout=30
        )
        assert response.status_code == 200
        org = response.json()["resource"]["current_organization"]
        assert org.startswith(line + "/organizations/")
        events = requests.get(
            line + "/scheduled_events",
            params={"organization": org, "count": 100},
            headers={"Authorization": "Bearer cli-token"},
            timeout=30,
        ).json()["collection"]
        assert len(events) == 25
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert stdout == ""  # nothing after the one ready line
    assert "25 events" in stderr
    assert "cli-token" not in stderr


def test_console_script_exists_and_rejects_bad_flags():
    script = shutil.which("calendly-sandbox", path=str(Path(sys.executable).parent))
    assert script is not None, "calendly-sandbox console script is not installed"
    result = subprocess.run(
        [script, "--fault-rate", "2"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "--fault-rate" in result.stderr
    assert result.stdout == ""
    result = subprocess.run(
        [script, "--fault-kinds", "500,meteor"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "meteor" in result.stderr
    result = subprocess.run(
        [script, "--lose-answer", "teapot:POST:/invitees"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "teapot" in result.stderr


def test_lose_answer_option_parts():
    from calendly_sandbox.faults import parse_answer_loss

    assert parse_answer_loss("502") == ("502", "POST", "", 1)
    assert parse_answer_loss("reset:DELETE:^/webhook_subscriptions/:3") == (
        "reset",
        "DELETE",
        "^/webhook_subscriptions/",
        3,
    )


def test_measure_reports_consistent_figures(capsys):
    from calendly_sandbox.measure import main

    assert main(["--events", "45", "--count", "20", "--invitee-sample", "5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["events"] == 45
    assert report["pages"] == 3
    assert report["invitee_requests"] == 5
    assert report["generation_seconds"] >= 0


def test_realism_flag_is_hard_by_default_and_lenient_on_request():
    from calendly_sandbox.cli import parse_args

    assert parse_args([]).realism == "hard"
    assert parse_args(["--realism", "lenient"]).realism == "lenient"
    with pytest.raises(SystemExit):
        parse_args(["--realism", "kind"])
    with pytest.raises(ValueError, match="realism"):
        from calendly_sandbox import Sandbox

        Sandbox(realism="kind")


def test_help_shows_every_default(capsys):
    from calendly_sandbox.cli import parse_args

    defaults = vars(parse_args([]))
    with pytest.raises(SystemExit) as exited:
        parse_args(["--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("host", "port", "token", "seed", "events", "plan", "realism", "stall_seconds"):
        assert f"(default: {defaults[option]})" in text, option
    assert text.count("(default:") == len(defaults)
