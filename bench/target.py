"""Section 5: target-calendly's write pace against the limit, and GDPR deletion batching."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bench.plan import Plan
from bench.process import ProcessRun, run_console_script
from bench.rate_limit import pace, pace_verdicts, share_label
from bench.report import Section, Table, Verdict, pct
from bench.sandbox import running_sandbox
from bench.tap import SANDBOX_TOKEN

LINKS = "POST /scheduling_links"
DELETIONS = "POST /data_compliance/deletion/invitees"
TARGET_EVENTS = 200  # a small organization: the target's work is the writes


def singer_input(path: Path, stream: str, records: Iterable[Mapping[str, Any]]) -> int:
    """A Singer file with one SCHEMA and the records; returns the record count."""
    properties = {"type": "object", "additionalProperties": True, "properties": {}}
    count = 0
    with path.open("w") as out:
        out.write(
            json.dumps(
                {"type": "SCHEMA", "stream": stream, "schema": properties, "key_properties": []}
            )
            + "\n"
        )
        for record in records:
            out.write(json.dumps({"type": "RECORD", "stream": stream, "record": record}) + "\n")
            count += 1
    return count


def run_target(workdir: Path, name: str, config: Mapping[str, Any], input_path: Path) -> ProcessRun:
    config_path = workdir / f"{name}.config.json"
    config_path.write_text(json.dumps(config, indent=2))
    return run_console_script(
        "target-calendly",
        ["--config", str(config_path)],
        workdir=workdir,
        name=name,
        stdin_path=input_path,
    )


def target_config(api_url: str, workdir: Path, name: str, **settings: Any) -> dict[str, Any]:
    responses = workdir / f"{name}.responses.jsonl"
    responses.unlink(missing_ok=True)  # the file is a ledger: a leftover would skip records
    config: dict[str, Any] = {
        "token": SANDBOX_TOKEN,
        "api_url": api_url,
        "responses_path": str(responses),
    }
    config.update({k: v for k, v in settings.items() if v is not None})
    return config


def outcomes(config: Mapping[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    with Path(config["responses_path"]).open() as lines:
        for line in lines:
            outcome = json.loads(line).get("outcome", "?")
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def target_section(plan: Plan, workdir: Path) -> Section:
    limit = plan.target_limit
    section = Section(
        "5. Target: write pace and GDPR batching",
        f"`target-calendly` against a sandbox limited to {limit:,} requests/minute. Pace: "
        f"{plan.target_links:,} `create_scheduling_link` records (one POST each); the steady "
        "part is the span of those POSTs. GDPR: `delete_invitee_data` records, one email each.",
    )
    rows = []
    for share in plan.rate_shares:
        with running_sandbox(events=TARGET_EVENTS, rate_limit=limit) as sandbox:
            event_types = sorted(
                t["uri"]
                for t in sandbox.store.event_types.values()
                if t["active"] and not t["deleted_at"]
            )
            records = (
                {"event_type": event_types[n % len(event_types)]} for n in range(plan.target_links)
            )
            name = f"target-links-{share or 'default'}"
            input_path = workdir / f"{name}.singer"
            singer_input(input_path, "create_scheduling_link", records)
            config = target_config(
                sandbox.base_url,
                workdir,
                name,
                requests_per_minute=int(share * limit) if share else None,
            )
            run = run_target(workdir, name, config, input_path)
            hits = sandbox.hits()
        links = [h for h in hits if h.endpoint == LINKS]
        result = pace(hits, LINKS)
        label = share_label(share)
        section.verdicts += pace_verdicts(label, result, limit, share)
        section.verdicts.append(
            Verdict(
                f"{label}: one POST per record, every record ok",
                f"{len(links):,} POSTs for {plan.target_links:,} records; outcomes {outcomes(config)}",
                len(links) == plan.target_links and outcomes(config) == {"ok": plan.target_links},
            )
        )
        rows.append(
            (
                label,
                f"{len(links):,}",
                f"{len(hits):,}",
                f"{run.wall_seconds:.0f}",
                f"{result.steady_per_minute:,.0f} ({pct(result.steady_per_minute / limit)})",
                f"{result.busiest_minute:,}",
                result.rate_limited,
            )
        )
    section.tables.append(
        Table(
            (
                "Target pacing",
                "Write POSTs",
                "All requests",
                "Wall s",
                "Writes/min (share of limit)",
                "Busiest 60 s",
                "429s",
            ),
            rows,
        )
    )
    section.tables.append(_gdpr(plan, workdir, section))
    return section


def _gdpr(plan: Plan, workdir: Path, section: Section) -> Table:
    with running_sandbox(events=TARGET_EVENTS, rate_limit=plan.target_limit) as sandbox:
        known = sorted({i["email"].lower() for i in sandbox.store.invitees.values()})
        emails = (known + [f"gdpr-{n}@example.com" for n in range(plan.gdpr_emails)])[
            : plan.gdpr_emails
        ]
        invitees_before = len(sandbox.store.invitees)
        input_path = workdir / "target-gdpr.singer"
        singer_input(input_path, "delete_invitee_data", ({"email": e} for e in emails))
        config = target_config(
            sandbox.base_url,
            workdir,
            "target-gdpr",
            batch_size=plan.gdpr_batch_size,
            allow_destructive_actions=True,
        )
        run = run_target(workdir, "target-gdpr", config, input_path)
        hits = sandbox.hits()
        invitees_after = len(sandbox.store.invitees)
        left = sum(1 for i in sandbox.store.invitees.values() if i["email"].lower() in set(emails))
    deletions = [h for h in hits if h.endpoint == DELETIONS]
    expected = math.ceil(len(emails) / plan.gdpr_batch_size)
    section.verdicts.append(
        Verdict(
            f"GDPR: ceil(N / batch_size) deletion requests (N = {len(emails):,}, batch_size = "
            f"{plan.gdpr_batch_size})",
            f"{len(deletions)} requests, expected {expected}",
            len(deletions) == expected,
        )
    )
    section.verdicts.append(
        Verdict(
            "GDPR: the sandbox holds no invitee with a requested email afterwards",
            f"{invitees_before - invitees_after:,} invitees removed, {left} left",
            left == 0,
        )
    )
    return Table(
        (
            "Emails",
            "batch_size",
            "Deletion requests",
            "Expected",
            "All requests",
            "Wall s",
            "Outcomes",
        ),
        [
            (
                f"{len(emails):,}",
                plan.gdpr_batch_size,
                len(deletions),
                expected,
                len(hits),
                f"{run.wall_seconds:.1f}",
                outcomes(config),
            )
        ],
        caption="GDPR deletion (delete_invitee_data)",
    )
