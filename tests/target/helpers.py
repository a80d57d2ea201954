"""Helpers: run target-calendly against a live sandbox on loopback and read back what it did."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calendly_sandbox import Sandbox
from target_calendly.target import TargetCalendly

TOKEN = "sandbox-token"
REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET_BIN = REPO_ROOT / ".venv" / "bin" / "target-calendly"


def config_for(sb: Sandbox, responses: Path, **settings: Any) -> dict[str, Any]:
    return {
        "token": TOKEN,
        "api_url": sb.base_url,
        "responses_path": str(responses),
        "retry_initial_wait": 0.01,
        **settings,
    }


def schema(stream: str, *fields: str, key_properties: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": {f: {} for f in fields}},
        "key_properties": list(key_properties),
    }


def record(stream: str, **values: Any) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": values}


def state(value: Any) -> dict[str, Any]:
    return {"type": "STATE", "value": value}


def singer(*messages: dict[str, Any]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


def stream_of(stream: str, *records: dict[str, Any]) -> list[dict[str, Any]]:
    """SCHEMA (fields taken from the records) followed by the records."""
    fields = sorted({name for r in records for name in r})
    return [schema(stream, *fields), *(record(stream, **r) for r in records)]


@dataclass
class Run:
    responses_path: Path
    states: list[Any]
    error: BaseException | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)

    def outcomes(self) -> list[str]:
        return [line["outcome"] for line in self.lines]

    def only(self) -> dict[str, Any]:
        assert len(self.lines) == 1, self.lines
        return self.lines[0]


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_target(config: dict[str, Any], messages: list[dict[str, Any]] | str, **options: Any) -> Run:
    """The target in-process, as `target-calendly --input` runs it; errors are returned.
    `options` go to TargetCalendly (e.g. a fake `clock` and `sleep`)."""
    text = messages if isinstance(messages, str) else singer(*messages)
    responses = Path(config["responses_path"])
    before = len(read_lines(responses))
    out = io.StringIO()
    error: BaseException | None = None
    with contextlib.redirect_stdout(out):
        try:
            target = TargetCalendly(config=config, parse_env_config=False, **options)
            try:
                target.listen(io.StringIO(text))
            finally:
                target.writer.close()
        except Exception as exc:  # the test inspects it
            error = exc
    states = [json.loads(line) for line in out.getvalue().splitlines()]
    return Run(responses, states, error, read_lines(responses)[before:])


def run_cli(
    config: dict[str, Any],
    messages: list[dict[str, Any]] | str,
    tmp_path: Path,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The installed `target-calendly` program, config file + stdin, as Meltano runs it;
    `env` adds environment variables (e.g. LOGLEVEL)."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    text = messages if isinstance(messages, str) else singer(*messages)
    return subprocess.run(
        [str(TARGET_BIN), "--config", str(config_file)],
        input=text,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )


def writes(sb: Sandbox, path_part: str = "") -> list[Any]:
    """Requests that could change something (anything but GET), optionally on a path."""
    return [entry for entry in sb.request_log if entry.method != "GET" and path_part in entry.path]


__all__ = [
    "TARGET_BIN",
    "TOKEN",
    "Run",
    "config_for",
    "read_lines",
    "record",
    "run_cli",
    "run_target",
    "schema",
    "singer",
    "state",
    "stream_of",
    "writes",
]
