"""What one `make bench` measures: sizes and settings of every section (full and --quick)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

UNTHROTTLED = 10_000_000  # requests_per_minute for runs that measure CPU, not pacing


@dataclass(frozen=True)
class Plan:
    name: str
    cpu_events: int = 50_000
    changes: int = 100  # of each kind: bookings, cancellations, no-shows
    scale_events: tuple[int, int] = (10_000, 100_000)
    rate_events: int = 1_500
    rate_limit: int = 1_200  # per minute, on the sandbox
    rate_latency_ms: int = 200
    rate_shares: tuple[float | None, ...] = (0.95, None)  # None: the default (rate_limit_share)
    rate_concurrency: int = 8
    target_limit: int = 600  # per minute
    target_links: int = 300
    gdpr_emails: int = 1_000
    gdpr_batch_size: int = 100
    concurrency: int = 4  # child_concurrency of the CPU and scale runs (the tap's default)
    profile: bool = True
    code_path: Path | None = None  # package copies to measure instead (PYTHONPATH)

    @classmethod
    def quick(cls, code_path: Path | None = None) -> Plan:
        return cls(
            name="quick",
            cpu_events=5_000,
            changes=20,
            scale_events=(2_000, 20_000),
            rate_events=400,
            target_links=100,
            gdpr_emails=300,
            code_path=code_path,
        )
