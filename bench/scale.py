"""Section 4: peak memory and state size of a full sync at two sizes of organization."""

from __future__ import annotations

import json
from pathlib import Path

from bench.plan import UNTHROTTLED, Plan
from bench.report import Section, Table, Verdict, mib, pct
from bench.sandbox import running_sandbox
from bench.tap import TapRun, run_tap, tap_config

MEMORY_TOLERANCE = 0.10
STATE_TOLERANCE = 0.05  # timestamps are fixed-width: only a structural change moves the size


def scale_section(plan: Plan, workdir: Path) -> Section:
    runs: list[tuple[int, TapRun]] = []
    for events in plan.scale_events:
        with running_sandbox(events=events) as sandbox:
            config = tap_config(
                sandbox.base_url,
                requests_per_minute=UNTHROTTLED,
                invitee_concurrency=plan.concurrency,
            )
            runs.append(
                (events, run_tap(workdir, f"scale-{events}", config, code_path=plan.code_path))
            )
    rss = [run.process.peak_rss_bytes for _, run in runs]
    state = [run.output.final_state_bytes for _, run in runs]
    rss_spread = (max(rss) - min(rss)) / min(rss)
    state_spread = (max(state) - min(state)) / max(1, min(state))
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
            "final state size independent of the number of events",
            f"{min(state):,} .. {max(state):,} bytes: {pct(state_spread)} apart",
            state_spread <= STATE_TOLERANCE,
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
                    f"{run.output.state_messages:,}",
                    f"{run.output.largest_state_bytes:,} bytes",
                )
                for events, run in runs
            ],
        )
    )
    largest = runs[-1][1].output.final_state or {}
    section.preformatted.append(
        (f"Final STATE at {large:,} events", json.dumps(largest, indent=1, sort_keys=True))
    )
    return section
