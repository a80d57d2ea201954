"""Read a tap's Singer output file: messages per type and stream, the final STATE and its size.

RECORD lines are recognised by their prefix (singer-sdk writes compact JSON starting with
`{"type":"RECORD","stream":"...`) so that counting a million-record file stays cheap; every
other line is parsed. Keys are collected only for the streams asked for.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORD_PREFIX = b'{"type":"RECORD","stream":"'


@dataclass
class SingerSummary:
    records: Counter[str] = field(default_factory=Counter)
    schemas: Counter[str] = field(default_factory=Counter)
    state_messages: int = 0
    final_state: dict[str, Any] | None = None
    largest_state_bytes: int = 0
    keys: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    @property
    def final_state_bytes(self) -> int:
        """Size of the final STATE value as compact JSON (what a state backend stores)."""
        if self.final_state is None:
            return 0
        return len(json.dumps(self.final_state, separators=(",", ":")).encode())


def summarize(path: Path, *, key_streams: Iterable[str] = (), key: str = "uri") -> SingerSummary:
    summary = SingerSummary()
    wanted = set(key_streams)
    for stream in wanted:
        summary.keys[stream] = []
    with path.open("rb") as lines:
        for line in lines:
            if line.startswith(RECORD_PREFIX):
                end = line.index(b'"', len(RECORD_PREFIX))
                stream = line[len(RECORD_PREFIX) : end].decode()
                summary.records[stream] += 1
                if stream in wanted:
                    summary.keys[stream].append(json.loads(line)["record"][key])
                continue
            if not line.strip():
                continue
            message = json.loads(line)
            kind = message.get("type")
            if kind == "RECORD":  # written some other way; still counted
                summary.records[message["stream"]] += 1
                if message["stream"] in wanted:
                    summary.keys[message["stream"]].append(message["record"][key])
            elif kind == "SCHEMA":
                summary.schemas[message["stream"]] += 1
            elif kind == "STATE":
                summary.state_messages += 1
                summary.final_state = message["value"]
                summary.largest_state_bytes = max(summary.largest_state_bytes, len(line))
    return summary
