"""Run one child process alone and measure it: wall time, CPU seconds and peak RSS of that child.

`os.wait4` returns the rusage of exactly the child waited for, so the numbers cover the tap or
the target and nothing else (the sandbox runs in the driver process, not in the child).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class ProcessFailedError(RuntimeError):
    """The measured program exited non-zero; the message carries the tail of its stderr."""


@dataclass(frozen=True)
class ProcessRun:
    argv: tuple[str, ...]
    returncode: int
    wall_seconds: float
    user_seconds: float
    system_seconds: float
    peak_rss_bytes: int
    stdout_path: Path
    stderr_path: Path

    @property
    def cpu_seconds(self) -> float:
        return self.user_seconds + self.system_seconds


def run_measured(
    argv: Sequence[str],
    *,
    stdout_path: Path,
    stderr_path: Path,
    stdin_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 3600.0,
    check: bool = True,
) -> ProcessRun:
    """Run `argv` with stdout/stderr to files; kill it after `timeout` seconds."""
    started = time.perf_counter()
    with (
        stdout_path.open("wb") as out,
        stderr_path.open("wb") as err,
        stdin_path.open("rb") if stdin_path else open(os.devnull, "rb") as stdin,  # noqa: PTH123
    ):
        child = subprocess.Popen(
            list(argv), stdin=stdin, stdout=out, stderr=err, env=dict(env) if env else None
        )
        watchdog = threading.Timer(timeout, child.kill)
        watchdog.daemon = True
        watchdog.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            watchdog.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
    run = ProcessRun(
        argv=tuple(argv),
        returncode=child.returncode,
        wall_seconds=time.perf_counter() - started,
        user_seconds=usage.ru_utime,
        system_seconds=usage.ru_stime,
        peak_rss_bytes=usage.ru_maxrss * 1024,  # Linux reports KiB
        stdout_path=stdout_path,
        stderr_path=stderr_path,
    )
    if check and run.returncode != 0:
        raise ProcessFailedError(
            f"{Path(argv[0]).name} exited {run.returncode} after {run.wall_seconds:.1f}s; "
            f"stderr ends with:\n{tail(stderr_path)}"
        )
    return run


def tail(path: Path, lines: int = 25) -> str:
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def console_script(name: str) -> str:
    """The path of an installed console script (on PATH, or beside this interpreter)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    raise FileNotFoundError(f"{name} is not installed: run `make install` first")
