"""`make demo`: the main job, end to end, against a local Calendly sandbox.

1. meltano install (plugin environments under .meltano/, built from this checkout and PyPI)
2. start calendly-sandbox on 127.0.0.1 (a seeded organization; nothing leaves this machine)
3. meltano run tap-calendly target-duckdb (extract, load), live
4. prove the load: per stream, tap emitted = loader received = rows in DuckDB
5. reverse ETL: a CSV per action made from loaded rows -> meltano run tap-csv-folder target-calendly
6. the captured responses, and their effect read back from the sandbox's API
7. CRM contacts: demo/crm/upsert_contact.csv -> meltano run tap-csv-folder target-calendly
8. the last load: meltano run tap-calendly target-duckdb dbt-duckdb:build (incremental: the
   changes of steps 5-7), the contacts compared with the CRM export; the marts built on it
9. the analyst's first questions, in SQL on the dbt marts; the charts in output/demo/report.html,
   both as of the last load
Every output goes under output/demo/ (recreated each run). Any failed check exits non-zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from demo import counts, crm_contacts, report, reverse_etl, warehouse
from demo.meltano import REPO_ROOT, Meltano, RunResult, tool_path
from demo.sandbox import SandboxProcess

SANDBOX_TOKEN = "sandbox-token"  # noqa: S105 (the sandbox's fixed demo token, not a secret)
CORE_STREAMS = ("users", "organization_memberships", "event_types", "scheduled_events", "invitees")
EXTRACT = ("tap-calendly", "target-duckdb")
# The last load also builds the dbt project (transform/), so the marts show what was loaded last.
EXTRACT_AND_BUILD = (*EXTRACT, "dbt-duckdb:build")
REVERSE_ETL = ("tap-csv-folder", "target-calendly")


@dataclass(frozen=True)
class Layout:
    """Where one demo run writes; all of it under one folder."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def receipt(self) -> Path:
        return self.root / "warehouse.record_counts.json"

    @property
    def reverse_etl_inputs(self) -> Path:
        return self.root / "reverse_etl"

    @property
    def responses(self) -> Path:
        return self.root / "target-calendly-responses.jsonl"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt-target"

    @property
    def report(self) -> Path:
        return self.root / "report.html"

    @property
    def state(self) -> Path:
        return self.root / "state"

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def meltano_env(self, api_url: str, start_date: str) -> dict[str, str]:
        """Environment for every meltano command of this run (env vars win over meltano.yml)."""
        return {
            "MELTANO_ENVIRONMENT": "sandbox",
            "MELTANO_STATE_BACKEND_URI": self.state.as_uri(),
            # Set here, not only in meltano.yml, so a developer's .env cannot point a demo elsewhere.
            "TAP_CALENDLY_API_URL": api_url,
            "TAP_CALENDLY_TOKEN": SANDBOX_TOKEN,
            "TAP_CALENDLY_START_DATE": start_date,
            "TARGET_CALENDLY_API_URL": api_url,
            "TARGET_CALENDLY_TOKEN": SANDBOX_TOKEN,
            "TARGET_CALENDLY_RESPONSES_PATH": str(self.responses),
            "TARGET_DUCKDB_PATH": str(self.database),
            "TARGET_DUCKDB_RECORD_COUNTS_PATH": str(self.receipt),
            # dbt builds the marts in the same DuckDB file, its artifacts and logs kept here.
            "DBT_DUCKDB_PATH": str(self.database),
            "DBT_TARGET_PATH": str(self.dbt_target),
            "DBT_LOG_PATH": str(self.root / "logs" / "dbt"),
            "TAP_CSV_FOLDER_PATH": str(self.reverse_etl_inputs),
        }


class DemoFailedError(RuntimeError):
    """A check of the demo failed; the message says which."""


def say(text: str = "") -> None:
    print(text, flush=True)


@contextmanager
def step(number: int, title: str) -> Iterator[None]:
    say(f"\n[{number}/9] {title}")
    started = time.monotonic()
    yield
    say(f"      done in {time.monotonic() - started:.1f}s")


def start_date(days_back: int = 365) -> str:
    moment = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_back)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def extract_load(meltano: Meltano, layout: Layout) -> RunResult:
    return meltano.run(EXTRACT, layout.log("meltano-run-extract"))


def check_counts(result: RunResult, layout: Layout) -> list[counts.StreamCount]:
    with warehouse.connect(layout.database) as con:
        rows = warehouse.table_row_counts(con)
    stream_counts = counts.compare(
        result.emitted("tap-calendly"), counts.read_receipt(layout.receipt), rows
    )
    say(warehouse.format_table(counts.COLUMNS, counts.as_rows(stream_counts)))
    counts.require_complete(stream_counts, nonempty=CORE_STREAMS)
    return stream_counts


def analyst_answers(layout: Layout) -> None:
    with warehouse.connect(layout.database) as con:
        say(f"    data as of {warehouse.data_as_of(con)}")
        for path in warehouse.analyst_queries():
            result = warehouse.run_query(con, path)
            say(f"\n  {result.title}")
            say(warehouse.format_table(result.columns, result.rows, indent="    "))


def write_report(layout: Layout) -> None:
    numbers = report.write(layout.database, layout.report)
    totals = numbers["totals"]
    say(
        f"\n    report: {layout.report} ({totals['bookings']} bookings, {totals['canceled']} "
        f"canceled, {totals['no_shows']} no-shows, {totals['rescheduled']} rescheduled)"
    )


def reverse_etl_run(meltano: Meltano, layout: Layout) -> dict[str, dict[str, Any]]:
    with warehouse.connect(layout.database) as con:
        chosen = reverse_etl.write_inputs(con, layout.reverse_etl_inputs)
    for action, row in chosen.items():
        say(f"    {action}.csv: {row}")
    meltano.run(REVERSE_ETL, layout.log("meltano-run-reverse-etl"))
    return chosen


