"""Run a console script in this process and report its own peak memory (optionally profiled).

    python -m bench.child PEAK.json [--profile OUT.prof] SCRIPT [ARGS...]

SCRIPT is a console script name (`tap-calendly`); its entry point is called exactly as the
installed script would call it. On exit, PEAK.json gets {"peak_rss_bytes": VmHWM}.

Why not the rusage of `wait4`: Linux carries the high-water RSS of the address space a process
replaces at exec into its ru_maxrss, so a child forked from the benchmark (which holds the
sandbox's data) would report the benchmark's size. VmHWM belongs to the program's own address
space.

With --profile, cProfile runs in every thread (`threading.Thread.run` is wrapped so that each
thread gets its own profiler; all are merged). The timer is per-thread CPU time, so a thread
blocked on a socket or a lock costs nothing: the profile shows where CPU goes.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import sys
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any


def main() -> int:
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    peak_path, *args = args
    profile_path = None
    if args[0] == "--profile":
        profile_path, args = Path(args[1]), args[2:]
    script, *script_args = args
    entry = console_script_entry(script)
    sys.argv = [script, *script_args]
    try:
        if profile_path is None:
            return _exit_code(entry)
        return _profiled(entry, profile_path)
    finally:
        Path(peak_path).write_text(json.dumps({"peak_rss_bytes": peak_rss_bytes()}))


def console_script_entry(name: str) -> Callable[[], Any]:
    matches = metadata.entry_points(group="console_scripts", name=name)
    if not matches:
        raise SystemExit(f"no console script named {name!r} is installed")
    loaded: Callable[[], Any] = next(iter(matches)).load()
    return loaded


def peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _exit_code(entry: Callable[[], Any]) -> int:
    try:
        result = entry()
    except SystemExit as exc:
        result = exc.code
    if result is None:
        return 0
    return result if isinstance(result, int) else 1


def _profiled(entry: Callable[[], Any], out_path: Path) -> int:
    finished: list[cProfile.Profile] = []  # threads still running at exit are left out
    lock = threading.Lock()
    original_run = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        profile.enable()
        try:
            original_run(self)
        finally:
            profile.disable()
            with lock:
                finished.append(profile)

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    main_profile = cProfile.Profile(time.thread_time)
    main_profile.enable()
    try:
        return _exit_code(entry)
    finally:
        main_profile.disable()
        _let_workers_finish()
        stats = pstats.Stats(main_profile)
        with lock:
            for profile in finished:
                stats.add(profile)
        stats.dump_stats(str(out_path))


def _let_workers_finish(timeout: float = 5.0) -> None:
    """Worker threads told to stop may still be on their way out; give them a moment."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
        elif thread is not threading.current_thread():
            thread.join(max(0.0, min(0.5, deadline - time.monotonic())))


if __name__ == "__main__":
    sys.exit(main())
