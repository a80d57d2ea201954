"""Turn a cProfile stats file into the tables of BENCHMARKS.md: top entries and time by package."""

from __future__ import annotations

import pstats
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from bench.report import Table

# Package (first matching path fragment) -> the label a reader understands. Order matters.
OWNERS: Sequence[tuple[str, str]] = (
    ("/tap_calendly/", "ours: tap_calendly"),
    ("/calendly_http/", "ours: calendly_http"),
    ("/calendly_plugin/", "ours: calendly_plugin"),
    ("/target_calendly/", "ours: target_calendly"),
    ("/singer_sdk/", "singer_sdk"),
    ("/simplejson/", "serialization (simplejson)"),
    ("/json/", "serialization (json)"),
    ("<frozen os>", "os.environ (requests' per-send proxy lookup)"),
    ("/urllib/request.py", "os.environ (requests' per-send proxy lookup)"),
    ("<frozen _collections_abc>", "collections.abc mixins (os.environ iteration, Mapping.update)"),
    ("/urllib/parse.py", "URL parsing (urllib.parse)"),
    ("/email/", "HTTP (requests, urllib3, http.client)"),
    ("/requests/", "HTTP (requests, urllib3, http.client)"),
    ("/urllib3/", "HTTP (requests, urllib3, http.client)"),
    ("/http/", "HTTP (requests, urllib3, http.client)"),
    ("/socket.py", "HTTP (requests, urllib3, http.client)"),
    ("/ssl.py", "HTTP (requests, urllib3, http.client)"),
    ("/jsonschema/", "jsonschema"),
    ("/fastjsonschema/", "jsonschema"),
    ("/jsonpath", "jsonpath"),
    ("/copy.py", "copy (deepcopy)"),
    ("/dateutil/", "dates (dateutil, pendulum, datetime)"),
    ("/pendulum/", "dates (dateutil, pendulum, datetime)"),
    ("/_strptime.py", "dates (dateutil, pendulum, datetime)"),
    ("/logging/", "logging"),
    ("/concurrent/", "threads (concurrent.futures, threading)"),
    ("/threading.py", "threads (concurrent.futures, threading)"),
    ("/bench/", "the benchmark's wrapper (bench.child)"),
    ("/queue.py", "threads (concurrent.futures, threading)"),
)


def owner_of(filename: str, function: str) -> str:
    for fragment, label in OWNERS:
        if fragment in filename:
            return label
    if filename == "~":  # C builtins: name them by what they are
        if "json" in function or "encode" in function or "decode" in function:
            return "serialization (C builtins)"
        if "socket" in function or "recv" in function or "sendall" in function:
            return "HTTP (requests, urllib3, http.client)"
        if "lock" in function or "acquire" in function:
            return "threads (concurrent.futures, threading)"
        return "other builtins"
    if "/site-packages/" in filename:
        return "other third-party"
    return "other stdlib"


def _label(filename: str, line: int, function: str) -> str:
    if filename == "~":
        return function
    parts = Path(filename).parts
    anchor = next((i for i, p in enumerate(parts) if p in ("site-packages", "python3.11")), None)
    # Our packages, wherever they were loaded from, as package/module.py.
    short = "/".join(parts[anchor + 1 :] if anchor is not None else parts[-2:])
    return f"{short}:{line}({function})"


def load(path: Path) -> pstats.Stats:
    return pstats.Stats(str(path))


def total_seconds(stats: pstats.Stats) -> float:
    return float(stats.total_tt)  # type: ignore[attr-defined]


def top_table(stats: pstats.Stats, sort: str, limit: int = 25) -> Table:
    """Top `limit` functions by `sort` ("tottime" or "cumulative")."""
    entries = stats.stats  # type: ignore[attr-defined]
    total = total_seconds(stats) or 1.0
    key_index = {"tottime": 2, "cumulative": 3}[sort]
    ranked = sorted(entries.items(), key=lambda item: item[1][key_index], reverse=True)[:limit]
    rows = []
    for (filename, line, function), (_cc, ncalls, tottime, cumtime, _callers) in ranked:
        rows.append(
            (
                _label(filename, line, function),
                owner_of(filename, function),
                f"{ncalls:,}",
                f"{tottime:.2f}",
                f"{cumtime:.2f}",
                f"{(tottime if sort == 'tottime' else cumtime) / total * 100:.1f}%",
            )
        )
    return Table(
        ("Function", "Owner", "Calls", "tottime s", "cumtime s", f"% of CPU ({sort})"),
        rows,
        caption=f"Top {limit} by {sort} (CPU seconds of all threads: {total:.1f})",
    )


def owners_table(stats: pstats.Stats) -> Table:
    """Self time (tottime) summed by owner: what the CPU is spent on, by package."""
    entries = stats.stats  # type: ignore[attr-defined]
    total = total_seconds(stats) or 1.0
    by_owner: dict[str, float] = defaultdict(float)
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in entries.items():
        by_owner[owner_of(filename, function)] += tottime
    rows = [
        (owner, f"{seconds:.2f}", f"{seconds / total * 100:.1f}%")
        for owner, seconds in sorted(by_owner.items(), key=lambda kv: kv[1], reverse=True)
    ]
    return Table(("Owner", "Self CPU s", "Share"), rows, caption="Self time by owner")


def text_report(path: Path, limit: int = 40) -> str:
    """The plain pstats listing, for a human digging further."""
    import io

    buffer = io.StringIO()
    stats = pstats.Stats(str(path), stream=buffer)
    stats.sort_stats("tottime").print_stats(limit)
    return buffer.getvalue()
