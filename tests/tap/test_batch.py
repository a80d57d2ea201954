"""The `batch` capability the tap declares works: with `batch_config` every stream's records go
to BATCH files instead of RECORD messages, and the files hold the same records."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from calendly_sandbox import Sandbox
from tests.tap.conftest import run_in_process, tap_config


def keys_by_stream(records: list[tuple[str, dict[str, Any]]]) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for stream, record in records:
        found.setdefault(stream, Counter())[json.dumps(record, sort_keys=True)] += 1
    return found


def test_batch_files_hold_what_record_messages_would(tmp_path: Path) -> None:
    with Sandbox(seed=4, events=15) as sandbox:
        plain = run_in_process(tap_config(sandbox))
        batched = run_in_process(
            tap_config(
                sandbox,
                batch_config={
                    "encoding": {"format": "jsonl", "compression": "gzip"},
                    "storage": {"root": tmp_path.as_uri(), "prefix": "calendly-"},
                },
            )
        )

    assert not [m for m in batched.messages if m["type"] == "RECORD"]
    from_files = []
    for message in batched.messages:
        if message["type"] == "BATCH":
            for url in message["manifest"]:
                with gzip.open(urlparse(url).path, "rt") as lines:
                    from_files += [(message["stream"], json.loads(line)) for line in lines]
    from_records = [(m["stream"], m["record"]) for m in plain.messages if m["type"] == "RECORD"]

    assert from_records
    assert keys_by_stream(from_files) == keys_by_stream(from_records)