def show_outcomes(layout: Layout, chosen: dict[str, dict[str, Any]], api_url: str) -> None:
    outcomes = reverse_etl.read_outcomes(layout.responses)
    say(f"    {layout.responses} ({len(outcomes)} lines):")
    for outcome in outcomes:
        say(f"      {reverse_etl.summary(outcome)}")
    by_action = {o.get("action"): o for o in outcomes}
    missing = [a for a in chosen if by_action.get(a, {}).get("outcome") != "ok"]
    if missing:
        raise DemoFailedError(f"actions without an ok outcome: {', '.join(missing)}")

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {SANDBOX_TOKEN}"
    event = _get(session, chosen["cancel_event"]["event"], api_url)
    invitee = _get(session, chosen["mark_no_show"]["invitee"], api_url)
    say("    read back from the sandbox API:")
    say(f"      event   {event['uri']}: status={event['status']}")
    say(f"      invitee {invitee['uri']}: no_show={invitee.get('no_show')}")
    if event["status"] != "canceled":
        raise DemoFailedError(f"the event {event['uri']} is not canceled")
    if not invitee.get("no_show"):
        raise DemoFailedError(f"the invitee {invitee['uri']} is not marked as a no-show")


def upsert_crm_contacts(meltano: Meltano, layout: Layout) -> None:
    responses = layout.root / "crm-contacts-responses.jsonl"
    crm = Meltano(env={**meltano.env, **crm_contacts.meltano_env(responses)}, say=say)
    crm.run(REVERSE_ETL, layout.log("meltano-run-crm-contacts"))
    outcomes = reverse_etl.read_outcomes(responses)
    for outcome in outcomes:
        say(f"      {reverse_etl.summary(outcome)}")
    if len(outcomes) != len(crm_contacts.crm_rows()) or any(
        o["outcome"] not in ("ok", "skipped") for o in outcomes
    ):
        raise DemoFailedError(f"CRM rows without an ok outcome: see {responses}")


def last_load_and_build(meltano: Meltano, layout: Layout) -> None:
    """The changes of the previous steps loaded, the CRM contacts checked, the marts built."""
    meltano.run(EXTRACT_AND_BUILD, layout.log("meltano-run-extract-build"))
    with warehouse.connect(layout.database) as con:
        problems = crm_contacts.read_back_problems(con)
        loaded = crm_contacts.loaded_contacts(con)
    for email in crm_contacts.expected_contacts():
        row = loaded.get(email, {})
        say(f"      {email}: {row.get('uri')} company={row.get('company')!r}")
    if problems:
        raise DemoFailedError("the warehouse differs from the CRM: " + "; ".join(problems))


def _get(session: requests.Session, uri: str, api_url: str) -> dict[str, Any]:
    """GET a resource by the URI the tap loaded (it already points at the sandbox)."""
    if not uri.startswith(api_url):
        raise DemoFailedError(f"{uri} is not a resource of the sandbox at {api_url}")
    response = session.get(uri, timeout=30)
    response.raise_for_status()
    resource: dict[str, Any] = response.json()["resource"]
    return resource


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.run", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=300, help="scheduled events in the sandbox")
    parser.add_argument("--seed", type=int, default=1, help="sandbox data seed")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "output" / "demo")
    args = parser.parse_args(argv)

    layout = Layout(args.output.resolve())
    shutil.rmtree(layout.root, ignore_errors=True)
    layout.root.mkdir(parents=True)
    started = time.monotonic()
    try:
        with step(1, "Installing the Meltano plugins (meltano install)"):
            Meltano(env={}, say=say).install(layout.log("meltano-install"))
        with ExitStack() as stack:
            with step(2, "Starting calendly-sandbox on 127.0.0.1"):
                sandbox = stack.enter_context(
                    SandboxProcess(
                        tool_path("calendly-sandbox"),
                        seed=args.seed,
                        events=args.events,
                        log_path=layout.log("sandbox"),
                    )
                )
                stack.callback(say, "\n    sandbox stopped")
                say(f"    sandbox at {sandbox.base_url} (seed {args.seed}, {args.events} events)")
            meltano = Meltano(env=layout.meltano_env(sandbox.base_url, start_date()), say=say)
            with step(3, "meltano run tap-calendly target-duckdb"):
                result = extract_load(meltano, layout)
            with step(4, "Row counts: tap emitted = loader received = rows in DuckDB"):
                check_counts(result, layout)
            with step(5, "Reverse ETL: meltano run tap-csv-folder target-calendly"):
                chosen = reverse_etl_run(meltano, layout)
            with step(6, "Captured responses, and their effect read back"):
                show_outcomes(layout, chosen, sandbox.base_url)
            with step(7, "CRM contacts: demo/crm/upsert_contact.csv through target-calendly"):
                upsert_crm_contacts(meltano, layout)
            with step(
                8,
                "Last load, then the marts: meltano run tap-calendly target-duckdb dbt-duckdb:build",
            ):
                last_load_and_build(meltano, layout)
            with step(9, "What an analyst asks first (demo/sql/*.sql on the dbt marts)"):
                analyst_answers(layout)
                write_report(layout)
    except (counts.RowCountMismatchError, DemoFailedError, RuntimeError, LookupError) as error:
        say(f"\nDEMO FAILED: {error}")
        say(f"Logs: {layout.root / 'logs'}")
        return 1
    say(f"\nDemo complete in {time.monotonic() - started:.0f}s. Outputs in {layout.root}")
    say(f"  DuckDB warehouse: {layout.database} (schema {warehouse.SCHEMA}, one table per stream)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
