"""Run meltano commands for the demo and the end-to-end tests, with a short live progress view.

Meltano logs as JSON (`--log-format=json`); every line goes to a log file, and the console gets
Meltano's own messages, the plugins' warnings and errors, and one line per record-count metric.
The tap's `record_count` metrics are summed per stream: they are what the tap says it emitted.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
METRIC_PREFIX = re.compile(r"METRIC: (\{.*\})\s*$")
# `meltano install`'s line per plugin, e.g. "Skipped installing utility 'dbt-duckdb'. Plugin
# 'dbt-duckdb' does not require installation: reusing parent virtualenv."
INSTALL_OUTCOME = re.compile(
    r"^(Installed|Updated|Skipped installing) \w+ '([^']+)'(?:\. (.*?)\.?)?$"
)
# Its total, "Installed 6/9 plugins": read as 3 failures when 3 were skipped; replaced by a summary.
INSTALL_TOTAL = re.compile(r"^(Installed|Updated|Skipped installing) \d+/\d+ plugins$")
LOUD_LEVELS = {"warning", "error", "critical"}

Printer = Callable[[str], None]


class MeltanoCommandError(RuntimeError):
    """A meltano command exited non-zero."""


@dataclass
class RunResult:
    """What one `meltano run` reported."""

    returncode: int
    log_path: Path
    records_by_plugin: dict[str, Counter[str]] = field(default_factory=dict)
    warnings_shown: set[str] = field(default_factory=set)
    # `meltano install`: plugin -> None when installed, else why it needed no installation.
    install_outcomes: dict[str, str | None] = field(default_factory=dict)

    def emitted(self, plugin: str) -> Counter[str]:
        """Records per stream that `plugin` (an extractor) reports it emitted."""
        return self.records_by_plugin.get(plugin, Counter())


def tool_path(name: str) -> Path:
    """A console script from the environment running this code (the repo's .venv)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{name} not found next to {sys.executable}; run `make install`")
    return path


def record_count_metric(entry: Mapping[str, Any]) -> tuple[str, int] | None:
    """(stream, records) from a singer-sdk record_count metric in one Meltano JSON log entry.

    With the `structured-logging` capability the metric is the entry's `metric_info`; without it,
    the message text `METRIC: {...}`.
    """
    metric = entry.get("metric_info")
    if not isinstance(metric, dict):
        match = METRIC_PREFIX.search(str(entry.get("event", "")))
        if match is None:
            return None
        try:
            metric = json.loads(match[1])
        except ValueError:
            return None
    if metric.get("type") != "counter" or metric.get("metric") != "record_count":
        return None
    stream = (metric.get("tags") or {}).get("stream")
    if not isinstance(stream, str):
        return None
    return stream, int(metric.get("value", 0))


@dataclass
class Meltano:
    """The project's meltano, run from the repository root with a given environment."""

    env: Mapping[str, str]
    say: Printer = print
    project_root: Path = REPO_ROOT

    def command(self, *args: str) -> list[str]:
        return [str(tool_path("meltano")), "--log-format=json", *args]

    def full_env(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        merged = {**os.environ, **self.env}
        merged["PATH"] = bin_dir + os.pathsep + merged.get("PATH", "")
        merged["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        merged.pop("VIRTUAL_ENV", None)
        return merged

    def install(self, log_path: Path) -> None:
        result = self._stream(["install"], log_path)
        if result.returncode != 0:
            raise MeltanoCommandError(f"meltano install failed; see {log_path}")
        self.say(install_summary(result.install_outcomes))

    def run(self, blocks: Sequence[str], log_path: Path, *, extra: Sequence[str] = ()) -> RunResult:
        result = self._stream(["run", *extra, *blocks], log_path)
        if result.returncode != 0:
            raise MeltanoCommandError(
                f"meltano run {' '.join(blocks)} failed (exit {result.returncode}); see {log_path}"
            )
        return result

    def invoke(self, plugin: str, args: Sequence[str], log_path: Path) -> RunResult:
        result = self._stream(["invoke", plugin, *args], log_path)
        if result.returncode != 0:
            raise MeltanoCommandError(
                f"meltano invoke {plugin} {' '.join(args)} failed (exit {result.returncode}); "
                f"see {log_path}"
            )
        return result

    def _stream(self, args: list[str], log_path: Path) -> RunResult:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        result = RunResult(returncode=-1, log_path=log_path)
        with (
            log_path.open("w", encoding="utf-8") as log,
            subprocess.Popen(
                self.command(*args),
                cwd=self.project_root,
                env=self.full_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
            ) as process,
        ):
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                self._show(line, result)
            result.returncode = process.wait()
        return result

    def _show(self, line: str, result: RunResult) -> None:
        try:
            entry: dict[str, Any] = json.loads(line)
        except ValueError:
            if line.strip():
                self.say(f"    {line.rstrip()}")
            return
        message = str(entry.get("event", ""))
        plugin = entry.get("name") or entry.get("string_id")
        level = str(entry.get("level", "info")).lower()
        if not plugin:
            if read_install_line(message, result.install_outcomes):
                return
            if level in LOUD_LEVELS or _is_milestone(message):
                self.say(f"    meltano: {message}")
            return
        metric = record_count_metric(entry)
        if metric is not None:
            stream, records = metric
            counts = result.records_by_plugin.setdefault(str(plugin), Counter())
            counts[stream] += records
            self.say(f"    {plugin}: {stream:<26} +{records:<5} = {counts[stream]:>5} records")
        elif level in LOUD_LEVELS or " WARNING " in message or " ERROR " in message:
            shown = f"{plugin}: {message.strip()}"
            if shown not in result.warnings_shown:  # the SDK repeats some warnings per stream
                result.warnings_shown.add(shown)
                self.say(f"    {shown}")


def read_install_line(message: str, outcomes: dict[str, str | None]) -> bool:
    """Record a `meltano install` line about one plugin in `outcomes`; True when the install
    summary says it better (the totals, the skips), so it is not shown as it is."""
    outcome = INSTALL_OUTCOME.match(message)
    if outcome:
        verb, name, why = outcome.groups()
        skipped = verb == "Skipped installing"
        outcomes[name] = (why or "nothing to do") if skipped else None
        return skipped
    return bool(INSTALL_TOTAL.match(message))


def install_summary(outcomes: Mapping[str, str | None]) -> str:
    """What `meltano install` did, e.g. "installed 6 plugins (...); 3 more need no installation
    of their own: dbt-duckdb (reusing parent virtualenv), ..."."""
    installed = sorted(name for name, why in outcomes.items() if why is None)
    skipped = sorted((name, why) for name, why in outcomes.items() if why is not None)
    summary = f"    installed {len(installed)} plugins ({', '.join(installed) or 'none'})"
    if skipped:
        reasons = ", ".join(f"{name} ({why.split(': ', 1)[-1]})" for name, why in skipped)
        summary += f"; {len(skipped)} more need no installation of their own: {reasons}"
    return summary


_MILESTONES = ("Installed", "Installing", "Running job", "Run completed", "Block run completed")


def _is_milestone(message: str) -> bool:
    return message.startswith(_MILESTONES) or "Incremental state has been updated" in message
