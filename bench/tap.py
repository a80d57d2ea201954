"""Run tap-calendly as its own process against a sandbox and summarize what it wrote."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.process import ProcessRun, run_console_script
from bench.singer_output import SingerSummary, summarize

SANDBOX_TOKEN = "sandbox-token"
EPOCH_START = "2000-01-01T00:00:00Z"  # before any sandbox data: a full sync reads everything


@dataclass(frozen=True)
class TapRun:
    process: ProcessRun
    output: SingerSummary
    config: dict[str, Any]
    final_state_path: Path

    @property
    def records(self) -> int:
        return self.output.total_records


def tap_config(api_url: str, **settings: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"token": SANDBOX_TOKEN, "api_url": api_url, "start_date": EPOCH_START}
    config.update({k: v for k, v in settings.items() if v is not None})
    return config


def run_tap(
    workdir: Path,
    name: str,
    config: Mapping[str, Any],
    *,
    state: Mapping[str, Any] | None = None,
    profile_path: Path | None = None,
    key_streams: Iterable[str] = (),
    code_path: Path | None = None,
    timeout: float = 3600.0,
) -> TapRun:
    """One tap run; `profile_path` profiles it (cProfile, every thread; see bench.child)."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / f"{name}.config.json"
    config_path.write_text(json.dumps(config, indent=2))
    args = ["--config", str(config_path)]
    if state is not None:
        state_path = workdir / f"{name}.state-in.json"
        state_path.write_text(json.dumps(state))
        args += ["--state", str(state_path)]
    process = run_console_script(
        "tap-calendly",
        args,
        workdir=workdir,
        name=name,
        profile_path=profile_path,
        code_path=code_path,
        timeout=timeout,
    )
    output = summarize(process.stdout_path, key_streams=key_streams)
    final_state_path = workdir / f"{name}.state-out.json"
    final_state_path.write_text(json.dumps(output.final_state or {}))
    return TapRun(process, output, dict(config), final_state_path)
