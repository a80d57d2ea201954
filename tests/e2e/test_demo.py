"""`make demo` as a user runs it: `python -m demo.run` exits 0 and shows each proof."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from demo.meltano import REPO_ROOT, tool_path
from demo.sandbox import SandboxProcess, SandboxStartError

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
    ):
        present = expected in result.stdout
        assert present == (expected != "MISMATCH"), expected
    assert (tmp_path / "out" / "warehouse.duckdb").exists()
    assert (tmp_path / "out" / "report.html").stat().st_size > 0
