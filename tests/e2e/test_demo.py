"""`make demo` as a user runs it: `python -m demo.run` exits 0 and shows each proof."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import requests

from demo.meltano import REPO_ROOT, tool_path
from demo.sandbox import SandboxProcess, SandboxStartError
from tests.analytics.expected import fate

pytestmark = pytest.mark.slow


def test_sandbox_process_serves_until_stopped(tmp_path: Path) -> None:
    with SandboxProcess(
        tool_path("calendly-sandbox"), seed=1, events=5, log_path=tmp_path / "sandbox.log"
    ) as sandbox:
        response = requests.get(
            f"{sandbox.base_url}/users/me",
            headers={"Authorization": "Bearer sandbox-token"},
            timeout=30,
        )
        assert response.status_code == 200

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sandbox.base_url}/users/me", timeout=5)


def test_sandbox_process_that_prints_no_url_is_an_error(tmp_path: Path) -> None:
    echo = shutil.which("echo")  # prints its arguments, not a base URL
    assert echo is not None
    not_a_sandbox = Path(echo)

    with (
        pytest.raises(SandboxStartError, match="printed no base URL"),
        SandboxProcess(not_a_sandbox, seed=1, events=5, log_path=tmp_path / "log"),
    ):
        pass


def test_the_demo_runs_end_to_end(meltano_sys_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "MELTANO_SYS_DIR_ROOT": str(meltano_sys_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "demo.run", "--events", "80", "--output", str(tmp_path / "out")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for expected in (
        "MISMATCH",
        "Bookings per event type per week",
        "Cancellation rate per event type",
        "No-show rate per event type",
        "Routing form conversion",
        "report: ",
        "cancel_event: ok (HTTP 201)",
        "mark_no_show: ok (HTTP 201)",
        "create_scheduling_link: ok (HTTP 201) booking_url=",
        "status=canceled",
        "sandbox stopped",
        "Demo complete",
        "need no installation of their own: dbt-duckdb (reusing parent virtualenv)",
        "data as of ",
    ):
        present = expected in result.stdout
        assert present == (expected != "MISMATCH"), expected
    assert "Installed 6/9 plugins" not in result.stdout
    assert (tmp_path / "out" / "warehouse.duckdb").exists()
    assert "Data as of " in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert_marts_show_the_last_load(tmp_path / "out" / "warehouse.duckdb")


def assert_marts_show_the_last_load(database: Path) -> None:
    """The marts the demo leaves agree with its loaded tables, read after its last load (the
    reverse ETL's canceled event and no-show, the CRM contacts)."""
    with duckdb.connect(str(database), read_only=True) as con:
        raw = con.execute(
            "select uri, status, rescheduled, cast(no_show as varchar) from calendly.invitees"
        ).fetchall()
        mart = dict(
            con.execute("select fate, count(*) from analytics.bookings group by 1").fetchall()
        )
        [(meetings, events)] = con.execute(
            "select (select count(*) from analytics.meetings), "
            "(select count(*) from calendly.scheduled_events)"
        ).fetchall()
    loaded = Counter(
        fate({"status": status, "rescheduled": moved, "no_show": json.loads(no_show or "null")})
        for _uri, status, moved, no_show in raw
    )

    assert mart == dict(loaded)
    assert meetings == events > 0
