"""Section 3: a sandbox with a rate limit and latency; how close the tap runs to the limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.plan import Plan
from bench.report import Section, Table, Verdict, pct
from bench.sandbox import Hit, running_sandbox
from bench.tap import run_tap, tap_config
from calendly_http import ClientSettings

MIN_SHARE = 0.90
INVITEES = "GET /scheduled_events/{uuid}/invitees"


@dataclass(frozen=True)
class Pace:
    requests: int
    rate_limited: int
    overall_per_minute: float
    steady_requests: int
    steady_seconds: float
    steady_per_minute: float
    busiest_minute: int  # most requests answered in any 60-second span


def pace(hits: Sequence[Hit], steady_endpoint: str) -> Pace:
    """Rates from the sandbox's log. The steady part is the span of `steady_endpoint` calls."""
    times = sorted(h.at for h in hits)
    steady = sorted(h.at for h in hits if h.endpoint == steady_endpoint)
    first, last = (steady[0], steady[-1]) if len(steady) > 1 else (times[0], times[-1])
    in_steady = sum(1 for t in times if first <= t <= last)
    span = last - first
    return Pace(
        requests=len(hits),
        rate_limited=sum(1 for h in hits if h.status == 429),
        overall_per_minute=_per_minute(len(times), times[-1] - times[0]),
        steady_requests=in_steady,
        steady_seconds=span,
        steady_per_minute=_per_minute(in_steady, span),
        busiest_minute=_busiest_minute(times),
    )


def _per_minute(count: int, seconds: float) -> float:
    return (count - 1) / seconds * 60 if seconds > 0 and count > 1 else 0.0


def _busiest_minute(times: Sequence[float]) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 60:
            start += 1
        best = max(best, end - start + 1)
    return best


def pace_verdicts(label: str, result: Pace, limit: int, share: float | None) -> list[Verdict]:
    """The pace against what was configured; against the limit itself only when the pace was
    set near it (by default the plugins keep to rate_limit_share, 80%, of the limit on purpose)."""
    configured = (share or ClientSettings().rate_limit_share) * limit
    achieved = result.steady_per_minute
    verdicts = [
        Verdict(
            f"{label}: at least {pct(MIN_SHARE)} of the configured pace ({configured:,.0f}/min)",
            f"{achieved:,.0f}/min = {pct(achieved / configured)} of the pace, "
            f"{pct(achieved / limit)} of the {limit:,}/min limit",
            achieved >= MIN_SHARE * configured,
        )
    ]
    if share is not None:
        verdicts.append(
            Verdict(
                f"{label}: at least {pct(MIN_SHARE)} of the limit",
                f"{achieved:,.0f}/min = {pct(achieved / limit)} of {limit:,}/min",
                achieved >= MIN_SHARE * limit,
            )
        )
    verdicts.append(
        Verdict(f"{label}: zero 429s", str(result.rate_limited), result.rate_limited == 0)
    )
    return verdicts


def share_label(share: float | None) -> str:
    return f"requests_per_minute = {share:g} x limit" if share else "default (rate_limit_share)"


def rate_section(plan: Plan, workdir: Path) -> Section:
    limit = plan.rate_limit
    section = Section(
        "3. Rate limit: pacing against a limited, slow API",
        f"Sandbox limit {limit:,} requests/minute (fixed 60-second windows, as Calendly's "
        f"X-RateLimit-* headers describe), {plan.rate_latency_ms} ms latency per request, "
        f"{plan.rate_events:,} events; `child_concurrency` {plan.rate_concurrency}. The steady "
        "part is the span from the first to the last invitee call (the fan-out); the start "
        "(one sequential request at a time) is reported in the overall rate.",
    )
    rows = []
    for share in plan.rate_shares:
        with running_sandbox(
            events=plan.rate_events, rate_limit=limit, latency_ms=plan.rate_latency_ms
        ) as sandbox:
            settings: dict[str, float | int] = {"child_concurrency": plan.rate_concurrency}
            if share is not None:
                settings["requests_per_minute"] = int(share * limit)
            name = f"rate-{share or 'default'}"
            run = run_tap(
                workdir, name, tap_config(sandbox.base_url, **settings), code_path=plan.code_path
            )
            result = pace(sandbox.hits(), INVITEES)
        label = share_label(share)
        section.verdicts += pace_verdicts(label, result, limit, share)
        rows.append(
            (
                label,
                f"{result.requests:,}",
                f"{run.process.wall_seconds:.0f}",
                f"{result.overall_per_minute:,.0f} ({pct(result.overall_per_minute / limit)})",
                f"{result.steady_requests:,} in {result.steady_seconds:.0f} s",
                f"{result.steady_per_minute:,.0f} ({pct(result.steady_per_minute / limit)})",
                f"{result.busiest_minute:,}",
                result.rate_limited,
            )
        )
    section.tables.append(
        Table(
            (
                "Tap pacing",
                "Requests",
                "Wall s",
                "Overall /min (share)",
                "Steady part",
                "Steady /min (share of limit)",
                "Busiest 60 s",
                "429s",
            ),
            rows,
        )
    )
    return section
