"""Run a console entry point under cProfile, every thread included, and dump merged stats.

    python -m bench.profiled OUT.prof MODULE:CALLABLE [ARGS...]

cProfile only sees the thread that enabled it, so `threading.Thread.run` is wrapped to give each
thread its own profiler; all of them are merged into one stats file. The timer is per-thread CPU
time, so a thread blocked on a socket or a lock costs nothing: the profile shows where CPU goes.
"""

from __future__ import annotations

import cProfile
import importlib
import pstats
import sys
import threading
import time
from collections.abc import Callable
from typing import Any


def main() -> int:
    if len(sys.argv) < 3 or ":" not in sys.argv[2]:
        print(__doc__, file=sys.stderr)
        return 2
    out_path, target, *args = sys.argv[1:]
    entry = _resolve(target)
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
    sys.argv = [target, *args]
    code: Any = 0
    main_profile.enable()
    try:
        entry()
    except SystemExit as exc:
        code = exc.code
    finally:
        main_profile.disable()
        _let_workers_finish()
        stats = pstats.Stats(main_profile)
        with lock:
            for profile in finished:
                stats.add(profile)
        stats.dump_stats(out_path)
    return code if isinstance(code, int) else (0 if code is None else 1)


def _let_workers_finish(timeout: float = 5.0) -> None:
    """Worker threads told to stop may still be on their way out; give them a moment."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))


def _resolve(target: str) -> Callable[[], Any]:
    module_name, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value  # type: ignore[no-any-return]


if __name__ == "__main__":
    sys.exit(main())
