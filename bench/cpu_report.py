"""Section 1 (CPU of the full sync) and the profile tables, from a FullSyncResults."""

from __future__ import annotations

from pathlib import Path

from bench import profile_summary
from bench.full_sync import FullSyncResults
from bench.report import Section, Table, Verdict, mib

RECORDED_PROFILES = Path(__file__).with_name("profiles")


def cpu_section(results: FullSyncResults) -> Section:
    run = results.full
    process, records = run.process, run.records
    requests = len(results.full_hits)
    startup = results.startup
    emitted = run.output.records
    complete = all(
        emitted.get(s, 0) == results.store_rows[s] for s in ("scheduled_events", "invitees")
    )
    section = Section(
        "1. CPU: full sync of a large organization",
        f"`tap-calendly` alone in its process, reading a sandbox of {results.events:,} scheduled "
        "events (no rate limit, no latency) that runs in the benchmark's own process. CPU and "
        "peak RSS (VmHWM) are the tap process's own; Singer output goes to a file.",
    )
    section.verdicts = [
        Verdict(
            "every event and invitee read once",
            f"{emitted.get('scheduled_events', 0):,} events, {emitted.get('invitees', 0):,} "
            f"invitees emitted; store holds {results.store_rows['scheduled_events']:,} and "
            f"{results.store_rows['invitees']:,}",
            complete,
        ),
        Verdict("tap exits 0", str(process.returncode), process.returncode == 0),
    ]
    section.tables.append(
        Table(
            (
                "Events",
                "Records",
                "Requests",
                "Wall s",
                "Records/s",
                "CPU s (user+sys)",
                "CPU s per 1,000 records",
                "Peak RSS",
            ),
            [
                (
                    f"{results.events:,}",
                    f"{records:,}",
                    f"{requests:,}",
                    f"{process.wall_seconds:.1f}",
                    f"{records / process.wall_seconds:,.0f}",
                    f"{process.cpu_seconds:.1f}",
                    f"{process.cpu_seconds / records * 1000:.3f}",
                    mib(process.peak_rss_bytes),
                ),
            ],
        )
    )
    section.tables.append(
        Table(
            ("Stream", "Records emitted", "Rows in the sandbox"),
            [
                (stream, f"{emitted.get(stream, 0):,}", f"{results.store_rows.get(stream, 0):,}")
                for stream in sorted(set(emitted) | set(results.store_rows))
            ],
            caption="Records per stream",
        )
    )
    section.notes.append(
        f"Fixed start-up cost (`tap-calendly --about`: imports, no sync): "
        f"{startup.cpu_seconds:.2f} CPU s, {mib(startup.peak_rss_bytes)} peak RSS."
    )
    section.notes.append(
        f"Sandbox generation ({results.generation_seconds:.1f} s) is not part of any figure. "
        f"STATE messages: {run.output.state_messages:,}; final state "
        f"{run.output.final_state_bytes:,} bytes."
    )
    return section


def profile_section(results: FullSyncResults, limit: int = 25) -> Section:
    section = Section(
        "CPU profile of the full sync",
        f"cProfile of the same full sync ({results.events:,} events), every thread, timer = "
        "per-thread CPU time (a thread waiting on a socket costs nothing). Profiling slows the "
        "run; compare shares, not seconds, with section 1.",
    )
    if results.profile_path is None or not results.profile_path.exists():
        section.notes.append("Not profiled in this run (--no-profile).")
        return section
    stats = profile_summary.load(results.profile_path)
    section.tables += [
        profile_summary.owners_table(stats),
        profile_summary.top_table(stats, "tottime", limit),
        profile_summary.top_table(stats, "cumulative", limit),
    ]
    return section


def profile_markdown(results: FullSyncResults, title: str, limit: int = 25) -> str:
    """This run's profile tables with their figures, to keep for a later comparison."""
    assert results.profile_path is not None
    stats = profile_summary.load(results.profile_path)
    run = results.full.process
    summary = (
        f"Unprofiled full sync of {results.events:,} events: {run.cpu_seconds:.1f} CPU s, "
        f"{run.cpu_seconds / results.full.records * 1000:.3f} CPU s per 1,000 records, "
        f"{results.full.records / run.wall_seconds:,.0f} records/s, "
        f"{mib(run.peak_rss_bytes)} peak RSS."
    )
    tables = [
        profile_summary.owners_table(stats),
        profile_summary.top_table(stats, "tottime", limit),
        profile_summary.top_table(stats, "cumulative", limit),
    ]
    return f"### {title}\n\n{summary}\n\n" + "\n\n".join(t.markdown() for t in tables) + "\n"


def recorded_profiles(exclude: Path | None) -> Section | None:
    """Profiles kept in bench/profiles/ (e.g. before and after a change), oldest name first."""
    files = sorted(f for f in RECORDED_PROFILES.glob("*.md") if f != exclude)
    if not files:
        return None
    section = Section(
        "Recorded profiles (before / after)",
        "Saved by earlier runs with `--save-profile` (see each heading for what was measured); "
        "this run's own profile is the section above.",
    )
    section.intro += "\n\n" + "\n\n".join(f.read_text().strip() for f in files)
    return section
