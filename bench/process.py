"""Run one child process alone and measure it: wall time, CPU seconds and peak RSS of that child.

`os.wait4` returns the rusage of exactly the child waited for, so the numbers cover the tap or
the target and nothing else (the sandbox runs in the driver process, not in the child).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench.machine import REPO_ROOT


class ProcessFailedError(RuntimeError):
    """The measured program exited non-zero; the message carries the tail of its stderr."""


@dataclass(frozen=True)
class ProcessRun:
    argv: tuple[str, ...]
    returncode: int
    wall_seconds: float
    user_seconds: float
    system_seconds: float
    peak_rss_bytes: int  # see run_console_script: ru_maxrss alone overstates it
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
    cwd: Path | None = None,
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
            list(argv),
            stdin=stdin,
            stdout=out,
            stderr=err,
            env=dict(env) if env else None,
            cwd=cwd,
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


def run_console_script(
    script: str,
    args: Sequence[str],
    *,
    workdir: Path,
    name: str,
    stdin_path: Path | None = None,
    profile_path: Path | None = None,
    code_path: Path | None = None,
    timeout: float = 3600.0,
    check: bool = True,
) -> ProcessRun:
    """Run an installed console script through `bench.child`, which reports the program's own
    peak RSS (and profiles it when `profile_path` is given).

    The child runs in `workdir` (with `-m`, the working directory comes first on sys.path) so
    that `code_path`, first on PYTHONPATH, shadows the installed packages.
    """
    peak_path = workdir / f"{name}.peak.json"
    peak_path.unlink(missing_ok=True)
    profiling = ["--profile", str(profile_path)] if profile_path else []
    run = run_measured(
        [sys.executable, "-m", "bench.child", str(peak_path), *profiling, script, *args],
        stdout_path=workdir / f"{name}.stdout",
        stderr_path=workdir / f"{name}.stderr",
        stdin_path=stdin_path,
        env=_child_env(code_path),
        cwd=workdir,
        timeout=timeout,
        check=check,
    )
    peak = json.loads(peak_path.read_text())["peak_rss_bytes"] if peak_path.exists() else 0
    return replace(run, peak_rss_bytes=peak)


def _child_env(code_path: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(code_path)] if code_path else []
    paths.append(str(REPO_ROOT))  # for `-m bench.child`
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env
