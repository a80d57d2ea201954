"""Section 4: peak memory and state size of a full sync at two sizes of organization."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.plan import UNTHROTTLED, Plan
from bench.report import Section, Table, Verdict, mib, pct
from bench.sandbox import running_sandbox
from bench.tap import TapRun, run_tap, tap_config

MEMORY_TOLERANCE = 0.10
STATE_TOLERANCE = 0.05  # timestamps are fixed-width: only a structural change moves the size
# The invitees read with a no-show in the re-read window are kept (a removal moves nothing else):
# that part grows with the no-shows of the window, at a cost per invitee.
WATCHED = "watched_no_shows"
WATCHED_BYTES_EACH = 16


def watched_part(state: dict[str, Any] | None) -> tuple[dict[str, Any], int, int]:
    """(the state without the watched no-shows, how many are watched, their bytes)."""
    rest = json.loads(json.dumps(state or {}))
    watched = rest.get("bookmarks", {}).get("invitees", {}).pop(WATCHED, None) or {}
    count = sum(len(keys.split()) for keys in watched.values())
    return rest, count, len(json.dumps(watched)) if watched else 0


def scale_section(plan: Plan, workdir: Path) -> Section:
    runs: list[tuple[int, TapRun]] = []
    for events in plan.scale_events:
        with running_sandbox(events=events) as sandbox:
            config = tap_config(
                sandbox.base_url,
                requests_per_minute=UNTHROTTLED,
                child_concurrency=plan.concurrency,
            )
            runs.append(
                (events, run_tap(workdir, f"scale-{events}", config, code_path=plan.code_path))
            )
    rss = [run.process.peak_rss_bytes for _, run in runs]
    parts = [watched_part(run.output.final_state) for _, run in runs]
    state = [len(json.dumps(rest)) for rest, _, _ in parts]
    watched = [(count, size) for _, count, size in parts]
    rss_spread = (max(rss) - min(rss)) / min(rss)
    state_spread = (max(state) - min(state)) / max(1, min(state))
    # Per more watched invitee: each start day of the window adds a constant (its key) on top.
    (few, few_bytes), (many, many_bytes) = min(watched), max(watched)
    per_watched = (many_bytes - few_bytes) / (many - few) if many > few else 0.0
    small, large = plan.scale_events
    section = Section(
        "4. Scale: memory and state at two sizes",
        f"The same full sync (no rate limit, no latency) at {small:,} and {large:,} events.",
    )
    section.verdicts = [
        Verdict(
            f"peak RSS within {pct(MEMORY_TOLERANCE)} of each other",
            f"{mib(min(rss))} .. {mib(max(rss))}: {pct(rss_spread)} apart",
            rss_spread <= MEMORY_TOLERANCE,
        ),
        Verdict(
            "final state size, watched no-shows aside, independent of the number of events",
            f"{min(state):,} .. {max(state):,} bytes: {pct(state_spread)} apart",
            state_spread <= STATE_TOLERANCE,
        ),
        Verdict(
            f"each more watched no-show (the re-read window's) costs at most "
            f"{WATCHED_BYTES_EACH} bytes",
            " and ".join(f"{count:,} in {size:,} bytes" for count, size in watched)
            + f": {per_watched:.1f} bytes each",
            per_watched <= WATCHED_BYTES_EACH,
        ),
    ]
    section.tables.append(
        Table(
            (
                "Events",
                "Records",
                "Wall s",
                "Records/s",
                "CPU s per 1,000 records",
                "Peak RSS",
                "Final state",
                "Watched no-shows",
                "STATE messages",
                "Largest STATE message",
            ),
            [
                (
                    f"{events:,}",
                    f"{run.records:,}",
                    f"{run.process.wall_seconds:.1f}",
                    f"{run.records / run.process.wall_seconds:,.0f}",
                    f"{run.process.cpu_seconds / run.records * 1000:.3f}",
                    mib(run.process.peak_rss_bytes),
                    f"{run.output.final_state_bytes:,} bytes",
                    f"{count:,}",
                    f"{run.output.state_messages:,}",
                    f"{run.output.largest_state_bytes:,} bytes",
                )
                for (events, run), (count, _) in zip(runs, watched, strict=True)
            ],
        )
    )
    largest = runs[-1][1].output.final_state or {}
    section.preformatted.append(
        (f"Final STATE at {large:,} events", json.dumps(largest, indent=1, sort_keys=True))
    )
    return section
