"""What a person running `meltano run` sees: every tap metric line names its stream.

With the `structured-logging` capability Meltano's console renderer kept only a metric's name and
value, so every record_count line looked alike; the plugins declare it no more.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from calendly_sandbox import Sandbox
from demo.meltano import tool_path
from demo.run import EXTRACT, Layout
from tests.e2e.conftest import meltano_for

pytestmark = pytest.mark.slow
METRIC = re.compile(r"tap-calendly\s+METRIC: (\{.*\})\s*$")


def test_tap_metrics_in_the_console_name_their_stream(
    tmp_path: Path, sandbox: Sandbox, meltano_sys_dir: Path
) -> None:
    meltano = meltano_for(Layout(tmp_path), sandbox, meltano_sys_dir)
    result = subprocess.run(
        [str(tool_path("meltano")), "run", *EXTRACT],  # the default console log format
        cwd=meltano.project_root,
        env={**meltano.full_env(), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    console = result.stdout + result.stderr
    metrics = [json.loads(m[1]) for line in console.splitlines() if (m := METRIC.search(line))]
    record_counts = [m for m in metrics if m["metric"] == "record_count"]

    assert record_counts, console[-3000:]
    assert all(m["tags"].get("stream") for m in record_counts)
    assert {"users", "scheduled_events", "invitees"} <= {m["tags"]["stream"] for m in record_counts}
