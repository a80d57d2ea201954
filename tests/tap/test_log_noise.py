"""A normal run logs no warning about how the SDK keeps progress: bookmarks advance when a stream
completes, by design, and the SDK's notice of it (once per stream and partition, 17 in a full
run) is dropped; any other warning still shows (tests/sdk_contract)."""

from __future__ import annotations

from pathlib import Path

from calendly_plugin.sdk_compat import UNSORTED_STREAM_NOTICE
from calendly_sandbox import Sandbox
from tests.tap.conftest import run_cli, tap_config


def test_a_full_run_logs_no_unsorted_stream_notice(tmp_path: Path) -> None:
    with Sandbox(seed=5, events=30) as sandbox:
        run = run_cli(tmp_path, tap_config(sandbox))

    assert run.returncode == 0, run.stderr
    assert sum(len(rows) for rows in run.records.values()) > 0
    assert UNSORTED_STREAM_NOTICE not in run.stderr
